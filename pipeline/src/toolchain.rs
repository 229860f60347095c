//! Making sure the toolchain that will build the package has the
//! wasm32-wasip2 standard library, installing it through rustup if not.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use crate::TARGET;
use crate::error::BuildError;

/// The rustc cargo will use: `$RUSTC`, else `rustc`.
fn rustc() -> OsString {
    std::env::var_os("RUSTC").unwrap_or_else(|| "rustc".into())
}

/// The sysroot of the toolchain selected for `dir` (rust-toolchain files apply).
pub fn sysroot(dir: &Path) -> Result<PathBuf, BuildError> {
    let command = "rustc --print sysroot";
    let out = Command::new(rustc())
        .args(["--print", "sysroot"])
        .current_dir(dir)
        .stderr(Stdio::inherit())
        .output()
        .map_err(|source| BuildError::Spawn {
            command: command.into(),
            source,
        })?;
    if !out.status.success() {
        return Err(BuildError::Spawn {
            command: command.into(),
            source: std::io::Error::other(format!("it exited with {}", out.status)),
        });
    }
    Ok(PathBuf::from(String::from_utf8_lossy(&out.stdout).trim()))
}

/// Whether `sysroot` has the wasm32-wasip2 standard library.
pub fn has_target(sysroot: &Path) -> bool {
    sysroot
        .join("lib/rustlib")
        .join(TARGET)
        .join("lib")
        .is_dir()
}

/// Ensures wasm32-wasip2 is installed for the toolchain used in `dir`;
/// installs it with `rustup target add` when it is missing. `progress`
/// receives a line before the install starts.
pub fn ensure_target(dir: &Path, progress: &dyn Fn(&str, &str)) -> Result<(), BuildError> {
    let sysroot = sysroot(dir)?;
    if has_target(&sysroot) {
        return Ok(());
    }
    let sysroot_text = sysroot.display().to_string();
    progress(
        "Installing",
        &format!("the {TARGET} target (rustup target add {TARGET})"),
    );
    let status = Command::new("rustup")
        .args(["target", "add", TARGET])
        .current_dir(dir)
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .status();
    let detail = match status {
        Ok(s) if s.success() && has_target(&sysroot) => return Ok(()),
        Ok(s) if s.success() => "rustup installed it for another toolchain".to_string(),
        Ok(s) => format!("`rustup target add {TARGET}` failed: {s}"),
        Err(e) => format!("rustup is not available: {e}"),
    };
    Err(BuildError::TargetMissing {
        sysroot: sysroot_text,
        detail,
    })
}
