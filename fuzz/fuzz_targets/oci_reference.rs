//! Registry references (`oci://HOST[:PORT]/REPO[:TAG][@sha256:HEX]`): any
//! string parses or is refused with a message, never a panic; a parsed
//! reference prints back to one that parses to the same parts.
#![no_main]

use libfuzzer_sys::fuzz_target;

// cargo-fn's module itself, compiled here without the rest of cargo-fn.
#[path = "../../cargo-fn/src/oci/reference.rs"]
#[allow(dead_code)]
mod reference;

fuzz_target!(|input: &str| {
    match reference::ImageRef::parse(input) {
        Ok(parsed) => {
            let printed = parsed.to_string();
            let again = reference::ImageRef::parse(&printed)
                .unwrap_or_else(|e| panic!("{input:?} printed as {printed:?}, which fails: {e}"));
            assert_eq!(again, parsed, "{input:?} printed as {printed:?}");
        }
        Err(err) => assert!(!err.reason.is_empty()),
    }
});
