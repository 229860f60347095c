//! Writes the `wasmtime::component::bindgen!` call for the adapter's world
//! (`fn:sdk/files-adapter`, from `fn-wit`) into `OUT_DIR/host_bindings.rs`:
//! the test's host calls the adapter's exports.

fn main() {
    fn_wit::write_bindings_with_hosts("host_bindings.rs", |wit| {
        format!(
            "wasmtime::component::bindgen!({{
    path: {wit:?},
    world: {:?},
    additional_derives: [PartialEq],
}});
",
            fn_wit::FILES_ADAPTER_WORLD
        )
    });
    println!("cargo:rerun-if-changed=build.rs");
}
