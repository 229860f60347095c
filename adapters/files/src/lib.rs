//! Tests of the files adapter: its source is fn-templates' `adapters/files`
//! (so the toolchain can write it out and build it anywhere);
//! `tests/files_host.rs` builds it the way fn-pipeline builds adapters and
//! runs it on a wasmtime host that links all of WASI 0.2, with a preopened
//! directory and an environment, as NGINX Unit and jco do.
