//! The engine, the linker and the compiled-component cache, one per process.

use crate::cache::{self, ContentHash};
use crate::call::{self, HostState};
use crate::error::Error;
use crate::function::Function;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;
use wasmtime::component::{Component, Linker};
use wasmtime::{Config, Enabled, Engine, InstanceAllocationStrategy, PoolingAllocationConfig};

/// How the engine is built. One [`Runtime`] per configuration, ideally one per
/// process ([`Runtime::shared`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RuntimeConfig {
    /// Instances that can exist at the same time (pooling allocator slots),
    /// which bounds concurrent calls.
    pub max_instances: u32,
    /// Largest linear memory one instance may have, in bytes: the ceiling for
    /// every [`Limits::memory`](crate::Limits::memory).
    pub max_memory: u64,
    /// Count fuel (instructions, roughly): reported in
    /// [`Metrics::fuel`](crate::Metrics::fuel), capped by
    /// [`Limits::fuel`](crate::Limits::fuel). Costs some speed.
    pub fuel: bool,
    /// How often the epoch advances: the granularity of timeouts and of
    /// yielding to other tasks during long computations.
    pub epoch_tick: Duration,
    /// Where precompiled components are kept between runs (`cargo fn serve`);
    /// `None` compiles in memory only.
    pub cache_dir: Option<PathBuf>,
    /// Bytes of a reused instance's linear memory that are reset in place
    /// (memset of the dirty pages) instead of being released to the kernel
    /// and faulted in again by the next call. Larger keeps more memory
    /// resident per instance slot; see the `latency` bench for the effect.
    /// The default is 4 MiB where Linux can report which pages a call
    /// dirtied (`PAGEMAP_SCAN`, 6.7+), and 0 elsewhere, where the whole
    /// region would be cleared on every call.
    pub keep_resident: usize,
    /// The signature trust of this runtime, and the only place it is set:
    /// when not empty, every component [`Runtime::load`] and
    /// [`Runtime::load_bytes`] accept must carry a valid signature by one of
    /// these keys (see `cargo fn sign`); unsigned, tampered and
    /// foreign-signed components are refused with [`Error::Verify`]. Empty
    /// (the default): signatures are not checked.
    pub trusted_keys: Vec<fn_sign::PublicKey>,
}

impl Default for RuntimeConfig {
    fn default() -> Self {
        RuntimeConfig {
            max_instances: 1000,
            max_memory: 1 << 30,
            fuel: false,
            epoch_tick: Duration::from_millis(10),
            cache_dir: None,
            keep_resident: if PoolingAllocationConfig::is_pagemap_scan_available() {
                4 << 20
            } else {
                0
            },
            trusted_keys: Vec::new(),
        }
    }
}

/// Whether [`Runtime::load_precompiled`] used the precompiled code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Precompiled {
    /// It did.
    Used,
    /// This engine cannot run it (the reason, from wasmtime); the
    /// component was compiled instead.
    Rejected(String),
}

/// An engine plus everything that is shared by all functions it runs. Cheap
/// to clone; clones share the engine and the component cache.
#[derive(Clone)]
pub struct Runtime {
    inner: Arc<Inner>,
}

struct Inner {
    engine: Engine,
    linker: Linker<HostState>,
    config: RuntimeConfig,
    components: Mutex<HashMap<ContentHash, Component>>,
}

impl std::fmt::Debug for Runtime {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Runtime")
            .field("config", &self.inner.config)
            .finish_non_exhaustive()
    }
}

impl Runtime {
    /// Builds an engine for `config` and starts its epoch ticker.
    pub fn new(config: RuntimeConfig) -> Result<Runtime, Error> {
        let engine = Engine::new(&engine_config(&config)).map_err(Error::engine)?;
        let linker = call::linker(&engine).map_err(Error::engine)?;
        start_ticker(&engine, config.epoch_tick);
        Ok(Runtime {
            inner: Arc::new(Inner {
                engine,
                linker,
                config,
                components: Mutex::default(),
            }),
        })
    }

    /// The process-wide runtime with the default configuration (no fuel).
    pub fn shared() -> Result<Runtime, Error> {
        static SHARED: OnceLock<Runtime> = OnceLock::new();
        shared_in(&SHARED, RuntimeConfig::default())
    }

    /// The process-wide runtime with fuel metering on.
    pub fn shared_with_fuel() -> Result<Runtime, Error> {
        static SHARED: OnceLock<Runtime> = OnceLock::new();
        shared_in(
            &SHARED,
            RuntimeConfig {
                fuel: true,
                ..RuntimeConfig::default()
            },
        )
    }

    /// The wasmtime engine.
    pub fn engine(&self) -> &Engine {
        &self.inner.engine
    }

    /// The configuration the runtime was built with.
    pub fn config(&self) -> &RuntimeConfig {
        &self.inner.config
    }

    pub(crate) fn linker(&self) -> &Linker<HostState> {
        &self.inner.linker
    }

    /// Compiles `bytes` (a component, binary or text), or returns the
    /// component compiled earlier from the same bytes. With
    /// [`RuntimeConfig::cache_dir`] set, compiled code is also kept on disk.
    pub fn compile(&self, bytes: &[u8]) -> Result<Component, Error> {
        self.compile_hashed(bytes, cache::hash(bytes))
    }

    fn compile_hashed(&self, bytes: &[u8], hash: ContentHash) -> Result<Component, Error> {
        if let Some(component) = self.cached(&hash) {
            return Ok(component);
        }
        let component = match &self.inner.config.cache_dir {
            Some(dir) => cache::load_or_compile(&self.inner.engine, dir, &hash, bytes)?,
            None => Component::new(&self.inner.engine, bytes).map_err(Error::compile)?,
        };
        self.inner
            .components
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(hash, component.clone());
        Ok(component)
    }

