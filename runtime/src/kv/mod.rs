//! `wasi:keyvalue/{store,atomics}@0.2.0-draft` (and Spin's `0.2.0-draft2`,
//! with other hosts' versions of `wasi:config`, [`versions`]) served from
//! in-memory stores
//! that outlive a call and that the embedder can seed and read (this
//! module), or from Redis ([`redis`]). The guest-facing side, the same for
//! both, is in [`host`].
//!
//! One word throughout: a *store* is what a guest opens by name (the WIT
//! calls the open handle a `bucket`; that name stays inside the bindings).

mod host;
mod redis;
mod versions;

pub use self::redis::RedisConfig;
pub(crate) use host::{KvHost, add_to_linker};
pub(crate) use versions::{HostConfig, add_to_linker as add_host_versions_to_linker};

use fn_wit::keyvalue::counter;
use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, MutexGuard};

/// The store every function can open without configuration
/// (`fnsdk::kv::Store::open_default` opens it); the same constant as the SDK's.
pub use fn_wit::keyvalue::DEFAULT_STORE;

/// Keys returned per `list-keys` page (in memory; the `COUNT` hint of a
/// Redis `SCAN`).
const PAGE: usize = 1000;

type Entries = Arc<Mutex<BTreeMap<String, Vec<u8>>>>;
type Stores = Arc<Mutex<HashMap<String, Entries>>>;

/// The key-value stores of a function, shared by all its calls (clones share
/// them). Two backends:
///
/// - in memory ([`KeyValue::new`], the default of every [`Function`]): the
///   store [`DEFAULT_STORE`] always exists; other stores exist once created
///   with [`KeyValue::store`]. The embedder seeds and reads them with the
///   methods below. The data lives in this process only: right for tests
///   and `cargo fn serve`, useless on a cloud where every instance has its
///   own;
/// - Redis ([`KeyValue::redis`]): the stores the embedder declared, kept in
///   a Redis server that all instances share (see [`RedisConfig`] for the
///   key layout, timeouts and failures).
///
/// Either way, a guest opening a store that does not exist gets
/// `no-such-store`.
///
/// The seeding and reading methods ([`KeyValue::store`], [`KeyValue::set`],
/// [`KeyValue::get`], ...) are for the in-memory backend and panic on a
/// Redis one: read and write Redis with a Redis client, at the keys
/// [`RedisConfig::key`] gives.
///
/// [`Function`]: crate::Function
#[derive(Clone, Debug)]
pub struct KeyValue {
    backend: Backend,
}

#[derive(Clone, Debug)]
enum Backend {
    Memory(Stores),
    Redis(Arc<redis::Redis>),
}

impl Default for KeyValue {
    fn default() -> Self {
        let kv = KeyValue {
            backend: Backend::Memory(Arc::default()),
        };
        kv.store(DEFAULT_STORE);
        kv
    }
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|e| e.into_inner())
}

impl KeyValue {
    /// In memory, with only the default store, empty.
    pub fn new() -> Self {
        Self::default()
    }

    /// Stores in Redis, as `config` says; see [`RedisConfig`]. Does not
    /// connect yet: the first key-value call of a guest does, so a Redis
    /// that is down at startup only fails the calls that use it. Errors
    /// when the URL is invalid or names a scheme this build cannot speak
    /// (`rediss://`), or when the namespace is empty.
    pub fn redis(config: RedisConfig) -> Result<KeyValue, crate::Error> {
        Ok(KeyValue {
            backend: Backend::Redis(Arc::new(redis::Redis::new(config)?)),
        })
    }

    /// Whether the stores are in Redis (made by [`KeyValue::redis`]).
    pub fn is_redis(&self) -> bool {
        matches!(self.backend, Backend::Redis(_))
    }

    /// The in-memory stores; panics on a Redis backend (see the type's docs).
    #[track_caller]
    fn memory(&self) -> &Mutex<HashMap<String, Entries>> {
        match &self.backend {
            Backend::Memory(stores) => stores,
            Backend::Redis(redis) => panic!(
                "the key-value stores of {} are in Redis: the host can only seed and read \
                 in-memory stores; use a Redis client at the keys `RedisConfig::key` gives",
                redis.location()
            ),
        }
    }

    /// The store `name`, created empty if it does not exist. Panics on a
    /// Redis backend.
    #[track_caller]
    pub fn store(&self, name: &str) -> Store {
        let entries = lock(self.memory())
            .entry(name.to_owned())
            .or_default()
            .clone();
        Store { entries }
    }

