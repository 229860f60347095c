use crate::common::load;
use fn_host_test::{Logs, TestFunction};
use serde_json::json;

#[test]
fn plain_handler_answers_and_reports_metrics() {
    let f = load("hello");
    let res = f.get("/?name=Ada");
    assert_eq!(res.status(), 200, "{}", res.describe());
    assert_eq!(res.text(), "Hello, Ada!");
    assert!(res.error.is_none(), "{}", res.describe());
    assert!(res.outbound.is_empty());
    assert_eq!(res.logs, Logs::default());
    assert!(res.metrics.peak_memory > 0, "{:?}", res.metrics);
    assert!(res.metrics.instantiate > std::time::Duration::ZERO);
    assert!(res.metrics.handler > std::time::Duration::ZERO);
    assert!(res.metrics.total >= res.metrics.instantiate + res.metrics.handler);
    assert_eq!(res.metrics.fuel, None);
}

#[test]
fn absolute_uris_and_host_headers_are_accepted() {
    let f = load("hello");
    let req = http::Request::get("http://example.com/?name=Bob")
        .body(Vec::new())
        .unwrap();
    assert_eq!(f.call(req).text(), "Hello, Bob!");
    let req = http::Request::get("/?name=Cy")
        .header("host", "fn.local:8080")
        .body(Vec::new())
        .unwrap();
    assert_eq!(f.call(req).text(), "Hello, Cy!");
}

#[test]
fn the_guest_sees_the_scheme_authority_path_and_query() {
    let f = load("request-echo");
    let uri = |req: http::Request<Vec<u8>>| {
        let echo: serde_json::Value = f.call(req).json().unwrap();
        echo["uri"].as_str().unwrap().to_owned()
    };
    let absolute = http::Request::get("https://example.com:8443/a/b?x=1&y=%20")
        .body(Vec::new())
        .unwrap();
    assert_eq!(uri(absolute), "https://example.com:8443/a/b?x=1&y=%20");
    let relative = http::Request::get("/p?q")
        .header("host", "fn.local:8080")
        .body(Vec::new())
        .unwrap();
    assert_eq!(uri(relative), "http://fn.local:8080/p?q");
}

#[test]
fn hop_by_hop_fields_a_handler_sets_are_left_out_not_refused() {
    let f = load("request-echo");
    let res = f.get("/hop");
    res.assert_ok();
    assert_eq!(res.text(), "hop");
    assert_eq!(res.header("x-kept"), Some("1"));
    assert_eq!(res.header("connection"), None);
}

#[test]
fn a_field_the_host_refuses_is_a_500_that_leaks_nothing() {
    // A line break in a value: `fields.from-list` says invalid syntax. The
    // SDK answers with a 500 response of its own (no `error-code`) and logs
    // why; the instance serves the next call.
    let f = load("request-echo");
    let res = f.get("/bad-header");
    assert_eq!(res.status(), 500, "{}", res.describe());
    assert_eq!(
        res.json::<serde_json::Value>().unwrap(),
        json!({"error": "Internal Server Error"})
    );
    assert_eq!(res.header("x-bad"), None);
    let records = res.logs.records();
    assert!(
        records.iter().any(|r| r["level"] == "error"
            && r["msg"]
                .as_str()
                .is_some_and(|m| m.contains("invalid headers: invalid syntax"))),
        "{}",
        res.logs.stderr_str()
    );
    assert_eq!(f.get("/hop").status(), 200);
}

#[test]
fn a_large_body_round_trips_through_the_c_allocator() {
    // 3 MB read into a growing buffer, made a `String`, escaped into JSON
    // and written back: thousands of allocations and reallocations and
    // dozens of `memory.grow`s through the C allocator fnsdk links in place
    // of dlmalloc (its `small-alloc` feature); any corruption shows in the
    // echoed bytes.
    let f = load("request-echo");
    let body: String = (0..3_000_000u32)
        .map(|i| char::from(b'a' + (i * 7 % 26) as u8))
        .collect();
    let res = f.post("/large", body.clone());
    assert_eq!(res.status(), 201, "{}", res.describe());
    let echo: serde_json::Value = res.json().unwrap();
    assert!(echo["body"] == body.as_str(), "the echoed body differs");
    assert!(res.metrics.peak_memory > 6 << 20, "{:?}", res.metrics);
}

#[test]
fn fuel_is_measured_when_enabled() {
    let f = TestFunction::load_with_fuel(crate::common::artifact("hello")).unwrap();
    let res = f.get("/");
    res.assert_ok();
    let fuel = res.metrics.fuel.expect("fuel is metered");
    assert!(fuel > 0);
}

#[test]
fn json_round_trip_and_structured_logs() {
    let f = load("json-echo");
    let res = f.post_json("/items", &json!({"name": "widget", "qty": 3}));
    res.assert_ok();
    assert_eq!(res.header("content-type"), Some("application/json"));
    let echo: serde_json::Value = res.json().unwrap();
    assert_eq!(
        echo,
        json!({"method": "POST", "path": "/items", "body": {"name": "widget", "qty": 3}})
    );
    let records = res.logs.records();
    assert_eq!(records.len(), 1, "{}", res.logs.stderr_str());
    assert_eq!(records[0]["level"], "info");
    assert!(records[0]["msg"].as_str().unwrap().starts_with("echoing "));
}

#[test]
fn invalid_json_is_a_client_error() {
    let f = load("json-echo");
    let res = f.post("/", "{not json");
    assert_eq!(res.status(), 400, "{}", res.describe());
    // The guest answered; the runtime has nothing to report.
    assert!(res.error.is_none());
}

#[test]
fn from_package_builds_with_the_pipeline_and_runs_the_artifact() {
    let manifest = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/hello/Cargo.toml");
    let f = TestFunction::from_package(manifest).unwrap();
    let res = f.get("/?name=Pipeline");
    assert_eq!(res.status(), 200, "{}", res.describe());
    assert_eq!(res.text(), "Hello, Pipeline!");
    // The pipeline's artifact, not cargo's raw output: no wasi:cli/environment.
    let artifact = std::fs::read(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/fn/fixture-hello.wasm"),
    )
    .unwrap();
    let report = fn_pipeline::report::inspect(&artifact).unwrap();
    let imports: Vec<&str> = report.imports.iter().map(|i| i.name.as_str()).collect();
    assert!(report.within_contract, "{imports:?}");
    assert!(
        imports
            .iter()
            .all(|i| !i.starts_with("wasi:cli/environment")),
        "{imports:?}"
    );
}
