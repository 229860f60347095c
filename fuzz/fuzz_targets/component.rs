//! The build pipeline's component processing (`fn_pipeline::process`):
//! any bytes in give either a component that `wasmparser` validates, or an
//! error, never a panic; and bytes that `wasmparser` refuses are never
//! accepted.
#![no_main]

use fn_pipeline::ProcessOptions;
use libfuzzer_sys::fuzz_target;
use wasmparser::{Validator, WasmFeatures};

fn valid(bytes: &[u8]) -> bool {
    Validator::new_with_features(WasmFeatures::all())
        .validate_all(bytes)
        .is_ok()
}

fuzz_target!(|data: &[u8]| {
    let opts = ProcessOptions {
        package: "fuzz".into(),
        ..ProcessOptions::default()
    };
    let input_valid = valid(data);
    if let Ok(processed) = fn_pipeline::process(data, &opts) {
        assert!(input_valid, "an invalid input was accepted");
        assert!(valid(&processed.component), "the output does not validate");
    }
});
