use super::*;

#[test]
fn hmac_matches_rfc4231_test_cases() {
    // Test case 2: short key.
    assert_eq!(
        hex(&hmac_sha256(b"Jefe", b"what do ya want for nothing?")),
        "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
    );
    // Test case 6: key longer than the block size is hashed first.
    assert_eq!(
        hex(&hmac_sha256(
            &[0xaa; 131],
            b"Test Using Larger Than Block-Size Key - Hash Key First"
        )),
        "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"
    );
}

#[test]
fn raw_encodings_are_wasmsign2_shaped_and_round_trip() {
    let kp = KeyPair::generate();
    let sk = kp.secret.to_bytes();
    assert_eq!(sk.len(), 65);
    assert_eq!(sk[0], SECRET_KEY_TAG);
    assert_eq!(&sk[33..], kp.public.as_bytes());
    let pk = kp.public.to_bytes();
    assert_eq!(pk.len(), 33);
    assert_eq!(pk[0], PUBLIC_KEY_TAG);
    let back = SecretKey::from_bytes(&sk).unwrap();
    assert_eq!(back.public_key(), kp.public);
    assert_eq!(PublicKey::from_bytes(&pk).unwrap(), kp.public);
}

#[test]
fn pem_and_der_are_accepted() {
    let kp = KeyPair::generate();
    let sk_pem = kp.secret.to_pem();
    assert!(sk_pem.starts_with("-----BEGIN PRIVATE KEY-----"));
    assert_eq!(
        SecretKey::from_bytes(sk_pem.as_bytes())
            .unwrap()
            .public_key(),
        kp.public
    );
    let pk_pem = kp.public.to_pem();
    assert!(pk_pem.starts_with("-----BEGIN PUBLIC KEY-----"));
    assert_eq!(PublicKey::from_bytes(pk_pem.as_bytes()).unwrap(), kp.public);
    let der = kp.public.0.to_public_key_der().unwrap();
    assert_eq!(PublicKey::from_bytes(der.as_bytes()).unwrap(), kp.public);
    let der = kp.secret.0.to_pkcs8_der().unwrap();
    assert_eq!(
        SecretKey::from_bytes(der.as_bytes()).unwrap().public_key(),
        kp.public
    );
}

#[test]
fn corrupt_or_swapped_key_files_are_refused_with_a_reason() {
    let kp = KeyPair::generate();
    let mut sk = kp.secret.to_bytes();
    sk[64] ^= 1;
    let err = SecretKey::from_bytes(&sk).unwrap_err().to_string();
    assert!(err.contains("does not match its seed"), "{err}");
    let err = SecretKey::from_bytes(&kp.public.to_bytes())
        .unwrap_err()
        .to_string();
    assert!(err.contains("this is a public key file"), "{err}");
    let err = PublicKey::from_bytes(&kp.secret.to_bytes())
        .unwrap_err()
        .to_string();
    assert!(err.contains("this is a secret key file"), "{err}");
    let err = PublicKey::from_bytes(b"hello").unwrap_err().to_string();
    assert!(err.contains("5 bytes"), "{err}");
}

#[test]
fn key_files_round_trip_and_the_secret_is_owner_only() {
    let dir = tempfile::tempdir().unwrap();
    let (sk_path, pk_path) = (dir.path().join("fn.key"), dir.path().join("fn.pub"));
    let kp = KeyPair::generate();
    kp.to_files(&sk_path, &pk_path).unwrap();
    assert_eq!(
        SecretKey::from_file(&sk_path).unwrap().public_key(),
        kp.public
    );
    assert_eq!(PublicKey::from_file(&pk_path).unwrap(), kp.public);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = std::fs::metadata(&sk_path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600, "secret key mode {mode:o}");
    }
}

#[test]
fn existing_files_are_never_overwritten() {
    let dir = tempfile::tempdir().unwrap();
    let (sk_path, pk_path) = (dir.path().join("fn.key"), dir.path().join("fn.pub"));
    std::fs::write(&pk_path, b"keep me").unwrap();
    let err = KeyPair::generate()
        .to_files(&sk_path, &pk_path)
        .unwrap_err();
    assert!(
        matches!(err, KeyError::AlreadyExists { ref path } if *path == pk_path),
        "{err}"
    );
    assert!(!sk_path.exists(), "no half-written pair");
    assert_eq!(std::fs::read(&pk_path).unwrap(), b"keep me");
    let err = KeyPair::generate().public.to_file(&pk_path).unwrap_err();
    assert!(err.to_string().contains("refusing to overwrite"), "{err}");
}

#[test]
fn decoding_errors_from_files_name_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bad.pub");
    std::fs::write(&path, b"nonsense").unwrap();
    let err = PublicKey::from_file(&path).unwrap_err().to_string();
    assert!(err.starts_with(&path.display().to_string()), "{err}");
    let err = SecretKey::from_file(dir.path().join("missing")).unwrap_err();
    assert!(matches!(err, KeyError::Read { .. }), "{err}");
}

#[test]
fn debug_never_prints_the_secret() {
    let kp = KeyPair::generate();
    let shown = format!("{:?}", kp);
    let seed = hex(kp.secret.0.as_bytes());
    assert!(!shown.contains(&seed));
    assert!(shown.contains(&kp.public.key_id_hex()));
}

#[test]
fn secret_pem_is_the_48_byte_pkcs8_v1_form() {
    let kp = KeyPair::generate();
    let pem = kp.secret.to_pem();
    let (label, doc) = ed25519_dalek::pkcs8::SecretDocument::from_pem(&pem).unwrap();
    assert_eq!(label, "PRIVATE KEY");
    let der = doc.as_bytes();
    assert_eq!(der.len(), 48);
    assert_eq!(der[..16], hex_bytes("302e020100300506032b657004220420"));
    assert_eq!(der[16..], *kp.secret.0.as_bytes());
}

fn hex_bytes(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

#[test]
fn openssl_pem_keys_are_read() {
    // `openssl genpkey -algorithm ed25519` and `openssl pkey -pubout`.
    let sk = "-----BEGIN PRIVATE KEY-----\n\
              MC4CAQAwBQYDK2VwBCIEIDmikrN7WCgxMGRGmnU+5EXUz4PBSJvXR4fuzBLiQ3yc\n\
              -----END PRIVATE KEY-----\n";
    let pk = "-----BEGIN PUBLIC KEY-----\n\
              MCowBQYDK2VwAyEA2Qcl8QjwtpaeHI3tVwjsvgFTE6to9JdL14HfBXeRlK0=\n\
              -----END PUBLIC KEY-----\n";
    let sk = SecretKey::from_bytes(sk.as_bytes()).unwrap();
    let pk = PublicKey::from_bytes(pk.as_bytes()).unwrap();
    assert_eq!(sk.public_key(), pk);
    assert_eq!(
        hex(pk.as_bytes()),
        "d90725f108f0b6969e1c8ded5708ecbe015313ab68f4974bd781df05779194ad"
    );
}
