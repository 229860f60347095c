//! Configuration and secrets (`wasi:config/store`, `0.2.0-rc.1`).
//!
//! The host supplies key/value configuration (`cargo fn serve --config k=v`,
//! `wasmtime serve -S config -S config-var=k=v`, a provider's settings).
//! Secrets such as API keys come the same way; never bake them into the
//! component.
//!
//! Declare the keys a function reads once, in code, with [`config!`]
//! (crate::config!): each becomes a [`Key`] constant, and the declarations
//! travel in the component (a `fn-config` custom section), where `cargo fn
//! build` checks them against `[package.metadata.fn.config]`, the table
//! deployments are generated from. A key, default or secret flag that
//! disagrees fails the build, naming the line to write.
//!
//! ```
//! fnsdk::config! {
//!     /// The payment provider's API key.
//!     pub PAYMENT_API_KEY: secret "payment_api_key";
//!     /// Where charges go.
//!     pub PAYMENT_API_URL: "payment_api_url" = "https://api.stripe.com";
//!     pub MAX_ITEMS: "max_items" = "100";
//! }
//!
//! # fnsdk::testing::set_config("payment_api_key", "sk_test");
//! let key = PAYMENT_API_KEY.get()?;            // required: an error if unset
//! let url = PAYMENT_API_URL.get()?;            // the default if unset
//! let max: u32 = MAX_ITEMS.parse()?;           // parsed, an error naming the key if not
//! # assert_eq!((key.as_str(), url.as_str(), max), ("sk_test", "https://api.stripe.com", 100));
//! # Ok::<(), fnsdk::config::Error>(())
//! ```
//!
//! Undeclared keys can still be read with [`get`] and [`require`].

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
    /// A value is set but is not what the function needs.
    #[error("configuration key {key:?} is {value:?}: {reason}")]
    Invalid {
        /// The key.
        key: String,
        /// Its value.
        value: String,
        /// Why it is refused.
        reason: String,
    },
}

/// A configuration key declared with [`config!`](crate::config!): its name,
/// its default, whether it is a secret.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Key {
    name: &'static str,
    default: Option<&'static str>,
    secret: bool,
}

impl Key {
    #[doc(hidden)]
    pub const fn __new(name: &'static str, default: Option<&'static str>, secret: bool) -> Self {
        Self {
            name,
            default,
            secret,
        }
    }

    /// The key's name.
    pub const fn name(&self) -> &'static str {
        self.name
    }

    /// The default, if declared.
    pub const fn default_value(&self) -> Option<&'static str> {
        self.default
    }

    /// Whether it is a secret.
    pub const fn is_secret(&self) -> bool {
        self.secret
    }

    /// The value, else the default; [`Error::Missing`] when neither.
    pub fn get(&self) -> Result<String, Error> {
        self.get_opt()?
            .ok_or_else(|| Error::Missing(self.name.to_owned()))
    }

    /// The value, else the default, else `None`.
    pub fn get_opt(&self) -> Result<Option<String>, Error> {
        Ok(get(self.name)?.or_else(|| self.default.map(str::to_owned)))
    }

    /// The value (else the default) parsed as `T`; [`Error::Invalid`]
    /// naming the key when it does not parse.
    pub fn parse<T>(&self) -> Result<T, Error>
    where
        T: std::str::FromStr,
        T::Err: std::fmt::Display,
    {
        let value = self.get()?;
        value.trim().parse().map_err(|e: T::Err| Error::Invalid {
            key: self.name.to_owned(),
            value: if self.secret {
                "(secret)".to_owned()
            } else {
                value.clone()
            },
            reason: e.to_string(),
        })
    }
}

/// Separates the fields of one declaration record.
#[doc(hidden)]
pub const __FIELD: u8 = 0x1f;
/// Ends one declaration record.
#[doc(hidden)]
pub const __RECORD: u8 = 0x1e;

/// The length of [`__record`]'s output.
#[doc(hidden)]
pub const fn __record_len(key: &str, default: Option<&str>) -> usize {
    let default = match default {
        Some(d) => d.len(),
        None => 0,
    };
    1 + key.len() + 1 + default + 1
}

