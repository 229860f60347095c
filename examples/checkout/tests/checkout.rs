//! The built component, run on fn-host-test with a mocked payment provider.

use fn_host_test::{CallResult, RecordOptions, Replay, TestFunction};
use http::{Method, StatusCode};
use serde_json::{Value, json};

const PAY_URL: &str = "https://pay.test";
const INTENTS: &str = "https://pay.test/v1/payment_intents";

/// Which host's artifact the flows run on: here the function as built;
/// `tests/on_spin.rs` includes this file with `Some("spin")` to run every
/// flow again on the function composed for Spin.
#[allow(dead_code)]
const HOST: Option<&str> = None;

/// The built component (`cargo fn build --release`'s bytes, or what
/// [`HOST`] runs; built once per test binary) with its own key-value store,
/// config and mocks.
fn function() -> TestFunction {
    let manifest = concat!(env!("CARGO_MANIFEST_DIR"), "/Cargo.toml");
    match crate::HOST {
        None => TestFunction::from_package(manifest),
        Some(host) => TestFunction::from_package_for(manifest, host),
    }
    .unwrap_or_else(|e| panic!("{e:#}"))
}

/// A shop with two products, configured, and no payment mock yet.
fn shop() -> TestFunction {
    let f = function();
    f.set_config("payment_api_key", "sk_test_123")
        .set_config("payment_api_url", PAY_URL);
    let kv = f.kv();
    kv.set_json(
        "product:tee",
        &json!({"name": "T-shirt", "price_cents": 1500}),
    )
    .unwrap();
    kv.set_json("product:mug", &json!({"name": "Mug", "price_cents": 900}))
        .unwrap();
    kv.set("stock:tee", "5");
    kv.set("stock:mug", "2");
    f
}

fn payment_succeeds(f: &TestFunction) {
    provider_answers(f, 200, json!({"id": "pi_1", "status": "succeeded"}));
}

/// Replaces the payment provider's answer to `POST /v1/payment_intents`.
fn provider_answers(f: &TestFunction, status: u16, body: Value) {
    f.clear_mocks().mock_http(
        Method::POST,
        INTENTS,
        http::Response::builder()
            .status(status)
            .header("content-type", "application/json")
            .body(body.to_string())
            .unwrap(),
    );
}

fn order(items: Value) -> Value {
    json!({"items": items, "email": "ada@example.com", "payment_token": "tok_visa"})
}

fn post_with_key(f: &TestFunction, key: &str, body: &Value) -> CallResult {
    f.call(
        http::Request::post("/orders")
            .header("content-type", "application/json")
            .header("idempotency-key", key)
            .body(body.to_string())
            .unwrap(),
    )
}

/// Units of `sku` not reserved: stock minus (reserved - released).
fn available(f: &TestFunction, sku: &str) -> i64 {
    let counter = |key: String| -> i64 {
        f.kv()
            .get_str(&key)
            .map_or(0, |v| v.parse().expect("a decimal counter"))
    };
    counter(format!("stock:{sku}")) - counter(format!("reserved:{sku}"))
        + counter(format!("released:{sku}"))
}

/// Asserts that `res` is an error answer with `status` and exactly `message`.
#[track_caller]
fn assert_refused(res: &CallResult, status: StatusCode, message: &str) {
    assert_eq!(res.status(), status, "{}", res.describe());
    assert_eq!(error_of(res), message, "{}", res.describe());
}

fn error_of(res: &CallResult) -> String {
    let body: Value = res
        .json()
        .unwrap_or_else(|e| panic!("{e}: {}", res.describe()));
    body["error"].as_str().unwrap_or_default().to_owned()
}

