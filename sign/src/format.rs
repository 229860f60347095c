//! The payload of the `signature` custom section, encoded as wasmsign2
//! reads and writes it (WebAssembly tool-conventions signatures, v1):
//!
//! ```text
//! spec_version: u8 (0x01)   content_type: u8 (0x01)   hash_fn: u8 (0x01 = SHA-256)
//! varuint32 set_count, then per set:  varuint32 len ‖ SignedHashes
//! SignedHashes   = varuint32 hash_count ‖ hash_count × 32-byte hash
//!                  ‖ varuint32 sig_count ‖ sig_count × (varuint32 len ‖ SignatureRecord)
//! SignatureRecord = varuint32 key_id_len ‖ key_id (empty = none) ‖ alg_id: u8 (0x01 = Ed25519)
//!                  ‖ varuint32 sig_len ‖ signature
//! ```
//!
//! Each signature signs `"wasmsig" ‖ 0x01 ‖ 0x01 ‖ 0x01 ‖ hashes of its set`.

use crate::reader::{ReadError, Reader, put_slice, put_u32};

/// The only specification version there is.
pub const SPEC_VERSION: u8 = 0x01;
/// Content type for wasm modules (wasmsign2 uses it for components too).
pub const CONTENT_TYPE_WASM: u8 = 0x01;
/// Hash function id for SHA-256.
pub const HASH_SHA256: u8 = 0x01;
/// Algorithm id for Ed25519 signatures.
pub const ALG_ED25519: u8 = 0x01;
/// Domain separation prefix of every signed message.
pub const DOMAIN: &[u8] = b"wasmsig";
/// Limits wasmsign2 enforces when reading (sets and hashes per set).
pub const MAX_HASHES: usize = 64;
/// Limit on signatures per set, as in wasmsign2.
pub const MAX_SIGNATURES: usize = 256;

/// Decoded `signature` section payload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignatureData {
    /// Specification version (always [`SPEC_VERSION`] after parsing).
    pub spec_version: u8,
    /// Content type ([`CONTENT_TYPE_WASM`]).
    pub content_type: u8,
    /// Hash function ([`HASH_SHA256`]).
    pub hash_function: u8,
    /// Sets of hashes, each with the signatures over it.
    pub signed_hashes: Vec<SignedHashes>,
}

/// One set of hashes and the signatures over it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedHashes {
    /// SHA-256 hashes. A whole-file signature has one.
    pub hashes: Vec<[u8; 32]>,
    /// Signatures over `DOMAIN ‖ version ‖ content type ‖ hash fn ‖ hashes`.
    pub signatures: Vec<SignatureRecord>,
}

/// One signature.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignatureRecord {
    /// Optional key id (wasmsign2: first 12 bytes of HMAC-SHA256("key_id", pk)).
    pub key_id: Option<Vec<u8>>,
    /// Algorithm; records with an unknown algorithm are kept but never verify.
    pub alg_id: u8,
    /// The signature (64 bytes for Ed25519).
    pub signature: Vec<u8>,
}

/// Why a payload could not be decoded: what, and at which byte of it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{what} at byte {offset} of the signature section payload")]
pub struct ParseError {
    /// Byte offset in the payload.
    pub offset: usize,
    /// What was wrong.
    pub what: String,
}

impl From<ReadError> for ParseError {
    fn from(e: ReadError) -> Self {
        ParseError {
            offset: e.offset,
            what: e.what.to_string(),
        }
    }
}

fn fail(offset: usize, what: impl Into<String>) -> ParseError {
    ParseError {
        offset,
        what: what.into(),
    }
}

/// Reads a length-prefixed sub-structure and re-bases its errors.
fn nested<T>(
    r: &mut Reader<'_>,
    parse: impl FnOnce(&[u8]) -> Result<T, ParseError>,
) -> Result<T, ParseError> {
    let bytes = r.slice()?;
    let base = r.pos() - bytes.len();
    parse(bytes).map_err(|e| fail(base + e.offset, e.what))
}

/// The version/type/hash-function bytes are single-byte varuint7 values.
fn small(r: &mut Reader<'_>, field: &str, expected: u8) -> Result<u8, ParseError> {
    let at = r.pos();
    let v = r.byte()?;
    if v != expected {
        return Err(fail(
            at,
            format!("unsupported {field} 0x{v:02x} (expected 0x{expected:02x})"),
        ));
    }
    Ok(v)
}

