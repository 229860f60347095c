//! Guest fixtures for tests: packages built with the `cargo fn build`
//! pipeline, once per process.

use anyhow::Context as _;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, OnceLock};

/// Builds the package whose `Cargo.toml` is `manifest_path` with the
/// `cargo fn build` pipeline (release) and returns its artifact: the exact
/// bytes `cargo fn build --release` ships, under `target/fn/`.
///
/// Every test that needs a guest goes through here (the harness's own
/// fixtures, [`TestFunction::from_package`](crate::TestFunction::from_package),
/// conformance, `cargo fn serve`'s tests and benches). A package is built
/// once per process; cargo itself skips the work when nothing changed, so a
/// stale artifact is never returned. Builds are serialised, so concurrent
/// tests wait for one build instead of racing cargo.
///
/// In a function's own tests:
/// `build_package(concat!(env!("CARGO_MANIFEST_DIR"), "/Cargo.toml"))`.
pub fn build_package(manifest_path: impl AsRef<Path>) -> anyhow::Result<PathBuf> {
    static BUILT: OnceLock<Mutex<HashMap<PathBuf, PathBuf>>> = OnceLock::new();
    let manifest_path = manifest_path.as_ref();
    let key = manifest_path
        .canonicalize()
        .with_context(|| format!("no package manifest at `{}`", manifest_path.display()))?;
    let mut built = BUILT
        .get_or_init(Mutex::default)
        .lock()
        .unwrap_or_else(|e| e.into_inner());
    if let Some(artifact) = built.get(&key) {
        return Ok(artifact.clone());
    }
    let artifact = fn_pipeline::build(&fn_pipeline::BuildOptions {
        manifest_path: Some(key.clone()),
        release: true,
        quiet: true,
        ..fn_pipeline::BuildOptions::default()
    })
    .with_context(|| {
        format!(
            "building `{}` for wasm32-wasip2 (is the target installed? `rustup target add wasm32-wasip2`)",
            manifest_path.display()
        )
    })?
    .artifact;
    built.insert(key, artifact.clone());
    Ok(artifact)
}

/// Builds the package as [`build_package`] does, then gives the artifact the
/// host `host_id` (see `fn_pipeline::hosts::HOSTS`) runs: the same file
/// when the host runs it as it is, else the function composed with the
/// host's adapter, the way `cargo fn deploy` composes it, written next to
/// the artifact as `<host>/<package>.wasm`. For the Spin adapter that is a
/// component importing only Spin's key-value and config versions, which the
/// runtime serves too: the flows of a function's tests run on what Spin
/// will run.
///
/// Like [`build_package`], once per process and host: every test of a
/// binary that loads the composition shares one adapter build and one
/// composition.
pub fn build_package_for(
    manifest_path: impl AsRef<Path>,
    host_id: &str,
) -> anyhow::Result<PathBuf> {
    static BUILT: OnceLock<Mutex<HashMap<(PathBuf, String), PathBuf>>> = OnceLock::new();
    let manifest_path = manifest_path.as_ref();
    let key = (
        manifest_path
            .canonicalize()
            .with_context(|| format!("no package manifest at `{}`", manifest_path.display()))?,
        host_id.to_owned(),
    );
    let mut built = BUILT
        .get_or_init(Mutex::default)
        .lock()
        .unwrap_or_else(|e| e.into_inner());
    if let Some(artifact) = built.get(&key) {
        return Ok(artifact.clone());
    }
    let artifact = compose_for(manifest_path, host_id)?;
    built.insert(key, artifact.clone());
    Ok(artifact)
}

/// The work of [`build_package_for`], uncached.
fn compose_for(manifest_path: &Path, host_id: &str) -> anyhow::Result<PathBuf> {
    let artifact = build_package(manifest_path)?;
    let host = fn_pipeline::hosts::find(host_id).with_context(|| {
        format!(
            "unknown host `{host_id}`; known: {}",
            fn_pipeline::hosts::ids().join(", ")
        )
    })?;
    let function =
        std::fs::read(&artifact).with_context(|| format!("reading {}", artifact.display()))?;
    let target_dir = artifact
        .ancestors()
        .find(|d| d.file_name().is_some_and(|n| n == "fn"))
        .and_then(Path::parent)
        .context("the artifact is not under <target>/fn")?
        .to_path_buf();
    let opts = fn_pipeline::adapter::AdapterOptions {
        wit: fn_pipeline::adapter::wit_source(manifest_path, false)?,
        target_dir,
        offline: false,
        quiet: true,
    };
    let Some(composed) = fn_pipeline::adapter::adapt_for(host, &function, &opts)
        .with_context(|| format!("adapting {} for {}", artifact.display(), host.name))?
    else {
        return Ok(artifact);
    };
    let path = artifact
        .parent()
        .expect("a file")
        .join(host.id)
        .join(artifact.file_name().expect("a file"));
    std::fs::create_dir_all(path.parent().expect("a file"))?;
    std::fs::write(&path, composed).with_context(|| format!("writing {}", path.display()))?;
    Ok(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_manifest_is_an_error_naming_it() {
        let err = build_package("/nonexistent/pkg/Cargo.toml").unwrap_err();
        assert!(
            format!("{err:#}").contains("/nonexistent/pkg/Cargo.toml"),
            "{err:#}"
        );
    }
}
