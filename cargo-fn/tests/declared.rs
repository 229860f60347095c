//! The code is the one source of config keys and event types: `cargo fn
//! build` reads what `fnsdk::config!` and `#[function(event = ...)]` record
//! in the component and refuses a `[package.metadata.fn]` that disagrees;
//! `--wasm-opt` runs binaryen when cargo-fn has it, or a `wasm-opt`
//! executable (`FN_WASM_OPT`, `PATH`).

mod common;

use common::*;

#[test]
fn declared_config_and_events_must_agree_with_the_metadata() {
    let (_tmp, project) = scaffold("declared-fn", "event");
    let lib = project.join("src/lib.rs");
    let mut code = std::fs::read_to_string(&lib).unwrap();
    code.push_str(
        "\nfnsdk::config! {\n    pub API_KEY: secret \"api_key\";\n    \
         pub API_URL: \"api_url\" = \"https://api.example.com\";\n}\n\
         /// Reads both, so neither is unused.\npub fn endpoint() -> fnsdk::Result<String> {\n    \
         Ok(format!(\"{}?key={}\", API_URL.get()?, API_KEY.get()?))\n}\n",
    );
    std::fs::write(&lib, code).unwrap();

    // The template's metadata lists neither key: the build names both, and
    // the event type, with the lines to write.
    let manifest = project.join("Cargo.toml");
    let err = failure(&cargo_fn(&project, &["build"]));
    assert!(err.contains("disagree"), "{err}");
    assert!(err.contains("add `api_key = { secret = true }`"), "{err}");
    assert!(
        err.contains(r#"add `api_url = { default = "https://api.example.com" }`"#),
        "{err}"
    );

    let toml = std::fs::read_to_string(&manifest).unwrap();
    let mut toml = toml;
    if !toml.contains("[package.metadata.fn]") {
        toml.push_str("\n[package.metadata.fn]\n");
    }
    if !toml.contains("events =") {
        toml = toml.replace(
            "[package.metadata.fn]\n",
            "[package.metadata.fn]\nevents = [\"com.example.order.placed\"]\n",
        );
    }
    toml.push_str(
        "\n[package.metadata.fn.config]\napi_key = { secret = true }\n\
         api_url = { default = \"https://api.example.org\" }\n",
    );
    std::fs::write(&manifest, toml).unwrap();
    // A default that differs is named too.
    let err = failure(&cargo_fn(&project, &["build"]));
    assert!(err.contains("config key `api_url` differs"), "{err}");
    assert!(!err.contains("`api_key`"), "{err}");
    edit(
        &manifest,
        "https://api.example.org",
        "https://api.example.com",
    );
    let json = build_json(&project, &[]);
    assert!(
        json["declared"]["config"].as_array().unwrap().len() == 2,
        "{json}"
    );
    assert_eq!(
        json["declared"]["events"],
        serde_json::json!(["com.example.order.placed"])
    );
}

#[cfg(feature = "wasm-opt")]
#[test]
fn wasm_opt_shrinks_the_artifact_which_still_runs() {
    let (_tmp, project) = scaffold("opt-fn", "http");
    let plain = build_json(&project, &["--wasm-opt", "none"]);
    assert!(plain["wasm_opt"].is_null(), "{plain}");
    let plain_size = plain["final_size"].as_u64().unwrap();
    // Release builds optimise at -Os unless told otherwise.
    let default = build_json(&project, &[]);
    assert_eq!(default["wasm_opt"]["level"], "-Os", "{default}");
    let json = build_json(&project, &["--wasm-opt", "z"]);
    assert_eq!(json["wasm_opt"]["level"], "-Oz", "{json}");
    assert_optimized_and_running(&json, plain_size);
}

/// `json` (a `build --json` result) says wasm-opt shrank the component, the
/// artifact is smaller than `plain_size` (the same build without wasm-opt)
/// and still greets, and binaryen's output is still within the contract,
/// every host in the table running it.
fn assert_optimized_and_running(json: &serde_json::Value, plain_size: u64) {
    let optimized = &json["wasm_opt"];
    assert!(
        optimized["after"].as_u64() < optimized["before"].as_u64(),
        "{json}"
    );
    let size = json["final_size"].as_u64().unwrap();
    assert!(size < plain_size, "{size} >= {plain_size}");
    let function = fn_host_test::TestFunction::load(artifact(json)).unwrap();
    let response = function.get("/?name=Ferris");
    assert_eq!(response.status(), 200, "{}", response.describe());
    assert_eq!(response.text(), "Hello, Ferris!");
    assert_eq!(json["report"]["within_contract"], true, "{json}");
    let hosts = json["report"]["hosts"].as_array().unwrap();
    assert!(hosts.iter().all(|h| h["runs"] == true), "{json}");
}

#[test]
fn wasm_opt_levels_are_checked_before_building() {
    let (_tmp, project) = scaffold("opt-level-fn", "http");
    let err = failure(&cargo_fn(&project, &["build", "--wasm-opt", "fast"]));
    assert!(err.contains("0, 1, 2, 3, 4, s, z"), "{err}");
}

/// A binaryen `wasm-opt` executable for the tests: `FN_TEST_WASM_OPT`
/// (`.ci/run` unpacks Debian's binaryen into `target/tools` and sets it),
/// else the first on `PATH`.
fn test_wasm_opt() -> std::path::PathBuf {
    if let Some(path) = std::env::var_os("FN_TEST_WASM_OPT") {
        return path.into();
    }
    std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default())
        .map(|dir| dir.join("wasm-opt"))
        .find(|candidate| candidate.is_file())
        .expect(
            "these tests need binaryen's wasm-opt: `apt-get install binaryen`, or \
             FN_TEST_WASM_OPT=/path/to/wasm-opt (.ci/run sets it)",
        )
}

