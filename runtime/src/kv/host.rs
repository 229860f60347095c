//! The guest's side of key-value: the generated `wasi:keyvalue` host traits,
//! implemented over either backend of [`KeyValue`].
//!
//! The bindings are async (`build.rs`): a Redis round trip suspends the
//! guest's fiber instead of blocking a tokio worker. In memory, every
//! future is ready on its first poll.

use super::redis::RedisBucket;
use super::{Backend, KeyValue, PAGE, Store, lock};
use crate::recording::tape::Tape;
use crate::recording::{Body, Event, KvCall, KvResult as Recorded};
use std::sync::Arc;
use wasmtime::component::{HasData, Linker, Resource, ResourceTable};

/// Bindings for `wasi:keyvalue/{store,atomics}@0.2.0-draft`, generated from
/// the function WIT of `fn-wit` (see `build.rs`).
mod bindings {
    include!(concat!(env!("OUT_DIR"), "/kv_bindings.rs"));
}

use bindings::wasi::keyvalue::{atomics, store};

/// The host-side value behind a guest's `bucket` handle: an open store,
/// and the call's tape when the call is recorded or replayed.
pub struct BucketResource {
    /// `None` when a replay answers instead of the store.
    backend: Option<Bucket>,
    taped: Option<Taped>,
}

/// The tape of a recorded or replayed call, and the store's name its
/// events carry.
struct Taped {
    tape: Arc<Tape>,
    store: String,
}

enum Bucket {
    /// An in-memory [`Store`].
    Memory(Store),
    /// A store in Redis.
    Redis(RedisBucket),
}

/// The view the generated host traits are implemented for.
pub(crate) struct KvHost<'a> {
    pub(crate) kv: &'a KeyValue,
    pub(crate) table: &'a mut ResourceTable,
    pub(crate) tape: Option<&'a Arc<Tape>>,
}

struct HasKv;

impl HasData for HasKv {
    type Data<'a> = KvHost<'a>;
}

/// Adds `wasi:keyvalue/store` and `wasi:keyvalue/atomics` to `linker`.
pub(crate) fn add_to_linker<T: Send + 'static>(
    linker: &mut Linker<T>,
    get: fn(&mut T) -> KvHost<'_>,
) -> wasmtime::Result<()> {
    store::add_to_linker::<T, HasKv>(linker, get)?;
    atomics::add_to_linker::<T, HasKv>(linker, get)?;
    Ok(())
}

type KvResult<T> = wasmtime::Result<Result<T, store::Error>>;

impl KvHost<'_> {
    pub(crate) fn bucket(
        &self,
        handle: &Resource<BucketResource>,
    ) -> wasmtime::Result<&BucketResource> {
        Ok(self.table.get(handle)?)
    }
}

/// The store a guest opens as `name`, if it exists (as recorded, when
/// replaying).
pub(crate) fn open(kv: &KeyValue, tape: Option<&Arc<Tape>>, name: &str) -> Option<BucketResource> {
    let Some(tape) = tape else {
        return kv.open(name).map(|backend| BucketResource {
            backend: Some(backend),
            taped: None,
        });
    };
    let call = KvCall::Open {
        store: name.to_owned(),
    };
    let backend = if tape.is_replay() {
        match tape.replay_kv(call) {
            Recorded::Ok => None,
            _ => return None,
        }
    } else {
        let found = kv.open(name);
        let result = match found {
            Some(_) => Recorded::Ok,
            None => Recorded::NoSuchStore,
        };
        tape.push(Event::Kv { call, result });
        Some(found?)
    };
    Some(BucketResource {
        backend,
        taped: Some(Taped {
            tape: tape.clone(),
            store: name.to_owned(),
        }),
    })
}

impl KeyValue {
    /// The store a guest opens as `name`, if it exists.
    fn open(&self, name: &str) -> Option<Bucket> {
        match &self.backend {
            Backend::Memory(stores) => lock(stores).get(name).map(|entries| {
                Bucket::Memory(Store {
                    entries: entries.clone(),
                })
            }),
            Backend::Redis(redis) => redis.open(name).map(Bucket::Redis),
        }
    }
}

impl store::Host for KvHost<'_> {
    async fn open(&mut self, identifier: String) -> KvResult<Resource<BucketResource>> {
        match open(self.kv, self.tape, &identifier) {
            Some(bucket) => Ok(Ok(self.table.push(bucket)?)),
            None => Ok(Err(store::Error::NoSuchStore)),
        }
    }
}

const NOT_OPEN: &str = "the store was not open when the call was recorded";

