//! Writes the WIT of `fn-wit` with the world `fn:sdk/spin-adapter` and
//! Spin's two packages (`write_bindings_with_spin`) into `OUT_DIR/wit-spin` and the
//! `wit_bindgen::generate!` call for the world into `OUT_DIR/bindings.rs`.

fn main() {
    fn_wit::write_bindings_with_spin("bindings.rs", |wit| {
        format!(
            "wit_bindgen::generate!({{
    path: {wit:?},
    world: {:?},
    generate_all,
}});
",
            fn_wit::SPIN_ADAPTER_WORLD
        )
    });
    println!("cargo:rerun-if-changed=build.rs");
}
