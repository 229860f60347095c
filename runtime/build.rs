//! Binds the key-value interfaces of the function WIT (from the `fn-wit`
//! crate) with `wasmtime::component::bindgen!`, written to
//! `OUT_DIR/kv_bindings.rs`: the macro reads WIT from a directory, and this
//! crate must not reach into another crate's folder (it would not package).

fn main() {
    fn_wit::write_bindings("kv_bindings.rs", |wit| {
        format!(
            "wasmtime::component::bindgen!({{
    path: {wit:?},
    interfaces: \"
        import wasi:keyvalue/store@0.2.0-draft;
        import wasi:keyvalue/atomics@0.2.0-draft;
    \",
    imports: {{ default: async | trappable }},
    with: {{
        \"wasi:keyvalue/store.bucket\": super::BucketResource,
    }},
}});
"
        )
    });
    // Other hosts' versions of the same interfaces (kv/versions.rs): Spin's
    // key-value and config, wasmCloud 1.x's config.
    fn_wit::write_bindings_with_hosts("host_bindings.rs", |wit| {
        format!(
            "wasmtime::component::bindgen!({{
    path: {wit:?},
    interfaces: \"
        import wasi:keyvalue/store@0.2.0-draft2;
        import wasi:keyvalue/atomics@0.2.0-draft2;
        import wasi:config/store@0.2.0-draft-2024-09-27;
        import wasi:config/store@0.2.0-draft;
    \",
    imports: {{ default: async | trappable }},
    with: {{
        \"wasi:keyvalue/store.bucket\": super::BucketResource,
    }},
}});
"
        )
    });
    println!("cargo:rerun-if-changed=build.rs");
}
