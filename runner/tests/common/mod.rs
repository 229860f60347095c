//! What the runner's integration tests share: guest fixtures built with the
//! `cargo fn build` pipeline, written out as bundles the way
//! `cargo fn deploy` lays them out, and the runner binary itself.

#![allow(dead_code, reason = "each test file uses its own part of the helpers")]

use std::path::{Path, PathBuf};

use fn_runtime::bundle::{BundleFile, BundleLimits, MANIFEST, Manifest, sha256_digest};

/// The component of the fixture `host-test/fixtures/<name>`, built once per
/// test process.
pub fn fixture(name: &str) -> PathBuf {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../host-test/fixtures")
        .join(name)
        .join("Cargo.toml");
    fn_host_test::build_package(manifest).unwrap_or_else(|e| panic!("{e:#}"))
}

/// The manifest of a bundle holding `wasm` as `fn.wasm`, nothing else.
pub fn manifest(name: &str, wasm: &[u8]) -> Manifest {
    Manifest {
        name: name.to_owned(),
        version: "0.1.0".to_owned(),
        component: BundleFile {
            path: "fn.wasm".to_owned(),
            digest: sha256_digest(wasm),
        },
        precompiled: None,
        trusted_keys: Vec::new(),
        config: Default::default(),
        key_value: None,
        outbound_http: false,
        limits: BundleLimits::default(),
        events: Vec::new(),
    }
}

/// Writes a bundle into `dir`: `wasm` as `fn.wasm` and `manifest` as
/// `fn-bundle.json`.
pub fn write_bundle(dir: &Path, wasm: &[u8], manifest: &Manifest) {
    std::fs::create_dir_all(dir).unwrap();
    std::fs::write(dir.join(&manifest.component.path), wasm).unwrap();
    let json = serde_json::to_vec_pretty(manifest).unwrap();
    std::fs::write(dir.join(MANIFEST), json).unwrap();
}

/// A bundle of the fixture `name` in a fresh temporary directory.
pub fn fixture_bundle(name: &str) -> tempfile::TempDir {
    let wasm = std::fs::read(fixture(name)).unwrap();
    let dir = tempfile::tempdir().unwrap();
    write_bundle(dir.path(), &wasm, &manifest(name, &wasm));
    dir
}

/// The runner binary under test.
pub fn runner() -> std::process::Command {
    std::process::Command::new(env!("CARGO_BIN_EXE_fn-runner"))
}
