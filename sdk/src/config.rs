//! Configuration and secrets (`wasi:config/store`, `0.2.0-rc.1`).
//!
//! The host supplies key/value configuration (`cargo fn serve --config k=v`,
//! `wasmtime serve -S config -S config-var=k=v`, a provider's settings).
//! Secrets such as API keys come the same way; never bake them into the
//! component.
//!
//! ```
//! # fnsdk::testing::set_config("payment_api_key", "sk_test");
//! let key = fnsdk::config::require("payment_api_key")?;
//! # assert_eq!(key, "sk_test");
//! # Ok::<(), fnsdk::config::Error>(())
//! ```

/// A configuration error.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A required key is not set.
    #[error("configuration key {0:?} is not set; provide it in the host's configuration")]
    Missing(String),
    /// The host failed to read its configuration.
    #[error("configuration store error: {0}")]
    Store(String),
}

/// The value of `key`, if set.
pub fn get(key: &str) -> Result<Option<String>, Error> {
    imp::get(key)
}

/// The value of `key`, or [`Error::Missing`] (which a handler's `?` turns
/// into a 500 with the key name in the log).
pub fn require(key: &str) -> Result<String, Error> {
    get(key)?.ok_or_else(|| Error::Missing(key.to_owned()))
}

/// All configuration pairs.
pub fn get_all() -> Result<Vec<(String, String)>, Error> {
    imp::get_all()
}

#[cfg(target_arch = "wasm32")]
use crate::wasm::config as imp;

#[cfg(not(target_arch = "wasm32"))]
use crate::testing::config as imp;
