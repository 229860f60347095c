//! `cargo fn bench` end to end: the real binary on fixture artifacts, a few
//! dozen requests per host. The figures' values are the bench's business;
//! these tests check the report's shape and that every figure is present,
//! positive and consistent.

mod common;

use std::path::{Path, PathBuf};

use common::{cargo_fn, failure, shared_target, success, workspace};
use serde_json::Value;

fn fixture(package: &str) -> PathBuf {
    let dir = package.strip_prefix("fixture-").expect("a fixture package");
    let manifest = workspace()
        .join("host-test/fixtures")
        .join(dir)
        .join("Cargo.toml");
    fn_host_test::build_package(manifest).unwrap_or_else(|e| panic!("{e:#}"))
}

fn bench_json(dir: &Path, args: &[&str]) -> Value {
    let mut all = vec!["bench", "--json"];
    all.extend_from_slice(args);
    let stdout = success(&cargo_fn(dir, &all));
    serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("{e}: {stdout}"))
}

fn number(value: &Value, key: &str) -> f64 {
    value[key]
        .as_f64()
        .unwrap_or_else(|| panic!("{key} is not a number in {value}"))
}

/// Every figure of one host's row is there, positive, and consistent.
fn check_host(host: &Value, requests: u64) {
    assert!(number(host, "cold_start_ms") > 0.0, "{host}");
    let latency = &host["latency"];
    let (p50, p99) = (number(latency, "p50_us"), number(latency, "p99_us"));
    assert!(p50 > 0.0 && p50 <= p99, "{host}");
    assert!(number(host, "requests_per_second") > 0.0, "{host}");
    assert_eq!(host["requests"], requests, "{host}");
    assert_eq!(host["non_2xx"], 0, "{host}");
    assert!(number(host, "host_rss") > 0.0, "{host}");
    if let Some(cwasm) = host["cold_start_cwasm_ms"].as_f64() {
        assert!(cwasm > 0.0, "{host}");
    }
}

#[test]
fn in_process_and_serve_side_by_side_with_a_bill() {
    let wasm = fixture("fixture-hello");
    let dir = tempfile::tempdir().unwrap();
    let report = bench_json(
        dir.path(),
        &[
            wasm.to_str().unwrap(),
            "-n",
            "40",
            "-c",
            "2",
            "--host",
            "in-process",
            "--host",
            "serve",
            "--no-anchor",
        ],
    );
    let hosts = report["hosts"].as_array().unwrap();
    let ids: Vec<&str> = hosts.iter().map(|h| h["host"].as_str().unwrap()).collect();
    assert_eq!(ids, ["in-process", "serve"], "{report}");
    for host in hosts {
        check_host(host, 40);
    }
    let in_process = &hosts[0];
    assert!(number(in_process, "cold_start_cwasm_ms") > 0.0, "{report}");
    let instantiate = &in_process["instantiate"];
    assert!(
        number(instantiate, "p50_us") > 0.0
            && number(instantiate, "p50_us") <= number(instantiate, "p99_us"),
        "{report}"
    );
    assert!(
        number(in_process, "peak_guest_memory") >= 65536.0,
        "{report}"
    );
    // `cargo fn serve` starts again from its code cache.
    assert!(number(&hosts[1], "cold_start_cwasm_ms") > 0.0, "{report}");

    // The bill: every provider, from the in-process p50, at 128 MB.
    let billed = number(&report, "billed_duration_ms");
    assert!((billed - number(&in_process["latency"], "p50_us") / 1000.0).abs() < 1e-9);
    assert_eq!(report["memory_mb"], 128);
    let providers: Vec<&str> = report["costs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            assert!(number(c, "usd_per_million") > 0.0, "{c}");
            assert!(number(c, "billed_ms") >= billed, "{c}");
            c["provider"].as_str().unwrap()
        })
        .collect();
    for provider in [
        "AWS Lambda",
        "Google Cloud Run / Functions",
        "Azure Functions",
        "Cloudflare Workers",
        "Netlify Functions",
    ] {
        assert!(providers.contains(&provider), "{provider}: {report}");
    }
    assert_eq!(report["anchors"], serde_json::json!([]));
    assert_eq!(report["size"], std::fs::metadata(&wasm).unwrap().len());
}

