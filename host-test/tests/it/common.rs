//! The guest fixtures in `host-test/fixtures/`, built with
//! [`fn_host_test::build_package`] (once per test binary) and loaded.

use fn_host_test::TestFunction;
use std::path::PathBuf;

/// The `Cargo.toml` of fixture `name` (its directory name).
pub fn manifest(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures")
        .join(name)
        .join("Cargo.toml")
}

/// The artifact of fixture `name` (built on first use).
pub fn artifact(name: &str) -> PathBuf {
    fn_host_test::build_package(manifest(name)).unwrap_or_else(|e| panic!("{e:#}"))
}

/// Fixture `name`, loaded on the shared runtime.
pub fn load(name: &str) -> TestFunction {
    TestFunction::load(artifact(name)).unwrap_or_else(|e| panic!("{e:#}"))
}
