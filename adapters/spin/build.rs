//! Writes the `wasmtime::component::bindgen!` call for the adapter's world
//! (`fn:sdk/spin-adapter`, from `fn-wit`) into `OUT_DIR/host_bindings.rs`:
//! the test's host implements Spin's imports and calls the adapter's exports.

fn main() {
    fn_wit::write_bindings_with_hosts("host_bindings.rs", |wit| {
        format!(
            "wasmtime::component::bindgen!({{
    path: {wit:?},
    world: {:?},
    additional_derives: [PartialEq],
    with: {{
        \"wasi:keyvalue/store@0.2.0-draft2.bucket\": SpinBucket,
    }},
}});
",
            fn_wit::SPIN_ADAPTER_WORLD
        )
    });
    println!("cargo:rerun-if-changed=build.rs");
}
