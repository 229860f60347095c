//! Signing artifact files in the wasmsign2 format: `cargo fn sign`, and the
//! last step of `cargo fn build --sign` and `publish --sign`.

use std::path::Path;

use anyhow::Context as _;
use fn_sign::{PublicKey, SecretKey};

/// Signs the artifact at `input` and writes the result to `output`
/// atomically (a temporary file in the same directory, then a rename), so
/// readers never see a half-written artifact. `input` and `output` may be
/// the same path. Returns the signer's public key.
pub fn sign_file(input: &Path, output: &Path, key: &SecretKey) -> anyhow::Result<PublicKey> {
    let wasm = std::fs::read(input).with_context(|| format!("cannot read {}", input.display()))?;
    let signed =
        fn_sign::sign(&wasm, key).with_context(|| format!("cannot sign {}", input.display()))?;
    crate::fs::write_atomic(output, &signed)
        .with_context(|| format!("cannot write the signed artifact {}", output.display()))?;
    Ok(key.public_key())
}

#[cfg(test)]
mod tests {
    use super::*;

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
