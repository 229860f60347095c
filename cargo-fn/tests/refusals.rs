//! Every refusal of `cargo fn new` and `cargo fn build`, read from the real
//! binary's stderr.

mod common;

use common::*;

#[test]
fn new_refuses_a_non_empty_directory() {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::create_dir(tmp.path().join("taken")).unwrap();
    std::fs::write(tmp.path().join("taken/notes.txt"), "mine").unwrap();
    let stderr = failure(&cargo_fn(tmp.path(), &["new", "taken"]));
    assert!(
        stderr.contains("already exists and is not empty"),
        "{stderr}"
    );
    assert_eq!(
        std::fs::read_to_string(tmp.path().join("taken/notes.txt")).unwrap(),
        "mine"
    );
    // An empty directory is fine.
    std::fs::create_dir(tmp.path().join("empty")).unwrap();
    success(&cargo_fn(tmp.path(), &["new", "empty"]));
    // Without --sdk-path the SDK is a registry version requirement: nothing
    // of this checkout's location is written into the project.
    let manifest = std::fs::read_to_string(tmp.path().join("empty/Cargo.toml")).unwrap();
    assert!(
        manifest.contains(&format!("fnsdk = \"{}\"", env!("CARGO_PKG_VERSION"))),
        "{manifest}"
    );
    assert!(!manifest.contains(env!("CARGO_MANIFEST_DIR")), "{manifest}");
    assert!(!tmp.path().join("empty/Cargo.lock").exists());
}

#[test]
fn new_refuses_invalid_names() {
    let tmp = tempfile::tempdir().unwrap();
    for (name, reason) in [
        ("2fast", "must start with a letter"),
        ("my.fn", "`.` is not allowed"),
        ("fn", "Rust keyword"),
    ] {
        let stderr = failure(&cargo_fn(tmp.path(), &["new", name]));
        assert!(
            stderr.contains("is not a valid package name") && stderr.contains(reason),
            "{name}: {stderr}"
        );
        assert!(!tmp.path().join(name).exists(), "{name} was created");
    }
}

#[test]
fn new_refuses_a_missing_sdk() {
    let tmp = tempfile::tempdir().unwrap();
    let stderr = failure(&cargo_fn(
        tmp.path(),
        &["new", "lost", "--sdk-path", "/nonexistent/sdk"],
    ));
    assert!(
        stderr.contains("no fnsdk crate at") && stderr.contains("--sdk-path"),
        "{stderr}"
    );
    // A crate that is not the SDK is refused too.
    let stderr = failure(&cargo_fn(
        tmp.path(),
        &["new", "lost", "--sdk-path", env!("CARGO_MANIFEST_DIR")],
    ));
    assert!(stderr.contains("names package `fnsdk`"), "{stderr}");
    assert!(!tmp.path().join("lost").exists());
}