fn count(r: &mut Reader<'_>, what: &str, max: usize) -> Result<usize, ParseError> {
    let at = r.pos();
    let n = r.u32()? as usize;
    if n > max {
        return Err(fail(at, format!("{n} {what} (at most {max} allowed)")));
    }
    Ok(n)
}

fn end(r: &Reader<'_>, what: &str) -> Result<(), ParseError> {
    if r.is_empty() {
        Ok(())
    } else {
        Err(fail(r.pos(), format!("trailing bytes after the {what}")))
    }
}

impl SignatureData {
    /// Decodes a `signature` section payload (the bytes after the name).
    /// Strict: rejects unknown versions, content types and hash functions,
    /// oversized counts, wrong-length Ed25519 signatures and trailing bytes.
    pub fn parse(payload: &[u8]) -> Result<Self, ParseError> {
        let mut r = Reader::new(payload);
        let spec_version = small(&mut r, "specification version", SPEC_VERSION)?;
        let content_type = small(&mut r, "content type", CONTENT_TYPE_WASM)?;
        let hash_function = small(&mut r, "hash function", HASH_SHA256)?;
        let n = count(&mut r, "hash sets", MAX_HASHES)?;
        let mut signed_hashes = Vec::with_capacity(n);
        for _ in 0..n {
            signed_hashes.push(nested(&mut r, SignedHashes::parse)?);
        }
        end(&r, "hash sets")?;
        Ok(SignatureData {
            spec_version,
            content_type,
            hash_function,
            signed_hashes,
        })
    }

    /// Encodes the payload.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = vec![self.spec_version, self.content_type, self.hash_function];
        put_u32(&mut out, len32(self.signed_hashes.len()));
        for set in &self.signed_hashes {
            put_slice(&mut out, &set.to_bytes());
        }
        out
    }
}

impl SignedHashes {
    fn parse(bytes: &[u8]) -> Result<Self, ParseError> {
        let mut r = Reader::new(bytes);
        let n = count(&mut r, "hashes", MAX_HASHES)?;
        let mut hashes = Vec::with_capacity(n);
        for _ in 0..n {
            hashes.push(r.bytes(32)?.try_into().expect("32 bytes"));
        }
        let n = count(&mut r, "signatures", MAX_SIGNATURES)?;
        let mut signatures = Vec::with_capacity(n);
        for _ in 0..n {
            signatures.push(nested(&mut r, SignatureRecord::parse)?);
        }
        end(&r, "signatures")?;
        Ok(SignedHashes { hashes, signatures })
    }

    fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(2 + 32 * self.hashes.len() + 80 * self.signatures.len());
        put_u32(&mut out, len32(self.hashes.len()));
        for h in &self.hashes {
            out.extend_from_slice(h);
        }
        put_u32(&mut out, len32(self.signatures.len()));
        for sig in &self.signatures {
            put_slice(&mut out, &sig.to_bytes());
        }
        out
    }

    /// The exact message each signature in this set signs.
    pub fn signed_message(&self) -> Vec<u8> {
        let mut msg = Vec::with_capacity(DOMAIN.len() + 3 + 32 * self.hashes.len());
        msg.extend_from_slice(DOMAIN);
        msg.extend_from_slice(&[SPEC_VERSION, CONTENT_TYPE_WASM, HASH_SHA256]);
        for h in &self.hashes {
            msg.extend_from_slice(h);
        }
        msg
    }
}

impl SignatureRecord {
    fn parse(bytes: &[u8]) -> Result<Self, ParseError> {
        let mut r = Reader::new(bytes);
        let key_id = r.slice()?;
        let alg_id = r.byte()?;
        let sig_at = r.pos();
        let signature = r.slice()?;
        if alg_id == ALG_ED25519 && signature.len() != 64 {
            return Err(fail(
                sig_at,
                format!("Ed25519 signature is {} bytes, not 64", signature.len()),
            ));
        }
        end(&r, "signature")?;
        Ok(SignatureRecord {
            key_id: (!key_id.is_empty()).then(|| key_id.to_vec()),
            alg_id,
            signature: signature.to_vec(),
        })
    }

    fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(16 + self.signature.len());
        put_slice(&mut out, self.key_id.as_deref().unwrap_or_default());
        out.push(self.alg_id);
        put_slice(&mut out, &self.signature);
        out
    }
}

