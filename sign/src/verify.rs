//! Verification: the first section must be a `signature` section holding a
//! valid Ed25519 signature, by a trusted key, over a hash set whose last
//! hash is the SHA-256 of every byte after that section. Nothing is
//! verified piece by piece, so any change after signing is caught.

use ed25519_dalek::Signature;
use sha2::{Digest, Sha256};

use crate::error::VerifyError;
use crate::format::{ALG_ED25519, SignatureData};
use crate::keys::{PublicKey, hex};
use crate::module::{self, WasmKind};

/// What a successful verification established.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verified {
    /// The trusted key whose signature covers the artifact.
    pub signer: PublicKey,
    /// Its position in the `trusted` slice passed to [`verify`].
    pub trusted_index: usize,
    /// SHA-256 of everything after the signature section.
    pub content_hash: [u8; 32],
    /// Module or component.
    pub kind: WasmKind,
}

impl std::fmt::Display for Verified {
    /// `signed by trusted key <key id>, content SHA-256 <hex>`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "signed by trusted key {}, content SHA-256 {}",
            self.signer.key_id_hex(),
            hex(&self.content_hash)
        )
    }
}

/// Verifies that `wasm` is signed, unmodified since, by one of `trusted`.
///
/// Accepts what wasmsign2 writes (several signatures and hash sets,
/// signatures with or without a key id), with one rule stricter than
/// wasmsign2's `verify`: the whole-content hash must be the *last* hash of
/// a trusted set, so a file cut short at a `--splits` delimiter (whose
/// prefix hash is also in the set) is refused. Each refusal is its own
/// [`VerifyError`] variant.
pub fn verify(wasm: &[u8], trusted: &[PublicKey]) -> Result<Verified, VerifyError> {
    if trusted.is_empty() {
        return Err(VerifyError::NoTrustedKeys);
    }
    let kind = module::kind(wasm).map_err(|reason| VerifyError::NotWasm { reason })?;
    let mut sections = module::sections(wasm);
    let first = match sections.next() {
        Some(Ok(first)) if first.is_signature() => first,
        Some(Err(e)) => {
            return Err(VerifyError::MalformedSignature {
                reason: format!("the first section cannot be read: {}", e.what),
            });
        }
        Some(Ok(_)) => {
            // Look further only to tell "misplaced" from "absent"; a framing
            // error ends the search.
            let index = sections
                .map_while(Result::ok)
                .position(|s| s.is_signature());
            return Err(match index {
                Some(i) => VerifyError::SignatureNotFirst { index: i + 1 },
                None => VerifyError::Unsigned,
            });
        }
        None => return Err(VerifyError::Unsigned),
    };
    let data =
        SignatureData::parse(first.payload).map_err(|e| VerifyError::MalformedSignature {
            reason: e.to_string(),
        })?;
    let content_hash: [u8; 32] = Sha256::digest(&wasm[first.range.end..]).into();

    let mut signed_by_trusted = None;
    let mut claimed_but_invalid = None;
    let mut signers = Vec::new();
    for set in &data.signed_hashes {
        let message = set.signed_message();
        for record in set.signatures.iter().filter(|r| r.alg_id == ALG_ED25519) {
            if let Some(id) = record.key_id.as_deref().map(hex)
                && !signers.contains(&id)
            {
                signers.push(id);
            }
            let signature =
                Signature::from_slice(&record.signature).expect("parser checked 64 bytes");
            for (index, key) in trusted.iter().enumerate() {
                let names_key = record.key_id.as_deref() == Some(&key.key_id()[..]);
                if record.key_id.is_some() && !names_key {
                    continue;
                }
                if key
                    .verifying_key()
                    .verify_strict(&message, &signature)
                    .is_err()
                {
                    if names_key {
                        claimed_but_invalid.get_or_insert(index);
                    }
                    continue;
                }
                // Only the last hash covers the whole content: earlier ones
                // (wasmsign2 `--splits`) cover prefixes, and accepting them
                // would accept a file truncated at a delimiter.
                if set.hashes.last() == Some(&content_hash) {
                    return Ok(Verified {
                        signer: *key,
                        trusted_index: index,
                        content_hash,
                        kind,
                    });
                }
                signed_by_trusted.get_or_insert(set);
            }
        }
    }

    if let Some(set) = signed_by_trusted {
        return Err(VerifyError::ContentModified {
            signed: set
                .hashes
                .last()
                .map_or_else(|| "no hash".into(), |h| hex(h)),
            actual: hex(&content_hash),
        });
    }
    if let Some(index) = claimed_but_invalid {
        return Err(VerifyError::InvalidSignature {
            key_id: trusted[index].key_id_hex(),
        });
    }
    Err(VerifyError::UntrustedKey {
        signers: if signers.is_empty() {
            "none recorded".into()
        } else {
            signers.join(", ")
        },
        trusted: trusted.len(),
    })
}

#[cfg(test)]
#[path = "verify_tests.rs"]
mod tests;