#[test]
fn an_order_is_charged_stored_and_reduces_stock() {
    let f = shop();
    payment_succeeds(&f);
    let res = f.post_json(
        "/orders",
        &order(json!([{"sku": "tee", "quantity": 2}, {"sku": "mug", "quantity": 1}])),
    );
    assert_eq!(res.status(), StatusCode::CREATED, "{}", res.describe());
    let body: Value = res.json().unwrap();
    let id = body["id"].as_str().unwrap().to_owned();
    assert!(id.starts_with("ord_") && id.len() == 20, "{id}");
    assert_eq!(body["total_cents"], 3900);
    assert_eq!(body["status"], "paid");
    assert_eq!(
        res.header("location"),
        Some(format!("/orders/{id}").as_str())
    );

    assert_eq!(available(&f, "tee"), 3);
    assert_eq!(available(&f, "mug"), 1);

    assert_eq!(res.outbound.len(), 1, "{}", res.describe());
    let charge = &res.outbound[0];
    assert_eq!(charge.method, Method::POST);
    assert_eq!(charge.url, INTENTS);
    assert_eq!(charge.headers["authorization"], "Bearer sk_test_123");
    assert_eq!(
        charge.headers["content-type"],
        "application/x-www-form-urlencoded"
    );
    assert_eq!(charge.headers["idempotency-key"], id.as_str());
    assert_eq!(
        charge.body_str(),
        "amount=3900&currency=usd&payment_method=tok_visa&confirm=true"
    );

    let stored: Value = f.kv().get_json(&format!("order:{id}")).unwrap().unwrap();
    assert_eq!(stored["payment_id"], "pi_1");
    assert_eq!(stored["total_cents"], 3900);
    assert_eq!(stored["status"], "paid");
    assert_eq!(stored["items"][0]["sku"], "tee");
    assert_eq!(stored["items"][0]["quantity"], 2);
    assert_eq!(stored["items"][0]["price_cents"], 1500);

    let shown = f.get(&format!("/orders/{id}"));
    assert_eq!(shown.status(), StatusCode::OK, "{}", shown.describe());
    assert_eq!(shown.json::<Value>().unwrap(), stored);
}

#[test]
fn invalid_orders_are_400_and_say_what_is_wrong() {
    let f = shop();
    payment_succeeds(&f);
    let cases = [
        (order(json!([])), "items must not be empty"),
        (
            order(json!([{"sku": "tee", "quantity": 1}, {"sku": "mug", "quantity": 0}])),
            "items[1].quantity must be between 1 and 100",
        ),
        (
            order(json!([{"sku": "tee", "quantity": 101}])),
            "items[0].quantity must be between 1 and 100",
        ),
        (
            order(json!([{"sku": "", "quantity": 1}])),
            "items[0].sku must not be empty",
        ),
        (
            json!({"items": [{"sku": "tee", "quantity": 1}], "email": "ada", "payment_token": "tok_visa"}),
            "email \"ada\" is not a valid address",
        ),
        (
            json!({"items": [{"sku": "tee", "quantity": 1}], "email": "ada@example.com", "payment_token": "4242"}),
            "payment_token must be a card token starting with `tok_`",
        ),
        (
            json!({"items": [{"sku": "tee", "quantity": 1}], "email": "ada@example.com"}),
            "invalid JSON body: missing field `payment_token`",
        ),
    ];
    for (body, want) in cases {
        let res = f.post_json("/orders", &body);
        assert_eq!(
            res.status(),
            StatusCode::BAD_REQUEST,
            "{body}: {}",
            res.describe()
        );
        let error = error_of(&res);
        assert!(
            error.starts_with(want),
            "{body}: got {error:?}, want {want:?}"
        );
        assert!(res.outbound.is_empty());
    }

    let res = f.post("/orders", "{\"items\": [");
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    assert!(
        error_of(&res).starts_with("invalid JSON body: EOF while parsing"),
        "{}",
        res.describe()
    );
    assert_eq!(available(&f, "tee"), 5);
}

#[test]
fn an_unknown_sku_is_422_naming_it() {
    let f = shop();
    payment_succeeds(&f);
    let res = f.post_json(
        "/orders",
        &order(json!([{"sku": "tee", "quantity": 1}, {"sku": "hat", "quantity": 1}])),
    );
    assert_refused(
        &res,
        StatusCode::UNPROCESSABLE_ENTITY,
        "items[1].sku: unknown sku \"hat\"",
    );
    assert!(res.outbound.is_empty());
    assert_eq!(available(&f, "tee"), 5);
}