fn len32(n: usize) -> u32 {
    u32::try_from(n).expect("count fits in u32")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> SignatureData {
        SignatureData {
            spec_version: 1,
            content_type: 1,
            hash_function: 1,
            signed_hashes: vec![SignedHashes {
                hashes: vec![[7; 32]],
                signatures: vec![
                    SignatureRecord {
                        key_id: Some(vec![1, 2, 3]),
                        alg_id: ALG_ED25519,
                        signature: vec![9; 64],
                    },
                    SignatureRecord {
                        key_id: None,
                        alg_id: ALG_ED25519,
                        signature: vec![8; 64],
                    },
                ],
            }],
        }
    }

    #[test]
    fn encodes_the_documented_layout() {
        let bytes = sample().to_bytes();
        // version, content type, hash fn, one set.
        assert_eq!(bytes[..4], [1, 1, 1, 1]);
        // Two-byte LEB128 set length, then hash count 1 and the hash.
        let set_len = (bytes[4] & 0x7f) as usize | (bytes[5] as usize) << 7;
        assert_eq!(bytes.len(), 6 + set_len);
        assert_eq!(bytes[6], 1);
        assert_eq!(bytes[7..39], [7; 32]);
        // Two signature records, the first with key id 01 02 03.
        assert_eq!(bytes[39], 2);
        let rec_len = bytes[40] as usize;
        assert_eq!(rec_len, 1 + 3 + 1 + 1 + 64);
        assert_eq!(bytes[41..47], [3, 1, 2, 3, ALG_ED25519, 64]);
        // The second record has an empty key id.
        let second = 41 + rec_len;
        assert_eq!(bytes[second..second + 4], [67, 0, ALG_ED25519, 64]);
        assert_eq!(second + 1 + 67, bytes.len());
    }

    #[test]
    fn round_trips() {
        let data = sample();
        assert_eq!(SignatureData::parse(&data.to_bytes()).unwrap(), data);
    }

    #[test]
    fn signed_message_is_domain_version_type_hash_fn_and_hashes() {
        let msg = sample().signed_hashes[0].signed_message();
        assert_eq!(&msg[..7], b"wasmsig");
        assert_eq!(msg[7..10], [1, 1, 1]);
        assert_eq!(msg[10..], [7; 32]);
    }

    #[test]
    fn rejects_unknown_versions_and_hash_functions() {
        let mut bytes = sample().to_bytes();
        bytes[0] = 2;
        let err = SignatureData::parse(&bytes).unwrap_err();
        assert!(err.what.contains("specification version 0x02"), "{err}");
        let mut bytes = sample().to_bytes();
        bytes[2] = 2;
        let err = SignatureData::parse(&bytes).unwrap_err();
        assert_eq!(err.offset, 2);
        assert!(err.what.contains("hash function"), "{err}");
    }

    #[test]
    fn rejects_trailing_bytes_truncation_and_huge_counts() {
        let mut bytes = sample().to_bytes();
        bytes.push(0);
        assert!(
            SignatureData::parse(&bytes)
                .unwrap_err()
                .what
                .contains("trailing")
        );
        let bytes = sample().to_bytes();
        for cut in 0..bytes.len() {
            assert!(SignatureData::parse(&bytes[..cut]).is_err(), "cut at {cut}");
        }
        let err = SignatureData::parse(&[1, 1, 1, 65]).unwrap_err();
        assert!(err.what.contains("65 hash sets"), "{err}");
    }

    #[test]
    fn rejects_short_ed25519_signatures_with_the_offset_inside_the_payload() {
        let mut data = sample();
        data.signed_hashes[0].signatures[1].signature.truncate(63);
        let err = SignatureData::parse(&data.to_bytes()).unwrap_err();
        assert!(err.what.contains("63 bytes"), "{err}");
        assert!(err.offset > 40, "offset is relative to the payload: {err}");
    }

    #[test]
    fn keeps_records_with_unknown_algorithms() {
        let mut data = sample();
        data.signed_hashes[0].signatures[0].alg_id = 0x7f;
        data.signed_hashes[0].signatures[0].signature = vec![1, 2];
        assert_eq!(SignatureData::parse(&data.to_bytes()).unwrap(), data);
    }
}
