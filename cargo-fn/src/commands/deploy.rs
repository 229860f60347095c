//! `cargo fn deploy --provider P`: write a provider bundle that runs the
//! published artifact, pinned by digest, with the triggers and capabilities
//! declared in `[package.metadata.fn]`.

use std::path::PathBuf;

use anyhow::{Context as _, bail};

use super::publish::Record;
use crate::deploy::{Provider, Target};
use crate::metadata::FnPackage;
use crate::oci::{ImageRef, Registry, reference::check_digest};

/// Write a deployment bundle for a provider, pinned to the published digest
///
/// Generated from [package.metadata.fn] and the published artifact: the last
/// `cargo fn publish` of the package, or --image (resolved to a digest on
/// the registry), or --image with --digest. Every bundle references the
/// same manifest digest (Spin: the layer blob by its digest).
///
/// Providers: spin (spin.toml), wasmcloud (wadm.yaml), spinkube
/// (spinapp.yaml), wasmtime (run.sh).
///
/// Example:
///   cargo fn publish oci://127.0.0.1:5000/orders:v1
///   cargo fn deploy --provider spin --out deploy/spin
#[derive(Debug, clap::Args)]
#[command(verbatim_doc_comment)]
pub struct Args {
    /// Which host to write a bundle for
    #[arg(long, value_enum, value_name = "PROVIDER")]
    pub provider: Provider,
    /// Output directory (default: <target>/fn/deploy/<provider>)
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// The published artifact, oci://HOST[:PORT]/REPO[:TAG|@sha256:...]
    /// (default: the package's last `cargo fn publish`)
    #[arg(long, value_name = "REF")]
    pub image: Option<ImageRef>,
    /// Pin this manifest digest (sha256:...) of the image's repository
    #[arg(long, value_name = "DIGEST", value_parser = parse_digest)]
    pub digest: Option<String>,
    #[command(flatten)]
    pub pkg: super::PackageArgs,
    /// The registry speaks plain HTTP (always assumed for loopback)
    #[arg(long)]
    pub insecure: bool,
}

fn parse_digest(s: &str) -> Result<String, String> {
    check_digest(s).map(|()| s.to_owned())
}

