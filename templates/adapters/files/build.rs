//! Writes the WIT of `fn-wit` with the world `fn:sdk/files-adapter` and
//! the other hosts' packages (`write_bindings_with_hosts`) into
//! `OUT_DIR/wit-hosts` and the `wit_bindgen::generate!` call for the world
//! into `OUT_DIR/bindings.rs`.

fn main() {
    fn_wit::write_bindings_with_hosts("bindings.rs", |wit| {
        format!(
            "wit_bindgen::generate!({{
    path: {wit:?},
    world: {:?},
    generate_all,
}});
",
            fn_wit::FILES_ADAPTER_WORLD
        )
    });
    println!("cargo:rerun-if-changed=build.rs");
}
