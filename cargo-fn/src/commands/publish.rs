//! `cargo fn publish oci://HOST[:PORT]/REPO:TAG`: push the built (optionally
//! signed) component as a CNCF wasm OCI artifact and print its digest.

use std::path::PathBuf;

use cargo_fn::args::BuildArgs;
use cargo_fn::oci::ImageRef;
use cargo_fn::package::FnPackage;
use cargo_fn::publish::{self, publish};

/// Push the function to an OCI registry as a wasm component artifact
///
/// Builds the package (release profile) unless --wasm names a component,
/// optionally signs it, and pushes it in the CNCF wasm OCI artifact layout:
/// one application/wasm layer and an application/vnd.wasm.config.v0+json
/// config listing the component's imports and exports. Prints the manifest
/// digest, which `cargo fn pull` and `cargo fn deploy` pin.
///
/// Credentials: CARGO_FN_REGISTRY_USERNAME and CARGO_FN_REGISTRY_PASSWORD,
/// else the docker config file ($DOCKER_CONFIG/config.json or
/// ~/.docker/config.json). Loopback registries and --insecure use plain HTTP.
///
/// Example:
///   cargo fn publish oci://127.0.0.1:5000/hello:v1 --sign release.key
#[derive(Debug, clap::Args)]
#[command(verbatim_doc_comment)]
pub struct Args {
    /// Where to push: oci://HOST[:PORT]/REPO[:TAG] (tag defaults to latest)
    #[arg(value_name = "REF")]
    pub reference: ImageRef,
    /// Push this component file instead of building the package
    #[arg(long, value_name = "FILE")]
    pub wasm: Option<PathBuf>,
    #[command(flatten)]
    pub build: BuildArgs,
    /// Sign the artifact with this secret key before pushing
    #[arg(long, value_name = "KEY")]
    pub sign: Option<PathBuf>,
    /// Also push the Spin application layout (for SpinKube) as TAG-spin,
    /// reusing the same component blob; needs [package.metadata.fn]
    #[arg(long)]
    pub spin_app: bool,
    /// Use plain HTTP (always the case for loopback registries)
    #[arg(long)]
    pub insecure: bool,
    /// Print the result as JSON on stdout
    #[arg(long)]
    pub json: bool,
}

impl Args {
    /// Runs `cargo fn publish`.
    pub fn run(self) -> anyhow::Result<()> {
        // Read the key first, so a wrong path fails before a long build.
        let key = self
            .sign
            .as_deref()
            .map(cargo_fn::keys::load_secret_key)
            .transpose()?;
        let build = self.build.options(true);
        // The package is needed to build; with --wasm it only names things.
        let package = match &self.wasm {
            Some(_) => FnPackage::load(&build).ok(),
            None => Some(FnPackage::load(&build)?),
        };
        let published = publish(
            package.as_ref(),
            &build,
            &publish::Options {
                reference: self.reference.clone(),
                wasm: self.wasm,
                key,
                spin_app: self.spin_app,
                insecure: self.insecure,
            },
        )?;
        let record = &published.record;
        if self.json {
            let json = serde_json::json!({
                "reference": record.reference,
                "pinned": published.pinned.to_string(),
                "manifest_digest": record.manifest_digest,
                "layer_digest": record.layer_digest,
                "config_digest": published.config_digest,
                "size": published.size,
                "signed": published.signed,
                "spin_app_digest": record.spin_app_digest,
            });
            println!("{}", serde_json::to_string_pretty(&json)?);
        } else {
            println!("Published {} ({} bytes)", self.reference, published.size);
            println!("digest: {}", record.manifest_digest);
            println!("pinned: {}", published.pinned);
            if let (Some(spin_ref), Some(digest)) = (&published.spin_app, &record.spin_app_digest) {
                println!("spin app: {spin_ref} ({digest}), same component blob");
            }
        }
        Ok(())
    }
}