#[test]
fn too_many_units_is_409_and_takes_nothing() {
    let f = shop();
    payment_succeeds(&f);
    let res = f.post_json("/orders", &order(json!([{"sku": "mug", "quantity": 3}])));
    assert_refused(&res, StatusCode::CONFLICT, "out of stock: mug");
    assert!(res.outbound.is_empty(), "nothing is charged");
    assert_eq!(available(&f, "mug"), 2);

    // The last two units still sell, and then nothing does.
    let ok = f.post_json("/orders", &order(json!([{"sku": "mug", "quantity": 2}])));
    assert_eq!(ok.status(), StatusCode::CREATED, "{}", ok.describe());
    let gone = f.post_json("/orders", &order(json!([{"sku": "mug", "quantity": 1}])));
    assert_eq!(gone.status(), StatusCode::CONFLICT, "{}", gone.describe());
    assert_eq!(available(&f, "mug"), 0);
}

#[test]
fn a_multi_item_order_releases_what_it_reserved_when_a_later_item_is_out() {
    let f = shop();
    payment_succeeds(&f);
    let res = f.post_json(
        "/orders",
        &order(json!([{"sku": "tee", "quantity": 4}, {"sku": "mug", "quantity": 3}])),
    );
    assert_refused(&res, StatusCode::CONFLICT, "out of stock: mug");
    assert_eq!(available(&f, "tee"), 5, "the tees went back");
    assert_eq!(available(&f, "mug"), 2);
    assert_eq!(f.kv().get_str("reserved:tee").as_deref(), Some("4"));
    assert_eq!(f.kv().get_str("released:tee").as_deref(), Some("4"));
}

#[test]
fn a_declined_card_is_402_with_the_message_and_releases_stock() {
    let f = shop();
    provider_answers(
        &f,
        402,
        json!({"error": {"code": "card_declined", "message": "Your card was declined."}}),
    );
    let res = f.post_json("/orders", &order(json!([{"sku": "tee", "quantity": 2}])));
    assert_refused(
        &res,
        StatusCode::PAYMENT_REQUIRED,
        "Your card was declined.",
    );
    assert_eq!(res.outbound.len(), 1);
    assert_eq!(available(&f, "tee"), 5);
    assert!(
        f.kv()
            .store(fn_host_test::DEFAULT_STORE)
            .keys()
            .iter()
            .all(|k| !k.starts_with("order:"))
    );
}

/// Records the order `body` on `f` into a file (the API key withheld, as
/// the code declares it secret), then replays the file on a fresh function
/// that has only the key: no products, no stock, no payment provider. The
/// answer must be the recorded one, byte for byte.
fn record_then_replay(f: &TestFunction, body: &Value, name: &str) -> (CallResult, Replay) {
    let request = http::Request::post("/orders")
        .header("content-type", "application/json")
        .body(body.to_string())
        .unwrap();
    let options = RecordOptions {
        secrets: ["payment_api_key".to_owned()].into(),
    };
    let (res, recording) = f.record(request, &options);
    let path = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!(
        "checkout-{name}-{}.jsonl",
        crate::HOST.unwrap_or("component")
    ));
    recording.write(&path).unwrap();
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(!text.contains("sk_test_123"), "the key is withheld: {text}");
    assert!(text.contains("Bearer <redacted:payment_api_key>"), "{text}");

    let fresh = function();
    fresh.set_config("payment_api_key", "sk_test_123");
    let replay = fresh.replay(&path).unwrap();
    assert!(
        replay.is_identical(),
        "{:?}\n{}",
        replay.divergences,
        replay.result.describe()
    );
    assert_eq!(replay.result.response.body(), res.response.body());
    assert_eq!(replay.result.response.headers(), res.response.headers());
    (res, replay)
}

