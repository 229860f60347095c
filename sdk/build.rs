//! Writes the function WIT (from the `fn-wit` crate) into `OUT_DIR/wit` and
//! the `wit_bindgen::generate!` call that binds it into
//! `OUT_DIR/bindings.rs`: the macro reads WIT from a directory, and the SDK
//! must not reach into another crate's folder (it would not package).

fn main() {
    fn_wit::write_bindings("bindings.rs", |wit| {
        format!(
            "wit_bindgen::generate!({{
    path: {wit:?},
    world: {world:?},
    pub_export_macro: true,
    export_macro_name: \"__fnsdk_world_export\",
    default_bindings_module: \"::fnsdk::__private::bindings\",
    generate_all,
}});
",
            world = fn_wit::WORLD,
        )
    });
    println!("cargo:rerun-if-changed=build.rs");
}
