//! Cargo's flags reach `cargo build` the same way from every command that
//! builds (`--features`, `--no-default-features`, `--target-dir`,
//! `--locked`), and `publish`/`deploy` pick the package `build` picks.

mod common;

use std::path::{Path, PathBuf};

use common::*;

/// The HTTP template with a default feature `shout` that upper-cases the
/// greeting.
fn shouting_project() -> (tempfile::TempDir, PathBuf) {
    let (tmp, project) = scaffold("shout-fn", "http");
    let manifest = project.join("Cargo.toml");
    let mut toml = std::fs::read_to_string(&manifest).unwrap();
    toml.push_str("\n[features]\ndefault = [\"shout\"]\nshout = []\n");
    std::fs::write(&manifest, toml).unwrap();
    edit(
        &project.join("src/lib.rs"),
        "    format!(\"Hello, {name}!\")\n}",
        "    let greeting = format!(\"Hello, {name}!\");\n    \
         if cfg!(feature = \"shout\") { greeting.to_uppercase() } else { greeting }\n}",
    );
    (tmp, project)
}

#[test]
fn feature_flags_reach_cargo_from_build_and_invoke() {
    let (_tmp, project) = shouting_project();
    let invoke = |extra: &[&str]| {
        let mut args = vec!["invoke", "--path", "/?name=ferris"];
        args.extend_from_slice(extra);
        success(&cargo_fn(&project, &args))
    };
    let default = invoke(&[]);
    assert!(default.contains("HELLO, FERRIS!"), "{default}");
    let plain = invoke(&["--no-default-features"]);
    assert!(plain.contains("Hello, ferris!"), "{plain}");

    let json = build_json(&project, &["--no-default-features", "--features", "shout"]);
    let function = fn_host_test::TestFunction::load(artifact(&json)).unwrap();
    let response = function.get("/?name=ferris");
    assert_eq!(response.status(), 200, "{}", response.describe());
    assert_eq!(response.text(), "HELLO, FERRIS!");
}

/// A function without the SDK (the `wasi` crate's bindings only), quick to
/// build in a fresh target directory; offline from the workspace's lockfile.
fn raw_project(with_lock: bool) -> (tempfile::TempDir, PathBuf) {
    let tmp = tempfile::tempdir().unwrap();
    let project = tmp.path().join("raw-fn");
    std::fs::create_dir_all(project.join("src")).unwrap();
    std::fs::write(
        project.join("Cargo.toml"),
        "[package]\nname = \"raw-fn\"\nversion = \"0.1.0\"\nedition = \"2024\"\n\n\
         [lib]\ncrate-type = [\"cdylib\"]\n\n\
         [target.'cfg(target_arch = \"wasm32\")'.dependencies]\nwasi = \"0.14\"\n\n[workspace]\n",
    )
    .unwrap();
    let fixture = workspace().join("templates/anchors/raw-hello/src/lib.rs");
    std::fs::copy(fixture, project.join("src/lib.rs")).unwrap();
    if with_lock {
        std::fs::copy(workspace().join("Cargo.lock"), project.join("Cargo.lock")).unwrap();
    }
    (tmp, project)
}

#[test]
fn target_dir_is_where_cargo_builds_and_the_artifact_goes() {
    let (tmp, project) = raw_project(true);
    let out = tmp.path().join("elsewhere");
    let json: serde_json::Value = serde_json::from_str(&success(&cargo_fn(
        &project,
        &["build", "--json", "--target-dir", out.to_str().unwrap()],
    )))
    .unwrap();
    let artifact = artifact(&json);
    assert_eq!(artifact, out.join("fn/debug/raw-fn.wasm"));
    let raw = PathBuf::from(json["raw_artifact"].as_str().unwrap());
    assert!(raw.starts_with(out.join("wasm32-wasip2/debug")), "{raw:?}");
    let function = fn_host_test::TestFunction::load(&artifact).unwrap();
    assert_eq!(function.get("/").text(), "Hello, world!");
    assert!(
        !shared_target().join("fn/debug/raw-fn.wasm").exists(),
        "built into CARGO_TARGET_DIR instead of --target-dir"
    );
}

#[test]
fn locked_reaches_cargo_and_refuses_a_missing_lock() {
    let (_tmp, project) = raw_project(false);
    let stderr = failure(&cargo_fn(&project, &["build", "--locked"]));
    assert!(stderr.contains("--locked"), "{stderr}");
    assert!(
        !project.join("Cargo.lock").exists(),
        "--locked must not write a lock file"
    );
}

/// A virtual workspace of two function members that are never built.
fn two_functions() -> tempfile::TempDir {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(
        tmp.path().join("Cargo.toml"),
        "[workspace]\nmembers = [\"one\", \"two\"]\nresolver = \"3\"\n",
    )
    .unwrap();
    for name in ["one", "two"] {
        let dir = tmp.path().join(name);
        std::fs::create_dir_all(dir.join("src")).unwrap();
        std::fs::write(
            dir.join("Cargo.toml"),
            format!(
                "[package]\nname = \"{name}\"\nversion = \"0.3.0\"\nedition = \"2024\"\n\n\
                 [lib]\ncrate-type = [\"cdylib\"]\n\n[package.metadata.fn]\nroute = \"/{name}/...\"\n"
            ),
        )
        .unwrap();
        std::fs::write(dir.join("src/lib.rs"), "").unwrap();
    }
    tmp
}

#[test]
fn deploy_in_a_member_folder_deploys_that_member() {
    let ws = two_functions();
    let out = ws.path().join("out");
    let target_dir = ["--target-dir", out.to_str().unwrap()];
    let deploy = |dir: &Path, extra: &[&str]| {
        let mut args = vec!["deploy", "--provider", "wasmtime"];
        args.extend_from_slice(&target_dir);
        args.extend_from_slice(extra);
        cargo_fn(dir, &args)
    };
    // At the root nothing says which; in a member's folder, that member.
    let stderr = failure(&deploy(ws.path(), &[]));
    assert!(stderr.contains("several packages (one, two)"), "{stderr}");
    let stderr = failure(&deploy(&ws.path().join("two/src"), &[]));
    assert!(stderr.contains("no published artifact for two"), "{stderr}");

    // The record of `publish` under --target-dir is found there.
    let digest = format!("sha256:{}", "c".repeat(64));
    let record = serde_json::json!({
        "reference": "oci://127.0.0.1:1/shop/two:v3",
        "manifest_digest": digest,
        "layer_digest": format!("sha256:{}", "d".repeat(64)),
        "plain_http": true,
    });
    std::fs::create_dir_all(out.join("fn")).unwrap();
    std::fs::write(
        out.join("fn/two.published.json"),
        serde_json::to_vec(&record).unwrap(),
    )
    .unwrap();
    let stdout = success(&deploy(&ws.path().join("two"), &[]));
    let script = out.join("fn/deploy/wasmtime/run.sh");
    assert!(stdout.contains("two pinned to sha256:ccc"), "{stdout}");
    let text = std::fs::read_to_string(&script).unwrap();
    assert!(
        text.contains(&format!("oci://127.0.0.1:1/shop/two@{digest}")),
        "{text}"
    );
    // `-p` still picks another member from anywhere.
    let stderr = failure(&deploy(&ws.path().join("two"), &["-p", "one"]));
    assert!(stderr.contains("no published artifact for one"), "{stderr}");
}
