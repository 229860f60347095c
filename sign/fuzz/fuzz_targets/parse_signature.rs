//! Fuzzes the `signature` section parser, alone and behind the wasm
//! framing, through the public API:
//! - `SignatureData::parse` never panics, and whatever it accepts
//!   re-encodes to bytes it parses back to the same value;
//! - `verify` never panics and never accepts a file it did not sign (the
//!   trusted key's secret is not in this program, so `Ok` would be a forgery);
//! - `is_signed` / `strip_signature` never panic on arbitrary files.
//!
//! Run with `scripts/fuzz 600 parse_signature` (cargo-fuzz on the stable
//! toolchain, no sanitizer), or by hand from `sign/`:
//! `cargo fuzz run -s none parse_signature fuzz/corpus/parse_signature fuzz/seeds/parse_signature -- -max_total_time=600`
#![no_main]

use fn_sign::format::SignatureData;
use fn_sign::{PublicKey, is_signed, strip_signature, verify};
use libfuzzer_sys::fuzz_target;

/// A public key whose secret was generated once and thrown away, so no
/// input can carry a genuine signature by it.
const TRUSTED: [u8; 33] = [
    0x01, 0x30, 0x84, 0xe9, 0x04, 0x0f, 0x17, 0x7c, 0x45, 0xa0, 0x24, 0x58, 0x18, 0x6a, 0x3a, 0x3d,
    0x74, 0x5a, 0x84, 0xa5, 0x18, 0xe1, 0xae, 0x02, 0x88, 0x56, 0x04, 0xea, 0x40, 0xc4, 0xd1, 0x0a,
    0xa4,
];

fn leb(out: &mut Vec<u8>, mut v: usize) {
    loop {
        let b = (v & 0x7f) as u8;
        v >>= 7;
        if v == 0 {
            out.push(b);
            return;
        }
        out.push(b | 0x80);
    }
}

fuzz_target!(|data: &[u8]| {
    if let Ok(parsed) = SignatureData::parse(data) {
        let bytes = parsed.to_bytes();
        let again = SignatureData::parse(&bytes).expect("a re-encoded payload parses");
        assert_eq!(again, parsed);
        assert_eq!(again.to_bytes(), bytes, "encoding is canonical");
    }

    let trusted = [PublicKey::from_bytes(&TRUSTED).expect("valid key")];

    // The input as a signature section payload in front of the same bytes
    // as a body, in a component.
    let mut wasm = b"\0asm\x0d\0\x01\0\0".to_vec();
    leb(&mut wasm, 1 + 9 + data.len());
    wasm.push(9);
    wasm.extend_from_slice(b"signature");
    wasm.extend_from_slice(data);
    wasm.extend_from_slice(data);
    assert!(is_signed(&wasm));
    assert!(
        verify(&wasm, &trusted).is_err(),
        "forged signature accepted"
    );
    let stripped = strip_signature(&wasm);
    assert!(stripped.is_err() || !is_signed(&stripped.unwrap()));

    // The input as a whole file.
    assert!(verify(data, &trusted).is_err(), "forged file accepted");
    let _ = is_signed(data);
    if let Ok(stripped) = strip_signature(data) {
        assert!(!is_signed(&stripped));
    }
});