    fn cached(&self, hash: &ContentHash) -> Option<Component> {
        let components = self
            .inner
            .components
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        components.get(hash).cloned()
    }

    /// Loads the component at `path` as a [`Function`], verifying its
    /// signature when [`RuntimeConfig::trusted_keys`] is set.
    pub fn load(&self, path: impl AsRef<Path>) -> Result<Function, Error> {
        let path = path.as_ref();
        let bytes = std::fs::read(path).map_err(|source| Error::Read {
            path: path.to_owned(),
            source,
        })?;
        let name = path
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_else(|| "function".into());
        self.load_bytes(&name, &bytes)
            .map_err(|e| e.with_path(path))
    }

    /// Loads a component from memory as a [`Function`] named `name`. With
    /// [`RuntimeConfig::trusted_keys`] set, the signature is checked first:
    /// the one verification path of the runtime ([`Runtime::load`] comes
    /// here too).
    pub fn load_bytes(&self, name: &str, bytes: &[u8]) -> Result<Function, Error> {
        self.verify(bytes)?;
        let hash = cache::hash(bytes);
        let component = self.compile_hashed(bytes, hash)?;
        Function::new(self.clone(), name, &component, &hash)
    }

    /// Compiles the component `bytes` ahead of time for engines of this
    /// runtime's configuration (a bundle's `fn.cwasm`), after the same
    /// signature check as [`Runtime::load_bytes`].
    pub fn precompile(&self, bytes: &[u8]) -> Result<Vec<u8>, Error> {
        self.verify(bytes)?;
        self.inner
            .engine
            .precompile_component(bytes)
            .map_err(Error::compile)
    }

    /// Loads the component `bytes` as [`Runtime::load_bytes`] does, using
    /// the file `precompiled` (from [`Runtime::precompile`]) instead of
    /// compiling when this engine can run it. wasmtime refuses code from
    /// another version or configuration, or for CPU features this host
    /// lacks: the component is then compiled, and the reason returned.
    ///
    /// The file is mapped, not read into a buffer and copied again.
    ///
    /// # Safety
    ///
    /// `precompiled` must come from [`Runtime::precompile`] of these very
    /// `bytes` (wasmtime checks compatibility, not provenance: arbitrary
    /// bytes can run arbitrary native code), and must not change while
    /// mapped. Pin it by digest, and keep it where nobody writes.
    pub unsafe fn load_precompiled(
        &self,
        name: &str,
        bytes: &[u8],
        precompiled: &Path,
    ) -> Result<(Function, Precompiled), Error> {
        self.verify(bytes)?;
        let hash = cache::hash(bytes);
        // SAFETY: the caller vouches for the file's origin (see above).
        let (component, used) =
            match unsafe { Component::deserialize_file(&self.inner.engine, precompiled) } {
                Ok(component) => (component, Precompiled::Used),
                Err(err) => (
                    self.compile_hashed(bytes, hash)?,
                    Precompiled::Rejected(format!("{err:#}")),
                ),
            };
        self.inner
            .components
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(hash, component.clone());
        Ok((Function::new(self.clone(), name, &component, &hash)?, used))
    }

    /// Refuses `bytes` unless signed by a trusted key (when any are set).
    fn verify(&self, bytes: &[u8]) -> Result<(), Error> {
        let trusted = &self.inner.config.trusted_keys;
        if trusted.is_empty() {
            return Ok(());
        }
        fn_sign::verify(bytes, trusted)
            .map(drop)
            .map_err(|reason| Error::Verify { path: None, reason })
    }
}

fn shared_in(cell: &OnceLock<Runtime>, config: RuntimeConfig) -> Result<Runtime, Error> {
    if let Some(runtime) = cell.get() {
        return Ok(runtime.clone());
    }
    let runtime = Runtime::new(config)?;
    // A racing thread may have won; both runtimes work, keep the first.
    Ok(cell.get_or_init(|| runtime).clone())
}

fn engine_config(config: &RuntimeConfig) -> Config {
    let mut pool = PoolingAllocationConfig::new();
    pool.total_component_instances(config.max_instances)
        // A component built from Rust has a handful of core instances (the
        // module, adapters, shims) and usually one memory and one table.
        .total_core_instances(config.max_instances.saturating_mul(4))
        .total_memories(config.max_instances.saturating_mul(2))
        .total_tables(config.max_instances.saturating_mul(4))
        .total_stacks(config.max_instances)
        .max_memories_per_module(2)
        .max_memory_size(usize::try_from(config.max_memory).unwrap_or(usize::MAX))
        // Reset only the pages a call dirtied (PAGEMAP_SCAN, Linux 6.7+),
        // up to `keep_resident`, instead of memset-ing all of it.
        .pagemap_scan(Enabled::Auto)
        .linear_memory_keep_resident(config.keep_resident)
        .table_keep_resident(64 << 10);

    let mut engine = Config::new();
    engine
        .allocation_strategy(InstanceAllocationStrategy::Pooling(pool))
        .memory_init_cow(true)
        .epoch_interruption(true)
        .consume_fuel(config.fuel);
    engine
}

/// Advances the engine's epoch every `tick` until the engine is dropped.
fn start_ticker(engine: &Engine, tick: Duration) {
    let weak = engine.weak();
    let spawned = std::thread::Builder::new()
        .name("fn-runtime-epoch".into())
        .spawn(move || {
            loop {
                std::thread::sleep(tick);
                match weak.upgrade() {
                    Some(engine) => engine.increment_epoch(),
                    None => break,
                }
            }
        });
    if let Err(err) = spawned {
        // Without a ticker only the tokio timeout stops runaway guests.
        eprintln!("fn-runtime: could not start the epoch ticker thread: {err}");
    }
}
