//! The WIT every cargo-fn function is built against, as data.
//!
//! The folder of this crate is a WIT package directory: `world.wit` holds the
//! world `fn:sdk/function` (`wasi:http/proxy` plus the key-value and config
//! capabilities) and `deps/` the WASI packages it uses. [`HOST_FILES`] adds
//! the capability versions other hosts implement and the worlds of the
//! adapters that bridge to them: `fn:sdk/spin-adapter` (`spin-adapter.wit`,
//! importing Spin's `wasi:keyvalue@0.2.0-draft2` and
//! `wasi:config@0.2.0-draft-2024-09-27`) and `fn:sdk/wasmcloud-adapter`
//! (`wasmcloud-adapter.wit`, importing wasmCloud 1.x's
//! `wasi:config@0.2.0-draft`), and `fn:sdk/files-adapter`
//! (`files-adapter.wit`: key-value and config on WASI files and
//! environment). The adapters are built against them and the
//! runtime implements them too. [`FILES`] embeds them, so the SDK's
//! bindings, the build pipeline and the runtime all read one copy without
//! reaching into each other's folders, and every crate packages on its own.
//!
//! Bindings macros (`wit_bindgen::generate!`, `wasmtime::component::bindgen!`)
//! read WIT from a directory: a build script writes the files there with
//! [`write_to`] and passes the macro that directory.
//!
//! [`keyvalue`] holds what the WIT leaves open but guest and host must
//! agree on (the default store's name, the counter format).

#![deny(missing_docs)]

pub mod keyvalue;

use std::path::Path;

/// The world of a function: `fn:sdk/function`.
pub const WORLD: &str = "fn:sdk/function";

/// The world of the Spin adapter: `fn:sdk/spin-adapter`.
pub const SPIN_ADAPTER_WORLD: &str = "fn:sdk/spin-adapter";

/// The world of the wasmCloud 1.x adapter: `fn:sdk/wasmcloud-adapter`.
pub const WASMCLOUD_ADAPTER_WORLD: &str = "fn:sdk/wasmcloud-adapter";

/// The world of the files adapter (key-value and config on the host's
/// filesystem and environment): `fn:sdk/files-adapter`.
pub const FILES_ADAPTER_WORLD: &str = "fn:sdk/files-adapter";

/// `(path relative to the package directory, contents)` of every WIT file,
/// `/`-separated, sorted by path. `world.wit` is the main package;
/// `deps/<name>.wit` and `deps/<name>/*.wit` are its dependencies.
pub const FILES: &[(&str, &str)] = &[
    ("deps/cli.wit", include_str!("../deps/cli.wit")),
    ("deps/clocks.wit", include_str!("../deps/clocks.wit")),
    (
        "deps/config/store.wit",
        include_str!("../deps/config/store.wit"),
    ),
    (
        "deps/config/world.wit",
        include_str!("../deps/config/world.wit"),
    ),
    (
        "deps/filesystem.wit",
        include_str!("../deps/filesystem.wit"),
    ),
    ("deps/http.wit", include_str!("../deps/http.wit")),
    ("deps/io.wit", include_str!("../deps/io.wit")),
    (
        "deps/keyvalue/atomic.wit",
        include_str!("../deps/keyvalue/atomic.wit"),
    ),
    (
        "deps/keyvalue/batch.wit",
        include_str!("../deps/keyvalue/batch.wit"),
    ),
    (
        "deps/keyvalue/store.wit",
        include_str!("../deps/keyvalue/store.wit"),
    ),
    (
        "deps/keyvalue/watch.wit",
        include_str!("../deps/keyvalue/watch.wit"),
    ),
    (
        "deps/keyvalue/world.wit",
        include_str!("../deps/keyvalue/world.wit"),
    ),
    ("deps/random.wit", include_str!("../deps/random.wit")),
    ("deps/sockets.wit", include_str!("../deps/sockets.wit")),
    ("world.wit", include_str!("../world.wit")),
];

/// Other hosts' versions of key-value and config (Spin's
/// `wasi:keyvalue@0.2.0-draft2` and `wasi:config@0.2.0-draft-2024-09-27`,
/// wasmCloud 1.x's `wasi:config@0.2.0-draft`) and the worlds of the
/// adapters to them, [`SPIN_ADAPTER_WORLD`] and [`WASMCLOUD_ADAPTER_WORLD`]:
/// added to [`FILES`] only for the bindings that need them
/// ([`write_bindings_with_hosts`]), because two versions of one package in
/// the folder make bindings generators name every module by its version.
pub const HOST_FILES: &[(&str, &str)] = &[
    (
        "deps/config-draft-2024-09-27/config.wit",
        include_str!("../deps/config-draft-2024-09-27/config.wit"),
    ),
    (
        "deps/config-draft/config.wit",
        include_str!("../deps/config-draft/config.wit"),
    ),
    (
        "deps/keyvalue-draft2/keyvalue.wit",
        include_str!("../deps/keyvalue-draft2/keyvalue.wit"),
    ),
    ("files-adapter.wit", include_str!("../files-adapter.wit")),
    ("spin-adapter.wit", include_str!("../spin-adapter.wit")),
    (
        "wasmcloud-adapter.wit",
        include_str!("../wasmcloud-adapter.wit"),
    ),
];

/// Writes [`FILES`] under `dir` (created if missing), leaving files whose
/// contents are already right untouched so that a build script calling it
/// does not make every dependent rebuild.
pub fn write_to(dir: &Path) -> std::io::Result<()> {
    write_files(dir, FILES)
}

