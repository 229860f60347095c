//! Interoperability with the wasmsign2 crate, both directions, through key
//! files as the CLIs would exchange them.

mod common;

use std::io::Cursor;

use fn_sign::{KeyPair, PublicKey, SecretKey, VerifyError, sign, verify};

fn ws_module(wasm: &[u8]) -> wasmsign2::Module {
    wasmsign2::Module::deserialize(&mut Cursor::new(wasm)).unwrap()
}

fn ws_bytes(module: &wasmsign2::Module) -> Vec<u8> {
    let mut out = Vec::new();
    module.serialize(&mut out).unwrap();
    out
}

fn ws_verify(wasm: &[u8], pk: &wasmsign2::PublicKey) -> Result<(), wasmsign2::WSError> {
    pk.verify(&mut Cursor::new(wasm), None)
}

#[test]
fn ours_signs_and_wasmsign2_verifies_with_our_key_files() {
    let dir = tempfile::tempdir().unwrap();
    let (sk_path, pk_path) = (dir.path().join("fn.key"), dir.path().join("fn.pub"));
    KeyPair::generate().to_files(&sk_path, &pk_path).unwrap();
    let signed = sign(
        &common::component(),
        &SecretKey::from_file(&sk_path).unwrap(),
    )
    .unwrap();

    // As `wasmsign2 verify --public-key fn.pub` does: read the file, attach
    // the default key id (which must then match the one we recorded).
    let pk = wasmsign2::PublicKey::from_file(&pk_path).unwrap();
    ws_verify(&signed, &pk).expect("wasmsign2 accepts our signature (no key id)");
    let pk = pk.attach_default_key_id();
    ws_verify(&signed, &pk).expect("wasmsign2 accepts our signature (key id)");
    assert_eq!(
        pk.key_id().unwrap()[..],
        PublicKey::from_file(&pk_path).unwrap().key_id()
    );
    let set = wasmsign2::PublicKeySet::new([pk.clone()].into());
    assert_eq!(
        set.verify(&mut Cursor::new(&signed), None).unwrap().len(),
        1
    );

    // wasmsign2 also refuses what we refuse.
    let mut tampered = signed.clone();
    *tampered.last_mut().unwrap() ^= 1;
    assert!(ws_verify(&tampered, &pk).is_err());
    let other = wasmsign2::KeyPair::generate().pk;
    assert!(ws_verify(&signed, &other).is_err());
    // And its section parser decodes exactly one signature over one hash.
    let module = ws_module(&signed);
    let wasmsign2::Section::Custom(section) = &module.sections[0] else {
        panic!("first section is not custom")
    };
    let data = section.signature_data().unwrap();
    assert_eq!(data.signed_hashes_set.len(), 1);
    assert_eq!(data.signed_hashes_set[0].hashes.len(), 1);
    assert_eq!(data.signed_hashes_set[0].signatures.len(), 1);
}

#[test]
fn wasmsign2_signs_and_ours_verifies_with_its_key_files() {
    let dir = tempfile::tempdir().unwrap();
    let (sk_path, pk_path) = (dir.path().join("ws.key"), dir.path().join("ws.pub"));
    // As `wasmsign2 keygen` does.
    let kp = wasmsign2::KeyPair::generate();
    kp.sk.to_file(&sk_path).unwrap();
    kp.pk.to_file(&pk_path).unwrap();
    let ours = PublicKey::from_file(&pk_path).unwrap();
    assert_eq!(SecretKey::from_file(&sk_path).unwrap().public_key(), ours);

    let wasm = common::component();
    // As `wasmsign2 sign --public-key` does (key id), and without one.
    let key_id = kp.pk.clone().attach_default_key_id().key_id().cloned();
    for key_id in [key_id, None] {
        let sk = wasmsign2::SecretKey::from_file(&sk_path).unwrap();
        let (module, _) = sk
            .sign_multi(ws_module(&wasm), key_id.as_ref(), false, false)
            .unwrap();
        let signed = ws_bytes(&module);
        common::validate(&signed);
        let ok = verify(&signed, &[ours]).unwrap();
        assert_eq!(ok.signer, ours);

        let mut tampered = signed.clone();
        tampered.extend_from_slice(&[0, 2, 1, b'x']);
        let err = verify(&tampered, &[ours]).unwrap_err();
        assert!(matches!(err, VerifyError::ContentModified { .. }), "{err}");
        let err = verify(&signed, &[KeyPair::generate().public]).unwrap_err();
        assert!(matches!(err, VerifyError::UntrustedKey { .. }), "{err}");
    }
}