impl BucketResource {
    /// Runs `live` on the store, recording it, or answers from the
    /// recording; `call` describes the call for the tape (given the store's
    /// name), `to`/`from` convert the answer to and from its recorded form.
    async fn taped<T, F>(
        &self,
        call: impl FnOnce(String) -> KvCall,
        live: Option<F>,
        to: impl FnOnce(&T) -> Recorded,
        from: impl FnOnce(Recorded) -> Option<T>,
    ) -> Result<T, String>
    where
        F: Future<Output = Result<T, String>>,
    {
        let Some(Taped { tape, store }) = &self.taped else {
            return match live {
                Some(live) => live.await,
                None => Err(NOT_OPEN.into()),
            };
        };
        let call = call(store.clone());
        match live {
            Some(live) if !tape.is_replay() => {
                let result = live.await;
                let recorded = match &result {
                    Ok(value) => to(value),
                    Err(err) => Recorded::Error(err.clone()),
                };
                tape.push(Event::Kv {
                    call,
                    result: recorded,
                });
                result
            }
            _ => match tape.replay_kv(call) {
                Recorded::Error(err) => Err(err),
                other => from(other).ok_or_else(|| {
                    "replay: the recorded answer does not fit this key-value call".to_owned()
                }),
            },
        }
    }

    pub(crate) async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, String> {
        self.taped(
            |store| KvCall::Get {
                store,
                key: key.to_owned(),
            },
            self.backend.as_ref().map(|backend| async move {
                match backend {
                    Bucket::Memory(store) => Ok(store.get(key)),
                    Bucket::Redis(redis) => redis.get(key).await,
                }
            }),
            |value| Recorded::Value(value.as_deref().map(Body::new)),
            |recorded| match recorded {
                Recorded::Value(None) => Some(None),
                Recorded::Value(Some(body)) => body.bytes().ok().map(|b| Some(b.to_vec())),
                _ => None,
            },
        )
        .await
    }

    pub(crate) async fn set(&self, key: &str, value: Vec<u8>) -> Result<(), String> {
        let body = self.taped.as_ref().map(|_| Body::new(&value));
        self.taped(
            |store| KvCall::Set {
                store,
                key: key.to_owned(),
                value: body.unwrap_or_else(|| Body::new(&[])),
            },
            self.backend.as_ref().map(|backend| async move {
                match backend {
                    Bucket::Memory(store) => {
                        store.set(key, value);
                        Ok(())
                    }
                    Bucket::Redis(redis) => redis.set(key, &value).await,
                }
            }),
            |()| Recorded::Ok,
            |recorded| matches!(recorded, Recorded::Ok).then_some(()),
        )
        .await
    }

    pub(crate) async fn delete(&self, key: &str) -> Result<(), String> {
        self.taped(
            |store| KvCall::Delete {
                store,
                key: key.to_owned(),
            },
            self.backend.as_ref().map(|backend| async move {
                match backend {
                    Bucket::Memory(store) => {
                        store.delete(key);
                        Ok(())
                    }
                    Bucket::Redis(redis) => redis.delete(key).await,
                }
            }),
            |()| Recorded::Ok,
            |recorded| matches!(recorded, Recorded::Ok).then_some(()),
        )
        .await
    }

    pub(crate) async fn exists(&self, key: &str) -> Result<bool, String> {
        self.taped(
            |store| KvCall::Exists {
                store,
                key: key.to_owned(),
            },
            self.backend.as_ref().map(|backend| async move {
                match backend {
                    Bucket::Memory(store) => Ok(store.get(key).is_some()),
                    Bucket::Redis(redis) => redis.exists(key).await,
                }
            }),
            |exists| Recorded::Exists(*exists),
            |recorded| match recorded {
                Recorded::Exists(exists) => Some(exists),
                _ => None,
            },
        )
        .await
    }

    /// One page of keys from `cursor` (where the previous page ended), and
    /// the cursor of the next page.
    pub(crate) async fn list_keys(
        &self,
        cursor: Option<u64>,
    ) -> Result<(Vec<String>, Option<u64>), String> {
        self.taped(
            |store| KvCall::ListKeys { store, cursor },
            self.backend.as_ref().map(|backend| async move {
                match backend {
                    Bucket::Memory(store) => Ok(memory_page(store, cursor)),
                    Bucket::Redis(redis) => redis.list_keys(cursor).await,
                }
            }),
            |(keys, cursor)| Recorded::Keys {
                keys: keys.clone(),
                cursor: *cursor,
            },
            |recorded| match recorded {
                Recorded::Keys { keys, cursor } => Some((keys, cursor)),
                _ => None,
            },
        )
        .await
    }

