//! `cargo fn verify <file.wasm> --key <public key> [--key ...]`: check that
//! an artifact is signed, unmodified since, by a trusted key.

use std::path::PathBuf;

use anyhow::Context as _;
use cargo_fn::keys::load_public_keys;

/// Verify an artifact's signature against trusted public keys
///
/// Succeeds only if the first section is a signature, by one of the given
/// keys, over every byte after it. Otherwise exits non-zero and says why:
/// unsigned, modified after signing, signed by another key, or a damaged
/// signature.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The artifact to verify
    pub file: PathBuf,
    /// A trusted public key file (repeatable; the .pub file from `cargo fn keygen`)
    #[arg(long = "key", short, value_name = "PUB", required = true)]
    pub keys: Vec<PathBuf>,
}

impl Args {
    /// Runs `cargo fn verify`.
    pub fn run(self) -> anyhow::Result<()> {
        let trusted = load_public_keys(&self.keys)?;
        let wasm = std::fs::read(&self.file)
            .with_context(|| format!("cannot read {}", self.file.display()))?;
        let verified = fn_sign::verify(&wasm, &trusted)
            .with_context(|| format!("{} failed verification", self.file.display()))?;
        println!(
            "{}: {verified} (key file {})",
            self.file.display(),
            self.keys[verified.trusted_index].display()
        );
        Ok(())
    }
}
