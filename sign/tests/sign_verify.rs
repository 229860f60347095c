//! Round trip and every refusal on a real component, through the public API.

mod common;

use fn_sign::{KeyPair, SIGNATURE_SECTION_NAME, VerifyError, WasmKind, is_signed, sign, verify};

fn signed_component() -> (Vec<u8>, Vec<u8>, KeyPair) {
    let wasm = common::component();
    let key = KeyPair::generate();
    let signed = sign(&wasm, &key.secret).unwrap();
    (wasm, signed, key)
}

/// The bytes after the signature section of a file `sign` produced.
fn content_start(signed: &[u8]) -> usize {
    common::section_ranges(signed)[0].end
}

#[test]
fn round_trip_on_a_component() {
    let (wasm, signed, key) = signed_component();
    common::validate(&signed);
    assert!(is_signed(&signed));
    let ok = verify(&signed, &[key.public]).unwrap();
    assert_eq!(ok.signer, key.public);
    assert_eq!(ok.kind, WasmKind::Component);
    // The signature section is first and named as the convention says.
    let first = &signed[common::section_ranges(&signed)[0].clone()];
    assert_eq!(first[0], 0, "custom section id");
    assert!(
        first
            .windows(9)
            .any(|w| w == SIGNATURE_SECTION_NAME.as_bytes())
    );
    // Everything else is untouched.
    assert_eq!(signed[..8], wasm[..8]);
    assert_eq!(signed[content_start(&signed)..], wasm[8..]);
    assert_eq!(fn_sign::strip_signature(&signed).unwrap(), wasm);
}

#[test]
fn round_trip_on_a_core_module() {
    let wasm = common::module();
    let key = KeyPair::generate();
    let signed = sign(&wasm, &key.secret).unwrap();
    common::validate(&signed);
    assert_eq!(
        verify(&signed, &[key.public]).unwrap().kind,
        WasmKind::Module
    );
}

fn assert_modified(result: Result<fn_sign::Verified, VerifyError>) {
    let err = result.unwrap_err();
    assert!(matches!(err, VerifyError::ContentModified { .. }), "{err}");
    assert!(err.to_string().contains("modified after signing"), "{err}");
}

#[test]
fn a_flipped_byte_is_refused() {
    let (_, mut signed, key) = signed_component();
    // A byte in the middle of the embedded core module.
    let at = content_start(&signed) + (signed.len() - content_start(&signed)) / 2;
    signed[at] ^= 0x01;
    assert_modified(verify(&signed, &[key.public]));
}

#[test]
fn an_appended_section_is_refused() {
    let (_, mut signed, key) = signed_component();
    signed.extend_from_slice(&[0, 6, 5, b'e', b'x', b't', b'r', b'a']);
    assert_modified(verify(&signed, &[key.public]));
}

#[test]
fn two_swapped_sections_are_refused() {
    let (_, signed, key) = signed_component();
    let ranges = common::section_ranges(&signed);
    // [signature, producers-ish, module, component types, trailer]
    assert_eq!(ranges.len(), 5);
    let (a, b) = (&signed[ranges[2].clone()], &signed[ranges[3].clone()]);
    let swapped = [&signed[..ranges[2].start], b, a, &signed[ranges[3].end..]].concat();
    assert_eq!(swapped.len(), signed.len());
    assert_modified(verify(&swapped, &[key.public]));
}

#[test]
fn a_truncated_file_is_refused() {
    let (_, signed, key) = signed_component();
    let last = common::section_ranges(&signed).pop().unwrap();
    // Cut off the whole last section, and separately cut one mid-section.
    assert_modified(verify(&signed[..last.start], &[key.public]));
    assert_modified(verify(&signed[..signed.len() - 3], &[key.public]));
}

#[test]
fn a_signature_by_another_key_is_refused() {
    let (_, signed, key) = signed_component();
    let other = KeyPair::generate();
    let err = verify(&signed, &[other.public]).unwrap_err();
    assert_eq!(
        err,
        VerifyError::UntrustedKey {
            signers: key.public.key_id_hex(),
            trusted: 1
        }
    );
    assert!(
        err.to_string().contains("not by any of the 1 trusted key"),
        "{err}"
    );
    // Trusting both works, and reports which one signed.
    let ok = verify(&signed, &[other.public, key.public]).unwrap();
    assert_eq!(ok.trusted_index, 1);
}

#[test]
fn an_unsigned_file_is_refused() {
    let wasm = common::component();
    let err = verify(&wasm, &[KeyPair::generate().public]).unwrap_err();
    assert_eq!(err, VerifyError::Unsigned);
    assert!(err.to_string().contains("not signed"), "{err}");
    assert!(!is_signed(&wasm));
}

#[test]
fn a_signature_section_that_is_not_first_is_refused() {
    let (_, signed, key) = signed_component();
    let ranges = common::section_ranges(&signed);
    // Move the signature section behind the next one.
    let moved = [
        &signed[..8],
        &signed[ranges[1].clone()],
        &signed[ranges[0].clone()],
        &signed[ranges[1].end..],
    ]
    .concat();
    let err = verify(&moved, &[key.public]).unwrap_err();
    assert_eq!(err, VerifyError::SignatureNotFirst { index: 1 });
    assert!(!is_signed(&moved));
}

#[test]
fn a_damaged_signature_section_is_refused() {
    let (_, mut signed, key) = signed_component();
    // Payload byte 0 is the spec version, right after id, size, name.
    let name_end = 1 + 2 + 1 + SIGNATURE_SECTION_NAME.len();
    let version_at = 8 + name_end;
    assert_eq!(signed[version_at], 1);
    signed[version_at] = 9;
    let err = verify(&signed, &[key.public]).unwrap_err();
    assert!(
        matches!(err, VerifyError::MalformedSignature { .. }),
        "{err}"
    );
    assert!(
        err.to_string().contains("specification version 0x09"),
        "{err}"
    );
}

#[test]
fn a_non_wasm_file_is_refused() {
    let err = verify(b"\x7fELF\x02\x01\x01\0\0\0", &[KeyPair::generate().public]).unwrap_err();
    assert!(matches!(err, VerifyError::NotWasm { .. }), "{err}");
    assert!(err.to_string().contains("not a WebAssembly"), "{err}");
}

#[test]
fn no_single_bit_flip_anywhere_is_accepted() {
    let (_, signed, key) = signed_component();
    let mut copy = signed.clone();
    for i in 0..signed.len() {
        for bit in 0..8 {
            copy[i] ^= 1 << bit;
            assert!(
                verify(&copy, &[key.public]).is_err(),
                "flip of bit {bit} at byte {i} accepted"
            );
            copy[i] ^= 1 << bit;
        }
    }
    assert!(verify(&copy, &[key.public]).is_ok());
}

#[test]
fn no_truncation_is_accepted() {
    let (_, signed, key) = signed_component();
    for len in 0..signed.len() {
        assert!(
            verify(&signed[..len], &[key.public]).is_err(),
            "truncation to {len} accepted"
        );
    }
}

#[test]
fn a_flipped_byte_in_the_signature_itself_is_refused_as_invalid() {
    let (_, mut signed, key) = signed_component();
    // The Ed25519 signature is the last 64 bytes of the signature section.
    let at = common::section_ranges(&signed)[0].end - 1;
    signed[at] ^= 0x80;
    let err = verify(&signed, &[key.public]).unwrap_err();
    assert_eq!(
        err,
        VerifyError::InvalidSignature {
            key_id: key.public.key_id_hex()
        }
    );
    assert!(err.to_string().contains("tampered"), "{err}");
}
