//! The examples' built artifacts answer alike on fn-host-test and on
//! `wasmtime serve`, the native runner in its three modes, workerd (the
//! Cloudflare bundle under `wrangler dev`) and Netlify (`netlify
//! functions:serve`), request by request, outbound calls included.
//!
//! Limits of the independent host that shape these scenarios:
//! - `wasmtime serve -S keyvalue` gives each request a fresh copy of the
//!   preset store, so a flow across requests (send a code, then verify it)
//!   cannot run there; each step starts from the same preset on both hosts.
//! - `-S keyvalue-in-memory-data` and `-S config-var` values cannot contain
//!   commas, so no JSON object with two fields can be preset.

use fn_conformance::providers::Providers;
use fn_conformance::{Scenario, Step};
use serde_json::json;

/// Prints the per-step table, then fails on any difference, or when the
/// hosts skipped are not those of `skipped` (host name, an import named in
/// the reason `cargo fn deploy` gives).
fn check(scenario: Scenario, providers: &Providers, skipped: &[(&str, &str)]) {
    let report = scenario.run(providers).expect("running the scenario");
    print!("{}", report.table());
    report.assert_same();
    let hosts: Vec<&str> = report.skipped.iter().map(|(h, _)| h.as_str()).collect();
    let expected: Vec<&str> = skipped.iter().map(|(h, _)| *h).collect();
    assert_eq!(hosts, expected, "{}: skipped hosts", report.example);
    for ((host, why), (_, import)) in report.skipped.iter().zip(skipped) {
        assert!(why.contains(import), "{host}: {why}");
    }
}

fn sales_csv(rows: usize) -> String {
    let regions = ["north", "south", "east", "west"];
    let products = ["mug", "tee", "cap"];
    let mut csv = String::from("date,region,product,quantity,unit_price\n");
    for i in 0..rows {
        csv.push_str(&format!(
            "2026-{:02}-{:02},{},{},{},{}.{:02}\n",
            1 + i % 12,
            1 + i % 28,
            regions[i % 4],
            products[i % 3],
            1 + i % 7,
            3 + i % 20,
            i % 100
        ));
    }
    csv
}