#[test]
fn build_refuses_a_crate_that_is_not_a_cdylib() {
    let (_tmp, project) = scaffold("not-cdylib", "http");
    edit(
        &project.join("Cargo.toml"),
        r#"crate-type = ["cdylib", "rlib"]"#,
        r#"crate-type = ["rlib"]"#,
    );
    let stderr = failure(&cargo_fn(&project, &["build"]));
    assert!(stderr.contains("does not build a `cdylib`"), "{stderr}");
    assert!(
        stderr.contains(r#"crate-type = ["cdylib", "rlib"]"#),
        "says what to add: {stderr}"
    );
}

#[test]
fn build_refuses_a_crate_without_a_function() {
    let (_tmp, project) = scaffold("no-function", "http");
    std::fs::write(
        project.join("src/lib.rs"),
        "pub fn helper() -> u32 { 42 }\n",
    )
    .unwrap();
    let stderr = failure(&cargo_fn(&project, &["build", "--release"]));
    assert!(stderr.contains("exports no function"), "{stderr}");
    assert!(
        stderr.contains("#[fnsdk::function]"),
        "points to the macro: {stderr}"
    );
}

#[test]
fn build_passes_compiler_errors_through() {
    let (_tmp, project) = scaffold("broken-fn", "http");
    edit(
        &project.join("src/lib.rs"),
        "format!(\"Hello, {name}!\")",
        "undefined_helper(name)",
    );
    let stderr = failure(&cargo_fn(&project, &["build", "--release"]));
    assert!(
        stderr.contains("error[E0425]") && stderr.contains("undefined_helper"),
        "rustc's message: {stderr}"
    );
    assert!(
        stderr.contains("see the compiler messages above"),
        "{stderr}"
    );
}

#[test]
fn build_refuses_imports_outside_the_contract() {
    let (_tmp, project) = scaffold("reads-files", "http");
    edit(
        &project.join("src/lib.rs"),
        "format!(\"Hello, {name}!\")",
        "std::fs::read_to_string(name).unwrap_or_default()",
    );
    let stderr = failure(&cargo_fn(&project, &["build", "--release"]));
    assert!(stderr.contains("outside the portable contract"), "{stderr}");
    assert!(
        stderr.contains("wasi:filesystem/") && stderr.contains("std::fs"),
        "names the import and the cause: {stderr}"
    );
}

#[test]
fn build_refuses_an_incompatible_required_host() {
    let (_tmp, project) = scaffold("unit-fn", "http");
    // Lowered, a hello world imports WASI 0.2.0 throughout and NGINX Unit
    // runs it; with cargo's own versions kept it cannot.
    build_json(&project, &["--require-host", "nginx-unit"]);
    let stderr = failure(&cargo_fn(
        &project,
        &[
            "build",
            "--release",
            "--keep-wasi-versions",
            "--require-host",
            "nginx-unit",
        ],
    ));
    assert!(
        stderr.contains("NGINX Unit 1.32+ cannot run this function"),
        "{stderr}"
    );
    assert!(
        stderr.contains("exact version (0.2.0)"),
        "gives the reason: {stderr}"
    );
    assert!(stderr.contains("--require-host nginx-unit"), "{stderr}");
    // A host that can run it passes; the old spelling still works.
    build_json(
        &project,
        &["--require-host", "wasmtime", "--target-host", "spin"],
    );
    let stderr = failure(&cargo_fn(&project, &["build", "--require-host", "lambda"]));
    assert!(
        stderr.contains("invalid value 'lambda'") && stderr.contains("nginx-unit"),
        "{stderr}"
    );
}

#[cfg(unix)]
#[test]
fn build_says_how_to_install_a_missing_target() {
    use std::os::unix::fs::PermissionsExt as _;
    let (tmp, project) = scaffold("no-target", "http");
    // A rustc whose sysroot lacks wasm32-wasip2, and a rustup that cannot install it.
    let bin = tmp.path().join("bin");
    std::fs::create_dir(&bin).unwrap();
    // Forward everything but `--print sysroot` to the real rustc, by absolute path.
    let sysroot = std::process::Command::new("rustc")
        .args(["--print", "sysroot"])
        .output()
        .unwrap();
    let real = std::path::PathBuf::from(String::from_utf8(sysroot.stdout).unwrap().trim())
        .join("bin/rustc");
    let rustc = bin.join("rustc");
    let script = format!(
        "#!/bin/sh\nif [ \"$1\" = --print ]; then echo /nonexistent/sysroot; else exec {} \"$@\"; fi\n",
        real.display()
    );
    std::fs::write(&rustc, script).unwrap();
    let rustup = bin.join("rustup");
    std::fs::write(&rustup, "#!/bin/sh\necho 'error: offline' >&2\nexit 1\n").unwrap();
    for script in [&rustc, &rustup] {
        std::fs::set_permissions(script, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    let path = format!("{}:{}", bin.display(), std::env::var("PATH").unwrap());
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_cargo-fn"))
        .args(["fn", "build"])
        .current_dir(&project)
        .env("RUSTC", &rustc)
        .env("PATH", path)
        .output()
        .unwrap();
    let stderr = failure(&output);
    assert!(
        stderr.contains("the wasm32-wasip2 target is not installed"),
        "{stderr}"
    );
    assert!(
        stderr.contains("rustup target add wasm32-wasip2"),
        "says exactly how: {stderr}"
    );
    assert!(stderr.contains("failed"), "says what happened: {stderr}");
}
