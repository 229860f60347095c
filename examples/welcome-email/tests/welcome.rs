//! The built component, run on fn-host-test with a mocked e-mail provider.

use fn_host_test::{CallResult, TestFunction};
use fnsdk::CloudEvent;
use http::{Method, StatusCode};
use serde_json::{Value, json};
use welcome_email::UserRegistered;

const EMAILS: &str = "https://mail.test/emails";

/// The built component (`cargo fn build --release`'s bytes; built once per
/// test binary) with its own key-value store, config and mocks.
fn function() -> TestFunction {
    TestFunction::from_package(concat!(env!("CARGO_MANIFEST_DIR"), "/Cargo.toml"))
        .unwrap_or_else(|e| panic!("{e:#}"))
}

/// A fresh instance: its own key-value store, config and mocks.
fn load() -> TestFunction {
    function()
}

/// Configured, with the provider accepting every message.
fn configured() -> TestFunction {
    let f = load();
    f.set_config("email_api_key", "re_test_123")
        .set_config("email_api_url", "https://mail.test")
        .set_config("email_from", "Acme <welcome@acme.test>");
    provider_answers(&f, 200, json!({"id": "msg_1"}));
    f
}

fn provider_answers(f: &TestFunction, status: u16, body: Value) {
    f.clear_mocks().mock_http(
        Method::POST,
        EMAILS,
        http::Response::builder()
            .status(status)
            .header("content-type", "application/json")
            .body(body.to_string())
            .unwrap(),
    );
}

fn registered(id: &str, name: &str, email: &str) -> CloudEvent<UserRegistered> {
    CloudEvent::new(
        "user.registered",
        "/accounts",
        UserRegistered {
            user_id: "u_42".into(),
            email: email.into(),
            name: name.into(),
        },
    )
    .with_id(id)
}

fn assert_sent_welcome(res: &CallResult, event_id: &str) {
    assert_eq!(res.status(), StatusCode::NO_CONTENT, "{}", res.describe());
    assert_eq!(res.outbound.len(), 1, "{}", res.describe());
    let sent = &res.outbound[0];
    assert_eq!(sent.method, Method::POST);
    assert_eq!(sent.url, EMAILS);
    assert_eq!(sent.headers["authorization"], "Bearer re_test_123");
    assert_eq!(sent.headers["content-type"], "application/json");
    assert_eq!(sent.headers["idempotency-key"], event_id);
    let body: Value = serde_json::from_slice(&sent.body).unwrap();
    assert_eq!(body["from"], "Acme <welcome@acme.test>");
    assert_eq!(body["to"], json!(["ada@example.com"]));
    assert_eq!(body["subject"], "Welcome, Ada <Lovelace>!");
    let html = body["html"].as_str().unwrap();
    assert!(html.contains("Hi Ada &lt;Lovelace&gt;,"), "{html}");
    assert!(!html.contains("<Lovelace>"), "{html}");
    assert!(
        body["text"]
            .as_str()
            .unwrap()
            .starts_with("Hi Ada <Lovelace>,")
    );
}

#[test]
fn a_binary_mode_event_sends_the_welcome_and_records_it() {
    let f = configured();
    let res = f.send_event(&registered("evt-1", "Ada <Lovelace>", "ada@example.com"));
    assert_sent_welcome(&res, "evt-1");
    assert_eq!(f.kv().get_str("sent:evt-1").as_deref(), Some("u_42"));
}

#[test]
fn a_structured_mode_event_sends_the_same_welcome() {
    let f = configured();
    let res = f.send_event_structured(&registered("evt-2", "Ada <Lovelace>", "ada@example.com"));
    assert_sent_welcome(&res, "evt-2");
    assert!(f.kv().get_str("sent:evt-2").is_some());
}

#[test]
fn a_redelivered_event_sends_once() {
    let f = configured();
    let event = registered("evt-3", "Ada", "ada@example.com");
    let first = f.send_event(&event);
    assert_eq!(
        first.status(),
        StatusCode::NO_CONTENT,
        "{}",
        first.describe()
    );
    assert_eq!(first.outbound.len(), 1);
    for again in [f.send_event(&event), f.send_event_structured(&event)] {
        assert_eq!(
            again.status(),
            StatusCode::NO_CONTENT,
            "{}",
            again.describe()
        );
        assert!(again.outbound.is_empty(), "{}", again.describe());
    }
    // Another event for the same user is another message.
    let other = f.send_event(&registered("evt-4", "Ada", "ada@example.com"));
    assert_eq!(other.outbound.len(), 1, "{}", other.describe());
}

