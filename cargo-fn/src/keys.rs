//! Ed25519 key files (wasmsign2's format): loading them with messages that
//! say what to do, and writing new pairs.

use std::path::{Path, PathBuf};

use anyhow::Context as _;
use fn_sign::{KeyPair, PublicKey, SecretKey};

/// Reads a secret key file, saying what to do when that fails.
pub fn load_secret_key(path: &Path) -> anyhow::Result<SecretKey> {
    SecretKey::from_file(path).with_context(|| {
        format!(
            "cannot use {} as a signing key; create one with `cargo fn keygen`",
            path.display()
        )
    })
}

/// Reads public key files, saying which one failed.
pub fn load_public_keys(paths: &[PathBuf]) -> anyhow::Result<Vec<PublicKey>> {
    paths
        .iter()
        .map(|path| {
            PublicKey::from_file(path).with_context(|| {
                format!(
                    "cannot use {} as a trusted public key; pass the .pub file `cargo fn keygen` wrote",
                    path.display()
                )
            })
        })
        .collect()
}

/// A key pair written by [`write_pair`].
#[derive(Debug, Clone)]
pub struct KeyFiles {
    /// `NAME.key`, readable only by its owner.
    pub secret: PathBuf,
    /// `NAME.pub`.
    pub public: PathBuf,
    /// The public key.
    pub key: PublicKey,
}

/// Generates a key pair and writes `dir/NAME.key` and `dir/NAME.pub`
/// (creating `dir`). Existing files are replaced only with `force`.
pub fn write_pair(dir: &Path, name: &str, force: bool) -> anyhow::Result<KeyFiles> {
    if name.is_empty() || name.contains(['/', '\\']) {
        anyhow::bail!(
            "--name `{name}` is not a file name; pass a bare name such as `release` and put the directory in --out-dir"
        );
    }
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let secret = dir.join(format!("{name}.key"));
    let public = dir.join(format!("{name}.pub"));
    if force {
        remove_if_present(&secret)?;
        remove_if_present(&public)?;
    }
    let pair = KeyPair::generate();
    pair.to_files(&secret, &public)
        .context("the key pair was not written; pass --force to replace existing keys")?;
    Ok(KeyFiles {
        secret,
        public,
        key: pair.public,
    })
}

fn remove_if_present(path: &Path) -> anyhow::Result<()> {
    match std::fs::remove_file(path) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
            Err(e).with_context(|| format!("cannot replace {}", path.display()))
        }
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn written_pairs_load_back_and_are_replaced_only_with_force() {
        let dir = tempfile::tempdir().unwrap();
        let keys = dir.path().join("keys");
        let first = write_pair(&keys, "release", false).unwrap();
        assert_eq!(first.secret, keys.join("release.key"));
        let loaded = load_public_keys(std::slice::from_ref(&first.public)).unwrap();
        assert_eq!(loaded, [first.key]);
        assert_eq!(
            load_secret_key(&first.secret).unwrap().public_key(),
            first.key
        );

        let err = write_pair(&keys, "release", false).unwrap_err();
        assert!(format!("{err:#}").contains("--force"), "{err:#}");
        let second = write_pair(&keys, "release", true).unwrap();
        assert_ne!(second.key, first.key);
    }

    #[test]
    fn bad_names_and_files_say_what_to_do() {
        let dir = tempfile::tempdir().unwrap();
        let err = write_pair(dir.path(), "a/b", false).unwrap_err();
        assert!(err.to_string().contains("--out-dir"), "{err}");
        let missing = dir.path().join("missing.pub");
        let err = load_public_keys(&[missing]).unwrap_err().to_string();
        assert!(
            err.contains("missing.pub") && err.contains("keygen"),
            "{err}"
        );
        let err = load_secret_key(&dir.path().join("nope.key")).unwrap_err();
        assert!(err.to_string().contains("cargo fn keygen"), "{err}");
    }
}
