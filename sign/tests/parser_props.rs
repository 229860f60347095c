//! Property tests for the signature-section parser (the cargo-fuzz target
//! in `fuzz/` explores the same properties at much greater depth).

use fn_sign::format::{ALG_ED25519, SignatureData, SignatureRecord, SignedHashes};
use proptest::prelude::*;

fn record() -> impl Strategy<Value = SignatureRecord> {
    (
        proptest::option::of(proptest::collection::vec(any::<u8>(), 1..16)),
        prop_oneof![Just(ALG_ED25519), any::<u8>()],
        proptest::collection::vec(any::<u8>(), 0..80),
    )
        .prop_map(|(key_id, alg_id, mut signature)| {
            if alg_id == ALG_ED25519 {
                signature.resize(64, 0xee);
            }
            SignatureRecord {
                key_id,
                alg_id,
                signature,
            }
        })
}

fn data() -> impl Strategy<Value = SignatureData> {
    let set = (
        proptest::collection::vec(any::<[u8; 32]>(), 0..4),
        proptest::collection::vec(record(), 0..4),
    )
        .prop_map(|(hashes, signatures)| SignedHashes { hashes, signatures });
    proptest::collection::vec(set, 0..4).prop_map(|signed_hashes| SignatureData {
        spec_version: 1,
        content_type: 1,
        hash_function: 1,
        signed_hashes,
    })
}

fn assert_round_trips_if_accepted(bytes: &[u8]) {
    if let Ok(parsed) = SignatureData::parse(bytes) {
        let encoded = parsed.to_bytes();
        assert_eq!(SignatureData::parse(&encoded).as_ref(), Ok(&parsed));
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn encoded_data_parses_back(d in data()) {
        prop_assert_eq!(SignatureData::parse(&d.to_bytes()), Ok(d));
    }

    #[test]
    fn mutated_payloads_never_panic(d in data(), at in any::<prop::sample::Index>(), byte in any::<u8>(), cut in any::<prop::sample::Index>()) {
        let mut bytes = d.to_bytes();
        let i = at.index(bytes.len());
        bytes[i] = byte;
        assert_round_trips_if_accepted(&bytes);
        let cut = cut.index(bytes.len() + 1);
        assert_round_trips_if_accepted(&bytes[..cut]);
    }

    #[test]
    fn arbitrary_bytes_never_panic(mut bytes in proptest::collection::vec(any::<u8>(), 0..300), header in any::<bool>()) {
        if header && bytes.len() >= 3 {
            bytes[..3].copy_from_slice(&[1, 1, 1]);
        }
        assert_round_trips_if_accepted(&bytes);
    }
}
