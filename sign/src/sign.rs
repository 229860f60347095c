//! Signing: one Ed25519 signature over the SHA-256 of every byte after the
//! `signature` section, which is placed first.

use ed25519_dalek::Signer as _;
use sha2::{Digest, Sha256};

use crate::error::SignError;
use crate::format::{
    ALG_ED25519, CONTENT_TYPE_WASM, HASH_SHA256, SPEC_VERSION, SignatureData, SignatureRecord,
    SignedHashes,
};
use crate::keys::SecretKey;
use crate::module::{self, HEADER_LEN, SIGNATURE_SECTION_NAME};

/// Signs a module or component, replacing any signature it already has.
///
/// The result is `header ‖ signature section ‖ the other sections`, with
/// the other sections byte-for-byte as they were; the signature records
/// wasmsign2's default key id of the signer. Sign last: any later rewrite
/// makes [`verify`](crate::verify) refuse the artifact.
pub fn sign(wasm: &[u8], key: &SecretKey) -> Result<Vec<u8>, SignError> {
    let content = content(wasm)?;
    let mut set = SignedHashes {
        hashes: vec![Sha256::digest(&content).into()],
        signatures: Vec::new(),
    };
    let signature = key.signing_key().sign(&set.signed_message());
    set.signatures.push(SignatureRecord {
        key_id: Some(key.public_key().key_id().to_vec()),
        alg_id: ALG_ED25519,
        signature: signature.to_bytes().to_vec(),
    });
    let data = SignatureData {
        spec_version: SPEC_VERSION,
        content_type: CONTENT_TYPE_WASM,
        hash_function: HASH_SHA256,
        signed_hashes: vec![set],
    };
    let section = module::custom_section(SIGNATURE_SECTION_NAME, &data.to_bytes());
    let mut out = Vec::with_capacity(HEADER_LEN + section.len() + content.len());
    out.extend_from_slice(&wasm[..HEADER_LEN]);
    out.extend_from_slice(&section);
    out.extend_from_slice(&content);
    Ok(out)
}

/// Removes every `signature` section, leaving the rest byte-for-byte.
pub fn strip_signature(wasm: &[u8]) -> Result<Vec<u8>, SignError> {
    let content = content(wasm)?;
    let mut out = Vec::with_capacity(HEADER_LEN + content.len());
    out.extend_from_slice(&wasm[..HEADER_LEN]);
    out.extend_from_slice(&content);
    Ok(out)
}

/// Whether the file is a wasm module or component whose first section is
/// a `signature` section. Says nothing about whether the signature is
/// valid or trusted; use [`verify`](crate::verify) for that.
pub fn is_signed(wasm: &[u8]) -> bool {
    module::kind(wasm).is_ok()
        && matches!(module::sections(wasm).next(), Some(Ok(s)) if s.is_signature())
}

/// Every section except `signature` sections, concatenated as they are in
/// the file. Checks the header and the section framing.
fn content(wasm: &[u8]) -> Result<Vec<u8>, SignError> {
    module::kind(wasm).map_err(|reason| SignError::NotWasm { reason })?;
    let mut content = Vec::with_capacity(wasm.len());
    for section in module::sections(wasm) {
        let section = section.map_err(|e| SignError::Malformed {
            offset: e.offset,
            reason: e.what.to_string(),
        })?;
        if !section.is_signature() {
            content.extend_from_slice(&wasm[section.range]);
        }
    }
    Ok(content)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keys::KeyPair;
    use crate::module::custom_section;

    fn module_with(sections: &[Vec<u8>]) -> Vec<u8> {
        let mut wasm = b"\0asm\x01\0\0\0".to_vec();
        for s in sections {
            wasm.extend_from_slice(s);
        }
        wasm
    }

    #[test]
    fn puts_the_signature_first_and_keeps_the_rest_verbatim() {
        let body = [
            custom_section("a", b"1"),
            vec![1, 1, 0],
            custom_section("b", b"2"),
        ]
        .concat();
        let wasm = module_with(std::slice::from_ref(&body));
        let signed = sign(&wasm, &KeyPair::generate().secret).unwrap();
        assert!(is_signed(&signed));
        assert!(!is_signed(&wasm));
        assert_eq!(signed[..8], wasm[..8]);
        assert!(signed.ends_with(&body));
        let first = module::sections(&signed).next().unwrap().unwrap();
        assert!(first.is_signature());
        assert_eq!(first.range.end, signed.len() - body.len());
        let data = SignatureData::parse(first.payload).unwrap();
        assert_eq!(data.signed_hashes.len(), 1);
        assert_eq!(
            data.signed_hashes[0].hashes,
            vec![<[u8; 32]>::from(Sha256::digest(&body))]
        );
    }

    #[test]
    fn re_signing_replaces_the_signature_and_strip_restores_the_input() {
        let wasm = module_with(&[vec![1, 1, 0]]);
        let a = KeyPair::generate();
        let b = KeyPair::generate();
        let once = sign(&wasm, &a.secret).unwrap();
        let twice = sign(&once, &b.secret).unwrap();
        let signatures = module::sections(&twice)
            .filter(|s| s.as_ref().unwrap().is_signature())
            .count();
        assert_eq!(signatures, 1);
        let payload = module::sections(&twice).next().unwrap().unwrap().payload;
        let data = SignatureData::parse(payload).unwrap();
        let key_id = data.signed_hashes[0].signatures[0].key_id.clone();
        assert_eq!(key_id, Some(b.public.key_id().to_vec()));
        assert_eq!(strip_signature(&twice).unwrap(), wasm);
    }

    #[test]
    fn a_misplaced_signature_section_is_dropped_when_signing() {
        let wasm = module_with(&[vec![1, 1, 0], custom_section("signature", b"junk")]);
        let signed = sign(&wasm, &KeyPair::generate().secret).unwrap();
        let count = module::sections(&signed)
            .filter(|s| s.as_ref().unwrap().is_signature())
            .count();
        assert_eq!(count, 1);
        assert!(signed.ends_with(&[1, 1, 0]));
    }

    #[test]
    fn refuses_non_wasm_and_broken_framing() {
        let key = KeyPair::generate().secret;
        let err = sign(b"#!/bin/sh\n", &key).unwrap_err();
        assert!(matches!(err, SignError::NotWasm { .. }), "{err}");
        let err = sign(&module_with(&[vec![1, 5, 0]]), &key).unwrap_err();
        assert!(
            matches!(err, SignError::Malformed { offset: 8, .. }),
            "{err}"
        );
        assert!(err.to_string().contains("rebuild it"), "{err}");
        assert!(!is_signed(b"\0asm"));
    }
}
