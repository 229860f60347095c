//! `wasi:keyvalue/{store,atomics}@0.2.0-draft` served from in-memory stores
//! that outlive a call and that the embedder can seed and read.
//!
//! One word throughout: a *store* is what a guest opens by name (the WIT
//! calls the open handle a `bucket`; that name stays inside the bindings).

use fn_wit::keyvalue::counter;
use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, MutexGuard};
use wasmtime::component::{HasData, Linker, Resource, ResourceTable};

/// Bindings for `wasi:keyvalue/{store,atomics}@0.2.0-draft`, generated from
/// the function WIT of `fn-wit` (see `build.rs`).
mod bindings {
    include!(concat!(env!("OUT_DIR"), "/kv_bindings.rs"));
}

use bindings::wasi::keyvalue::{atomics, store};

/// The store every function can open without configuration
/// (`fnsdk::kv::Store::open_default` opens it); the same constant as the SDK's.
pub use fn_wit::keyvalue::DEFAULT_STORE;

/// Keys returned per `list-keys` page.
const PAGE: usize = 1000;

type Entries = Arc<Mutex<BTreeMap<String, Vec<u8>>>>;

/// The key-value stores of a function, shared by all its calls (clones share
/// them).
///
/// The store [`DEFAULT_STORE`] always exists; other stores exist once
/// created with [`KeyValue::store`]. A guest opening any other name gets
/// `no-such-store`.
#[derive(Clone, Debug)]
pub struct KeyValue {
    stores: Arc<Mutex<HashMap<String, Entries>>>,
}

impl Default for KeyValue {
    fn default() -> Self {
        let kv = KeyValue {
            stores: Arc::default(),
        };
        kv.store(DEFAULT_STORE);
        kv
    }
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|e| e.into_inner())
}

impl KeyValue {
    /// Only the default store, empty.
    pub fn new() -> Self {
        Self::default()
    }

    /// The store `name`, created empty if it does not exist.
    pub fn store(&self, name: &str) -> Store {
        let entries = lock(&self.stores)
            .entry(name.to_owned())
            .or_default()
            .clone();
        Store { entries }
    }

    fn existing(&self, name: &str) -> Option<Store> {
        lock(&self.stores).get(name).map(|entries| Store {
            entries: entries.clone(),
        })
    }

    /// Names of all stores.
    pub fn store_names(&self) -> Vec<String> {
        let mut names: Vec<String> = lock(&self.stores).keys().cloned().collect();
        names.sort();
        names
    }

    /// Sets `key` in the default store.
    pub fn set(&self, key: &str, value: impl Into<Vec<u8>>) {
        self.store(DEFAULT_STORE).set(key, value);
    }

    /// Reads `key` from the default store.
    pub fn get(&self, key: &str) -> Option<Vec<u8>> {
        self.store(DEFAULT_STORE).get(key)
    }

    /// Reads `key` from the default store as UTF-8 text.
    pub fn get_str(&self, key: &str) -> Option<String> {
        self.store(DEFAULT_STORE).get_str(key)
    }

    /// Serializes `value` as JSON into `key` of the default store.
    pub fn set_json<T: serde::Serialize>(&self, key: &str, value: &T) -> serde_json::Result<()> {
        self.set(key, serde_json::to_vec(value)?);
        Ok(())
    }

    /// Reads `key` of the default store as JSON; `None` when absent.
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

/// The host-side value behind a guest's `bucket` handle (an open [`Store`]).
pub struct BucketResource(Store);

/// The view the generated host traits are implemented for.
pub(crate) struct KvHost<'a> {
    pub(crate) kv: &'a KeyValue,
    pub(crate) table: &'a mut ResourceTable,
}

struct HasKv;

impl HasData for HasKv {
    type Data<'a> = KvHost<'a>;
}