#[test]
fn an_external_wasm_opt_shrinks_the_artifact_which_still_runs() {
    let wasm_opt = test_wasm_opt();
    let (_tmp, project) = scaffold("ext-opt-fn", "http");
    let plain = build_json(&project, &["--wasm-opt", "none"]);
    let plain_size = plain["final_size"].as_u64().unwrap();
    // FN_WASM_OPT names the executable, before a built-in binaryen and
    // PATH; release builds run it at -Os.
    let args = ["build", "--release", "--json"];
    let output = cargo_fn_env(&project, &args, &[("FN_WASM_OPT", wasm_opt.as_os_str())]);
    let json: serde_json::Value = serde_json::from_str(&success(&output)).unwrap();
    assert_eq!(json["wasm_opt"]["level"], "-Os", "{json}");
    assert_eq!(
        json["wasm_opt"]["tool"],
        wasm_opt.display().to_string(),
        "{json}"
    );
    assert_optimized_and_running(&json, plain_size);
}

#[test]
fn a_wasm_opt_that_is_missing_or_fails_is_a_clear_error() {
    let (tmp, project) = scaffold("bad-opt-fn", "http");
    let missing = tmp.path().join("no-such-wasm-opt");
    let err = failure(&cargo_fn_env(
        &project,
        &["build", "--release"],
        &[("FN_WASM_OPT", missing.as_os_str())],
    ));
    assert!(err.contains("could not run"), "{err}");
    assert!(err.contains("no-such-wasm-opt"), "{err}");
    assert!(err.contains("--wasm-opt none"), "{err}");

    // One that exits with an error: its stderr is in the message.
    let fake = tmp.path().join("wasm-opt");
    std::fs::write(
        &fake,
        "#!/bin/sh\necho \"[wasm-validator error] boom\" >&2\nexit 3\n",
    )
    .unwrap();
    use std::os::unix::fs::PermissionsExt as _;
    std::fs::set_permissions(&fake, std::fs::Permissions::from_mode(0o755)).unwrap();
    let err = failure(&cargo_fn_env(
        &project,
        &["build", "--release", "--wasm-opt", "z"],
        &[("FN_WASM_OPT", fake.as_os_str())],
    ));
    assert!(err.contains("-Oz failed"), "{err}");
    assert!(err.contains("boom"), "{err}");
}
