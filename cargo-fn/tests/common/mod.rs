//! Shared helpers for the integration tests: run the real `cargo-fn` binary
//! (as cargo would: `cargo-fn fn <command>`) on projects in temp dirs.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The workspace root.
pub fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("cargo-fn is in the workspace")
        .to_path_buf()
}

/// One target directory for every scaffolded project, so the SDK and its
/// dependencies compile once per test run, not once per test.
pub fn shared_target() -> PathBuf {
    workspace().join("target/cargo-fn-tests")
}

/// `cargo-fn fn <args>` in `dir`, offline, with the shared target directory.
pub fn cargo_fn(dir: &Path, args: &[&str]) -> Output {
    cargo_fn_env(dir, args, &[])
}

/// [`cargo_fn`] with extra environment variables.
pub fn cargo_fn_env(dir: &Path, args: &[&str], env: &[(&str, &std::ffi::OsStr)]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_cargo-fn"));
    cmd.arg("fn").args(args).current_dir(dir);
    offline(&mut cmd);
    cmd.envs(env.iter().copied());
    cmd.output().expect("run cargo-fn")
}

/// Makes a command build offline in the shared target directory.
pub fn offline(cmd: &mut Command) {
    cmd.env("CARGO_TARGET_DIR", shared_target())
        .env("CARGO_NET_OFFLINE", "true");
}

/// Text of stdout and stderr.
pub fn text(output: &Output) -> (String, String) {
    (
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

/// Asserts success, showing both streams otherwise; returns stdout.
pub fn success(output: &Output) -> String {
    let (stdout, stderr) = text(output);
    assert!(
        output.status.success(),
        "failed: {}\nstdout:\n{stdout}\nstderr:\n{stderr}",
        output.status
    );
    stdout
}

/// Asserts failure; returns stderr.
pub fn failure(output: &Output) -> String {
    let (stdout, stderr) = text(output);
    assert!(
        !output.status.success(),
        "unexpectedly succeeded\nstdout:\n{stdout}\nstderr:\n{stderr}"
    );
    stderr
}

/// `cargo fn new <name> --template <template> --sdk-path <this checkout's
/// sdk>` in a fresh temp dir (the SDK is not on the registry yet); returns
/// the temp dir (keep it alive) and the project path.
pub fn scaffold(name: &str, template: &str) -> (tempfile::TempDir, PathBuf) {
    let tmp = tempfile::tempdir().expect("temp dir");
    let sdk = workspace().join("sdk");
    success(&cargo_fn(
        tmp.path(),
        &[
            "new",
            name,
            "--template",
            template,
            "--sdk-path",
            sdk.to_str().expect("UTF-8 path"),
        ],
    ));
    let project = tmp.path().join(name);
    (tmp, project)
}

/// `cargo fn build --release --json` in `project`; returns the parsed JSON.
pub fn build_json(project: &Path, extra: &[&str]) -> serde_json::Value {
    let mut args = vec!["build", "--release", "--json"];
    args.extend_from_slice(extra);
    let stdout = success(&cargo_fn(project, &args));
    serde_json::from_str(&stdout).expect("build --json prints JSON")
}

/// The artifact path of a `build --json` result.
pub fn artifact(json: &serde_json::Value) -> PathBuf {
    PathBuf::from(json["artifact"].as_str().expect("artifact path"))
}

/// Replaces `from` with `to` in the file at `path`, which must contain it.
pub fn edit(path: &Path, from: &str, to: &str) {
    let text = std::fs::read_to_string(path).unwrap();
    assert!(text.contains(from), "{} has no `{from}`", path.display());
    std::fs::write(path, text.replace(from, to)).unwrap();
}

/// Runs `cmd` and SIGKILLs it after `delay_ms`; then `file` must hold
/// `old` (returns true) or `unsigned` signed by `public` (returns false),
/// and anything else fails the test.
#[cfg(unix)]
pub fn killed_leaves_old_or_signed(
    mut cmd: std::process::Command,
    delay_ms: u64,
    file: &Path,
    old: &[u8],
    unsigned: &[u8],
    public: fn_sign::PublicKey,
) -> bool {
    let mut child = cmd
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    std::thread::sleep(std::time::Duration::from_millis(delay_ms));
    let _ = child.kill();
    child.wait().unwrap();
    let bytes = std::fs::read(file).unwrap();
    if bytes == old {
        return true;
    }
    fn_sign::verify(&bytes, &[public]).unwrap_or_else(|e| {
        panic!(
            "killed after {delay_ms} ms: {} is neither the old file nor a signed one: {e}",
            file.display()
        )
    });
    assert_eq!(fn_sign::strip_signature(&bytes).unwrap(), unsigned);
    false
}
