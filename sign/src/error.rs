//! Error types. Every message says what went wrong and what to do next.

use std::path::PathBuf;

/// Why signing (or stripping a signature) failed.
#[derive(Debug, thiserror::Error)]
pub enum SignError {
    /// The input does not start with a wasm module or component header.
    #[error(
        "not a WebAssembly module or component ({reason}); pass the .wasm file `cargo fn build` produced"
    )]
    NotWasm {
        /// What was wrong with the header.
        reason: String,
    },
    /// The section framing is broken (a truncated or corrupted file).
    #[error(
        "the wasm file is malformed: the section at byte {offset} is broken ({reason}); rebuild it before signing"
    )]
    Malformed {
        /// Byte offset of the broken section in the file.
        offset: usize,
        /// What could not be read.
        reason: String,
    },
}

/// Why an artifact was refused. Each case has its own variant so callers
/// (and tests) can tell them apart.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VerifyError {
    /// `verify` was called with an empty trusted-key list.
    #[error(
        "no trusted public keys were given, so nothing can be verified; pass the public key file of each signer you trust"
    )]
    NoTrustedKeys,
    /// The input does not start with a wasm module or component header.
    #[error(
        "not a WebAssembly module or component ({reason}); check that the path points at a .wasm artifact"
    )]
    NotWasm {
        /// What was wrong with the header.
        reason: String,
    },
    /// There is no `signature` custom section at all.
    #[error(
        "the artifact is not signed (it has no `signature` section); sign it with `cargo fn sign --key <secret key>` or build it with `cargo fn build --sign <secret key>`"
    )]
    Unsigned,
    /// A `signature` section exists but is not the first section, so it
    /// cannot cover the whole artifact.
    #[error(
        "the `signature` section is section #{index}, not the first section, so it does not cover the whole artifact; the file was rewritten after signing or signed by a tool that does not follow the convention: re-sign it"
    )]
    SignatureNotFirst {
        /// Zero-based position of the first `signature` section.
        index: usize,
    },
    /// The `signature` section could not be decoded.
    #[error(
        "the `signature` section is malformed ({reason}); the signature was damaged or written by an incompatible tool: re-sign the artifact"
    )]
    MalformedSignature {
        /// What could not be decoded, and where.
        reason: String,
    },
    /// A trusted key signed the section, but the bytes after it are not the
    /// ones it signed: a flipped byte, an added, removed or reordered
    /// section, or a truncated file.
    #[error(
        "the artifact was modified after signing: the SHA-256 of everything after the signature section is {actual}, but the trusted signature covers {signed}; rebuild and re-sign it, and make sure nothing rewrites the artifact after signing"
    )]
    ContentModified {
        /// Hex SHA-256 the trusted key signed.
        signed: String,
        /// Hex SHA-256 of the bytes actually present.
        actual: String,
    },
    /// A signature names a trusted key (by key id) but does not verify
    /// with it: the signature section itself was altered.
    #[error(
        "the signature claims to be by trusted key {key_id} but does not verify with it: the signature section was tampered with or corrupted; re-sign the artifact"
    )]
    InvalidSignature {
        /// Hex key id of the trusted key the signature names.
        key_id: String,
    },
    /// Signed, but by no key in the trusted list.
    #[error(
        "the artifact is signed, but not by any of the {trusted} trusted key(s) (signer key id(s): {signers}); trust the signer's public key, or re-sign the artifact with a trusted key"
    )]
    UntrustedKey {
        /// Hex key ids recorded in the signature section, comma-separated,
        /// or "none recorded".
        signers: String,
        /// How many trusted keys were tried.
        trusted: usize,
    },
}

/// Why a key could not be read, decoded or written.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    /// Reading a key file failed.
    #[error("cannot read key file {}: {source}", path.display())]
    Read {
        /// The key file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// Writing a key file failed.
    #[error("cannot write key file {}: {source}", path.display())]
    Write {
        /// The key file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// Refusing to overwrite an existing key file.
    #[error(
        "{} already exists; refusing to overwrite a key (remove it first or choose another path)",
        path.display()
    )]
    AlreadyExists {
        /// The existing file.
        path: PathBuf,
    },
    /// The bytes are not an Ed25519 secret key in a supported encoding.
    #[error(
        "{origin} is not an Ed25519 secret key ({reason}); expected a wasmsign2 key file (0x81-prefixed), or PKCS#8 DER/PEM, e.g. from `cargo fn keygen`"
    )]
    InvalidSecretKey {
        /// The file path, or "secret key bytes".
        origin: String,
        /// What was wrong.
        reason: String,
    },
    /// The bytes are not an Ed25519 public key in a supported encoding.
    #[error(
        "{origin} is not an Ed25519 public key ({reason}); expected a wasmsign2 key file (0x01-prefixed), or SPKI DER/PEM, e.g. the .pub file from `cargo fn keygen`"
    )]
    InvalidPublicKey {
        /// The file path, or "public key bytes".
        origin: String,
        /// What was wrong.
        reason: String,
    },
}

impl KeyError {
    /// Replaces the generic origin of a decoding error with the file path.
    pub(crate) fn in_file(self, path: &std::path::Path) -> Self {
        let origin = path.display().to_string();
        match self {
            KeyError::InvalidSecretKey { reason, .. } => {
                KeyError::InvalidSecretKey { origin, reason }
            }
            KeyError::InvalidPublicKey { reason, .. } => {
                KeyError::InvalidPublicKey { origin, reason }
            }
            other => other,
        }
    }
}
