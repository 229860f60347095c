use crate::common::load;
use fn_host_test::CloudEvent;
use serde_json::json;

const TYPE: &str = "com.example.user.registered";

#[test]
fn binary_mode_event_is_handled() {
    let f = load("event");
    let event = CloudEvent::new(TYPE, "/users", json!({"email": "ada@example.com"})).with_id("e-1");
    let res = f.send_event(&event);
    assert_eq!(res.status(), 204, "{}", res.describe());
    assert_eq!(
        f.kv().get_str("welcomed:e-1").as_deref(),
        Some("ada@example.com")
    );
    let records = res.logs.records();
    assert_eq!(records[0]["msg"], "welcomed ada@example.com");
}

#[test]
fn structured_mode_event_is_handled() {
    let f = load("event");
    let event = CloudEvent::new(TYPE, "/users", json!({"email": "bob@example.com"})).with_id("e-2");
    let res = f.send_event_structured(&event);
    assert_eq!(res.status(), 204, "{}", res.describe());
    assert_eq!(
        f.kv().get_str("welcomed:e-2").as_deref(),
        Some("bob@example.com")
    );
}

#[test]
fn malformed_events_are_rejected_with_400() {
    let f = load("event");
    // Not an event at all.
    assert_eq!(f.post("/", "{}").status(), 400);
    // Structured mode with a body that is not JSON.
    let req = http::Request::post("/")
        .header("content-type", "application/cloudevents+json")
        .body("{oops")
        .unwrap();
    assert_eq!(f.call(req).status(), 400);
    // Binary mode missing `ce-id`.
    let req = http::Request::post("/")
        .header("ce-specversion", "1.0")
        .header("ce-type", TYPE)
        .header("ce-source", "/users")
        .header("content-type", "application/json")
        .body(r#"{"email":"x@y.z"}"#)
        .unwrap();
    assert_eq!(f.call(req).status(), 400);
    // Data of the wrong shape.
    let event = CloudEvent::new(TYPE, "/users", json!({"mail": 1}));
    assert_eq!(f.send_event(&event).status(), 400);
    // Another event type.
    let event = CloudEvent::new("com.example.other", "/users", json!({"email": "c@d.e"}));
    assert_eq!(f.send_event(&event).status(), 400);
    assert!(f.kv().store(fn_host_test::DEFAULT_STORE).keys().is_empty());

    // And a good event still goes through.
    let event = CloudEvent::new(TYPE, "/users", json!({"email": "ok@d.e"}));
    assert_eq!(f.send_event(&event).status(), 204);
}

#[test]
fn handler_error_is_a_500_so_providers_retry() {
    let f = load("event");
    let event = CloudEvent::new(TYPE, "/users", json!({"email": ""}));
    let res = f.send_event(&event);
    assert_eq!(res.status(), 500, "{}", res.describe());
    // The guest answered (the runtime has nothing to add) and logged why.
    assert!(res.error.is_none());
    let records = res.logs.records();
    assert!(
        records
            .iter()
            .any(|r| r["level"] == "error" && r["msg"].as_str().unwrap().contains("empty email")),
        "{}",
        res.logs.stderr_str()
    );
}

#[test]
fn an_event_whose_time_is_not_rfc3339_is_rejected_with_400_in_both_modes() {
    let f = load("event");
    // Binary mode, by hand, as a provider would send it.
    let req = http::Request::post("/")
        .header("ce-specversion", "1.0")
        .header("ce-id", "t-1")
        .header("ce-type", TYPE)
        .header("ce-source", "/users")
        .header("ce-time", "Fri, 27 Nov 2026 09:30:00 GMT")
        .header("content-type", "application/json")
        .body(r#"{"email":"x@y.z"}"#)
        .unwrap();
    let res = f.call(req);
    assert_eq!(res.status(), 400, "{}", res.describe());
    assert!(res.text().contains("`time`"), "{}", res.text());
    // Structured mode.
    let req = http::Request::post("/")
        .header("content-type", "application/cloudevents+json")
        .body(format!(
            r#"{{"specversion":"1.0","id":"t-2","type":"{TYPE}","source":"/users","time":"2026-02-30T00:00:00Z","data":{{"email":"x@y.z"}}}}"#
        ))
        .unwrap();
    let res = f.call(req);
    assert_eq!(res.status(), 400, "{}", res.describe());
    assert!(res.text().contains("RFC 3339"), "{}", res.text());
    assert!(f.kv().store("default").keys().is_empty());

    // A valid time with an offset and fractional seconds is accepted.
    let event = CloudEvent::new(TYPE, "/users", json!({"email": "t@d.e"}))
        .with_id("t-3")
        .with_time("2026-11-27t09:30:00.5+01:00");
    let res = f.send_event(&event);
    assert_eq!(res.status(), 204, "{}", res.describe());
}

#[test]
fn a_cloudevents_traceparent_extension_puts_the_trace_ids_on_every_log_line() {
    let f = load("event");
    let event = CloudEvent::new(TYPE, "/users", json!({"email": "tia@example.com"}))
        .with_extension(
            "traceparent",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
        );
    for res in [f.send_event(&event), f.send_event_structured(&event)] {
        assert_eq!(res.status(), 204, "{}", res.describe());
        let line: serde_json::Value = serde_json::from_str(
            res.logs
                .stderr_str()
                .lines()
                .find(|l| l.contains("welcomed"))
                .unwrap(),
        )
        .unwrap();
        assert_eq!(
            line["trace_id"], "4bf92f3577b34da6a3ce929d0e0e4736",
            "{line}"
        );
        assert_eq!(line["span_id"], "00f067aa0ba902b7", "{line}");
    }
    let untraced = f.send_event(&CloudEvent::new(TYPE, "/users", json!({"email": "u@v.w"})));
    assert!(!untraced.logs.stderr_str().contains("trace_id"));
}
