use ed25519_dalek::Signer as _;

use super::*;
use crate::format::{SignatureRecord, SignedHashes};
use crate::keys::{KeyPair, SecretKey};
use crate::module::custom_section;

const BODY: &[u8] = &[1, 1, 0, 0, 3, 1, b'x', b'!'];

fn header() -> Vec<u8> {
    b"\0asm\x01\0\0\0".to_vec()
}

/// A module whose signature section holds `sets`, signed by hand.
fn with_sets(sets: Vec<SignedHashes>) -> Vec<u8> {
    let data = SignatureData {
        spec_version: 1,
        content_type: 1,
        hash_function: 1,
        signed_hashes: sets,
    };
    [
        header(),
        custom_section("signature", &data.to_bytes()),
        BODY.to_vec(),
    ]
    .concat()
}

fn set(hashes: Vec<[u8; 32]>, signers: &[(&SecretKey, bool)]) -> SignedHashes {
    let mut set = SignedHashes {
        hashes,
        signatures: vec![],
    };
    let msg = set.signed_message();
    for (key, with_id) in signers {
        set.signatures.push(SignatureRecord {
            key_id: with_id.then(|| key.public_key().key_id().to_vec()),
            alg_id: ALG_ED25519,
            signature: key.signing_key().sign(&msg).to_bytes().to_vec(),
        });
    }
    set
}

fn body_hash() -> [u8; 32] {
    Sha256::digest(BODY).into()
}

#[test]
fn accepts_signatures_without_a_key_id() {
    let kp = KeyPair::generate();
    let wasm = with_sets(vec![set(vec![body_hash()], &[(&kp.secret, false)])]);
    let ok = verify(&wasm, &[kp.public]).unwrap();
    assert_eq!(ok.content_hash, body_hash());
    assert_eq!(ok.kind, WasmKind::Module);
    assert_eq!(
        ok.to_string(),
        format!(
            "signed by trusted key {}, content SHA-256 {}",
            kp.public.key_id_hex(),
            hex(&body_hash())
        )
    );
}

#[test]
fn finds_the_trusted_key_among_several_sets_and_signers() {
    let (a, b, c) = (
        KeyPair::generate(),
        KeyPair::generate(),
        KeyPair::generate(),
    );
    let wasm = with_sets(vec![
        set(vec![[0; 32]], &[(&a.secret, true)]),
        set(
            vec![[1; 32], body_hash()],
            &[(&a.secret, true), (&b.secret, true)],
        ),
    ]);
    let ok = verify(&wasm, &[c.public, b.public]).unwrap();
    assert_eq!(ok.signer, b.public);
    assert_eq!(ok.trusted_index, 1);
}

#[test]
fn a_trusted_signature_over_other_content_is_a_modification() {
    let kp = KeyPair::generate();
    let wasm = with_sets(vec![set(vec![[5; 32]], &[(&kp.secret, true)])]);
    let err = verify(&wasm, &[kp.public]).unwrap_err();
    assert_eq!(
        err,
        VerifyError::ContentModified {
            signed: hex(&[5; 32]),
            actual: hex(&body_hash()),
        }
    );
}

#[test]
fn a_forged_signature_naming_a_trusted_key_is_invalid_not_untrusted() {
    let (trusted, forger) = (KeyPair::generate(), KeyPair::generate());
    let mut s = set(vec![body_hash()], &[(&forger.secret, false)]);
    s.signatures[0].key_id = Some(trusted.public.key_id().to_vec());
    let err = verify(&with_sets(vec![s]), &[trusted.public]).unwrap_err();
    assert_eq!(
        err,
        VerifyError::InvalidSignature {
            key_id: trusted.public.key_id_hex()
        }
    );
}

#[test]
fn untrusted_signers_are_listed_by_key_id() {
    let (a, b) = (KeyPair::generate(), KeyPair::generate());
    let wasm = with_sets(vec![set(vec![body_hash()], &[(&a.secret, true)])]);
    let err = verify(&wasm, &[b.public]).unwrap_err();
    assert_eq!(
        err,
        VerifyError::UntrustedKey {
            signers: a.public.key_id_hex(),
            trusted: 1
        }
    );
    let err = verify(&with_sets(vec![]), &[b.public]).unwrap_err();
    assert!(err.to_string().contains("none recorded"), "{err}");
}

#[test]
fn unknown_algorithms_are_skipped() {
    let kp = KeyPair::generate();
    let mut s = set(vec![body_hash()], &[(&kp.secret, true)]);
    s.signatures[0].alg_id = 0x02;
    let err = verify(&with_sets(vec![s]), &[kp.public]).unwrap_err();
    assert!(matches!(err, VerifyError::UntrustedKey { .. }), "{err}");
}

#[test]
fn an_empty_trust_list_is_its_own_error() {
    let wasm = with_sets(vec![]);
    assert_eq!(verify(&wasm, &[]), Err(VerifyError::NoTrustedKeys));
}

#[test]
fn malformed_signature_sections_are_reported_as_such() {
    let kp = KeyPair::generate();
    let bad_payload = [
        header(),
        custom_section("signature", &[1, 2, 1, 0]),
        BODY.to_vec(),
    ]
    .concat();
    let err = verify(&bad_payload, &[kp.public]).unwrap_err();
    assert!(
        matches!(err, VerifyError::MalformedSignature { .. }),
        "{err}"
    );
    assert!(err.to_string().contains("content type 0x02"), "{err}");
    // A first section whose size runs past the end of the file.
    let broken = [header(), vec![0, 100, 9]].concat();
    let err = verify(&broken, &[kp.public]).unwrap_err();
    assert!(
        matches!(err, VerifyError::MalformedSignature { .. }),
        "{err}"
    );
}

#[test]
fn empty_modules_are_unsigned_and_non_wasm_is_refused() {
    let kp = KeyPair::generate();
    assert_eq!(verify(&header(), &[kp.public]), Err(VerifyError::Unsigned));
    let err = verify(b"PK\x03\x04 a zip file", &[kp.public]).unwrap_err();
    assert!(matches!(err, VerifyError::NotWasm { .. }), "{err}");
}

#[test]
fn a_prefix_hash_does_not_cover_a_truncated_file() {
    // wasmsign2 `--splits` signs cumulative hashes [h(part 1), h(part 1+2)].
    // Cutting the file after part 1 matches the first hash; that must not
    // pass as a whole-file signature.
    let kp = KeyPair::generate();
    let prefix = &BODY[..3];
    let s = set(
        vec![Sha256::digest(prefix).into(), body_hash()],
        &[(&kp.secret, true)],
    );
    let full = with_sets(vec![s]);
    assert!(verify(&full, &[kp.public]).is_ok());
    let cut = &full[..full.len() - (BODY.len() - prefix.len())];
    let err = verify(cut, &[kp.public]).unwrap_err();
    assert_eq!(
        err,
        VerifyError::ContentModified {
            signed: hex(&body_hash()),
            actual: hex(&Sha256::digest(prefix)),
        }
    );
}
