//! Ed25519 keys and their files.
//!
//! Files are written in wasmsign2's own encoding, which its CLI reads
//! without flags: a secret key is `0x81 ‖ seed (32) ‖ public key (32)`
//! (65 bytes), a public key is `0x01 ‖ public key (32)` (33 bytes).
//! Reading also accepts PKCS#8 (secret) and SPKI (public) keys as DER or
//! PEM, which wasmsign2's library reads too and OpenSSL writes.

use std::fmt;
use std::io::Write as _;
use std::path::Path;

use ed25519_dalek::pkcs8::{
    DecodePrivateKey, DecodePublicKey, EncodePrivateKey, EncodePublicKey, KeypairBytes,
};
use ed25519_dalek::{SigningKey, VerifyingKey};
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

use crate::error::KeyError;

/// Leading byte of a wasmsign2 public key file.
pub const PUBLIC_KEY_TAG: u8 = 0x01;
/// Leading byte of a wasmsign2 secret key file.
pub const SECRET_KEY_TAG: u8 = 0x81;

/// An Ed25519 secret (signing) key.
#[derive(Clone)]
pub struct SecretKey(SigningKey);

/// An Ed25519 public (verifying) key.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct PublicKey(VerifyingKey);

/// A freshly generated key pair.
#[derive(Clone, Debug)]
pub struct KeyPair {
    /// Signs artifacts; keep it private.
    pub secret: SecretKey,
    /// Verifies artifacts; hand it to whoever runs them.
    pub public: PublicKey,
}

impl KeyPair {
    /// Generates a key pair from the operating system's RNG.
    pub fn generate() -> Self {
        let secret = SecretKey(SigningKey::generate(&mut rand_core::OsRng));
        let public = secret.public_key();
        KeyPair { secret, public }
    }

    /// Writes both key files (see [`SecretKey::to_file`] and
    /// [`PublicKey::to_file`]). Checks that neither exists before writing
    /// either, so a refused call leaves no half-written pair behind.
    pub fn to_files(&self, secret: &Path, public: &Path) -> Result<(), KeyError> {
        for path in [secret, public] {
            if path.exists() {
                return Err(KeyError::AlreadyExists { path: path.into() });
            }
        }
        self.secret.to_file(secret)?;
        self.public.to_file(public)
    }
}

impl SecretKey {
    /// Decodes a secret key: wasmsign2 raw (`0x81 ‖ seed ‖ pk`), PKCS#8
    /// PEM, or PKCS#8 DER.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, KeyError> {
        let invalid = |reason: &str| KeyError::InvalidSecretKey {
            origin: "secret key bytes".into(),
            reason: reason.into(),
        };
        if bytes.len() == 65 && bytes[0] == SECRET_KEY_TAG {
            let seed: [u8; 32] = bytes[1..33].try_into().expect("32 bytes");
            let key = SigningKey::from_bytes(&seed);
            if key.verifying_key().as_bytes()[..] != bytes[33..] {
                return Err(invalid(
                    "its public half does not match its seed; the file is corrupt",
                ));
            }
            return Ok(SecretKey(key));
        }
        if bytes.len() == 33 && bytes[0] == PUBLIC_KEY_TAG {
            return Err(invalid("this is a public key file; pass the secret key"));
        }
        if let Some(pem) = as_pem(bytes) {
            return SigningKey::from_pkcs8_pem(pem)
                .map(SecretKey)
                .map_err(|e| invalid(&format!("PEM: {e}")));
        }
        SigningKey::from_pkcs8_der(bytes)
            .map(SecretKey)
            .map_err(|e| {
                invalid(&format!(
                    "{} bytes, neither a 65-byte 0x81-prefixed key nor PKCS#8 ({e})",
                    bytes.len()
                ))
            })
    }

    /// Reads a secret key file in any format [`SecretKey::from_bytes`] accepts.
    pub fn from_file(path: impl AsRef<Path>) -> Result<Self, KeyError> {
        let path = path.as_ref();
        let bytes = Zeroizing::new(read(path)?);
        Self::from_bytes(&bytes).map_err(|e| e.in_file(path))
    }

    /// wasmsign2's encoding: `0x81 ‖ seed ‖ public key`.
    pub fn to_bytes(&self) -> Zeroizing<Vec<u8>> {
        let mut out = Zeroizing::new(Vec::with_capacity(65));
        out.push(SECRET_KEY_TAG);
        out.extend_from_slice(self.0.as_bytes());
        out.extend_from_slice(self.0.verifying_key().as_bytes());
        out
    }

    /// PKCS#8 v1 PEM (`-----BEGIN PRIVATE KEY-----`), the 48-byte form
    /// OpenSSL writes and wasmsign2 (ed25519-compact) reads; v2 with the
    /// public key embedded is not read by wasmsign2.
    pub fn to_pem(&self) -> Zeroizing<String> {
        let v1 = KeypairBytes {
            secret_key: self.0.to_bytes(),
            public_key: None,
        };
        v1.to_pkcs8_pem(Default::default())
            .expect("encoding an Ed25519 key as PKCS#8 cannot fail")
    }

    /// Writes the key in wasmsign2's encoding to a new file readable only by
    /// its owner (mode 0600 on unix). Refuses to overwrite an existing file.
    pub fn to_file(&self, path: impl AsRef<Path>) -> Result<(), KeyError> {
        write_new(path.as_ref(), &self.to_bytes(), true)
    }

    /// The matching public key.
    pub fn public_key(&self) -> PublicKey {
        PublicKey(self.0.verifying_key())
    }

    pub(crate) fn signing_key(&self) -> &SigningKey {
        &self.0
    }
}

