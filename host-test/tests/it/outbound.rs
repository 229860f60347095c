use crate::common::load;
use fn_host_test::{CallError, Outcome};
use http::{Method, StatusCode};

fn created(body: &'static str) -> http::Response<&'static str> {
    http::Response::builder().status(201).body(body).unwrap()
}

#[test]
fn matched_mock_answers_and_the_request_is_recorded() {
    let f = load("outbound");
    f.mock_http(Method::POST, "https://pay.test/charge", created("charged"));
    let res = f.post("/?url=https://pay.test/charge", "amount=3");
    assert_eq!(res.status(), 200, "{}", res.describe());
    assert_eq!(res.text(), "201 charged");
    assert!(res.error.is_none(), "{}", res.describe());

    assert_eq!(res.outbound.len(), 1);
    let sent = &res.outbound[0];
    assert_eq!(sent.method, Method::POST);
    assert_eq!(sent.url, "https://pay.test/charge");
    assert_eq!(sent.headers["x-fixture"], "outbound");
    assert_eq!(sent.body_str(), "amount=3");
    // The SDK knows the whole body: it is sent with its length, not chunked.
    assert_eq!(sent.headers["content-length"], "8");
    assert_eq!(sent.outcome, Outcome::Mocked(StatusCode::CREATED));
}

#[test]
fn unmatched_request_fails_loudly_naming_the_url() {
    let f = load("outbound");
    // A mock for another method does not match.
    f.mock_http(Method::GET, "https://pay.test/charge", created("nope"));
    let res = f.post("/?url=https://pay.test/charge", "x");
    // The guest saw an error and answered 502 with it.
    assert_eq!(res.status(), 502, "{}", res.describe());
    assert!(
        res.text().contains("https://pay.test/charge"),
        "{}",
        res.text()
    );
    assert_eq!(
        res.error,
        Some(CallError::UnmatchedOutbound {
            method: Method::POST,
            url: "https://pay.test/charge".into()
        })
    );
    assert!(
        res.host_log
            .iter()
            .any(|l| l.contains("POST https://pay.test/charge"))
    );
    assert_eq!(res.unmatched_outbound().count(), 1);

    // The next call, with a mock, works.
    f.mock_http(Method::POST, "https://pay.test/charge", created("ok"));
    let res = f.post("/?url=https://pay.test/charge", "x");
    assert_eq!(res.text(), "201 ok");
    assert!(res.error.is_none());
}

#[test]
fn prefix_mocks_match_any_path_below() {
    let f = load("outbound");
    f.mock_http_prefix(
        Method::GET,
        "https://api.test/users/",
        http::Response::new("user"),
    );
    let res = f.get("/?url=https://api.test/users/7?full=1");
    assert_eq!(res.text(), "200 user", "{}", res.describe());
    assert_eq!(res.outbound[0].url, "https://api.test/users/7?full=1");
}

#[test]
fn async_requests_awaited_together_are_in_flight_together() {
    use std::time::{Duration, Instant};
    let f = load("outbound");
    // Each upstream takes a second to answer: one after the other would take
    // two seconds at least.
    let slow = Duration::from_secs(1);
    let ok = |body: &'static str| http::Response::builder().status(200).body(body).unwrap();
    f.mock_http_delayed(Method::GET, "https://a.test/x", ok("a"), slow);
    f.mock_http_delayed(Method::GET, "https://b.test/y", ok("b"), slow);
    let started = Instant::now();
    let res = f.get("/both?a=https://a.test/x&b=https://b.test/y");
    let took = started.elapsed();
    assert_eq!(res.status(), 200, "{}", res.describe());
    assert_eq!(res.text(), "200 a | 200 b");
    assert_eq!(res.outbound.len(), 2);
    assert!(took >= slow, "{took:?}");
    assert!(
        took < slow * 2,
        "the two requests ran one after the other: {took:?}"
    );
}

#[test]
fn a_failed_async_request_is_the_handlers_error() {
    let f = load("outbound");
    f.mock_http(Method::GET, "https://a.test/x", created("a"));
    // b has no mock: the guest's `?` turns the failure into a 500.
    let res = f.get("/both?a=https://a.test/x&b=https://b.test/y");
    assert_eq!(res.status(), 500, "{}", res.describe());
    assert!(!res.text().contains("b.test"), "{}", res.text());
    assert_eq!(res.unmatched_outbound().count(), 1);
}

const TRACEPARENT: &str = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

#[test]
fn the_incoming_trace_is_continued_on_outbound_requests_with_a_span_of_their_own() {
    let f = load("outbound");
    f.mock_http(Method::POST, "https://pay.test/charge", created("charged"));
    let traced = http::Request::post("/?url=https://pay.test/charge")
        .header("traceparent", TRACEPARENT)
        .body("amount=3")
        .unwrap();
    let res = f.call(traced);
    assert_eq!(res.status(), 200, "{}", res.describe());
    let sent = res.outbound[0].headers["traceparent"].to_str().unwrap();
    let fields: Vec<&str> = sent.split('-').collect();
    assert_eq!(fields.len(), 4, "{sent}");
    assert_eq!(fields[0], "00");
    assert_eq!(
        fields[1], "4bf92f3577b34da6a3ce929d0e0e4736",
        "the same trace"
    );
    assert_eq!(fields[2].len(), 16, "{sent}");
    assert_ne!(fields[2], "00f067aa0ba902b7", "a span of its own");
    assert_ne!(fields[2], "0000000000000000");
    assert_eq!(fields[3], "01", "the caller's sampling decision");

    // Two calls, two different outbound span ids.
    let again = f.call(
        http::Request::post("/?url=https://pay.test/charge")
            .header("traceparent", TRACEPARENT)
            .body("amount=3")
            .unwrap(),
    );
    assert_ne!(again.outbound[0].headers["traceparent"], sent);

    // Without an incoming trace, nothing is added.
    let untraced = f.post("/?url=https://pay.test/charge", "amount=3");
    assert!(!untraced.outbound[0].headers.contains_key("traceparent"));
}
