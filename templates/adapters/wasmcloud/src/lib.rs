//! The wasmCloud 1.x adapter: a component composed in front of an unchanged
//! cargo fn function so that wasmCloud 1.x, whose host links
//! `wasi:config/store` only at `0.2.0-draft`, runs a function that imports
//! `wasi:config/store@0.2.0-rc.1` (pre-release versions never link to one
//! another). The two are the same shape: each export calls the import of
//! the same name. Key-value needs no adapter: wasmCloud 1.x links the
//! function's `wasi:keyvalue@0.2.0-draft`.

#![deny(missing_docs)]

mod bindings {
    #![allow(missing_docs, clippy::all)]
    include!(concat!(env!("OUT_DIR"), "/bindings.rs"));
}

use bindings::exports::wasi::config0_2_0_rc_1::store as config_out;
use bindings::wasi::config0_2_0_draft::store as config_in;

struct Adapter;

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
