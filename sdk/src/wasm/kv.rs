//! `wasi:keyvalue` behind [`crate::kv::Store`].

use super::bindings::wasi::keyvalue::{atomics, store};
use crate::kv::Error;

use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;

pub(crate) struct Bucket {
    name: String,
    inner: Rc<store::Bucket>,
}

thread_local! {
    /// Buckets opened by this instance, by name. Opening a store once per
    /// instance gives every `Store::open` of a request the same handle:
    /// hosts such as `wasmtime serve` give each handle its own copy of the
    /// data, so a write through one handle would be invisible to another.
    static OPEN: RefCell<HashMap<String, Rc<store::Bucket>>> = RefCell::new(HashMap::new());
}

impl std::fmt::Debug for Bucket {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Bucket").field("name", &self.name).finish()
    }
}

fn convert(name: &str, e: store::Error) -> Error {
    match e {
        store::Error::NoSuchStore => Error::NoSuchStore(name.to_owned()),
        store::Error::AccessDenied => Error::AccessDenied,
        store::Error::Other(msg) => Error::Other(msg),
    }
}

impl Bucket {
    pub(crate) fn open(name: &str) -> Result<Self, Error> {
        let cached = OPEN.with_borrow(|open| open.get(name).cloned());
        let inner = match cached {
            Some(inner) => inner,
            None => {
                let inner = Rc::new(store::open(name).map_err(|e| convert(name, e))?);
                OPEN.with_borrow_mut(|open| open.insert(name.to_owned(), inner.clone()));
                inner
            }
        };
        Ok(Self {
            name: name.to_owned(),
            inner,
        })
    }

    pub(crate) fn get(&self, key: &str) -> Result<Option<Vec<u8>>, Error> {
        self.inner.get(key).map_err(|e| convert(&self.name, e))
    }

    pub(crate) fn set(&self, key: &str, value: &[u8]) -> Result<(), Error> {
        self.inner
            .set(key, value)
            .map_err(|e| convert(&self.name, e))
    }

    pub(crate) fn delete(&self, key: &str) -> Result<(), Error> {
        self.inner.delete(key).map_err(|e| convert(&self.name, e))
    }

    pub(crate) fn exists(&self, key: &str) -> Result<bool, Error> {
        self.inner.exists(key).map_err(|e| convert(&self.name, e))
    }

    pub(crate) fn list_keys(
        &self,
        cursor: Option<u64>,
    ) -> Result<(Vec<String>, Option<u64>), Error> {
        let page = self
            .inner
            .list_keys(cursor)
            .map_err(|e| convert(&self.name, e))?;
        Ok((page.keys, page.cursor))
    }

    pub(crate) fn increment(&self, key: &str, delta: u64) -> Result<u64, Error> {
        atomics::increment(&self.inner, key, delta).map_err(|e| convert(&self.name, e))
    }
}
