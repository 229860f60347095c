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
    write_raw_imports();
    println!("cargo:rerun-if-changed=build.rs");
}

/// `OUT_DIR/raw_imports.rs`: the `wasm_import_module` of `wasi:http/types`
/// for `src/wasm/raw.rs`, at the version of the WIT the bindings use, so the
/// hand-written imports and the generated ones never differ.
fn write_raw_imports() {
    let http = fn_wit::FILES
        .iter()
        .find_map(|(_, wit)| {
            let rest = wit.trim_start().strip_prefix("package wasi:http@")?;
            Some(rest.split(';').next().unwrap_or(rest).trim())
        })
        .expect("fn-wit has the wasi:http package");
    let code = format!(
        "/// An `extern` block of imports from `wasi:http/types@{http}`.\n\
         macro_rules! wasi_http_types {{ ($($item:tt)*) => {{\n\
         #[link(wasm_import_module = \"wasi:http/types@{http}\")]\n\
         unsafe extern \"C\" {{ $($item)* }}\n\
         }}; }}\n"
    );
    let out = std::path::PathBuf::from(std::env::var_os("OUT_DIR").expect("set by cargo"));
    let file = out.join("raw_imports.rs");
    if std::fs::read_to_string(&file).ok().as_deref() != Some(code.as_str()) {
        std::fs::write(&file, code).expect("write raw_imports.rs into OUT_DIR");
    }
}
