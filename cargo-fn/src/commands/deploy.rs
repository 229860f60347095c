//! `cargo fn deploy --provider P`: write a provider bundle that runs the
//! published artifact, pinned by digest, with the triggers and capabilities
//! declared in `[package.metadata.fn]`.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use cargo_fn::args::PackageArgs;
use cargo_fn::deploy::{self, Provider, deploy};
use cargo_fn::oci::{ImageRef, reference::check_digest};
use cargo_fn::package::FnPackage;
use cargo_fn::runner::Arch;

/// Write a deployment bundle for a provider, pinned to the published digest
///
/// Generated from [package.metadata.fn] and the published artifact: the last
/// `cargo fn publish` of the package, or --image (resolved to a digest on
/// the registry), or --image with --digest. Every bundle references the
/// same manifest digest (Spin: the layer blob by its digest).
///
/// Providers: spin (spin.toml), wasmcloud (wadm.yaml), spinkube
/// (spinapp.yaml), wasmtime (run.sh), lambda (bootstrap.zip + SAM
/// template.yaml), azure (a custom-handler function app folder + its zip),
/// cloudrun (a container image pushed as TAG-cloudrun next to the artifact,
/// also written to image/ as an OCI layout, + service.yaml pinning it),
/// cloudflare (a Worker project: wrangler.jsonc, the component transpiled to
/// JavaScript and its glue; `npm install && npx wrangler deploy`), netlify
/// (a site folder with the function, the same transpiled component).
///
/// lambda, azure and cloudrun pack the native runner (fn-runner, a static musl
/// binary) with the published component: $FN_RUNNER if set, else built
/// from source once and cached ($FN_RUNNER_CACHE, default
/// ~/.cache/cargo-fn/runner; the first build takes minutes).
///
/// Example:
///   cargo fn publish oci://127.0.0.1:5000/orders:v1
///   cargo fn deploy --provider spin --out deploy/spin
///   cargo fn deploy --provider lambda --arch arm64
///   cargo fn deploy --provider cloudrun
///   cargo fn deploy --provider cloudflare
#[derive(Debug, clap::Args)]
#[command(verbatim_doc_comment)]
pub struct Args {
    /// Which host to write a bundle for
    #[arg(long, value_enum, value_name = "PROVIDER")]
    pub provider: Provider,
    /// Output directory (default: <target-dir>/fn/deploy/<provider>)
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
    pub package: PackageArgs,
    /// The registry speaks plain HTTP (always assumed for loopback)
    #[arg(long)]
    pub insecure: bool,
    /// CPU of the runner packed for lambda, azure and cloudrun (Azure and
    /// Cloud Run: x86_64 only)
    #[arg(long, value_enum, value_name = "ARCH", default_value_t = Arch::X86_64)]
    pub arch: Arch,
    /// Don't pack precompiled code (fn.cwasm) for lambda, azure and
    /// cloudrun: smaller packages, slower cold starts
    #[arg(long)]
    pub no_precompile: bool,
    /// Refuse a component not signed by this public key, and have the
    /// runner of a lambda, azure or cloudrun bundle check the signature at
    /// every start (repeatable)
    #[arg(long = "trusted-key", value_name = "PUB")]
    pub trusted_keys: Vec<PathBuf>,
}

fn parse_digest(s: &str) -> Result<String, String> {
    check_digest(s).map(|()| s.to_owned())
}

impl Args {
    /// Runs `cargo fn deploy`.
    pub fn run(self) -> anyhow::Result<()> {
        let package = FnPackage::load(&self.package.options())?;
        let deployed = deploy(
            &package,
            &deploy::Options {
                provider: self.provider,
                out: self.out,
                image: self.image,
                digest: self.digest,
                insecure: self.insecure,
                arch: self.arch,
                precompile: !self.no_precompile,
                trusted_keys: self.trusted_keys,
            },
        )?;
        println!(
            "{}: {} pinned to {}",
            deployed.path.display(),
            package.name(),
            deployed.deployment.manifest_digest()
        );
        // The other files and folders written next to it.
        let dir = deployed.path.parent().unwrap_or(Path::new("."));
        let others: BTreeSet<PathBuf> = deployed
            .files
            .iter()
            .filter_map(|f| f.strip_prefix(dir).ok()?.components().next())
            .map(|first| dir.join(first))
            .filter(|p| *p != deployed.path)
            .collect();
        for path in others {
            println!("  and {}", path.display());
        }
        for note in &deployed.notes {
            println!("note: {note}");
        }
        match deployed.verdict {
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
                "note: could not check whether {} can run the artifact: {err:#}",
                self.provider.name()
            ),
        }
        Ok(())
    }
}
