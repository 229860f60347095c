//! Adapter components, built from source: fn-templates embeds each adapter
//! crate (`adapters/<name>`); [`build`] writes it out under
//! `<target>/fn/adapters/<name>/`, compiles it for wasm32-wasip2 with the
//! release profile in the same target directory as the function (so the
//! second build is a no-op), and brings the component within the contract
//! the way a function's is: std's `wasi:cli` imports stubbed, custom
//! sections stripped, WASI imports lowered.

use std::path::{Path, PathBuf};

use crate::{BuildError, BuildOptions, cargo, contract, sections, versions};

pub use fn_templates::Sdk as WitSource;

/// How to build an adapter.
#[derive(Debug, Clone)]
pub struct AdapterOptions {
    /// The target directory (the function's, to share compiled crates).
    pub target_dir: PathBuf,
    /// Where the adapter's `fn-wit` build dependency comes from: the
    /// registry, or a checkout's `wit` crate.
    pub wit: WitSource,
    /// Build without touching the network.
    pub offline: bool,
    /// Print nothing but compiler errors.
    pub quiet: bool,
}

/// The folder adapter `name` is written to and built in.
pub fn source_dir(target_dir: &Path, name: &str) -> PathBuf {
    target_dir.join("fn").join("adapters").join(name)
}

/// Adapters that use WASI beyond `wasi:http/proxy` on purpose (the files
/// adapter keeps key-value in the host's filesystem and reads config from
/// its environment): their component keeps std's imports rather than the
/// contract's stubs, for hosts that link all of WASI.
const WASI_ADAPTERS: &[&str] = &["files"];

/// Builds adapter `name` and returns its component, ready to compose.
pub fn build(name: &str, opts: &AdapterOptions) -> Result<Vec<u8>, BuildError> {
    let files = fn_templates::render_adapter(name, &opts.wit)
        .ok_or_else(|| BuildError::UnknownAdapter(name.to_owned()))?;
    let dir = source_dir(&opts.target_dir, name);
    let contract = !WASI_ADAPTERS.contains(&name);
    build_crate(&format!("the {name} adapter"), &dir, &files, opts, contract)
}

/// Builds anchor `name` (fn-templates' `anchors/`, a function written
/// without the SDK) under `<target>/fn/anchors/<name>/` and returns its
/// component, processed as a function's is.
pub fn build_anchor(name: &str, opts: &AdapterOptions) -> Result<Vec<u8>, BuildError> {
    let files = fn_templates::render_anchor(name)
        .ok_or_else(|| BuildError::UnknownAdapter(name.to_owned()))?;
    let dir = opts.target_dir.join("fn").join("anchors").join(name);
    build_crate(&format!("the {name} anchor"), &dir, &files, opts, true)
}

/// Writes `files` to `dir` (unchanged files keep their timestamps), builds
/// the crate in release and, with `contract`, brings its component within
/// the contract (std's `wasi:cli` imports stubbed).
fn build_crate(
    label: &str,
    dir: &Path,
    files: &[fn_templates::File],
    opts: &AdapterOptions,
    contract: bool,
) -> Result<Vec<u8>, BuildError> {
    for file in files {
        let path = dir.join(&file.path);
        // Unchanged files keep their timestamps: cargo has nothing to redo.
        if std::fs::read(&path).is_ok_and(|old| old == file.contents.as_bytes()) {
            continue;
        }
        let io = |source| BuildError::Io {
            action: "write",
            path: path.clone(),
            source,
        };
        std::fs::create_dir_all(path.parent().expect("a file in the folder")).map_err(io)?;
        std::fs::write(&path, &file.contents).map_err(io)?;
    }
    let build = BuildOptions {
        manifest_path: Some(dir.join("Cargo.toml")),
        release: true,
        target_dir: Some(opts.target_dir.clone()),
        offline: opts.offline,
        quiet: opts.quiet,
        ..BuildOptions::default()
    };
    if !opts.quiet {
        crate::status_line("Building", &format!("{label} ({})", dir.display()));
    }
    let package = cargo::locate(&build)?;
    let raw_path = cargo::build(&package, &build)?;
    let raw = std::fs::read(&raw_path).map_err(|source| BuildError::Io {
        action: "read",
        path: raw_path.clone(),
        source,
    })?;
    let clean = if contract {
        contract::make_clean(&raw, false)?.component
    } else {
        raw
    };
    let stripped = sections::strip_custom_sections(&clean, &|_| false)?;
    let lowered = versions::lower(&stripped)?;
    contract::validate(&lowered.component)?;
    Ok(lowered.component)
}

/// Where the adapter's `fn-wit` comes from for the function at
/// `manifest_path`: the `fn-wit` its SDK is built on, a local folder when
/// that is a path dependency (working in a checkout of cargo-fn), else the
/// registry.
pub fn wit_source(manifest_path: &Path, offline: bool) -> Result<WitSource, BuildError> {
    let mut cmd = cargo_metadata::MetadataCommand::new();
    cmd.cargo_path(cargo::cargo()).manifest_path(manifest_path);
    if offline {
        cmd.other_options(vec!["--offline".to_owned()]);
    }
    let meta = cmd.exec().map_err(|e| BuildError::Metadata {
        manifest: manifest_path.display().to_string(),
        message: e.to_string(),
    })?;
    Ok(meta
        .packages
        .iter()
        .find(|p| p.name.as_str() == "fn-wit" && p.source.is_none())
        .and_then(|p| p.manifest_path.parent())
        .map(|dir| WitSource::Path(dir.to_string()))
        .unwrap_or(WitSource::Registry))
}

/// The component `host` runs for `function`: `None` when it runs the
/// function as it is, else the function composed with the host's adapter
/// (built with `opts`; see [`crate::compose::with_adapter`]).
pub fn adapt_for(
    host: &crate::hosts::Host,
    function: &[u8],
    opts: &AdapterOptions,
) -> Result<Option<Vec<u8>>, BuildError> {
    let report = crate::report::inspect(function)?;
    let Some(adapter) = crate::hosts::adapter_for(host, &report.imports) else {
        return Ok(None);
    };
    let adapter = build(adapter.name, opts)?;
    Ok(Some(crate::compose::with_adapter(function, &adapter)?))
}
