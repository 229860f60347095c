//! One-time codes for multi-factor authentication.
//!
//! - `POST /mfa/send` `{"user":"alice","channel":"sms","to":"+15551234567"}`
//!   draws a 6-digit code, stores only a keyed hash of it with an expiry, and
//!   sends the code by SMS (a Twilio-style API) or e-mail (a Resend-style
//!   API). Answers `202 {"sent":true,"expires_in":300}`.
//! - `POST /mfa/verify` `{"user":"alice","code":"123456"}` answers
//!   `200 {"verified":true}` once; a wrong code answers 401 with the attempts
//!   left, too many attempts 429, an expired code 410.
//!
//! The code itself is never stored, logged or returned: a leaked key-value
//! store holds HMACs keyed with the `mfa_secret` config value, useless
//! without it.

mod providers;
mod record;
mod settings;

use fnsdk::router::{Router, post};
use fnsdk::{Error, Json, Result, StatusCode, function};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::providers::Channel;
use crate::record::{Pending, Verdict};
use crate::settings::Settings;

/// Routes `POST /mfa/send` and `POST /mfa/verify`.
#[function]
fn mfa() -> Router {
    Router::new()
        .route("/mfa/send", post(send))
        .route("/mfa/verify", post(verify))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SendRequest {
    user: String,
    channel: Channel,
    to: String,
}

fn send(Json(body): Json<SendRequest>) -> Result<(StatusCode, Json<Value>)> {
    validate_user(&body.user)?;
    body.channel.validate_destination(&body.to)?;
    let settings = Settings::load()?;

    // Uniform over 000000..=999999, from the host's secure generator.
    let code = format!("{:06}", fnsdk::random::below(1_000_000));
    let mut pending = Pending::new(&settings, &body.user, &code);
    // Store first (replacing any earlier code and its attempt count), so the
    // code works as soon as it arrives; take it back if the send fails.
    pending.save(&body.user)?;
    if let Err(err) = body.channel.send(&settings, &body.to, &code) {
        Pending::discard(&body.user)?;
        return Err(err);
    }
    fnsdk::log::Record::new(fnsdk::log::Level::Info, "mfa code sent")
        .field("user", body.user.as_str())
        .field("channel", body.channel.name())
        .emit();
    Ok((
        StatusCode::ACCEPTED,
        Json(json!({ "sent": true, "expires_in": settings.code_ttl_seconds })),
    ))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct VerifyRequest {
    user: String,
    code: String,
}

fn verify(Json(body): Json<VerifyRequest>) -> Result<(StatusCode, Json<Value>)> {
    validate_user(&body.user)?;
    if body.code.len() != 6 || !body.code.bytes().all(|b| b.is_ascii_digit()) {
        return Err(Error::bad_request(
            "`code` must be the 6 digits that were sent",
        ));
    }
    let settings = Settings::load()?;
    match record::verify(&settings, &body.user, &body.code)? {
        Verdict::Verified => Ok((StatusCode::OK, Json(json!({ "verified": true })))),
        Verdict::Wrong { attempts_left } => Ok((
            StatusCode::UNAUTHORIZED,
            Json(json!({
                "verified": false,
                "error": "wrong code",
                "attempts_left": attempts_left,
            })),
        )),
        Verdict::NoPendingCode => Err(Error::not_found(
            "no pending code for this user; request one with POST /mfa/send",
        )),
        Verdict::Expired => Err(Error::new(
            StatusCode::GONE,
            "the code has expired; request a new one with POST /mfa/send",
        )),
        Verdict::TooManyAttempts => Err(Error::new(
            StatusCode::TOO_MANY_REQUESTS,
            "too many wrong attempts; request a new code with POST /mfa/send",
        )),
    }
}

/// User ids become part of key-value keys: keep them short and plain.
fn validate_user(user: &str) -> Result<()> {
    let plain = |c: char| c.is_ascii_alphanumeric() || "._@+-".contains(c);
    if user.is_empty() || user.len() > 64 || !user.chars().all(plain) {
        return Err(Error::bad_request(
            "`user` must be 1 to 64 characters of letters, digits and . _ @ + -",
        ));
    }
    Ok(())
}
