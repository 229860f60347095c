//! Configuration, read from `wasi:config` once per request.

use fnsdk::{Error, Result, config};

/// The defaults match `[package.metadata.fn.config]` in Cargo.toml.
const DEFAULT_TTL_SECONDS: u64 = 300;
const DEFAULT_MAX_ATTEMPTS: u64 = 5;

/// What every request needs. Provider credentials are read only by the
/// channel that uses them (see `providers`), so an SMS-only deployment
/// needs no e-mail keys.
pub struct Settings {
    /// The HMAC key codes are hashed with (`mfa_secret`, a secret).
    pub secret: String,
    /// How long a code stays valid (`code_ttl_seconds`).
    pub code_ttl_seconds: u64,
    /// Wrong guesses allowed per code (`max_attempts`).
    pub max_attempts: u64,
}

impl Settings {
    pub fn load() -> Result<Self> {
        let secret = config::require("mfa_secret")?;
        if secret.len() < 16 {
            return Err(Error::internal(
                "config `mfa_secret` is shorter than 16 bytes; set a long random value",
            ));
        }
        Ok(Settings {
            secret,
            code_ttl_seconds: number("code_ttl_seconds", DEFAULT_TTL_SECONDS)?,
            max_attempts: number("max_attempts", DEFAULT_MAX_ATTEMPTS)?,
        })
    }
}

/// A positive integer config value, `default` when unset.
fn number(key: &str, default: u64) -> Result<u64> {
    match config::get(key)? {
        None => Ok(default),
        Some(text) => match text.trim().parse::<u64>() {
            Ok(n) if n > 0 => Ok(n),
            _ => Err(Error::internal(format!(
                "config `{key}` is {text:?}; set a positive whole number"
            ))),
        },
    }
}

/// The base URL in `key` (`default` when unset), without a trailing `/`.
pub fn base_url(key: &str, default: &str) -> Result<String> {
    let url = config::get(key)?.unwrap_or_else(|| default.to_owned());
    Ok(url.trim_end_matches('/').to_owned())
}