impl Args {
    /// Runs `cargo fn deploy`.
    pub fn run(self) -> anyhow::Result<()> {
        let package = self.pkg.load()?;
        let record_path = Record::path(&package);
        let record: Option<Record> = std::fs::read(&record_path)
            .ok()
            .and_then(|bytes| serde_json::from_slice(&bytes).ok());
        let image = match (&self.image, &record) {
            (Some(image), _) => image.clone(),
            (None, Some(record)) => ImageRef::parse(&record.reference)
                .with_context(|| format!("in {}", record_path.display()))?,
            (None, None) => bail!(
                "no published artifact for {}: run `cargo fn publish oci://HOST/REPO:TAG` first, or pass --image",
                package.name
            ),
        };
        let wanted = self
            .digest
            .clone()
            .or_else(|| image.digest.clone())
            .or_else(|| {
                // The record pins the tag it pushed, unless --image says otherwise.
                record
                    .as_ref()
                    .filter(|_| self.image.is_none())
                    .map(|r| r.manifest_digest.clone())
            });
        let plain_http =
            self.insecure || image.is_loopback() || record.as_ref().is_some_and(|r| r.plain_http);
        // The record knows the layer digest of what it pushed; anything
        // else is looked up on the registry.
        let known = record.as_ref().filter(|r| {
            wanted.as_deref() == Some(r.manifest_digest.as_str())
                && ImageRef::parse(&r.reference)
                    .is_ok_and(|r| r.registry == image.registry && r.repository == image.repository)
        });
        let (manifest_digest, layer_digest) = match (known, &wanted) {
            (Some(r), _) => (r.manifest_digest.clone(), r.layer_digest.clone()),
            (None, wanted) => {
                let lookup = match wanted {
                    Some(d) => image.pinned(d),
                    None => image.clone(),
                };
                let registry = Registry::new(&lookup, self.insecure)?;
                let runtime = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()?;
                let resolved = runtime
                    .block_on(registry.resolve())
                    .with_context(|| format!("cannot resolve {lookup} to a digest"))?;
                (resolved.manifest_digest, resolved.layer_digest)
            }
        };
        let target = Target {
            name: package.name.clone(),
            version: package.version.clone(),
            metadata: package.metadata.clone(),
            image: image.pinned(&manifest_digest),
            layer_digest,
            plain_http,
            // The Spin layout pushed along with this very artifact.
            spin_app_digest: known.and_then(|r| r.spin_app_digest.clone()),
        };
        let file = target.bundle(self.provider)?;
        let provider_name = format!("{:?}", self.provider).to_lowercase();
        let out = self.out.clone().unwrap_or_else(|| {
            package
                .target_dir
                .join("fn")
                .join("deploy")
                .join(&provider_name)
        });
        std::fs::create_dir_all(&out)
            .with_context(|| format!("cannot create {}", out.display()))?;
        let path = out.join(file.name);
        std::fs::write(&path, &file.contents)
            .with_context(|| format!("cannot write {}", path.display()))?;
        #[cfg(unix)]
        if file.executable {
            use std::os::unix::fs::PermissionsExt as _;
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755))?;
        }
        println!(
            "{}: {} pinned to {manifest_digest}",
            path.display(),
            package.name
        );
        for note in &file.notes {
            println!("note: {note}");
        }
        let pinned = image.pinned(&manifest_digest);
        match self.host_verdict(&package, &pinned, &target.layer_digest) {
            Ok(verdict) if verdict.runs => {}
            Ok(verdict) => {
                eprintln!(
                    "warning: {} cannot run this artifact as built: {}",
                    verdict.name,
                    verdict.reasons.join("; ")
                );
                for note in &verdict.notes {
                    eprintln!("  {note}");
                }
            }
            Err(err) => eprintln!(
                "note: could not check whether {provider_name} can run the artifact: {err:#}"
            ),
        }
        Ok(())
    }

    /// Whether the provider's runtime can run the published component, by
    /// its imports (see `cargo fn inspect`). The component is the local
    /// build when its digest is the published layer's, else it is pulled.
    fn host_verdict(
        &self,
        package: &FnPackage,
        image: &ImageRef,
        layer_digest: &str,
    ) -> anyhow::Result<fn_pipeline::hosts::Verdict> {
        let local = package
            .target_dir
            .join("fn")
            .join(format!("{}.wasm", package.name));
        let wasm = match std::fs::read(&local) {
            Ok(bytes) if crate::oci::artifact::sha256_digest(&bytes) == layer_digest => bytes,
            _ => {
                let registry = Registry::new(image, self.insecure)?;
                tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()?
                    .block_on(registry.pull())?
                    .wasm
            }
        };
        verdict(self.provider, &wasm)
    }
}

/// Whether the runtime behind `provider` can run the component `wasm`.
fn verdict(provider: Provider, wasm: &[u8]) -> anyhow::Result<fn_pipeline::hosts::Verdict> {
    let host_id = match provider {
        Provider::Spin | Provider::Spinkube => "spin",
        Provider::Wasmcloud => "wasmcloud",
        Provider::Wasmtime => "wasmtime",
    };
    let report = fn_pipeline::report::inspect(wasm)?;
    report
        .hosts
        .into_iter()
        .find(|v| v.id == host_id)
        .with_context(|| format!("no host {host_id} in the portability report"))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A component importing what a key-value function imports.
    fn kv_component() -> Vec<u8> {
        wat::parse_str(
            r#"(component
                (import "wasi:keyvalue/store@0.2.0-draft" (instance))
                (import "wasi:config/store@0.2.0-rc.1" (instance))
            )"#,
        )
        .unwrap()
    }

    #[test]
    fn providers_that_lack_an_import_are_named_with_the_reason() {
        let wasm = kv_component();
        let spin = verdict(Provider::Spin, &wasm).unwrap();
        assert!(!spin.runs);
        assert!(
            spin.reasons
                .iter()
                .any(|r| r.contains("wasi:keyvalue/store")),
            "{:?}",
            spin.reasons
        );
        // SpinKube runs the Spin runtime: the same verdict.
        assert!(!verdict(Provider::Spinkube, &wasm).unwrap().runs);
        let wasmcloud = verdict(Provider::Wasmcloud, &wasm).unwrap();
        assert!(!wasmcloud.runs);
        assert!(
            wasmcloud
                .reasons
                .iter()
                .any(|r| r.contains("wasi:config/store")),
            "{:?}",
            wasmcloud.reasons
        );
        assert!(verdict(Provider::Wasmtime, &wasm).unwrap().runs);
    }
}