/// Adds `wasi:keyvalue/store` and `wasi:keyvalue/atomics` to `linker`.
pub(crate) fn add_to_linker<T: 'static>(
    linker: &mut Linker<T>,
    get: fn(&mut T) -> KvHost<'_>,
) -> wasmtime::Result<()> {
    store::add_to_linker::<T, HasKv>(linker, get)?;
    atomics::add_to_linker::<T, HasKv>(linker, get)?;
    Ok(())
}

type KvResult<T> = wasmtime::Result<Result<T, store::Error>>;

impl KvHost<'_> {
    fn bucket(&self, handle: &Resource<BucketResource>) -> wasmtime::Result<Store> {
        Ok(self.table.get(handle)?.0.clone())
    }
}

impl store::Host for KvHost<'_> {
    fn open(&mut self, identifier: String) -> KvResult<Resource<BucketResource>> {
        match self.kv.existing(&identifier) {
            Some(bucket) => Ok(Ok(self.table.push(BucketResource(bucket))?)),
            None => Ok(Err(store::Error::NoSuchStore)),
        }
    }
}

impl store::HostBucket for KvHost<'_> {
    fn get(&mut self, bucket: Resource<BucketResource>, key: String) -> KvResult<Option<Vec<u8>>> {
        Ok(Ok(self.bucket(&bucket)?.get(&key)))
    }

    fn set(
        &mut self,
        bucket: Resource<BucketResource>,
        key: String,
        value: Vec<u8>,
    ) -> KvResult<()> {
        self.bucket(&bucket)?.set(&key, value);
        Ok(Ok(()))
    }

    fn delete(&mut self, bucket: Resource<BucketResource>, key: String) -> KvResult<()> {
        self.bucket(&bucket)?.delete(&key);
        Ok(Ok(()))
    }

    fn exists(&mut self, bucket: Resource<BucketResource>, key: String) -> KvResult<bool> {
        Ok(Ok(self.bucket(&bucket)?.get(&key).is_some()))
    }

    fn list_keys(
        &mut self,
        bucket: Resource<BucketResource>,
        cursor: Option<u64>,
    ) -> KvResult<store::KeyResponse> {
        let keys = self.bucket(&bucket)?.keys();
        let start = usize::try_from(cursor.unwrap_or(0)).unwrap_or(usize::MAX);
        let page: Vec<String> = keys.iter().skip(start).take(PAGE).cloned().collect();
        let end = start.saturating_add(page.len());
        let cursor = (end < keys.len()).then_some(end as u64);
        Ok(Ok(store::KeyResponse { keys: page, cursor }))
    }

    fn drop(&mut self, bucket: Resource<BucketResource>) -> wasmtime::Result<()> {
        self.table.delete(bucket)?;
        Ok(())
    }
}

impl atomics::Host for KvHost<'_> {
    fn increment(
        &mut self,
        bucket: Resource<BucketResource>,
        key: String,
        delta: u64,
    ) -> KvResult<u64> {
        Ok(self
            .bucket(&bucket)?
            .increment(&key, delta)
            .map_err(store::Error::Other))
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
        assert!(kv.existing("nope").is_none());
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

    #[test]
    fn list_keys_pages_with_a_cursor() {
        let kv = KeyValue::new();
        let bucket = kv.store(DEFAULT_STORE);
        for i in 0..(PAGE + 5) {
            bucket.set(&format!("k{i:05}"), "x");
        }
        let mut table = ResourceTable::new();
        let mut host = KvHost {
            kv: &kv,
            table: &mut table,
        };
        let handle = store::Host::open(&mut host, DEFAULT_STORE.into())
            .unwrap()
            .unwrap();
        let rep = handle.rep();
        let first = store::HostBucket::list_keys(&mut host, Resource::new_borrow(rep), None)
            .unwrap()
            .unwrap();
        assert_eq!(first.keys.len(), PAGE);
        assert_eq!(first.cursor, Some(PAGE as u64));
        let second =
            store::HostBucket::list_keys(&mut host, Resource::new_borrow(rep), first.cursor)
                .unwrap()
                .unwrap();
        assert_eq!(second.keys.len(), 5);
        assert_eq!(second.cursor, None);
    }
}
