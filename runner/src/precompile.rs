//! `fn-runner --precompile WASM OUT`: compiles a component ahead of time
//! for this runner's engine, which is what `cargo fn deploy` packs as a
//! bundle's `fn.cwasm`. The engine that will load the code makes it: the
//! same wasmtime, built with the same features, configured as at start-up
//! ([`RuntimeConfig::default`]); code from any other build of wasmtime may
//! be refused (another default collector, say).

use std::path::Path;

use anyhow::Context as _;
use fn_runtime::{Runtime, RuntimeConfig};

/// Writes the code precompiled from the component `wasm` to `out`.
pub fn run(wasm: &Path, out: &Path) -> anyhow::Result<()> {
    let bytes = std::fs::read(wasm).with_context(|| format!("cannot read {}", wasm.display()))?;
    let runtime = Runtime::new(RuntimeConfig::default())?;
    let code = runtime
        .precompile(&bytes)
        .with_context(|| format!("cannot precompile {}", wasm.display()))?;
    std::fs::write(out, code).with_context(|| format!("cannot write {}", out.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_code_for_this_engine() {
        let dir = tempfile::tempdir().unwrap();
        let wasm = dir.path().join("fn.wasm");
        // An empty component: the preamble alone.
        std::fs::write(&wasm, b"\0asm\x0d\0\x01\0").unwrap();
        let out = dir.path().join("fn.cwasm");
        run(&wasm, &out).unwrap();
        let code = std::fs::read(&out).unwrap();
        // wasmtime's precompiled format is an ELF object.
        assert_eq!(&code[..4], b"\x7fELF");
        let err = run(&dir.path().join("missing.wasm"), &out).unwrap_err();
        assert!(format!("{err:#}").contains("cannot read"), "{err:#}");
        std::fs::write(&wasm, b"not wasm").unwrap();
        let err = run(&wasm, &out).unwrap_err();
        assert!(format!("{err:#}").contains("cannot precompile"), "{err:#}");
    }
}