#[test]
fn other_event_types_are_refused() {
    let f = configured();
    let mut event = registered("evt-5", "Ada", "ada@example.com");
    event.ty = "user.deleted".into();
    let res = f.send_event(&event);
    assert_eq!(res.status(), StatusCode::BAD_REQUEST, "{}", res.describe());
    assert!(res.text().contains("user.deleted"), "{}", res.text());
    assert!(res.outbound.is_empty());
}

#[test]
fn bad_data_is_400_so_the_platform_does_not_retry() {
    let f = configured();
    let cases = [
        (registered("e1", "Ada", "not-an-address"), "data.email"),
        (registered("e2", "Ada", "ada@localhost"), "data.email"),
        (registered("e3", "   ", "ada@example.com"), "data.name"),
    ];
    for (event, field) in cases {
        let res = f.send_event(&event);
        assert_eq!(res.status(), StatusCode::BAD_REQUEST, "{}", res.describe());
        assert!(res.text().contains(field), "{field}: {}", res.text());
        assert!(res.outbound.is_empty());
    }
    let missing = CloudEvent::new("user.registered", "/accounts", json!({"user_id": "u_1"}));
    let res = f.send_event(&missing);
    assert_eq!(res.status(), StatusCode::BAD_REQUEST, "{}", res.describe());
    assert!(res.text().contains("missing field"), "{}", res.text());
}

#[test]
fn a_provider_outage_is_retried_and_the_redelivery_sends() {
    let f = configured();
    provider_answers(&f, 500, json!({"message": "internal"}));
    let event = registered("evt-6", "Ada", "ada@example.com");
    let res = f.send_event(&event);
    // 503, so the platform redelivers later.
    assert_eq!(
        res.status(),
        StatusCode::SERVICE_UNAVAILABLE,
        "{}",
        res.describe()
    );
    assert_eq!(res.outbound.len(), 1);
    assert_eq!(f.kv().get_str("sent:evt-6"), None, "nothing recorded");

    // Unreachable is an outage too.
    f.clear_mocks();
    let res = f.send_event(&event);
    assert_eq!(
        res.status(),
        StatusCode::SERVICE_UNAVAILABLE,
        "{}",
        res.describe()
    );
    assert_eq!(f.kv().get_str("sent:evt-6"), None);

    provider_answers(&f, 200, json!({"id": "msg_2"}));
    let res = f.send_event(&event);
    assert_eq!(res.status(), StatusCode::NO_CONTENT, "{}", res.describe());
    assert_eq!(res.outbound.len(), 1);
    assert_eq!(res.outbound[0].headers["idempotency-key"], "evt-6");
    assert!(f.kv().get_str("sent:evt-6").is_some());
}

#[test]
fn a_refused_message_is_422_and_logged() {
    let f = configured();
    provider_answers(
        &f,
        422,
        json!({"name": "validation_error", "message": "Invalid `to` field"}),
    );
    let res = f.send_event(&registered("evt-7", "Ada", "ada@example.com"));
    assert_eq!(
        res.status(),
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        res.describe()
    );
    assert!(
        res.logs.stderr_str().contains("Invalid `to` field"),
        "{}",
        res.describe()
    );
    assert_eq!(f.kv().get_str("sent:evt-7"), None);
}

#[test]
fn a_missing_api_key_is_500_and_sends_nothing() {
    let f = load();
    f.set_config("email_api_url", "https://mail.test");
    let res = f.send_event(&registered("evt-8", "Ada", "ada@example.com"));
    assert_eq!(
        res.status(),
        StatusCode::INTERNAL_SERVER_ERROR,
        "{}",
        res.describe()
    );
    assert!(
        res.logs.stderr_str().contains("email_api_key"),
        "{}",
        res.describe()
    );
    assert!(res.outbound.is_empty());
    assert_eq!(f.kv().get_str("sent:evt-8"), None);
}
