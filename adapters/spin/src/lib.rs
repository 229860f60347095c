//! Tests of the Spin adapter: its source is fn-templates' `adapters/spin`
//! (so `cargo fn deploy` can write it out and build it anywhere);
//! `tests/spin_host.rs` builds it the way deploy does and runs it on a
//! wasmtime host bound to exactly Spin's versions.
