//! `cargo fn keygen [--out-dir DIR] [--name NAME] [--force]`: create an
//! Ed25519 key pair for signing artifacts.

use std::path::{Path, PathBuf};

use anyhow::Context as _;
use fn_sign::KeyPair;

/// Create an Ed25519 key pair for `cargo fn sign` and `build --sign`
///
/// Writes NAME.key (the secret key, readable only by you) and NAME.pub (the
/// public key to hand to whoever runs your artifacts), both in wasmsign2's
/// key format.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Directory to write the key files into (created if missing)
    #[arg(long, value_name = "DIR", default_value = ".")]
    pub out_dir: PathBuf,
    /// Base name of the key files
    #[arg(long, value_name = "NAME", default_value = "fn-signing")]
    pub name: String,
    /// Replace existing key files of the same name
    #[arg(long)]
    pub force: bool,
}

impl Args {
    /// Runs `cargo fn keygen`.
    pub fn run(self) -> anyhow::Result<()> {
        if self.name.is_empty() || self.name.contains(['/', '\\']) {
            anyhow::bail!(
                "--name `{}` is not a file name; pass a bare name such as `release` and put the directory in --out-dir",
                self.name
            );
        }
        std::fs::create_dir_all(&self.out_dir)
            .with_context(|| format!("cannot create {}", self.out_dir.display()))?;
        let secret = self.out_dir.join(format!("{}.key", self.name));
        let public = self.out_dir.join(format!("{}.pub", self.name));
        if self.force {
            remove_if_present(&secret)?;
            remove_if_present(&public)?;
        }
        let pair = KeyPair::generate();
        pair.to_files(&secret, &public)
            .context("the key pair was not written; pass --force to replace existing keys")?;
        println!(
            "secret key: {} (keep it private; sign with `cargo fn build --sign {0}`)",
            secret.display()
        );
        println!(
            "public key: {} (give it to whoever verifies or runs your artifacts)",
            public.display()
        );
        println!("key id:     {}", pair.public);
        Ok(())
    }
}

fn remove_if_present(path: &Path) -> anyhow::Result<()> {
    match std::fs::remove_file(path) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
            Err(e).with_context(|| format!("cannot replace {}", path.display()))
        }
        _ => Ok(()),
    }
}
