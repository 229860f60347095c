//! Compile-time behaviour of `#[function]`: accepted shapes compile, and each
//! mistake gets its own error at the offending tokens.
//!
//! `tests/ui/pass_*.rs` must compile; every other `tests/ui/*.rs` must fail with
//! exactly the error in its `.stderr`. Regenerate those with
//! `TRYBUILD=overwrite cargo test -p fnsdk-macros --test ui` and read the diff.

use std::path::PathBuf;

#[test]
fn ui() {
    let mut files: Vec<PathBuf> = std::fs::read_dir("tests/ui")
        .expect("run from the fnsdk-macros crate directory")
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "rs"))
        .collect();
    files.sort();
    let is_pass = |path: &PathBuf| {
        path.file_name()
            .and_then(|name| name.to_str())
            .is_some_and(|name| name.starts_with("pass_"))
    };
    let passing = files.iter().filter(|path| is_pass(path)).count();
    assert!(passing >= 4, "expected the pass_* cases, found {passing}");
    assert!(
        files.len() - passing >= 15,
        "expected the error cases, found {files:?}"
    );

    let cases = trybuild::TestCases::new();
    for file in &files {
        if is_pass(file) {
            cases.pass(file);
        } else {
            cases.compile_fail(file);
        }
    }
}