    /// Names of all stores (with Redis, the declared ones).
    pub fn store_names(&self) -> Vec<String> {
        let mut names: Vec<String> = match &self.backend {
            Backend::Memory(stores) => lock(stores).keys().cloned().collect(),
            Backend::Redis(redis) => redis.store_names(),
        };
        names.sort();
        names
    }

    /// Sets `key` in the default store. Panics on a Redis backend, as do
    /// the other methods below.
    #[track_caller]
    pub fn set(&self, key: &str, value: impl Into<Vec<u8>>) {
        self.store(DEFAULT_STORE).set(key, value);
    }

    /// Reads `key` from the default store.
    #[track_caller]
    pub fn get(&self, key: &str) -> Option<Vec<u8>> {
        self.store(DEFAULT_STORE).get(key)
    }

    /// Reads `key` from the default store as UTF-8 text.
    #[track_caller]
    pub fn get_str(&self, key: &str) -> Option<String> {
        self.store(DEFAULT_STORE).get_str(key)
    }

    /// Serializes `value` as JSON into `key` of the default store.
    #[track_caller]
    pub fn set_json<T: serde::Serialize>(&self, key: &str, value: &T) -> serde_json::Result<()> {
        self.set(key, serde_json::to_vec(value)?);
        Ok(())
    }

    /// Reads `key` of the default store as JSON; `None` when absent.
    #[track_caller]
    pub fn get_json<T: serde::de::DeserializeOwned>(
        &self,
        key: &str,
    ) -> serde_json::Result<Option<T>> {
        self.get(key)
            .map(|bytes| serde_json::from_slice(&bytes))
            .transpose()
    }
}

/// One store of a [`KeyValue`], shared with the guest.
#[derive(Clone, Debug)]
pub struct Store {
    entries: Entries,
}

impl Store {
    /// Sets `key` to `value`.
    pub fn set(&self, key: &str, value: impl Into<Vec<u8>>) {
        lock(&self.entries).insert(key.to_owned(), value.into());
    }

    /// The value of `key`, if any.
    pub fn get(&self, key: &str) -> Option<Vec<u8>> {
        lock(&self.entries).get(key).cloned()
    }

    /// The value of `key` as UTF-8 text (invalid bytes replaced).
    pub fn get_str(&self, key: &str) -> Option<String> {
        self.get(key)
            .map(|v| String::from_utf8_lossy(&v).into_owned())
    }

    /// Removes `key`; returns whether it was there.
    pub fn delete(&self, key: &str) -> bool {
        lock(&self.entries).remove(key).is_some()
    }

    /// All keys, sorted.
    pub fn keys(&self) -> Vec<String> {
        lock(&self.entries).keys().cloned().collect()
    }

    /// Removes every entry.
    pub fn clear(&self) {
        lock(&self.entries).clear();
    }

    /// Adds `delta` to the counter at `key`, creating it at 0; returns the
    /// new value. Counters are in the format of [`fn_wit::keyvalue::counter`]
    /// (decimal digits, what the SDK's native backend and `wasmtime serve`
    /// use too); the error names the key and says what is wrong.
    pub fn increment(&self, key: &str, delta: u64) -> Result<u64, String> {
        let mut entries = lock(&self.entries);
        let next = counter::increment(entries.get(key).map(Vec::as_slice), delta)
            .map_err(|err| format!("incrementing `{key}` by {delta}: {err}"))?;
        entries.insert(key.to_owned(), counter::format(next));
        Ok(next)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clones_share_stores_and_default_exists() {
        let kv = KeyValue::new();
        let other = kv.clone();
        other.set("k", "v");
        assert_eq!(kv.get_str("k").as_deref(), Some("v"));
        assert_eq!(kv.store_names(), vec![DEFAULT_STORE.to_owned()]);
    }

    #[test]
    fn increment_uses_decimal_text_and_reports_bad_values() {
        let bucket = KeyValue::new().store("counters");
        assert_eq!(bucket.increment("a", 2).unwrap(), 2);
        assert_eq!(bucket.increment("a", 3).unwrap(), 5);
        assert_eq!(bucket.get_str("a").as_deref(), Some("5"));
        bucket.set("b", "41");
        assert_eq!(bucket.increment("b", 1).unwrap(), 42);
        bucket.set("c", "not a number");
        assert!(bucket.increment("c", 1).unwrap_err().contains("`c`"));
        bucket.set("e", " 5");
        assert!(
            bucket
                .increment("e", 1)
                .unwrap_err()
                .contains("not a counter")
        );
        bucket.set("d", u64::MAX.to_string());
        assert!(bucket.increment("d", 1).unwrap_err().contains("overflow"));
    }
}