/// One declaration as the build reads it: a flag (`S` secret, `D` with a
/// default, `R` required), the key, the default, each field ended by 0x1f
/// and the record by 0x1e.
#[doc(hidden)]
pub const fn __record<const N: usize>(key: &str, default: Option<&str>, secret: bool) -> [u8; N] {
    let mut out = [0u8; N];
    out[0] = match (secret, default) {
        (true, _) => b'S',
        (false, Some(_)) => b'D',
        (false, None) => b'R',
    };
    let key = key.as_bytes();
    let mut i = 0;
    while i < key.len() {
        out[1 + i] = key[i];
        i += 1;
    }
    out[1 + key.len()] = __FIELD;
    let mut at = 2 + key.len();
    if let Some(default) = default {
        let default = default.as_bytes();
        let mut j = 0;
        while j < default.len() {
            out[at] = default[j];
            at += 1;
            j += 1;
        }
    }
    out[at] = __RECORD;
    out
}

/// Declares configuration keys once, in code: each line makes a [`Key`]
/// constant and records the declaration in the component for `cargo fn
/// build` to check against `[package.metadata.fn.config]`.
///
/// ```
/// fnsdk::config! {
///     pub API_KEY: secret "api_key";          // a secret: no default, ever
///     pub API_URL: "api_url" = "https://api.example.com";
///     REGION: "region";                        // required
/// }
/// ```
#[macro_export]
macro_rules! config {
    () => {};
    ($(#[$meta:meta])* $vis:vis $name:ident : secret $key:literal ; $($rest:tt)*) => {
        $crate::__config_key!($(#[$meta])* $vis $name, $key, ::core::option::Option::None, true);
        $crate::config!($($rest)*);
    };
    ($(#[$meta:meta])* $vis:vis $name:ident : $key:literal = $default:literal ; $($rest:tt)*) => {
        $crate::__config_key!($(#[$meta])* $vis $name, $key, ::core::option::Option::Some($default), false);
        $crate::config!($($rest)*);
    };
    ($(#[$meta:meta])* $vis:vis $name:ident : $key:literal ; $($rest:tt)*) => {
        $crate::__config_key!($(#[$meta])* $vis $name, $key, ::core::option::Option::None, false);
        $crate::config!($($rest)*);
    };
}

#[doc(hidden)]
#[macro_export]
macro_rules! __config_key {
    ($(#[$meta:meta])* $vis:vis $name:ident, $key:literal, $default:expr, $secret:literal) => {
        $(#[$meta])*
        $vis const $name: $crate::config::Key = $crate::config::Key::__new($key, $default, $secret);
        #[cfg(target_arch = "wasm32")]
        const _: () = {
            const LEN: usize = $crate::config::__record_len($key, $default);
            #[used]
            #[unsafe(link_section = "fn-config")]
            static RECORD: [u8; LEN] = $crate::config::__record::<LEN>($key, $default, $secret);
        };
    };
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

#[cfg(test)]
mod tests {
    use super::*;

    crate::config! {
        /// A secret.
        pub SECRET: secret "api_key";
        URL: "api_url" = "https://a.example";
        COUNT: "count" = "5";
        REQUIRED: "region";
    }

    #[test]
    fn keys_read_their_value_or_default_and_parse() {
        assert_eq!(URL.get().unwrap(), "https://a.example");
        crate::testing::set_config("api_url", "https://b.example");
        assert_eq!(URL.get().unwrap(), "https://b.example");
        assert!(matches!(REQUIRED.get(), Err(Error::Missing(k)) if k == "region"));
        assert_eq!(REQUIRED.get_opt().unwrap(), None);
        assert_eq!(COUNT.parse::<u32>().unwrap(), 5);
        crate::testing::set_config("count", "many");
        let err = COUNT.parse::<u32>().unwrap_err().to_string();
        assert!(err.contains("\"count\" is \"many\""), "{err}");
        crate::testing::set_config("api_key", "not-a-number");
        let err = SECRET.parse::<u32>().unwrap_err().to_string();
        assert!(
            !err.contains("not-a-number"),
            "a secret's value leaked: {err}"
        );
        assert!(SECRET.is_secret() && SECRET.default_value().is_none());
    }

    #[test]
    fn records_are_what_the_build_reads() {
        const N: usize = __record_len("k", Some("v"));
        assert_eq!(&__record::<N>("k", Some("v"), false), b"Dk\x1fv\x1e");
        const M: usize = __record_len("s", None);
        assert_eq!(&__record::<M>("s", None, true), b"Ss\x1f\x1e");
        assert_eq!(&__record::<M>("r", None, false), b"Rr\x1f\x1e");
    }
}
