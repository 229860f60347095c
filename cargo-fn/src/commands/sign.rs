//! `cargo fn sign <file.wasm> --key <secret key> [-o <out.wasm>]`: sign an
//! artifact in the wasmsign2 format. [`sign_file`] is also the last step of
//! `cargo fn build --sign`.

use std::io::Write as _;
use std::path::{Path, PathBuf};

use anyhow::Context as _;
use fn_sign::{PublicKey, SecretKey};

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

/// Reads a secret key file, saying what to do when that fails.
pub fn load_secret_key(path: &Path) -> anyhow::Result<SecretKey> {
    SecretKey::from_file(path).with_context(|| {
        format!(
            "cannot use {} as a signing key; create one with `cargo fn keygen`",
            path.display()
        )
    })
}

/// Signs the artifact at `input` and writes the result to `output`
/// atomically (a temporary file in the same directory, then a rename), so
/// readers never see a half-written artifact. `input` and `output` may be
/// the same path. Returns the signer's public key.
pub fn sign_file(input: &Path, output: &Path, key: &SecretKey) -> anyhow::Result<PublicKey> {
    let wasm = std::fs::read(input).with_context(|| format!("cannot read {}", input.display()))?;
    let signed =
        fn_sign::sign(&wasm, key).with_context(|| format!("cannot sign {}", input.display()))?;
    write_atomic(output, &signed)
        .with_context(|| format!("cannot write the signed artifact {}", output.display()))?;
    Ok(key.public_key())
}

/// Writes `bytes` to `path` through a temporary sibling file and a rename.
/// On failure the temporary file is removed and `path` is left as it was.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let name = path
        .file_name()
        .ok_or_else(|| std::io::Error::other("the output path has no file name"))?;
    let mut tmp_name = std::ffi::OsString::from(".");
    tmp_name.push(name);
    tmp_name.push(format!(".{}.tmp", std::process::id()));
    let tmp = path.with_file_name(tmp_name);
    let result = std::fs::File::create(&tmp)
        .and_then(|mut file| {
            file.write_all(bytes)?;
            file.sync_all()
        })
        .and_then(|()| std::fs::rename(&tmp, path));
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn write_atomic_replaces_the_file_and_leaves_no_temporary_behind() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("app.wasm");
        std::fs::write(&path, b"old").unwrap();
        write_atomic(&path, b"new bytes").unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"new bytes");
        let names: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, ["app.wasm"]);
    }

    #[test]
    fn write_atomic_into_a_missing_directory_fails_cleanly() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("missing/app.wasm");
        assert!(write_atomic(&path, b"x").is_err());
        assert!(!path.exists());
    }

    #[test]
    fn sign_file_in_place_produces_a_verifiable_artifact() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("m.wasm");
        // Header plus one custom section.
        std::fs::write(&path, b"\0asm\x01\0\0\0\0\x06\x04note!").unwrap();
        let pair = fn_sign::KeyPair::generate();
        let signer = sign_file(&path, &path, &pair.secret).unwrap();
        assert_eq!(signer, pair.public);
        let signed = std::fs::read(&path).unwrap();
        let verified = fn_sign::verify(&signed, &[pair.public]).unwrap();
        assert_eq!(verified.signer, pair.public);
    }

    #[test]
    fn sign_file_refuses_a_non_wasm_file_and_leaves_it_alone() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("not.wasm");
        std::fs::write(&path, b"#!/bin/sh\n").unwrap();
        let err = sign_file(&path, &path, &fn_sign::KeyPair::generate().secret).unwrap_err();
        assert!(format!("{err:#}").contains("not a WebAssembly"), "{err:#}");
        assert_eq!(std::fs::read(&path).unwrap(), b"#!/bin/sh\n");
    }
}
