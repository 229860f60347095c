//! Embeds every template of this crate (each folder holding a
//! `Cargo.toml.tmpl`, with all its files), every adapter (the same, under
//! `adapters/`) and every anchor (under `anchors/`) into the library, so
//! `cargo fn new`, `deploy` and `bench` need nothing but themselves. Generates `templates.rs` in OUT_DIR.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

fn main() {
    let dir = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").expect("set by cargo"));
    println!("cargo:rerun-if-changed={}", dir.display());
    let mut out = String::from(
        "/// `(template, [(path in the template, contents)])`, embedded by `build.rs`.\n",
    );
    out.push_str("pub(crate) const TEMPLATES: &[(&str, &[(&str, &str)])] = &[\n");
    embed(&dir, &mut out);
    out.push_str("];\n");
    out.push_str(
        "/// `(adapter, [(path in the adapter, contents)])`: the crates under `adapters/`.\n",
    );
    out.push_str("pub(crate) const ADAPTERS: &[(&str, &[(&str, &str)])] = &[\n");
    embed(&dir.join("adapters"), &mut out);
    out.push_str("];\n");
    out.push_str(
        "/// `(anchor, [(path in the anchor, contents)])`: the crates under `anchors/`.\n",
    );
    out.push_str("pub(crate) const ANCHORS: &[(&str, &[(&str, &str)])] = &[\n");
    embed(&dir.join("anchors"), &mut out);
    out.push_str("];\n");
    let out_path =
        PathBuf::from(std::env::var_os("OUT_DIR").expect("set by cargo")).join("templates.rs");
    std::fs::write(out_path, out).expect("write templates.rs");
}

/// Appends one `(name, [(path, include_str!)])` entry to `out` for every
/// folder of `dir` that holds a `Cargo.toml.tmpl`.
fn embed(dir: &Path, out: &mut String) {
    println!("cargo:rerun-if-changed={}", dir.display());
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| {
            panic!(
                "fn-templates embeds its templates from {}: {e}",
                dir.display()
            )
        })
        .map(|e| e.expect("read_dir entry").path())
        .filter(|p| p.join("Cargo.toml.tmpl").is_file())
        .collect();
    entries.sort();
    for template in entries {
        let name = template
            .file_name()
            .expect("dir name")
            .to_string_lossy()
            .into_owned();
        let mut files = Vec::new();
        collect(&template, &template, &mut files);
        files.sort();
        writeln!(out, "    ({name:?}, &[").unwrap();
        for (rel, abs) in &files {
            writeln!(
                out,
                "        ({rel:?}, include_str!({:?})),",
                abs.display().to_string()
            )
            .unwrap();
        }
        out.push_str("    ]),\n");
    }
}

fn collect(root: &Path, dir: &Path, files: &mut Vec<(String, PathBuf)>) {
    println!("cargo:rerun-if-changed={}", dir.display());
    for entry in std::fs::read_dir(dir).expect("read template dir") {
        let path = entry.expect("read_dir entry").path();
        if path.is_dir() {
            collect(root, &path, files);
        } else {
            println!("cargo:rerun-if-changed={}", path.display());
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
