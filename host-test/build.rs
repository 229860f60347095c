//! Writes the function WIT (from the `fn-wit` crate) into `OUT_DIR/wit` and
//! the `wasmtime::component::bindgen!` call for the key-value interfaces
//! into `OUT_DIR/kv_bindings.rs`: the macro reads WIT from a directory, and
//! this crate must not reach into another crate's folder (it would not
//! package).

use std::path::PathBuf;

fn main() {
    let out = PathBuf::from(std::env::var_os("OUT_DIR").expect("set by cargo"));
    let dir = out.join("wit");
    fn_wit::write_to(&dir).expect("write the WIT into OUT_DIR");
    let wit = dir.to_str().expect("OUT_DIR is UTF-8");
    let bindings = format!(
        "wasmtime::component::bindgen!({{
    path: {wit:?},
    interfaces: \"
        import wasi:keyvalue/store@0.2.0-draft;
        import wasi:keyvalue/atomics@0.2.0-draft;
    \",
    imports: {{ default: trappable }},
    with: {{
        \"wasi:keyvalue/store.bucket\": super::BucketResource,
    }},
}});
"
    );
    let file = out.join("kv_bindings.rs");
    if std::fs::read_to_string(&file).ok().as_deref() != Some(bindings.as_str()) {
        std::fs::write(&file, bindings).expect("write kv_bindings.rs");
    }
    println!("cargo:rerun-if-changed=build.rs");
}
