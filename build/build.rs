//! Embeds the SDK's WIT (`../sdk/wit`) into fn-build, so the pipeline knows the
//! contract world and the `@since` gate of every WASI item without reading the
//! file system at run time. The WIT stays in one place: the SDK that guests
//! are built against.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

fn main() {
    let manifest_dir = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").expect("set by cargo"));
    let wit_dir = manifest_dir.join("../sdk/wit");
    println!("cargo:rerun-if-changed={}", wit_dir.display());

    let mut files = Vec::new();
    collect(&wit_dir, &wit_dir, &mut files);
    files.sort();

    let mut out =
        String::from("/// `(path relative to sdk/wit, contents)` of every WIT file of the SDK.\n");
    out.push_str("pub(crate) const WIT_FILES: &[(&str, &str)] = &[\n");
    for (rel, abs) in &files {
        println!("cargo:rerun-if-changed={}", abs.display());
        writeln!(
            out,
            "    ({rel:?}, include_str!({:?})),",
            abs.display().to_string()
        )
        .unwrap();
    }
    out.push_str("];\n");
    let out_path =
        PathBuf::from(std::env::var_os("OUT_DIR").expect("set by cargo")).join("wit_files.rs");
    std::fs::write(out_path, out).expect("write wit_files.rs");
}

fn collect(root: &Path, dir: &Path, files: &mut Vec<(String, PathBuf)>) {
    let entries = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("fn-build needs the SDK's WIT at {}: {e}", dir.display()));
    for entry in entries {
        let path = entry.expect("read_dir entry").path();
        if path.is_dir() {
            println!("cargo:rerun-if-changed={}", path.display());
            collect(root, &path, files);
        } else if path.extension().is_some_and(|e| e == "wit") {
            let rel = path.strip_prefix(root).expect("under root");
            let rel = rel
                .components()
                .map(|c| c.as_os_str().to_string_lossy())
                .collect::<Vec<_>>()
                .join("/");
            files.push((rel, path));
        }
    }
}
