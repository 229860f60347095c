//! Configuration, read from `wasi:config` once per request. Every key is
//! declared here once; `cargo fn build` checks `[package.metadata.fn.config]`
//! against these declarations.

use fnsdk::config::Key;
use fnsdk::{Error, Result};

fnsdk::config! {
    /// The HMAC key codes are hashed with.
    pub MFA_SECRET: secret "mfa_secret";
    /// How long a code stays valid, in seconds.
    pub CODE_TTL_SECONDS: "code_ttl_seconds" = "300";
    /// Wrong guesses allowed per code.
    pub MAX_ATTEMPTS: "max_attempts" = "5";
    pub SMS_API_URL: "sms_api_url" = "https://api.twilio.com";
    pub SMS_ACCOUNT_SID: "sms_account_sid";
    pub SMS_API_KEY: secret "sms_api_key";
    pub SMS_FROM: "sms_from";
    pub EMAIL_API_URL: "email_api_url" = "https://api.resend.com";
    pub EMAIL_API_KEY: secret "email_api_key";
    pub EMAIL_FROM: "email_from";
}

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
        let secret = MFA_SECRET.get()?;
        if secret.len() < 16 {
            return Err(Error::internal(
                "config `mfa_secret` is shorter than 16 bytes; set a long random value",
            ));
        }
        Ok(Settings {
            secret,
            code_ttl_seconds: positive(CODE_TTL_SECONDS)?,
            max_attempts: positive(MAX_ATTEMPTS)?,
        })
    }
}

/// A positive whole number (the default when unset).
fn positive(key: Key) -> Result<u64> {
    match key.parse::<u64>() {
        Ok(n) if n > 0 => Ok(n),
        _ => Err(Error::internal(format!(
            "config `{}` is {:?}; set a positive whole number",
            key.name(),
            key.get_opt()?.unwrap_or_default()
        ))),
    }
}

/// A base URL (the default when unset), without a trailing `/`.
pub fn base_url(key: Key) -> Result<String> {
    Ok(key.get()?.trim_end_matches('/').to_owned())
}
