//! `cargo fn pull oci://...`: fetch a published component, checking the
//! manifest and layer digests and, with --trusted-key, the signature.

use std::path::PathBuf;

use anyhow::Context as _;

use cargo_fn::keys::load_public_keys;
use cargo_fn::oci::{ImageRef, Registry};

/// Fetch a published component from an OCI registry
///
/// Checks that the artifact is a wasm component artifact, that the bytes
/// match the layer digest in the manifest (and the manifest the digest in
/// the reference, when pinned with @sha256:...), and with --trusted-key
/// that it is signed by one of those keys. Nothing is written unless every
/// check passes.
///
/// Example:
///   cargo fn pull oci://127.0.0.1:5000/hello@sha256:... -o hello.wasm --trusted-key release.pub
#[derive(Debug, clap::Args)]
#[command(verbatim_doc_comment)]
pub struct Args {
    /// What to fetch: oci://HOST[:PORT]/REPO[:TAG|@sha256:DIGEST]
    #[arg(value_name = "REF")]
    pub reference: ImageRef,
    /// Where to write the component (default: <repo name>.wasm)
    #[arg(long, short, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Only accept the component if signed by this public key (repeatable)
    #[arg(long = "trusted-key", value_name = "PUB")]
    pub trusted_keys: Vec<PathBuf>,
    /// Use plain HTTP (always the case for loopback registries)
    #[arg(long)]
    pub insecure: bool,
}

impl Args {
    /// Runs `cargo fn pull`.
    pub fn run(self) -> anyhow::Result<()> {
        let trusted = load_public_keys(&self.trusted_keys)?;
        let registry = Registry::new(&self.reference, self.insecure)?;
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        let pulled = runtime
            .block_on(registry.pull())
            .with_context(|| format!("cannot pull {}", self.reference))?;
        let signer = if trusted.is_empty() {
            None
        } else {
            let verified = fn_sign::verify(&pulled.wasm, &trusted).with_context(|| {
                format!(
                    "{} failed signature verification; nothing written",
                    self.reference
                )
            })?;
            Some(verified)
        };
        let output = self.output.clone().unwrap_or_else(|| {
            let name = self
                .reference
                .repository
                .rsplit('/')
                .next()
                .unwrap_or("component");
            PathBuf::from(format!("{name}.wasm"))
        });
        cargo_fn::fs::write_atomic(&output, &pulled.wasm)
            .with_context(|| format!("cannot write {}", output.display()))?;
        println!(
            "{}: {} bytes from {}",
            output.display(),
            pulled.wasm.len(),
            self.reference
        );
        println!("digest: {}", pulled.manifest_digest);
        println!("layer:  {}", pulled.layer_digest);
        if let Some(verified) = signer {
            println!(
                "{verified} (key file {})",
                self.trusted_keys[verified.trusted_index].display()
            );
        }
        Ok(())
    }
}