#[test]
fn the_table_shows_the_raw_anchor_and_the_assumptions() {
    let wasm = fixture("fixture-hello");
    let dir = tempfile::tempdir().unwrap();
    let target = shared_target();
    let output = cargo_fn(
        dir.path(),
        &[
            "bench",
            wasm.to_str().unwrap(),
            "-n",
            "30",
            "--host",
            "in-process",
            "--target-dir",
            target.to_str().unwrap(),
            "--offline",
            "--memory-size",
            "512",
        ],
    );
    let table = success(&output);
    assert!(table.contains("| host | cold start ms |"), "{table}");
    assert!(table.contains("| in-process |"), "{table}");
    assert!(table.contains("| raw anchor on in-process |"), "{table}");
    assert!(table.contains("Against the raw anchor"), "{table}");
    assert!(table.contains("  in-process: cold start "), "{table}");
    assert!(table.contains("at 512 MB"), "{table}");
    assert!(table.contains("× 512 MB"), "{table}");
    assert!(
        table.contains("https://aws.amazon.com/lambda/pricing/"),
        "{table}"
    );
    assert!(
        target.join("fn/anchors/raw-hello.wasm").is_file(),
        "the anchor is kept in the target directory"
    );
}

#[test]
fn a_requests_file_drives_the_bench_and_mistakes_name_the_request() {
    let wasm = fixture("fixture-json-echo");
    let dir = tempfile::tempdir().unwrap();
    let requests = dir.path().join("requests.json");
    std::fs::write(
        &requests,
        "{\"path\": \"/\", \"json\": {\"name\": \"Ferris\"}}\n{\"method\": \"POST\", \"body\": \"{}\", \"headers\": {\"content-type\": \"application/json\"}}\n",
    )
    .unwrap();
    let report = bench_json(
        dir.path(),
        &[
            wasm.to_str().unwrap(),
            "-n",
            "20",
            "--host",
            "in-process",
            "--no-anchor",
            "--requests",
            requests.to_str().unwrap(),
        ],
    );
    assert_eq!(report["requests"], serde_json::json!(["POST /", "POST /"]));
    check_host(&report["hosts"][0], 20);

    std::fs::write(&requests, "{\"path\": \"/\"}\n{\"methd\": \"GET\"}\n").unwrap();
    let err = failure(&cargo_fn(
        dir.path(),
        &[
            "bench",
            wasm.to_str().unwrap(),
            "--requests",
            requests.to_str().unwrap(),
        ],
    ));
    assert!(err.contains("request 2"), "{err}");
    assert!(err.contains("methd"), "{err}");
}

#[test]
fn a_function_that_fails_its_first_request_is_not_benchmarked() {
    let wasm = fixture("fixture-panic");
    let dir = tempfile::tempdir().unwrap();
    let requests = dir.path().join("requests.json");
    std::fs::write(&requests, r#"{"path": "/panic"}"#).unwrap();
    let err = failure(&cargo_fn(
        dir.path(),
        &[
            "bench",
            wasm.to_str().unwrap(),
            "--host",
            "in-process",
            "--no-anchor",
            "--requests",
            requests.to_str().unwrap(),
        ],
    ));
    assert!(
        err.contains("the first request (GET /panic) failed"),
        "{err}"
    );
    assert!(err.contains("trapped"), "{err}");
}

#[test]
fn workerd_runs_the_worker_cargo_fn_deploy_writes() {
    // `scripts/test` installs workerd and wrangler here before the tests.
    let js_hosts = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace().join("target"))
        .join("tools/js-hosts");
    assert!(
        js_hosts.join("node_modules/.bin/workerd").is_file(),
        "run the tests with scripts/test, which installs workerd into {}",
        js_hosts.display()
    );
    let wasm = fixture("fixture-hello");
    let dir = tempfile::tempdir().unwrap();
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_cargo-fn"));
    cmd.args(["fn", "bench", "--json", "--no-anchor", "-n", "10"])
        .args(["--host", "workerd"])
        .arg(&wasm)
        .env("FN_JS_HOSTS", &js_hosts)
        .current_dir(dir.path());
    common::offline(&mut cmd);
    let stdout = success(&cmd.output().unwrap());
    let report: Value = serde_json::from_str(&stdout).unwrap();
    let host = &report["hosts"][0];
    assert_eq!(host["host"], "workerd", "{report}");
    check_host(host, 10);
    // JavaScript has no precompiled start to compare.
    assert!(host["cold_start_cwasm_ms"].is_null(), "{report}");
}
