//! Content hashes of components and the on-disk cache of precompiled code.

use crate::error::Error;
use sha2::{Digest, Sha256};
use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};
use wasmtime::Engine;
use wasmtime::component::Component;

/// SHA-256 of a component's bytes.
pub(crate) type ContentHash = [u8; 32];

pub(crate) fn hash(bytes: &[u8]) -> ContentHash {
    Sha256::digest(bytes).into()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The cache file for `hash` compiled by `engine`: the name carries both the
/// content hash and the engine's compatibility hash (wasmtime version,
/// compiler settings, host CPU features), so nothing stale is ever reused.
pub(crate) fn cache_path(engine: &Engine, dir: &Path, hash: &ContentHash) -> PathBuf {
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    engine.precompile_compatibility_hash().hash(&mut hasher);
    dir.join(format!("{}-{:016x}.cwasm", hex(hash), hasher.finish()))
}

/// Loads the precompiled component for `hash` from `dir`, or compiles
/// `bytes` and stores the result there.
pub(crate) fn load_or_compile(
    engine: &Engine,
    dir: &Path,
    hash: &ContentHash,
    bytes: &[u8],
) -> Result<Component, Error> {
    let path = cache_path(engine, dir, hash);
    if path.is_file() {
        // SAFETY: the file was written by `Engine::precompile_component` of an
        // engine with the same compatibility hash (it is in the file name),
        // into a cache directory owned by the caller, and is renamed into
        // place only once complete. wasmtime still checks its header.
        match unsafe { Component::deserialize_file(engine, &path) } {
            Ok(component) => return Ok(component),
            // A damaged or foreign file: compile again and replace it.
            Err(_) => {
                let _ = std::fs::remove_file(&path);
            }
        }
    }
    let compiled = engine.precompile_component(bytes).map_err(Error::compile)?;
    store(dir, &path, &compiled)?;
    // SAFETY: the bytes were just produced by `precompile_component` of this
    // engine.
    unsafe { Component::deserialize(engine, &compiled) }.map_err(Error::compile)
}

fn store(dir: &Path, path: &Path, compiled: &[u8]) -> Result<(), Error> {
    let cache_error = |source| Error::Cache {
        dir: dir.to_owned(),
        source,
    };
    std::fs::create_dir_all(dir).map_err(cache_error)?;
    let tmp = path.with_extension(format!("tmp{}", std::process::id()));
    std::fs::write(&tmp, compiled).map_err(cache_error)?;
    std::fs::rename(&tmp, path).map_err(cache_error)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hash_is_sha256() {
        assert_eq!(
            hex(&hash(b"abc")),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn disk_cache_round_trips_and_recovers_from_garbage() {
        let engine = Engine::default();
        let dir = tempfile::tempdir().unwrap();
        let wat = b"(component)";
        let h = hash(wat);
        let path = cache_path(&engine, dir.path(), &h);
        assert!(!path.exists());
        load_or_compile(&engine, dir.path(), &h, wat).unwrap();
        assert!(path.is_file());
        // A second load deserializes the file.
        load_or_compile(&engine, dir.path(), &h, wat).unwrap();

        std::fs::write(&path, b"garbage").unwrap();
        load_or_compile(&engine, dir.path(), &h, wat).unwrap();
        assert_ne!(std::fs::read(&path).unwrap(), b"garbage");
    }
}
