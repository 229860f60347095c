//! Writes the function WIT (from the `fn-wit` crate) into `OUT_DIR/wit` and
//! the `wit_bindgen::generate!` call that binds it into
//! `OUT_DIR/bindings.rs`: the macro reads WIT from a directory, and the SDK
//! must not reach into another crate's folder (it would not package).

use std::path::PathBuf;

fn main() {
    let out = PathBuf::from(std::env::var_os("OUT_DIR").expect("set by cargo"));
    let dir = out.join("wit");
    fn_wit::write_to(&dir).expect("write the WIT into OUT_DIR");
    let wit = dir.to_str().expect("OUT_DIR is UTF-8");
    let bindings = format!(
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
    );
    let file = out.join("bindings.rs");
    if std::fs::read_to_string(&file).ok().as_deref() != Some(bindings.as_str()) {
        std::fs::write(&file, bindings).expect("write bindings.rs");
    }
    println!("cargo:rerun-if-changed=build.rs");
}
