//! Key-value storage (`wasi:keyvalue/store` and `atomics`, `0.2.0-draft`).
//!
//! ```
//! use fnsdk::kv::Store;
//!
//! # fn main() -> Result<(), fnsdk::kv::Error> {
//! let store = Store::open_default()?;
//! store.set("greeting", b"hello")?;
//! assert_eq!(store.get("greeting")?.as_deref(), Some(&b"hello"[..]));
//! assert_eq!(store.increment("visits", 1)?, 1);
//! # Ok(()) }
//! ```
//!
//! Natively (in `cargo test`) each thread has its own in-memory stores, so
//! tests do not see each other's data; see [`testing`](crate::testing).

use serde::{Serialize, de::DeserializeOwned};

/// The name of the default store ([`Store::open_default`]), the one the
/// runtime and `fn-host-test` create for every function.
pub use fn_wit::keyvalue::DEFAULT_STORE;

/// A key-value error.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The host has no store of that name.
    #[error("no key-value store named {0:?}; check the host's key-value configuration")]
    NoSuchStore(String),
    /// The host denied access to the store.
    #[error("access to the key-value store was denied")]
    AccessDenied,
    /// A stored value is not valid JSON for the requested type.
    #[error("value of key {key:?} is not valid JSON for the requested type: {reason}")]
    Decode {
        /// The key.
        key: String,
        /// The serde error.
        reason: String,
    },
    /// A value is not valid for an atomic increment.
    #[error("value of key {0:?} is not a counter")]
    NotACounter(String),
    /// Any other failure reported by the host.
    #[error("key-value store error: {0}")]
    Other(String),
}

/// An open key-value store (a "bucket").
#[derive(Debug)]
pub struct Store {
    inner: imp::Bucket,
}

impl Store {
    /// Opens the store named `name`. Prefer [`Store::open_default`] for the
    /// host's default store: hosts do not agree on its name.
    pub fn open(name: &str) -> Result<Self, Error> {
        Ok(Self {
            inner: imp::Bucket::open(name)?,
        })
    }

    /// Opens the host's default store: the one named [`DEFAULT_STORE`]
    /// (Spin, wasmCloud, `cargo fn serve`, fn-host-test), or, on a host that
    /// has none by that name, the one named `""` (`wasmtime serve
    /// -S keyvalue`, whose only store has the empty name).
    pub fn open_default() -> Result<Self, Error> {
        match Self::open(DEFAULT_STORE) {
            Err(Error::NoSuchStore(_)) => Self::open(""),
            other => other,
        }
    }

    /// The value of `key`, if present.
    pub fn get(&self, key: &str) -> Result<Option<Vec<u8>>, Error> {
        self.inner.get(key)
    }

    /// Sets `key` to `value`.
    pub fn set(&self, key: &str, value: &[u8]) -> Result<(), Error> {
        self.inner.set(key, value)
    }

    /// Deletes `key`; deleting a missing key is not an error.
    pub fn delete(&self, key: &str) -> Result<(), Error> {
        self.inner.delete(key)
    }

    /// Whether `key` is present.
    pub fn exists(&self, key: &str) -> Result<bool, Error> {
        self.inner.exists(key)
    }

    /// All keys of the store, following the host's pagination.
    pub fn keys(&self) -> Result<Vec<String>, Error> {
        let mut keys = Vec::new();
        let mut cursor = None;
        loop {
            let (page, next) = self.inner.list_keys(cursor)?;
            keys.extend(page);
            match next {
                Some(c) if Some(c) != cursor => cursor = Some(c),
                _ => return Ok(keys),
            }
        }
    }

    /// Atomically adds `delta` to the counter at `key` (created at 0) and
    /// returns the new value. A counter is stored as decimal digits and
    /// nothing else (no sign, no white space): the format every host uses,
    /// natively in tests too.
    pub fn increment(&self, key: &str, delta: u64) -> Result<u64, Error> {
        self.inner.increment(key, delta)
    }

    /// The current value of the counter at `key` (0 when absent), without
    /// changing it: what [`Store::increment`] would add to.
    pub fn counter(&self, key: &str) -> Result<u64, Error> {
        let Some(bytes) = self.get(key)? else {
            return Ok(0);
        };
        fn_wit::keyvalue::counter::parse(&bytes).ok_or_else(|| Error::NotACounter(key.to_owned()))
    }

    /// The value of `key` deserialised from JSON.
    pub fn get_json<T: DeserializeOwned>(&self, key: &str) -> Result<Option<T>, Error> {
        match self.get(key)? {
            None => Ok(None),
            Some(bytes) => serde_json::from_slice(&bytes)
                .map(Some)
                .map_err(|e| Error::Decode {
                    key: key.to_owned(),
                    reason: e.to_string(),
                }),
        }
    }

    /// Sets `key` to `value` serialised as JSON.
    pub fn set_json<T: Serialize + ?Sized>(&self, key: &str, value: &T) -> Result<(), Error> {
        let bytes = serde_json::to_vec(value).map_err(|e| Error::Other(e.to_string()))?;
        self.set(key, &bytes)
    }
}

#[cfg(target_arch = "wasm32")]
use crate::wasm::kv as imp;

#[cfg(not(target_arch = "wasm32"))]
use crate::testing::kv as imp;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crud_list_and_counters() {
        let s = Store::open("default").unwrap();
        assert_eq!(s.get("a").unwrap(), None);
        s.set("a", b"1").unwrap();
        s.set_json("b", &vec![1, 2]).unwrap();
        assert!(s.exists("a").unwrap());
        assert_eq!(s.get_json::<Vec<u32>>("b").unwrap(), Some(vec![1, 2]));
        assert_eq!(s.keys().unwrap(), vec!["a".to_string(), "b".into()]);
        s.delete("a").unwrap();
        assert!(!s.exists("a").unwrap());
        assert_eq!(s.increment("n", 5).unwrap(), 5);
        assert_eq!(s.increment("n", 2).unwrap(), 7);
        assert!(matches!(s.get_json::<u32>("b"), Err(Error::Decode { .. })));
        assert!(matches!(s.increment("b", 1), Err(Error::NotACounter(_))));
        assert!(matches!(s.counter("b"), Err(Error::NotACounter(_))));
        assert_eq!(s.counter("absent").unwrap(), 0);
    }

    #[test]
    fn counters_are_plain_decimal_digits_as_on_every_host() {
        let s = Store::open_default().unwrap();
        s.set("n", b"41").unwrap();
        assert_eq!(s.counter("n").unwrap(), 41);
        assert_eq!(s.increment("n", 1).unwrap(), 42);
        assert_eq!(s.get("n").unwrap().as_deref(), Some(&b"42"[..]));
        for bad in [&b" 5"[..], b"5\n", b"+5"] {
            s.set("bad", bad).unwrap();
            assert!(matches!(s.counter("bad"), Err(Error::NotACounter(_))));
            assert!(matches!(s.increment("bad", 1), Err(Error::NotACounter(_))));
        }
        s.set("max", u64::MAX.to_string().as_bytes()).unwrap();
        assert!(matches!(s.increment("max", 1), Err(Error::Other(_))));
    }
}
