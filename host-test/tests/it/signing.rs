//! Trusted keys (`RuntimeConfig::trusted_keys`, the one place trust is set):
//! a signed artifact loads and runs; unsigned, tampered and foreign-signed
//! artifacts are refused at load, each with its own message.

use crate::common::artifact;
use fn_host_test::{Error, PublicKey, Runtime, RuntimeConfig, TestFunction, VerifyError};
use fn_sign::KeyPair;
use std::path::PathBuf;
use std::sync::OnceLock;

/// One key pair and the `hello` fixture signed with it, in a temp dir.
struct Signed {
    _dir: tempfile::TempDir,
    key: KeyPair,
    unsigned: PathBuf,
    signed: PathBuf,
}

fn signed_hello() -> &'static Signed {
    static SIGNED: OnceLock<Signed> = OnceLock::new();
    SIGNED.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        let key = KeyPair::generate();
        let unsigned = artifact("hello");
        let bytes = std::fs::read(&unsigned).unwrap();
        let signed = dir.path().join("hello.wasm");
        std::fs::write(&signed, fn_sign::sign(&bytes, &key.secret).unwrap()).unwrap();
        Signed {
            _dir: dir,
            key,
            unsigned,
            signed,
        }
    })
}

/// A small runtime that trusts `keys`.
fn trusting(keys: &[PublicKey]) -> Runtime {
    Runtime::new(RuntimeConfig {
        max_instances: 4,
        trusted_keys: keys.to_vec(),
        ..RuntimeConfig::default()
    })
    .unwrap()
}

/// Writes `bytes` next to the signed artifact and loads it on `runtime`.
fn load_variant(name: &str, bytes: &[u8], runtime: &Runtime) -> Result<(), Error> {
    let path = signed_hello().signed.with_file_name(name);
    std::fs::write(&path, bytes).unwrap();
    runtime.load(&path).map(drop)
}

fn refusal(err: Error) -> VerifyError {
    match err {
        Error::Verify { reason, .. } => reason,
        other => panic!("expected a verification refusal, got: {other}"),
    }
}

#[test]
fn a_signed_artifact_loads_and_runs_with_its_key_trusted() {
    let s = signed_hello();
    let f = TestFunction::load_on(&trusting(&[s.key.public]), &s.signed).unwrap();
    let res = f.get("/?name=Ada");
    assert_eq!(res.status(), 200, "{}", res.describe());
    assert_eq!(res.text(), "Hello, Ada!");

    // Any one trusted key is enough.
    let other = KeyPair::generate().public;
    TestFunction::load_on(&trusting(&[other, s.key.public]), &s.signed)
        .unwrap()
        .get("/")
        .assert_ok();
}

#[test]
fn a_runtime_with_trusted_keys_verifies_every_load() {
    let s = signed_hello();
    let runtime = trusting(&[s.key.public]);
    let f = TestFunction::load_on(&runtime, &s.signed).unwrap();
    assert_eq!(f.get("/?name=Bo").text(), "Hello, Bo!");
    let err = runtime.load(&s.unsigned).unwrap_err();
    assert!(
        matches!(&err, Error::Verify { path: Some(p), .. } if p == &s.unsigned),
        "the error names the file: {err}"
    );
    assert_eq!(refusal(err), VerifyError::Unsigned);
    let bytes = std::fs::read(&s.unsigned).unwrap();
    let err = runtime.load_bytes("hello", &bytes).unwrap_err();
    assert_eq!(refusal(err), VerifyError::Unsigned);
}

#[test]
fn unsigned_tampered_and_foreign_artifacts_are_refused_each_with_its_message() {
    let s = signed_hello();
    let trusted = trusting(&[s.key.public]);
    let signed = std::fs::read(&s.signed).unwrap();

    let unsigned = std::fs::read(&s.unsigned).unwrap();
    let unsigned = load_variant("unsigned.wasm", &unsigned, &trusted).unwrap_err();
    let unsigned_msg = unsigned.to_string();
    assert_eq!(refusal(unsigned), VerifyError::Unsigned);
    assert!(unsigned_msg.contains("is not signed"), "{unsigned_msg}");
    assert!(unsigned_msg.contains("unsigned.wasm"), "{unsigned_msg}");

    let mut flipped = signed.clone();
    let middle = flipped.len() / 2;
    flipped[middle] ^= 0x01;
    let tampered = load_variant("tampered.wasm", &flipped, &trusted).unwrap_err();
    let tampered_msg = tampered.to_string();
    assert!(
        matches!(refusal(tampered), VerifyError::ContentModified { .. }),
        "{tampered_msg}"
    );
    assert!(
        tampered_msg.contains("modified after signing"),
        "{tampered_msg}"
    );

    let truncated = &signed[..signed.len() - 1];
    let err = load_variant("truncated.wasm", truncated, &trusted).unwrap_err();
    assert!(matches!(refusal(err), VerifyError::ContentModified { .. }));

    let foreign = trusting(&[KeyPair::generate().public]);
    let foreign = load_variant("foreign.wasm", &signed, &foreign)
        .unwrap_err()
        .to_string();
    assert!(
        foreign.contains("not by any of the 1 trusted key(s)"),
        "{foreign}"
    );
    assert!(foreign.contains(&s.key.public.key_id_hex()), "{foreign}");

    assert_ne!(unsigned_msg, tampered_msg);
    assert_ne!(tampered_msg, foreign);
}

#[test]
fn without_trusted_keys_signatures_are_not_checked() {
    let s = signed_hello();
    let runtime = Runtime::shared().unwrap();
    assert!(runtime.config().trusted_keys.is_empty());
    for path in [&s.unsigned, &s.signed] {
        let f = TestFunction::load_on(&runtime, path).unwrap();
        assert_eq!(f.get("/?name=Di").text(), "Hello, Di!");
    }
}