#[test]
fn wasmsign2_simple_sign_and_multiple_signers_verify_with_ours() {
    let (a, b) = (
        wasmsign2::KeyPair::generate(),
        wasmsign2::KeyPair::generate(),
    );
    let wasm = common::module();
    let once = a.sk.sign(ws_module(&wasm), None).unwrap();
    let a_pub = PublicKey::from_bytes(&a.pk.to_bytes()).unwrap();
    let b_pub = PublicKey::from_bytes(&b.pk.to_bytes()).unwrap();
    assert!(verify(&ws_bytes(&once), &[a_pub]).is_ok());

    // A second signature added to the same hash set.
    let (twice, _) = b.sk.sign_multi(once, None, false, false).unwrap();
    let twice = ws_bytes(&twice);
    assert_eq!(verify(&twice, &[a_pub]).unwrap().signer, a_pub);
    assert_eq!(verify(&twice, &[b_pub]).unwrap().signer, b_pub);
}

#[test]
fn our_keys_sign_with_wasmsign2_and_its_keys_sign_with_ours() {
    // Our key file, wasmsign2's signer, our verifier.
    let ours = KeyPair::generate();
    let ws_sk = wasmsign2::SecretKey::from_bytes(&ours.secret.to_bytes()).unwrap();
    let signed = ws_bytes(&ws_sk.sign(ws_module(&common::component()), None).unwrap());
    assert!(verify(&signed, &[ours.public]).is_ok());

    // Its key file, our signer, its verifier.
    let theirs = wasmsign2::KeyPair::generate();
    let sk = SecretKey::from_bytes(&theirs.sk.to_bytes()).unwrap();
    let signed = sign(&common::component(), &sk).unwrap();
    ws_verify(&signed, &theirs.pk.attach_default_key_id()).unwrap();
}

#[test]
fn pem_keys_cross_over() {
    let ours = KeyPair::generate();
    let ws_sk = wasmsign2::SecretKey::from_pem(&ours.secret.to_pem()).unwrap();
    let ws_pk = wasmsign2::PublicKey::from_pem(&ours.public.to_pem()).unwrap();
    assert_eq!(ws_pk.to_bytes(), ours.public.to_bytes());
    assert_eq!(*ws_sk.to_bytes(), *ours.secret.to_bytes());

    let theirs = wasmsign2::KeyPair::generate();
    let sk = SecretKey::from_bytes(theirs.sk.to_pem().as_bytes()).unwrap();
    let pk = PublicKey::from_bytes(theirs.pk.to_pem().as_bytes()).unwrap();
    assert_eq!(sk.public_key(), pk);
    assert_eq!(pk.to_bytes(), theirs.pk.to_bytes());
    let der = PublicKey::from_bytes(&theirs.pk.to_der()).unwrap();
    assert_eq!(der, pk);
}

#[test]
fn wasmsign2_split_signatures_verify_whole_but_not_a_prefix() {
    // wasmsign2 `--splits`: delimiter sections between groups of sections,
    // one cumulative hash per delimiter. The last covers the whole file.
    let kp = wasmsign2::KeyPair::generate();
    let ours = PublicKey::from_bytes(&kp.pk.to_bytes()).unwrap();
    let split = ws_module(&common::component())
        .split(|s| matches!(s, wasmsign2::Section::Standard(_)))
        .unwrap();
    let (signed, _) = kp.sk.sign_multi(split, None, false, false).unwrap();
    let delimiters: Vec<usize> = signed
        .sections
        .iter()
        .enumerate()
        .filter(|(_, s)| s.is_signature_delimiter())
        .map(|(i, _)| i)
        .collect();
    assert_eq!(delimiters.len(), 3);
    let signed = ws_bytes(&signed);
    assert!(verify(&signed, &[ours]).is_ok());

    // Cut the file right after the second delimiter: a prefix whose hash
    // is in the signed set. wasmsign2's simple verify accepts it; a
    // whole-artifact check must not.
    let ranges = common::section_ranges(&signed);
    let cut = &signed[..ranges[delimiters[1]].end];
    assert!(
        ws_verify(cut, &kp.pk).is_ok(),
        "wasmsign2 accepts the prefix"
    );
    let err = verify(cut, &[ours]).unwrap_err();
    assert!(matches!(err, VerifyError::ContentModified { .. }), "{err}");
}