    pub(crate) async fn increment(&self, key: &str, delta: u64) -> Result<u64, String> {
        self.taped(
            |store| KvCall::Increment {
                store,
                key: key.to_owned(),
                delta,
            },
            self.backend.as_ref().map(|backend| async move {
                match backend {
                    Bucket::Memory(store) => store.increment(key, delta),
                    Bucket::Redis(redis) => redis.increment(key, delta).await,
                }
            }),
            |value| Recorded::Count(*value),
            |recorded| match recorded {
                Recorded::Count(value) => Some(value),
                _ => None,
            },
        )
        .await
    }
}

impl store::HostBucket for KvHost<'_> {
    async fn get(
        &mut self,
        bucket: Resource<BucketResource>,
        key: String,
    ) -> KvResult<Option<Vec<u8>>> {
        Ok(self
            .bucket(&bucket)?
            .get(&key)
            .await
            .map_err(store::Error::Other))
    }

    async fn set(
        &mut self,
        bucket: Resource<BucketResource>,
        key: String,
        value: Vec<u8>,
    ) -> KvResult<()> {
        Ok(self
            .bucket(&bucket)?
            .set(&key, value)
            .await
            .map_err(store::Error::Other))
    }

    async fn delete(&mut self, bucket: Resource<BucketResource>, key: String) -> KvResult<()> {
        Ok(self
            .bucket(&bucket)?
            .delete(&key)
            .await
            .map_err(store::Error::Other))
    }

    async fn exists(&mut self, bucket: Resource<BucketResource>, key: String) -> KvResult<bool> {
        Ok(self
            .bucket(&bucket)?
            .exists(&key)
            .await
            .map_err(store::Error::Other))
    }

    async fn list_keys(
        &mut self,
        bucket: Resource<BucketResource>,
        cursor: Option<u64>,
    ) -> KvResult<store::KeyResponse> {
        Ok(self
            .bucket(&bucket)?
            .list_keys(cursor)
            .await
            .map(|(keys, cursor)| store::KeyResponse { keys, cursor })
            .map_err(store::Error::Other))
    }

    async fn drop(&mut self, bucket: Resource<BucketResource>) -> wasmtime::Result<()> {
        self.table.delete(bucket)?;
        Ok(())
    }
}

/// The page of an in-memory store's sorted keys that starts at `cursor`
/// (an index), and the cursor of the next page.
fn memory_page(store: &Store, cursor: Option<u64>) -> (Vec<String>, Option<u64>) {
    let keys = store.keys();
    let start = usize::try_from(cursor.unwrap_or(0)).unwrap_or(usize::MAX);
    let page: Vec<String> = keys.iter().skip(start).take(PAGE).cloned().collect();
    let end = start.saturating_add(page.len());
    let cursor = (end < keys.len()).then_some(end as u64);
    (page, cursor)
}

impl atomics::Host for KvHost<'_> {
    async fn increment(
        &mut self,
        bucket: Resource<BucketResource>,
        key: String,
        delta: u64,
    ) -> KvResult<u64> {
        Ok(self
            .bucket(&bucket)?
            .increment(&key, delta)
            .await
            .map_err(store::Error::Other))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kv::DEFAULT_STORE;

    #[tokio::test]
    async fn list_keys_pages_with_a_cursor() {
        let kv = KeyValue::new();
        let bucket = kv.store(DEFAULT_STORE);
        for i in 0..(PAGE + 5) {
            bucket.set(&format!("k{i:05}"), "x");
        }
        let mut table = ResourceTable::new();
        let mut host = KvHost {
            kv: &kv,
            table: &mut table,
            tape: None,
        };
        let handle = store::Host::open(&mut host, DEFAULT_STORE.into())
            .await
            .unwrap()
            .unwrap();
        let rep = handle.rep();
        let first = store::HostBucket::list_keys(&mut host, Resource::new_borrow(rep), None)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(first.keys.len(), PAGE);
        assert_eq!(first.cursor, Some(PAGE as u64));
        let second =
            store::HostBucket::list_keys(&mut host, Resource::new_borrow(rep), first.cursor)
                .await
                .unwrap()
                .unwrap();
        assert_eq!(second.keys.len(), 5);
        assert_eq!(second.cursor, None);
    }

    #[tokio::test]
    async fn only_existing_stores_open() {
        let kv = KeyValue::new();
        let mut table = ResourceTable::new();
        let mut host = KvHost {
            kv: &kv,
            table: &mut table,
            tape: None,
        };
        let refused = store::Host::open(&mut host, "orders".into()).await.unwrap();
        assert!(matches!(refused, Err(store::Error::NoSuchStore)));
        kv.store("orders");
        let opened = store::Host::open(&mut host, "orders".into()).await.unwrap();
        assert!(opened.is_ok());
    }
}
