//! Writes the SDK's WIT (from `fn-wit`) into `OUT_DIR/wit`, adds this
//! crate's world and Spin's two packages (`wit/`), and writes the
//! `wit_bindgen::generate!` call for the world into `OUT_DIR/bindings.rs`
//! (and the `wasmtime::component::bindgen!` call its test uses into
//! `OUT_DIR/host_bindings.rs`).

use std::path::Path;

fn main() {
    fn_wit::write_bindings("bindings.rs", |wit| {
        let out = Path::new(wit);
        for file in [
            "adapter.wit",
            "deps/keyvalue-draft2/keyvalue.wit",
            "deps/config-draft-2024-09-27/config.wit",
        ] {
            let from = Path::new("wit").join(file);
            println!("cargo:rerun-if-changed={}", from.display());
            let to = out.join(file);
            std::fs::create_dir_all(to.parent().unwrap()).unwrap();
            std::fs::copy(&from, &to).unwrap();
        }
        format!(
            "wit_bindgen::generate!({{
    path: {wit:?},
    world: \"fn:sdk/spin-adapter\",
    generate_all,
}});
"
        )
    });
    // The same world bound for a wasmtime host, for the test that runs the
    // adapter on a host with exactly Spin's versions.
    fn_wit::write_bindings("host_bindings.rs", |wit| {
        format!(
            "wasmtime::component::bindgen!({{
    path: {wit:?},
    world: \"fn:sdk/spin-adapter\",
    additional_derives: [PartialEq],
    with: {{
        \"wasi:keyvalue/store@0.2.0-draft2.bucket\": SpinBucket,
    }},
}});
"
        )
    });
    println!("cargo:rerun-if-changed=build.rs");
}
