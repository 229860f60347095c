//! The function package a command works on: the package fn-pipeline
//! selects (the same choice `cargo fn build` makes), with its validated
//! `[package.metadata.fn]`. `cargo metadata` runs once; building the
//! package afterwards reuses the selection.

use std::path::Path;

use anyhow::Context as _;
use fn_pipeline::BuildOptions;
use fn_pipeline::cargo::Package;

use crate::metadata::FnMetadata;

/// A function package: cargo's view of it and its `[package.metadata.fn]`.
#[derive(Debug, Clone)]
pub struct FnPackage {
    /// The package as fn-pipeline builds it (name, version, target dir, ...).
    pub cargo: Package,
    /// `[package.metadata.fn]`.
    pub metadata: FnMetadata,
}

impl FnPackage {
    /// Reads the workspace with `cargo metadata` and selects the package
    /// as `cargo fn build` does (`--package`, `--manifest-path`, the
    /// member whose folder we are in, the only cdylib).
    pub fn load(opts: &BuildOptions) -> anyhow::Result<Self> {
        let meta = fn_pipeline::cargo::metadata(opts).context(
            "cannot read the package with `cargo metadata`; run in the function's directory or pass --manifest-path",
        )?;
        let cargo = fn_pipeline::cargo::select(&meta, opts)?;
        Self::from_package(cargo)
    }

    /// Validates the `[package.metadata.fn]` of a selected package.
    pub fn from_package(cargo: Package) -> anyhow::Result<Self> {
        let metadata = FnMetadata::from_json(&cargo.metadata["fn"]).map_err(|e| {
            anyhow::anyhow!(
                "invalid [package.metadata.fn] in {}: {e}",
                cargo.manifest_path.display()
            )
        })?;
        Ok(FnPackage { cargo, metadata })
    }

    /// The package name.
    pub fn name(&self) -> &str {
        &self.cargo.name
    }

    /// The directory holding its Cargo.toml.
    pub fn dir(&self) -> &Path {
        self.cargo.manifest_path.parent().unwrap_or(Path::new("."))
    }

    /// Cargo's target directory (`--target-dir`, else the workspace's).
    pub fn target_dir(&self) -> &Path {
        &self.cargo.target_dir
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn package(metadata: serde_json::Value) -> Package {
        Package {
            id: cargo_metadata::PackageId { repr: "p".into() },
            name: "orders".into(),
            version: "1.0.0".into(),
            repository: None,
            metadata,
            manifest_path: "/w/orders/Cargo.toml".into(),
            target_dir: "/t".into(),
            workspace_root: "/w".into(),
            path_deps: vec![],
        }
    }

    #[test]
    fn the_fn_table_is_validated_and_named_in_errors() {
        let ok = FnPackage::from_package(package(
            serde_json::json!({ "fn": { "route": "/orders/..." } }),
        ))
        .unwrap();
        assert_eq!(ok.metadata.route_or_wildcard(), "/orders/...");
        assert_eq!(ok.dir(), Path::new("/w/orders"));
        let none = FnPackage::from_package(package(serde_json::Value::Null)).unwrap();
        assert_eq!(none.metadata, FnMetadata::default());
        let err = FnPackage::from_package(package(serde_json::json!({ "fn": { "route": "x" } })))
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("invalid [package.metadata.fn] in /w/orders/Cargo.toml"),
            "{err}"
        );
    }
}