/// Removes the `.wit` files under `dir` that are not in `wanted`, and the
/// folders that leaves empty.
fn remove_stale(dir: &Path, wanted: &[std::path::PathBuf]) -> std::io::Result<()> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Ok(());
    };
    for entry in entries {
        let path = entry?.path();
        if path.is_dir() {
            remove_stale(&path, wanted)?;
            // Emptied: a folder of deps/ without WIT would not parse.
            if std::fs::read_dir(&path)?.next().is_none() {
                std::fs::remove_dir(&path)?;
            }
        } else if path.extension().is_some_and(|e| e == "wit") && !wanted.contains(&path) {
            std::fs::remove_file(&path)?;
        }
    }
    Ok(())
}

fn write_files(dir: &Path, files: &[(&str, &str)]) -> std::io::Result<()> {
    for (path, contents) in files {
        let file = dir.join(path);
        if std::fs::read(&file).is_ok_and(|old| old == contents.as_bytes()) {
            continue;
        }
        if let Some(parent) = file.parent() {
            std::fs::create_dir_all(parent)?;
        }
        std::fs::write(&file, contents)?;
    }
    Ok(())
}

/// For build scripts that bind the WIT: writes [`FILES`] into
/// `OUT_DIR/wit`, then the bindings macro call `bindings` returns for that
/// directory (its path as a string) into `OUT_DIR/<file>`, leaving both
/// untouched when already right. `include!` the file where the bindings
/// belong.
///
/// Panics with what failed: it runs in build scripts, where a panic is the
/// way to fail the build.
pub fn write_bindings(file: &str, bindings: impl FnOnce(&str) -> String) {
    write_bindings_from("wit", &[FILES], file, bindings);
}

/// [`write_bindings`] over [`FILES`] and [`HOST_FILES`] (written to
/// `OUT_DIR/wit-hosts`), for bindings of other hosts' versions or of the
/// adapters' worlds. Modules are named by version there:
/// `wasi::keyvalue0_2_0_draft2`, `wasi::keyvalue0_2_0_draft`,
/// `wasi::config0_2_0_draft`.
pub fn write_bindings_with_hosts(file: &str, bindings: impl FnOnce(&str) -> String) {
    write_bindings_from("wit-hosts", &[FILES, HOST_FILES], file, bindings);
}

fn write_bindings_from(
    subdir: &str,
    sets: &[&[(&str, &str)]],
    file: &str,
    bindings: impl FnOnce(&str) -> String,
) {
    let out = std::path::PathBuf::from(std::env::var_os("OUT_DIR").expect("set by cargo"));
    let dir = out.join(subdir);
    // A file an older fn-wit wrote there would still be parsed: remove
    // every `.wit` file that is not in the sets.
    let wanted: Vec<std::path::PathBuf> = sets
        .iter()
        .flat_map(|files| files.iter().map(|(path, _)| dir.join(path)))
        .collect();
    remove_stale(&dir, &wanted).expect("clean the WIT folder in OUT_DIR");
    for files in sets {
        write_files(&dir, files).expect("write the WIT into OUT_DIR");
    }
    let bindings = bindings(dir.to_str().expect("OUT_DIR is UTF-8"));
    let file = out.join(file);
    if std::fs::read_to_string(&file).ok().as_deref() != Some(bindings.as_str()) {
        std::fs::write(&file, bindings).unwrap_or_else(|e| panic!("write {}: {e}", file.display()));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    /// Every `.wit` file of the package directory, `/`-separated.
    fn on_disk(root: &Path, dir: &Path, out: &mut Vec<String>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                on_disk(root, &path, out);
            } else if path.extension().is_some_and(|e| e == "wit") {
                let rel = path.strip_prefix(root).unwrap();
                let parts: Vec<_> = rel.iter().map(|c| c.to_string_lossy()).collect();
                out.push(parts.join("/"));
            }
        }
    }

    #[test]
    fn files_list_every_wit_file_of_the_folder_sorted() {
        let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
        let mut expected = Vec::new();
        on_disk(&root, &root.join("deps"), &mut expected);
        expected.push("world.wit".into());
        expected.push("files-adapter.wit".into());
        expected.push("spin-adapter.wit".into());
        expected.push("wasmcloud-adapter.wit".into());
        expected.sort();
        let mut listed: Vec<_> = FILES
            .iter()
            .chain(HOST_FILES)
            .map(|(p, _)| p.to_string())
            .collect();
        listed.sort();
        assert_eq!(listed, expected, "add new WIT files to FILES or HOST_FILES");
        for files in [FILES, HOST_FILES] {
            assert!(
                files.windows(2).all(|w| w[0].0 < w[1].0),
                "keep them sorted"
            );
        }
    }

    #[test]
    fn the_world_is_declared_in_world_wit() {
        let (_, world) = FILES.iter().find(|(p, _)| *p == "world.wit").unwrap();
        assert!(world.contains("package fn:sdk@"), "{world}");
        assert!(world.contains("world function"), "{world}");
        assert_eq!(WORLD, "fn:sdk/function");
    }

    #[test]
    fn write_to_round_trips_and_leaves_unchanged_files_alone() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("wit");
        write_to(&dir).unwrap();
        for (path, contents) in FILES {
            assert_eq!(std::fs::read_to_string(dir.join(path)).unwrap(), *contents);
        }
        let world = dir.join("world.wit");
        let before = std::fs::metadata(&world).unwrap().modified().unwrap();
        std::thread::sleep(std::time::Duration::from_millis(20));
        write_to(&dir).unwrap();
        let after = std::fs::metadata(&world).unwrap().modified().unwrap();
        assert_eq!(before, after, "an unchanged file was rewritten");
    }
}