#[test]
fn a_declined_card_recorded_replays_with_the_same_answer_offline() {
    let f = shop();
    provider_answers(
        &f,
        402,
        json!({"error": {"code": "card_declined", "message": "Your card was declined."}}),
    );
    let (res, replay) = record_then_replay(
        &f,
        &order(json!([{"sku": "tee", "quantity": 2}])),
        "declined",
    );
    assert_refused(
        &res,
        StatusCode::PAYMENT_REQUIRED,
        "Your card was declined.",
    );
    assert_refused(
        &replay.result,
        StatusCode::PAYMENT_REQUIRED,
        "Your card was declined.",
    );
    assert_eq!(replay.result.outbound.len(), 1);
}

#[test]
fn a_provider_outage_recorded_replays_with_the_same_answer_offline() {
    let f = shop();
    provider_answers(&f, 500, json!({"error": {"message": "db shard 7 on fire"}}));
    let (res, replay) =
        record_then_replay(&f, &order(json!([{"sku": "mug", "quantity": 1}])), "outage");
    assert_refused(
        &res,
        StatusCode::BAD_GATEWAY,
        "payment provider unavailable",
    );
    assert!(
        replay
            .result
            .logs
            .stderr_str()
            .contains("db shard 7 on fire"),
        "the replayed run logs what the recorded one did: {}",
        replay.result.describe()
    );
}

#[test]
fn a_failing_provider_is_502_without_detail_and_releases_stock() {
    let f = shop();
    provider_answers(&f, 500, json!({"error": {"message": "db shard 7 on fire"}}));
    let res = f.post_json("/orders", &order(json!([{"sku": "tee", "quantity": 2}])));
    assert_refused(
        &res,
        StatusCode::BAD_GATEWAY,
        "payment provider unavailable",
    );
    assert!(
        !res.text().contains("shard"),
        "no provider detail for the client"
    );
    assert!(
        res.logs.stderr_str().contains("db shard 7 on fire"),
        "but in the log"
    );
    assert_eq!(available(&f, "tee"), 5);

    // Unreachable (no mock answers) and unparseable answers are the same to the client.
    f.clear_mocks();
    let res = f.post_json("/orders", &order(json!([{"sku": "tee", "quantity": 1}])));
    assert_eq!(res.status(), StatusCode::BAD_GATEWAY, "{}", res.describe());
    f.mock_http(
        Method::POST,
        INTENTS,
        http::Response::new("<html>oops</html>"),
    );
    let res = f.post_json("/orders", &order(json!([{"sku": "tee", "quantity": 1}])));
    assert_eq!(res.status(), StatusCode::BAD_GATEWAY, "{}", res.describe());
    assert_eq!(available(&f, "tee"), 5);
}

#[test]
fn a_missing_api_key_is_500_and_logged() {
    let f = function();
    f.kv()
        .set_json(
            "product:tee",
            &json!({"name": "T-shirt", "price_cents": 1500}),
        )
        .unwrap();
    f.kv().set("stock:tee", "5");
    let res = f.post_json("/orders", &order(json!([{"sku": "tee", "quantity": 1}])));
    assert_eq!(
        res.status(),
        StatusCode::INTERNAL_SERVER_ERROR,
        "{}",
        res.describe()
    );
    assert!(!res.text().contains("payment_api_key"), "{}", res.text());
    assert!(
        res.logs.stderr_str().contains("payment_api_key"),
        "{}",
        res.describe()
    );
    assert!(res.outbound.is_empty());
    assert_eq!(available(&f, "tee"), 5);
}

