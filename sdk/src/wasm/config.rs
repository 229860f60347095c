//! `wasi:config/store` behind [`crate::config`].

use super::bindings::wasi::config::store;
use crate::config::Error;

fn convert(e: store::Error) -> Error {
    match e {
        store::Error::Upstream(msg) | store::Error::Io(msg) => Error::Store(msg),
    }
}

pub(crate) fn get(key: &str) -> Result<Option<String>, Error> {
    store::get(key).map_err(convert)
}

pub(crate) fn get_all() -> Result<Vec<(String, String)>, Error> {
    store::get_all().map_err(convert)
}
