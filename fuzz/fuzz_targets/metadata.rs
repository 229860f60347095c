//! `[package.metadata.fn]` (as cargo metadata hands it over, JSON): any
//! value is accepted or refused with a message, never a panic; what is
//! accepted validates again.
#![no_main]

use libfuzzer_sys::fuzz_target;

// cargo-fn's module itself, compiled here without the rest of cargo-fn.
#[path = "../../cargo-fn/src/metadata.rs"]
#[allow(dead_code)]
mod metadata;

fuzz_target!(|data: &[u8]| {
    let Ok(value) = serde_json::from_slice::<serde_json::Value>(data) else {
        return;
    };
    match metadata::FnMetadata::from_json(&value) {
        Ok(meta) => {
            assert_eq!(meta.validate(), Ok(()));
            assert!(meta.route_or_wildcard().starts_with('/'));
        }
        Err(message) => assert!(!message.is_empty()),
    }
});
