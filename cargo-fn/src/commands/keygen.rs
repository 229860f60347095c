//! `cargo fn keygen [--out-dir DIR] [--name NAME] [--force]`: create an
//! Ed25519 key pair for signing artifacts.

use std::path::PathBuf;

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
        let written = cargo_fn::keys::write_pair(&self.out_dir, &self.name, self.force)?;
        println!(
            "secret key: {} (keep it private; sign with `cargo fn build --sign {0}`)",
            written.secret.display()
        );
        println!(
            "public key: {} (give it to whoever verifies or runs your artifacts)",
            written.public.display()
        );
        println!("key id:     {}", written.key);
        Ok(())
    }
}
