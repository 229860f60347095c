//! Other hosts' versions of key-value and config, served from the same
//! stores and config values as the function versions: Spin's
//! `wasi:keyvalue/{store,atomics}@0.2.0-draft2` and
//! `wasi:config/store@0.2.0-draft-2024-09-27`, and wasmCloud 1.x's
//! `wasi:config/store@0.2.0-draft`. A component made for Spin or wasmCloud
//! 1.x (a function composed with an adapter by `cargo fn deploy --provider
//! spin|wasmcloud`, or one built with their SDKs) runs here unchanged, so
//! what those hosts will run can be tested locally.
//!
//! Where the versions differ: the `list-keys` cursor is a string here (the
//! decimal form of the function version's numeric cursor), and `increment`
//! takes a signed delta. Counters stay in the one format of
//! [`fn_wit::keyvalue::counter`] (unsigned decimal text), so a negative
//! delta is refused with an error naming why rather than stored below zero.

pub use super::host::BucketResource;
use super::host::KvHost;
use std::collections::BTreeMap;
use wasmtime::component::{HasData, Linker, Resource};

/// Bindings for the other hosts' versions, generated from the WIT of
/// `fn-wit` (see `build.rs`).
mod bindings {
    include!(concat!(env!("OUT_DIR"), "/host_bindings.rs"));
}

use bindings::wasi::config0_2_0_draft::store as wasmcloud_config;
use bindings::wasi::config0_2_0_draft_2024_09_27::store as config;
use bindings::wasi::keyvalue0_2_0_draft2::{atomics, store};

struct HasKv;

impl HasData for HasKv {
    type Data<'a> = KvHost<'a>;
}

/// The config values a call sees, for the other hosts' `wasi:config/store`.
pub(crate) struct HostConfig<'a>(pub(crate) &'a BTreeMap<String, String>);

struct HasConfig;

impl HasData for HasConfig {
    type Data<'a> = HostConfig<'a>;
}

/// Adds the other hosts' key-value and config versions to `linker`.
pub(crate) fn add_to_linker<T: Send + 'static>(
    linker: &mut Linker<T>,
    kv: fn(&mut T) -> KvHost<'_>,
    config: fn(&mut T) -> HostConfig<'_>,
) -> wasmtime::Result<()> {
    store::add_to_linker::<T, HasKv>(linker, kv)?;
    atomics::add_to_linker::<T, HasKv>(linker, kv)?;
    config::add_to_linker::<T, HasConfig>(linker, config)?;
    wasmcloud_config::add_to_linker::<T, HasConfig>(linker, config)?;
    Ok(())
}

type KvResult<T> = wasmtime::Result<Result<T, store::Error>>;

impl store::Host for KvHost<'_> {
    async fn open(&mut self, identifier: String) -> KvResult<Resource<BucketResource>> {
        match super::host::open(self.kv, self.tape, &identifier) {
            Some(bucket) => Ok(Ok(self.table.push(bucket)?)),
            None => Ok(Err(store::Error::NoSuchStore)),
        }
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
        cursor: Option<String>,
    ) -> KvResult<store::KeyResponse> {
        let cursor = match cursor.as_deref().map(str::parse::<u64>) {
            None => None,
            Some(Ok(n)) => Some(n),
            Some(Err(_)) => {
                return Ok(Err(store::Error::Other(format!(
                    "list-keys: {:?} is not a cursor this host handed out",
                    cursor.unwrap_or_default()
                ))));
            }
        };
        Ok(self
            .bucket(&bucket)?
            .list_keys(cursor)
            .await
            .map(|(keys, cursor)| store::KeyResponse {
                keys,
                cursor: cursor.map(|c| c.to_string()),
            })
            .map_err(store::Error::Other))
    }

    async fn drop(&mut self, bucket: Resource<BucketResource>) -> wasmtime::Result<()> {
        self.table.delete(bucket)?;
        Ok(())
    }
}

impl atomics::Host for KvHost<'_> {
    async fn increment(
        &mut self,
        bucket: Resource<BucketResource>,
        key: String,
        delta: i64,
    ) -> KvResult<i64> {
        let Ok(delta) = u64::try_from(delta) else {
            return Ok(Err(store::Error::Other(format!(
                "incrementing `{key}` by {delta}: counters here are unsigned decimal text, \
                 so negative deltas are refused"
            ))));
        };
        let result = self.bucket(&bucket)?.increment(&key, delta).await;
        Ok(result
            .and_then(|value| {
                i64::try_from(value).map_err(|_| {
                    format!("`{key}` is {value}, more than a signed 64-bit counter holds")
                })
            })
            .map_err(store::Error::Other))
    }
}

impl HostConfig<'_> {
    fn get(&self, key: &str) -> Option<String> {
        self.0.get(key).cloned()
    }

    fn all(&self) -> Vec<(String, String)> {
        self.0.iter().map(|(k, v)| (k.clone(), v.clone())).collect()
    }
}

impl config::Host for HostConfig<'_> {
    async fn get(
        &mut self,
        key: String,
    ) -> wasmtime::Result<Result<Option<String>, config::Error>> {
        Ok(Ok(HostConfig::get(self, &key)))
    }

    async fn get_all(&mut self) -> wasmtime::Result<Result<Vec<(String, String)>, config::Error>> {
        Ok(Ok(self.all()))
    }
}

impl wasmcloud_config::Host for HostConfig<'_> {
    async fn get(
        &mut self,
        key: String,
    ) -> wasmtime::Result<Result<Option<String>, wasmcloud_config::Error>> {
        Ok(Ok(HostConfig::get(self, &key)))
    }

    async fn get_all(
        &mut self,
    ) -> wasmtime::Result<Result<Vec<(String, String)>, wasmcloud_config::Error>> {
        Ok(Ok(self.all()))
    }
}