impl fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "SecretKey(public key id {})",
            self.public_key().key_id_hex()
        )
    }
}

impl PublicKey {
    /// Decodes a public key: wasmsign2 raw (`0x01 ‖ pk`), SPKI PEM, or SPKI DER.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, KeyError> {
        let invalid = |reason: &str| KeyError::InvalidPublicKey {
            origin: "public key bytes".into(),
            reason: reason.into(),
        };
        if bytes.len() == 33 && bytes[0] == PUBLIC_KEY_TAG {
            let raw: [u8; 32] = bytes[1..].try_into().expect("32 bytes");
            return VerifyingKey::from_bytes(&raw)
                .map(PublicKey)
                .map_err(|_| invalid("the 32 key bytes are not a valid Ed25519 point"));
        }
        if bytes.len() == 65 && bytes[0] == SECRET_KEY_TAG {
            return Err(invalid(
                "this is a secret key file; pass the public key (never share the secret key)",
            ));
        }
        if let Some(pem) = as_pem(bytes) {
            return VerifyingKey::from_public_key_pem(pem)
                .map(PublicKey)
                .map_err(|e| invalid(&format!("PEM: {e}")));
        }
        VerifyingKey::from_public_key_der(bytes)
            .map(PublicKey)
            .map_err(|e| {
                invalid(&format!(
                    "{} bytes, neither a 33-byte 0x01-prefixed key nor SPKI ({e})",
                    bytes.len()
                ))
            })
    }

    /// Reads a public key file in any format [`PublicKey::from_bytes`] accepts.
    pub fn from_file(path: impl AsRef<Path>) -> Result<Self, KeyError> {
        let path = path.as_ref();
        Self::from_bytes(&read(path)?).map_err(|e| e.in_file(path))
    }

    /// wasmsign2's encoding: `0x01 ‖ public key`.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(33);
        out.push(PUBLIC_KEY_TAG);
        out.extend_from_slice(self.0.as_bytes());
        out
    }

    /// SPKI PEM (`-----BEGIN PUBLIC KEY-----`).
    pub fn to_pem(&self) -> String {
        self.0
            .to_public_key_pem(Default::default())
            .expect("encoding an Ed25519 key as SPKI cannot fail")
    }

    /// Writes the key in wasmsign2's encoding to a new file. Refuses to
    /// overwrite an existing file.
    pub fn to_file(&self, path: impl AsRef<Path>) -> Result<(), KeyError> {
        write_new(path.as_ref(), &self.to_bytes(), false)
    }

    /// The 32 key bytes.
    pub fn as_bytes(&self) -> &[u8; 32] {
        self.0.as_bytes()
    }

    /// wasmsign2's default key id: the first 12 bytes of
    /// HMAC-SHA256(key = public key, message = "key_id").
    pub fn key_id(&self) -> [u8; 12] {
        let mac = hmac_sha256(self.0.as_bytes(), b"key_id");
        mac[..12].try_into().expect("12 bytes")
    }

    /// [`PublicKey::key_id`] in hex, the form error messages show.
    pub fn key_id_hex(&self) -> String {
        hex(&self.key_id())
    }

    pub(crate) fn verifying_key(&self) -> &VerifyingKey {
        &self.0
    }
}

impl fmt::Debug for PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PublicKey(key id {})", self.key_id_hex())
    }
}

impl fmt::Display for PublicKey {
    /// The key id in hex.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.key_id_hex())
    }
}

/// PEM files are text starting (after whitespace) with `-----BEGIN`.
fn as_pem(bytes: &[u8]) -> Option<&str> {
    let text = std::str::from_utf8(bytes).ok()?;
    text.trim_start()
        .starts_with("-----BEGIN")
        .then_some(text.trim())
}

fn read(path: &Path) -> Result<Vec<u8>, KeyError> {
    std::fs::read(path).map_err(|source| KeyError::Read {
        path: path.into(),
        source,
    })
}

fn write_new(path: &Path, bytes: &[u8], owner_only: bool) -> Result<(), KeyError> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        options.mode(if owner_only { 0o600 } else { 0o644 });
    }
    #[cfg(not(unix))]
    let _ = owner_only;
    let mut file = options.open(path).map_err(|source| {
        if source.kind() == std::io::ErrorKind::AlreadyExists {
            KeyError::AlreadyExists { path: path.into() }
        } else {
            KeyError::Write {
                path: path.into(),
                source,
            }
        }
    })?;
    file.write_all(bytes)
        .and_then(|()| file.sync_all())
        .map_err(|source| KeyError::Write {
            path: path.into(),
            source,
        })
}

/// HMAC-SHA256 (RFC 2104), for wasmsign2's key ids.
fn hmac_sha256(key: &[u8], message: &[u8]) -> [u8; 32] {
    let mut block = [0u8; 64];
    if key.len() > block.len() {
        block[..32].copy_from_slice(&Sha256::digest(key));
    } else {
        block[..key.len()].copy_from_slice(key);
    }
    let inner = Sha256::new()
        .chain_update(block.map(|b| b ^ 0x36))
        .chain_update(message)
        .finalize();
    Sha256::new()
        .chain_update(block.map(|b| b ^ 0x5c))
        .chain_update(inner)
        .finalize()
        .into()
}

pub(crate) fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
#[path = "keys_tests.rs"]
mod tests;
