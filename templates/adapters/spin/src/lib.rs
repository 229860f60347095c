//! The Spin adapter: a component composed in front of an unchanged cargo fn
//! function so that Spin, which implements `wasi:keyvalue@0.2.0-draft2` and
//! `wasi:config@0.2.0-draft-2024-09-27`, runs a function that imports
//! `wasi:keyvalue@0.2.0-draft` and `wasi:config@0.2.0-rc.1` (pre-release
//! versions never link to one another).
//!
//! Each export calls the import of the same name. Two things differ between
//! the key-value versions and are converted here:
//! - `list-keys`: the function's cursor is a number, Spin's a string. Each
//!   bucket keeps the strings Spin handed out and gives the function their
//!   position instead (the adapter lives as long as the function's instance,
//!   one request).
//! - `increment`: unsigned here, signed in Spin. A delta over `i64::MAX`, or a
//!   counter Spin reports below zero, is an error naming why, never a wrap.

#![deny(missing_docs)]

use std::cell::RefCell;

mod bindings {
    #![allow(missing_docs, clippy::all)]
    include!(concat!(env!("OUT_DIR"), "/bindings.rs"));
}

use bindings::exports::wasi::config0_2_0_rc_1::store as config_out;
use bindings::exports::wasi::keyvalue0_2_0_draft::{atomics as atomics_out, store as store_out};
use bindings::wasi::config0_2_0_draft_2024_09_27::store as config_in;
use bindings::wasi::keyvalue0_2_0_draft2::{atomics as atomics_in, store as store_in};

struct Adapter;

fn store_error(e: store_in::Error) -> store_out::Error {
    match e {
        store_in::Error::NoSuchStore => store_out::Error::NoSuchStore,
        store_in::Error::AccessDenied => store_out::Error::AccessDenied,
        store_in::Error::Other(message) => store_out::Error::Other(message),
    }
}

/// A bucket of the function's version around one of Spin's.
pub struct Bucket {
    inner: store_in::Bucket,
    /// The cursors Spin returned, by the number the function was given.
    cursors: RefCell<Vec<String>>,
}

impl store_out::Guest for Adapter {
    type Bucket = Bucket;

    fn open(identifier: String) -> Result<store_out::Bucket, store_out::Error> {
        let inner = store_in::open(&identifier).map_err(store_error)?;
        Ok(store_out::Bucket::new(Bucket {
            inner,
            cursors: RefCell::default(),
        }))
    }
}

impl store_out::GuestBucket for Bucket {
    fn get(&self, key: String) -> Result<Option<Vec<u8>>, store_out::Error> {
        self.inner.get(&key).map_err(store_error)
    }

    fn set(&self, key: String, value: Vec<u8>) -> Result<(), store_out::Error> {
        self.inner.set(&key, &value).map_err(store_error)
    }

    fn delete(&self, key: String) -> Result<(), store_out::Error> {
        self.inner.delete(&key).map_err(store_error)
    }

    fn exists(&self, key: String) -> Result<bool, store_out::Error> {
        self.inner.exists(&key).map_err(store_error)
    }

    fn list_keys(&self, cursor: Option<u64>) -> Result<store_out::KeyResponse, store_out::Error> {
        let cursor = match cursor {
            None => None,
            Some(n) => {
                let cursors = self.cursors.borrow();
                let found = usize::try_from(n)
                    .ok()
                    .and_then(|i| cursors.get(i))
                    .cloned();
                Some(found.ok_or_else(|| {
                    store_out::Error::Other(format!(
                        "list-keys: cursor {n} was not returned by this bucket"
                    ))
                })?)
            }
        };
        let page = self
            .inner
            .list_keys(cursor.as_deref())
            .map_err(store_error)?;
        let cursor = page.cursor.map(|next| {
            let mut cursors = self.cursors.borrow_mut();
            cursors.push(next);
            (cursors.len() - 1) as u64
        });
        Ok(store_out::KeyResponse {
            keys: page.keys,
            cursor,
        })
    }
}

impl atomics_out::Guest for Adapter {
    fn increment(
        bucket: store_out::BucketBorrow<'_>,
        key: String,
        delta: u64,
    ) -> Result<u64, store_out::Error> {
        let bucket: &Bucket = bucket.get();
        let delta = i64::try_from(delta).map_err(|_| {
            store_out::Error::Other(format!(
                "increment of {key:?} by {delta}: Spin's counters are signed 64-bit, the largest step is {}",
                i64::MAX
            ))
        })?;
        let value = atomics_in::increment(&bucket.inner, &key, delta).map_err(store_error)?;
        u64::try_from(value).map_err(|_| {
            store_out::Error::Other(format!(
                "increment of {key:?}: the store holds {value}, below zero, which an unsigned counter cannot return"
            ))
        })
    }
}

fn config_error(e: config_in::Error) -> config_out::Error {
    match e {
        config_in::Error::Upstream(message) => config_out::Error::Upstream(message),
        config_in::Error::Io(message) => config_out::Error::Io(message),
    }
}

impl config_out::Guest for Adapter {
    fn get(key: String) -> Result<Option<String>, config_out::Error> {
        config_in::get(&key).map_err(config_error)
    }

    fn get_all() -> Result<Vec<(String, String)>, config_out::Error> {
        config_in::get_all().map_err(config_error)
    }
}

bindings::export!(Adapter with_types_in bindings);
