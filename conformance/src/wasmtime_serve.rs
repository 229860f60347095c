//! The independent host: the wasmtime CLI's `serve` command (the
//! wasmtime-cli crate's, built as this package's `wasmtime` binary), run as
//! a child process on a loopback port.

use anyhow::bail;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use crate::child::ChildHost;

/// The wasmtime release whose CLI is the reference host: the same release
/// the embedded runtime is built on, so a difference is ours, not a version
/// skew.
pub const WASMTIME_VERSION: &str = "48.0.8";

/// How long `wasmtime serve` may take to compile the component and listen.
const START_TIMEOUT: Duration = Duration::from_secs(120);

/// The `wasmtime` binary of this package (`src/bin/wasmtime.rs`: the
/// wasmtime-cli crate's `serve`), which cargo builds next to the test
/// binaries before it runs the package's integration tests.
fn built_with_the_tests() -> Option<PathBuf> {
    let exe = std::env::current_exe().ok()?;
    // target/<profile>/deps/<test> → target/<profile>/wasmtime
    Some(exe.parent()?.parent()?.join("wasmtime"))
}

/// Finds a wasmtime CLI of [`WASMTIME_VERSION`]: `$FN_WASMTIME`, then the
/// one built with the tests, then `wasmtime` on `PATH`.
pub fn wasmtime_cli() -> anyhow::Result<PathBuf> {
    let mut tried = Vec::new();
    let mut candidates = Vec::new();
    if let Some(path) = std::env::var_os("FN_WASMTIME") {
        candidates.push(PathBuf::from(path));
    }
    candidates.extend(built_with_the_tests());
    candidates.push(PathBuf::from("wasmtime"));
    for candidate in candidates {
        match Command::new(&candidate).arg("--version").output() {
            Ok(out) if out.status.success() => {
                let version = String::from_utf8_lossy(&out.stdout).trim().to_owned();
                if version.starts_with(&format!("wasmtime {WASMTIME_VERSION}")) {
                    return Ok(candidate);
                }
                tried.push(format!("{}: {version}", candidate.display()));
            }
            Ok(out) => tried.push(format!(
                "{}: exited with {}",
                candidate.display(),
                out.status
            )),
            Err(err) => tried.push(format!("{}: {err}", candidate.display())),
        }
    }
    bail!(
        "the conformance tests need the wasmtime {WASMTIME_VERSION} CLI, and none was found \
         (tried {}). `cargo test -p fn-conformance` builds one (src/bin/wasmtime.rs); or run \
         `cargo install wasmtime-cli --version {WASMTIME_VERSION} --locked` and set \
         FN_WASMTIME to the binary",
        tried.join("; ")
    )
}

/// A running `wasmtime serve` of one component. Killed on drop.
pub struct WasmtimeServe(ChildHost);

impl WasmtimeServe {
    /// Serves `artifact` on a free loopback port with `wasi:config`
    /// variables `config` and the in-memory `wasi:keyvalue` store preset
    /// with `kv`.
    ///
    /// `wasmtime serve` splits `-S` values at commas, so neither config nor
    /// key-value values may contain one; such a value is refused here
    /// rather than silently cut.
    pub fn start(
        artifact: &Path,
        config: &[(String, String)],
        kv: &[(String, String)],
    ) -> anyhow::Result<Self> {
        let mut cmd = Command::new(wasmtime_cli()?);
        cmd.args(["serve", "--addr", "127.0.0.1:0"])
            .args(["-S", "cli", "-S", "http", "-S", "keyvalue", "-S", "config"]);
        for (flag, pairs) in [("config-var", config), ("keyvalue-in-memory-data", kv)] {
            for (key, value) in pairs {
                if key.contains(',') || value.contains(',') || key.contains('=') {
                    bail!(
                        "`wasmtime serve -S {flag}` cannot carry {key:?}={value:?}: \
                         it splits values at commas"
                    );
                }
                cmd.arg("-S").arg(format!("{flag}={key}={value}"));
            }
        }
        cmd.arg(artifact);
        // wasmtime prints "Serving HTTP on http://ADDR/" once it listens.
        ChildHost::spawn(
            cmd,
            &format!("`wasmtime serve {}`", artifact.display()),
            "Serving HTTP on http://",
            START_TIMEOUT,
        )
        .map(WasmtimeServe)
    }

    /// Serves `artifact` as NGINX Unit runs a component: all of WASI 0.2
    /// (`-S cli`) and wasi:http, `dir` preopened at its own path and named
    /// by `FN_KV_DIR` (Unit's `access.filesystem`), and `config` as
    /// `FN_CONFIG_<KEY>` variables (the application's `environment`): what
    /// a function composed with the files adapter needs. Unit embeds
    /// wasmtime too, so this is its model on the same release.
    pub fn start_as_unit(
        artifact: &Path,
        config: &[(String, String)],
        dir: &Path,
    ) -> anyhow::Result<Self> {
        let mut cmd = Command::new(wasmtime_cli()?);
        cmd.args(["serve", "--addr", "127.0.0.1:0", "-S", "cli", "-S", "http"])
            .arg("--dir")
            .arg(dir)
            .arg("--env")
            .arg(format!(
                "{}={}",
                fn_wit::keyvalue::files::DIR_ENV,
                dir.display()
            ));
        for (key, value) in config {
            cmd.arg("--env").arg(format!(
                "{}={value}",
                cargo_fn::deploy::native::config_env(key)
            ));
        }
        cmd.arg(artifact);
        ChildHost::spawn(
            cmd,
            &format!("`wasmtime serve {}` as NGINX Unit", artifact.display()),
            "Serving HTTP on http://",
            START_TIMEOUT,
        )
        .map(WasmtimeServe)
    }

    /// The address it listens on.
    pub fn addr(&self) -> SocketAddr {
        self.0.addr()
    }

    /// What it printed so far (the guest's log lines included).
    pub fn output(&self) -> String {
        self.0.output()
    }
}