#[test]
fn analytics() {
    let providers = Providers::start().unwrap();
    let mut mixed = sales_csv(20);
    mixed.push_str("2026-13-01,north,mug,1,2.00\n");
    mixed.push_str("2026-02-03,south,tee,lots,2.00\n");
    mixed.push_str("not,enough\n");
    let ndjson = concat!(
        r#"{"date":"2026-03-01","region":"east","product":"cap","quantity":2,"unit_price":4.5}"#,
        "\n",
        r#"{"date":"2026-03-02","region":"west","product":"mug","quantity":1,"unit_price":12}"#,
        "\n",
        "{broken\n",
    );
    let scenario = Scenario::new("examples/analytics")
        .kv("report:preset", r#"{"rows":3}"#)
        .step(Step::post("CSV upload", "/datasets/q1", "text/csv", sales_csv(200)).expect(200))
        .step(
            Step::post(
                "CSV with malformed rows",
                "/datasets/mixed",
                "text/csv",
                mixed,
            )
            .expect(200),
        )
        .step(
            Step::post(
                "NDJSON upload",
                "/datasets/nd",
                "application/x-ndjson",
                ndjson,
            )
            .expect(200),
        )
        .step(
            Step::post(
                "50,000-row upload",
                "/datasets/big",
                "text/csv",
                sales_csv(50_000),
            )
            .expect(200),
        )
        .step(Step::get("stored report", "/datasets/preset/report").expect(200))
        .step(Step::get("missing report", "/datasets/nope/report").expect(404))
        .step(Step::get("list", "/datasets").expect(200))
        .step(Step::post("wrong content type", "/datasets/x", "text/plain", "a,b").expect(415))
        .step(Step::post("empty body", "/datasets/x", "text/csv", "").expect(400))
        .step(Step::post("wrong header", "/datasets/x", "text/csv", "a,b\n1,2\n").expect(400))
        .step(Step::post("bad name", "/datasets/b%20d", "text/csv", sales_csv(1)).expect(400))
        .step(
            Step::new(
                "wrong method",
                http::Request::delete("/datasets/q1")
                    .body(bytes::Bytes::new())
                    .unwrap(),
            )
            .expect(405),
        );
    check(scenario, &providers, &[]);
}

#[test]
fn mfa() {
    let providers = Providers::start().unwrap();
    let scenario = Scenario::new("examples/mfa")
        .config("mfa_secret", "conformance-secret")
        .config("sms_api_url", providers.url())
        .config("sms_account_sid", "AC0123")
        .config("sms_api_key", "sms-key")
        .config("sms_from", "+15550000000")
        .config("email_api_url", providers.url())
        .config("email_api_key", "email-key")
        .config("email_from", "codes@example.com")
        .step(
            Step::post_json(
                "send by SMS",
                "/mfa/send",
                &json!({"user": "alice", "channel": "sms", "to": "+15551234567"}),
            )
            .outbound_random()
            .expect(202),
        )
        .step(
            Step::post_json(
                "send by e-mail",
                "/mfa/send",
                &json!({"user": "bob", "channel": "email", "to": "bob@example.com"}),
            )
            .outbound_random()
            .expect(202),
        )
        .step(
            Step::post_json(
                "SMS provider down",
                "/mfa/send",
                &json!({"user": "carol", "channel": "sms", "to": "+15550100503"}),
            )
            .outbound_random()
            .expect(502),
        )
        .step(
            Step::post_json(
                "bad phone number",
                "/mfa/send",
                &json!({"user": "dave", "channel": "sms", "to": "555-1234"}),
            )
            .expect(400),
        )
        .step(
            Step::post_json(
                "verify without a pending code",
                "/mfa/verify",
                &json!({"user": "erin", "code": "123456"}),
            )
            .expect(404),
        )
        .step(
            Step::post_json(
                "verify a malformed code",
                "/mfa/verify",
                &json!({"user": "erin", "code": "12ab"}),
            )
            .expect(400),
        )
        .step(Step::post("malformed JSON", "/mfa/verify", "application/json", "{").expect(400))
        .step(Step::get("wrong method", "/mfa/send").expect(405))
        .step(Step::get("unknown route", "/mfa").expect(404));
    check(scenario, &providers, &[]);
}

#[test]
fn checkout() {
    let providers = Providers::start().unwrap();
    let order = |sku: &str, quantity: u32, token: &str| {
        json!({
            "items": [{"sku": sku, "quantity": quantity}],
            "email": "ada@example.com",
            "payment_token": token,
        })
    };
    // Product entries without a name: `wasmtime serve` cannot preset a
    // value with a comma (see the module docs).
    let scenario = Scenario::new("examples/checkout")
        .config("payment_api_url", providers.url())
        .config("payment_api_key", "sk_test_conformance")
        .kv("product:mug", r#"{"price_cents":900}"#)
        .kv("stock:mug", "5")
        .kv("product:tee", r#"{"price_cents":1500}"#)
        .kv("stock:tee", "0")
        .step(
            Step::post_json("paid order", "/orders", &order("mug", 2, "tok_visa"))
                .mask("/id")
                .mask_header("location")
                .outbound_random().expect(201))
        .step(
            Step::post_json(
                "paid order with an idempotency key",
                "/orders",
                &order("mug", 1, "tok_visa"),
            )
            .header("idempotency-key", "conformance-1")
            .mask("/id")
            .mask_header("location").expect(201))
        .step(Step::post_json(
            "declined card",
            "/orders",
            &order("mug", 1, "tok_chargeDeclined"),
        )
        .header("idempotency-key", "conformance-2").expect(402))
        .step(Step::post_json(
            "payment provider down",
            "/orders",
            &order("mug", 1, "tok_outage"),
        )
        .header("idempotency-key", "conformance-3").expect(502))
        .step(Step::post_json(
            "out of stock",
            "/orders",
            &order("tee", 1, "tok_visa"),
        ).expect(409))
        .step(Step::post_json(
            "more than in stock",
            "/orders",
            &order("mug", 6, "tok_visa"),
        ).expect(409))
        .step(Step::post_json(
            "unknown sku",
            "/orders",
            &order("cap", 1, "tok_visa"),
        ).expect(422))
        .step(Step::post_json(
            "quantity 0",
            "/orders",
            &order("mug", 0, "tok_visa"),
        ).expect(400))
        .step(Step::post_json(
            "no items",
            "/orders",
            &json!({"items": [], "email": "ada@example.com", "payment_token": "tok_visa"}),
        ).expect(400))
        .step(Step::post_json(
            "bad e-mail",
            "/orders",
            &json!({"items": [{"sku": "mug", "quantity": 1}], "email": "ada", "payment_token": "tok_visa"}),
        ).expect(400))
        .step(Step::post(
            "malformed JSON",
            "/orders",
            "application/json",
            "{\"items\": [",
        ).expect(400))
        .step(Step::get("unknown order", "/orders/ord_0000000000000000").expect(404))
        .step(Step::new(
            "wrong method",
            http::Request::delete("/orders")
                .body(bytes::Bytes::new())
                .unwrap(),
        ).expect(405))
        // Under the function's route (`/orders/...`): a path outside it
        // does not reach the function on a platform that routes by it
        // (Netlify answers its own 404).
        .step(Step::get("unknown route", "/orders/ord_1/items").expect(404));
    check(scenario, &providers, &[]);
}

#[test]
fn welcome_email() {
    use fn_host_test::CloudEvent;
    let providers = Providers::start().unwrap();
    let registered = |id: &str, email: &str| {
        CloudEvent::new(
            "user.registered",
            "/users",
            json!({"user_id": "u-1", "email": email, "name": "Ada <Lovelace>"}),
        )
        .with_id(id)
        .with_time("2026-11-27T00:00:00Z")
    };
    let event = |name: &str, event: CloudEvent, structured: bool| {
        let request = if structured {
            event.to_structured_request()
        } else {
            event.to_binary_request()
        };
        Step::new(name, request.expect("an event request").into_http())
    };
    let scenario = Scenario::new("examples/welcome-email")
        .config("email_api_url", providers.url())
        .config("email_api_key", "re_conformance")
        .config("email_from", "welcome@acme.test")
        .kv("sent:evt-seen", "u-1")
        .step(
            event(
                "binary-mode event",
                registered("evt-1", "ada@example.com"),
                false,
            )
            .expect(204),
        )
        .step(
            event(
                "structured-mode event",
                registered("evt-2", "ada@example.com"),
                true,
            )
            .expect(204),
        )
        .step(
            event(
                "redelivered event",
                registered("evt-seen", "ada@example.com"),
                false,
            )
            .expect(204),
        )
        .step(
            event(
                "provider refuses the address",
                registered("evt-3", "bounce@example.com"),
                false,
            )
            .expect(422),
        )
        .step(
            event(
                "provider down",
                registered("evt-4", "outage@example.com"),
                false,
            )
            .expect(503),
        )
        .step(
            event(
                "bad e-mail in the data",
                registered("evt-5", "not-an-address"),
                false,
            )
            .expect(400),
        )
        .step(
            event(
                "another event type",
                CloudEvent::new("user.deleted", "/users", json!({"user_id": "u-1"}))
                    .with_id("evt-6"),
                false,
            )
            .expect(400),
        )
        .step(Step::post_json("not a CloudEvent", "/", &json!({"hello": "world"})).expect(400));
    check(scenario, &providers, &[]);
}
