//! `cargo fn sign <file.wasm> --key <secret key> [-o <out.wasm>]`: sign an
//! artifact in the wasmsign2 format.

use std::path::PathBuf;

use cargo_fn::keys::load_secret_key;
use cargo_fn::sign::sign_file;

/// Sign a component (or module) with an Ed25519 secret key
///
/// Puts a `signature` section first, covering every byte after it, in the
/// WebAssembly tool-conventions format wasmsign2 reads. Any previous
/// signature is replaced. Sign last: anything that rewrites the file
/// afterwards makes verification fail.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The artifact to sign
    pub file: PathBuf,
    /// The secret key file (from `cargo fn keygen`, or wasmsign2's `keygen`)
    #[arg(long, short, value_name = "KEY")]
    pub key: PathBuf,
    /// Where to write the signed artifact (default: sign FILE in place)
    #[arg(long, short, value_name = "OUT")]
    pub output: Option<PathBuf>,
}

impl Args {
    /// Runs `cargo fn sign`.
    pub fn run(self) -> anyhow::Result<()> {
        let key = load_secret_key(&self.key)?;
        let out = self.output.as_deref().unwrap_or(&self.file);
        let signer = sign_file(&self.file, out, &key)?;
        println!("{}: signed by key id {signer}", out.display());
        Ok(())
    }
}
