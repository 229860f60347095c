//! Builds the guest fixtures once per test binary and loads them.
//!
//! This is the one place that knows how fixtures become artifacts; when
//! `fn-pipeline` can build a package, swap `build_all` for it.

use fn_host_test::TestFunction;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

/// The fixture crates under `host-test/fixtures/`, by directory name.
pub const FIXTURES: &[&str] = &[
    "hello",
    "json-echo",
    "event",
    "kv-counter",
    "config-reader",
    "outbound",
    "panic",
    "spin",
    "memory-hog",
];

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("host-test lives in the workspace")
        .to_owned()
}

/// Builds `fixtures` for wasm32-wasip2 in one cargo invocation, in a target
/// directory of their own (so the outer `cargo test` lock is not contended),
/// and returns the `.wasm` artifact of each, by package name.
pub fn build_all(fixtures: &[&str]) -> Result<HashMap<String, PathBuf>, String> {
    let root = workspace_root();
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let mut cmd = Command::new(cargo);
    cmd.current_dir(&root)
        .args(["build", "--release", "--target", "wasm32-wasip2"])
        .arg("--message-format=json-render-diagnostics")
        .arg("--target-dir")
        .arg(root.join("target").join("fixtures"));
    for name in fixtures {
        cmd.args(["-p", &format!("fixture-{name}")]);
    }
    let output = cmd
        .output()
        .map_err(|e| format!("could not run cargo to build the fixtures: {e}"))?;
    if !output.status.success() {
        return Err(format!(
            "building the fixtures failed (is the target installed? `rustup target add wasm32-wasip2`):\n{}",
            String::from_utf8_lossy(&output.stderr)
        ));
    }
    let mut artifacts = HashMap::new();
    for line in output.stdout.split(|b| *b == b'\n') {
        let Ok(message) = serde_json::from_slice::<serde_json::Value>(line) else {
            continue;
        };
        if message["reason"] != "compiler-artifact" {
            continue;
        }
        let package = message["package_id"].as_str().unwrap_or_default();
        let Some(name) = fixtures
            .iter()
            .map(|name| format!("fixture-{name}"))
            .find(|pkg| package_name_matches(package, pkg))
        else {
            continue;
        };
        let wasm = message["filenames"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|f| f.as_str())
            .find(|f| f.ends_with(".wasm"));
        if let Some(wasm) = wasm {
            artifacts.insert(name, PathBuf::from(wasm));
        }
    }
    for name in fixtures {
        let pkg = format!("fixture-{name}");
        if !artifacts.contains_key(&pkg) {
            return Err(format!("cargo reported no .wasm artifact for `{pkg}`"));
        }
    }
    Ok(artifacts)
}

/// Package ids look like `path+file:///…/fixtures/hello#fixture-hello@0.0.0`.
fn package_name_matches(package_id: &str, name: &str) -> bool {
    let tail = package_id.rsplit('#').next().unwrap_or(package_id);
    tail.split('@').next() == Some(name)
}

/// The artifact of fixture `name` (built on first use).
pub fn artifact(name: &str) -> PathBuf {
    static BUILT: OnceLock<Result<HashMap<String, PathBuf>, String>> = OnceLock::new();
    let built = BUILT.get_or_init(|| build_all(FIXTURES));
    match built {
        Ok(artifacts) => artifacts
            .get(&format!("fixture-{name}"))
            .unwrap_or_else(|| panic!("`{name}` is not in FIXTURES"))
            .clone(),
        Err(err) => panic!("{err}"),
    }
}

/// Fixture `name`, loaded on the shared runtime.
pub fn load(name: &str) -> TestFunction {
    TestFunction::load(artifact(name)).unwrap_or_else(|e| panic!("{e:#}"))
}