#[test]
fn a_repeated_idempotency_key_replays_the_first_answer_and_charges_once() {
    let f = shop();
    payment_succeeds(&f);
    let body = order(json!([{"sku": "tee", "quantity": 1}]));
    let first = post_with_key(&f, "key-1", &body);
    assert_eq!(first.status(), StatusCode::CREATED, "{}", first.describe());
    assert_eq!(first.outbound.len(), 1);
    assert_eq!(first.outbound[0].headers["idempotency-key"], "key-1");
    assert_eq!(first.header("idempotent-replayed"), None);

    let again = post_with_key(&f, "key-1", &body);
    assert_eq!(again.status(), StatusCode::CREATED, "{}", again.describe());
    assert_eq!(again.text(), first.text());
    assert_eq!(again.header("location"), first.header("location"));
    assert_eq!(again.header("idempotent-replayed"), Some("true"));
    assert!(again.outbound.is_empty(), "charged once");
    assert_eq!(available(&f, "tee"), 4, "stock taken once");

    // Another key is another order.
    let other = post_with_key(&f, "key-2", &body);
    assert_eq!(other.status(), StatusCode::CREATED, "{}", other.describe());
    assert_ne!(other.text(), first.text());
    assert_eq!(available(&f, "tee"), 3);
}

#[test]
fn a_provider_failure_frees_the_idempotency_key_for_a_retry() {
    let f = shop();
    provider_answers(&f, 503, json!({}));
    let body = order(json!([{"sku": "tee", "quantity": 1}]));
    let failed = post_with_key(&f, "key-1", &body);
    assert_eq!(
        failed.status(),
        StatusCode::BAD_GATEWAY,
        "{}",
        failed.describe()
    );

    // The provider is back: the retry with the same key runs and charges.
    payment_succeeds(&f);
    let retried = post_with_key(&f, "key-1", &body);
    assert_eq!(
        retried.status(),
        StatusCode::CREATED,
        "{}",
        retried.describe()
    );
    assert_eq!(retried.outbound.len(), 1);
    assert_eq!(retried.outbound[0].headers["idempotency-key"], "key-1");
    assert_eq!(available(&f, "tee"), 4);
}

#[test]
fn a_key_whose_first_request_is_still_running_is_409() {
    let f = shop();
    payment_succeeds(&f);
    // What a request in flight with this key has left in the store so far.
    f.kv().set("idempotency-claimed:key-1", "1");
    let res = post_with_key(&f, "key-1", &order(json!([{"sku": "tee", "quantity": 1}])));
    assert_eq!(res.status(), StatusCode::CONFLICT, "{}", res.describe());
    assert!(
        error_of(&res).contains("still in progress"),
        "{}",
        res.describe()
    );
    assert!(res.outbound.is_empty());
    assert_eq!(available(&f, "tee"), 5);
}

#[test]
fn an_idempotency_key_reused_for_another_order_is_422() {
    let f = shop();
    payment_succeeds(&f);
    let first = post_with_key(&f, "key-1", &order(json!([{"sku": "tee", "quantity": 1}])));
    assert_eq!(first.status(), StatusCode::CREATED, "{}", first.describe());
    let other = post_with_key(&f, "key-1", &order(json!([{"sku": "tee", "quantity": 2}])));
    assert_eq!(
        other.status(),
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        other.describe()
    );
    assert!(
        error_of(&other).contains("different request"),
        "{}",
        other.describe()
    );
    assert!(other.outbound.is_empty());
    assert_eq!(available(&f, "tee"), 4);
}

#[test]
fn unknown_orders_routes_and_methods() {
    let f = shop();
    let res = f.get("/orders/ord_0000000000000000");
    assert_refused(&res, StatusCode::NOT_FOUND, "no order ord_0000000000000000");

    assert_eq!(f.get("/").status(), StatusCode::NOT_FOUND);
    assert_eq!(f.get("/orders/a/b").status(), StatusCode::NOT_FOUND);
    assert_eq!(f.post("/ordersx", "{}").status(), StatusCode::NOT_FOUND);
    let res = f.get("/orders");
    assert_eq!(res.status(), StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(res.header("allow"), Some("POST"));
    let res = f.call(http::Request::delete("/orders/ord_1").body("").unwrap());
    assert_eq!(res.status(), StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(res.header("allow"), Some("GET, HEAD"));
}
