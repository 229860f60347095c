//! The conformance harness on the small fixtures: plain HTTP, JSON, errors,
//! key-value and config answer alike on fn-host-test and `wasmtime serve`.

use fn_conformance::providers::Providers;
use fn_conformance::{Scenario, Step};
use serde_json::json;

#[test]
fn fixtures_answer_alike_on_both_hosts() {
    let providers = Providers::start().unwrap();
    let report = Scenario::new("host-test/fixtures/json-echo")
        .step(Step::post_json("echo", "/", &json!({"name": "Ada", "n": [1, 2, 3]})).expect(200))
        .step(Step::post("malformed JSON", "/", "application/json", "{not json").expect(400))
        .step(Step::get("GET", "/").expect(400))
        .run(&providers)
        .unwrap();
    print!("{}", report.table());
    report.assert_same();

    let report = Scenario::new("host-test/fixtures/kv-counter")
        .kv("visits", "41")
        .kv("colour", "teal")
        .step(Step::get("increment a preset counter", "/").expect(200))
        .step(Step::get("read a preset key", "/get?key=colour").expect(200))
        .step(Step::get("read a missing key", "/get?key=nope").expect(404))
        .run(&providers)
        .unwrap();
    print!("{}", report.table());
    report.assert_same();
}

#[test]
fn config_values_reach_the_guest_alike() {
    let providers = Providers::start().unwrap();
    let report = Scenario::new("host-test/fixtures/config-reader")
        .config("greeting", "hello world")
        .config("region", "eu-west-1")
        .step(Step::get("a config value", "/?key=greeting").expect(200))
        .step(Step::get("a missing value", "/?key=nope").expect(404))
        .step(Step::get("every value", "/all").expect(200))
        .run(&providers)
        .unwrap();
    print!("{}", report.table());
    report.assert_same();
}
