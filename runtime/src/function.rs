//! A loaded function: its pre-linked component and the state its calls share
//! (key-value, config, mocks, limits, clock). Calls are in [`crate::call`].

use crate::call::ConfigSnapshot;
use crate::call::HostState;
use crate::clock::ClockOffset;
use crate::engine::Runtime;
use crate::error::Error;
use crate::kv::KeyValue;
use crate::limits::Limits;
use crate::outbound::HttpMocks;
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, MutexGuard};
use wasmtime::component::Component;
use wasmtime_wasi_http::p2::bindings::ProxyPre;

/// A function ready to be called: compiled, linked, with its own key-value
/// store, config, outbound mocks and limits. Cheap to clone (clones share all
/// of it) and safe to call concurrently.
#[derive(Clone)]
pub struct Function {
    pub(crate) inner: Arc<Inner>,
}

pub(crate) struct Inner {
    pub(crate) runtime: Runtime,
    name: String,
    /// `sha256:<hex>` of the artifact's bytes.
    digest: String,
    pub(crate) pre: ProxyPre<HostState>,
    pub(crate) kv: KeyValue,
    config: Mutex<ConfigState>,
    pub(crate) mocks: HttpMocks,
    limits: Mutex<Limits>,
    pub(crate) clock: ClockOffset,
}

#[derive(Clone, Default)]
struct ConfigState {
    values: BTreeMap<String, String>,
    /// What calls see: rebuilt on every change, shared by calls.
    snapshot: Arc<ConfigSnapshot>,
}

pub(crate) fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|e| e.into_inner())
}

impl std::fmt::Debug for Function {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Function")
            .field("name", &self.inner.name)
            .field("limits", &self.limits())
            .finish_non_exhaustive()
    }
}

impl Function {
    pub(crate) fn new(
        runtime: Runtime,
        name: &str,
        component: &Component,
        hash: &[u8; 32],
    ) -> Result<Self, Error> {
        let digest = hash.iter().fold(String::from("sha256:"), |mut out, b| {
            out.push_str(&format!("{b:02x}"));
            out
        });
        let pre = runtime
            .linker()
            .instantiate_pre(component)
            .map_err(Error::link)?;
        let pre = ProxyPre::new(pre).map_err(Error::link)?;
        Ok(Function {
            inner: Arc::new(Inner {
                runtime,
                name: name.to_owned(),
                digest,
                pre,
                kv: KeyValue::new(),
                config: Mutex::default(),
                mocks: HttpMocks::default(),
                limits: Mutex::new(Limits::default()),
                clock: ClockOffset::default(),
            }),
        })
    }

    /// The function's name (the artifact's file stem).
    pub fn name(&self) -> &str {
        &self.inner.name
    }

    /// The artifact's digest, `sha256:<hex>` of the bytes it was loaded
    /// from.
    pub fn digest(&self) -> &str {
        &self.inner.digest
    }

    /// The runtime the function runs on.
    pub fn runtime(&self) -> &Runtime {
        &self.inner.runtime
    }

    /// The key-value store its calls see (seed it, read it).
    pub fn kv(&self) -> &KeyValue {
        &self.inner.kv
    }

    /// This function with its key-value served from `kv` instead of its
    /// own in-memory stores: a [`KeyValue::redis`] on a cloud runner, or
    /// stores shared with another function. Meant right after loading: the
    /// result starts with this function's config, limits, mocks and clock,
    /// and clones of `self` keep the old stores.
    pub fn with_key_value(self, kv: KeyValue) -> Function {
        let inner = &self.inner;
        Function {
            inner: Arc::new(Inner {
                runtime: inner.runtime.clone(),
                name: inner.name.clone(),
                digest: inner.digest.clone(),
                pre: inner.pre.clone(),
                kv,
                config: Mutex::new(lock(&inner.config).clone()),
                mocks: inner.mocks.clone(),
                limits: Mutex::new(self.limits()),
                clock: inner.clock.clone(),
            }),
        }
    }

    /// The outbound HTTP mocks its calls see.
    pub fn mocks(&self) -> &HttpMocks {
        &self.inner.mocks
    }

    /// Sets a config value (`wasi:config/store`) for the following calls.
    pub fn set_config(&self, key: impl Into<String>, value: impl Into<String>) {
        let mut config = lock(&self.inner.config);
        config.values.insert(key.into(), value.into());
        config.snapshot = Arc::new(ConfigSnapshot::new(&config.values));
    }

    /// Removes a config value.
    pub fn remove_config(&self, key: &str) {
        let mut config = lock(&self.inner.config);
        config.values.remove(key);
        config.snapshot = Arc::new(ConfigSnapshot::new(&config.values));
    }

    /// The config values calls see.
    pub fn config_values(&self) -> BTreeMap<String, String> {
        lock(&self.inner.config).values.clone()
    }

    /// What the next call's `wasi:config/store` serves (shared, not copied).
    pub(crate) fn config_snapshot(&self) -> Arc<ConfigSnapshot> {
        lock(&self.inner.config).snapshot.clone()
    }

    /// Moves the wall clock the following calls see
    /// (`wasi:clocks/wall-clock`, so `SystemTime::now()` in the guest) forward
    /// by `by`: tests of expiry run without sleeping. Offsets add up; the
    /// monotonic clock and the host's timeouts are not affected.
    pub fn advance_clock(&self, by: std::time::Duration) {
        self.inner.clock.advance(by);
    }

    /// How far the guest's wall clock runs ahead of the host's.
    pub fn clock_offset(&self) -> std::time::Duration {
        self.inner.clock.get()
    }

    /// Puts the guest's wall clock back in step with the host's.
    pub fn reset_clock(&self) {
        self.inner.clock.reset();
    }

    /// The limits of the following calls.
    pub fn limits(&self) -> Limits {
        *lock(&self.inner.limits)
    }

    /// Changes the limits of the following calls.
    pub fn set_limits(&self, limits: Limits) -> Result<(), Error> {
        let max = self.inner.runtime.config().max_memory;
        if limits.memory > max {
            return Err(Error::Limits(format!(
                "a memory cap of {} bytes is over the runtime's maximum of {max} bytes; \
                 raise `RuntimeConfig::max_memory`",
                limits.memory
            )));
        }
        if limits.fuel.is_some() && !self.inner.runtime.config().fuel {
            return Err(Error::Limits(
                "a fuel cap needs a runtime with fuel metering (`RuntimeConfig::fuel`)".into(),
            ));
        }
        *lock(&self.inner.limits) = limits;
        Ok(())
    }
}
