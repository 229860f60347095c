//! `Idempotency-Key`: a retried request gets the first answer back and the
//! card is charged once.
//!
//! The first request with a key stores `idempotency:<key>` = the request
//! (parsed, so whitespace does not matter) and the reply. A later request
//! with the key replays the reply if the request is the same, and is refused
//! with 422 if it is not. Only replies below 500 are stored: after a 5xx the
//! client should retry, and the retry runs again (the payment provider sees
//! the same key, so it does not charge twice).
//!
//! Two requests with the same key racing each other are kept apart by a
//! one-unit [`Pool`](crate::stock::Pool): the loser answers 409 and the
//! client retries.

use fnsdk::{Error, Request, StatusCode, kv};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::reply::Reply;

/// The longest key accepted.
const MAX_KEY_LEN: usize = 255;

/// The request's `Idempotency-Key`, if it sent one; a 400 if it is unusable.
pub fn key(req: &Request) -> Result<Option<String>, Error> {
    let Some(value) = req.header_bytes("idempotency-key") else {
        return Ok(None);
    };
    let key = std::str::from_utf8(value).unwrap_or_default().trim();
    if key.is_empty() || key.len() > MAX_KEY_LEN || !key.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(Error::bad_request(format!(
            "Idempotency-Key must be 1 to {MAX_KEY_LEN} visible ASCII characters, e.g. a UUID"
        )));
    }
    Ok(Some(key.to_owned()))
}

#[derive(Serialize, Deserialize)]
struct Stored {
    request: Value,
    reply: Reply,
}

/// What an earlier request with the same key left behind.
#[derive(Debug, PartialEq)]
pub enum Previous {
    /// Nothing: this is the first request (or the earlier ones failed with 5xx).
    None,
    /// The same request was answered: send this again.
    Replay(Reply),
    /// The key was used for a different request.
    Mismatch,
}

fn storage_key(key: &str) -> String {
    format!("idempotency:{key}")
}

/// Looks up `key`, comparing the stored request with `request`.
pub fn previous(store: &kv::Store, key: &str, request: &Value) -> Result<Previous, kv::Error> {
    Ok(match store.get_json::<Stored>(&storage_key(key))? {
        None => Previous::None,
        Some(stored) if stored.request == *request => Previous::Replay(stored.reply),
        Some(_) => Previous::Mismatch,
    })
}

/// Remembers `reply` as the answer to `request` under `key`.
pub fn save(store: &kv::Store, key: &str, request: Value, reply: Reply) -> Result<(), kv::Error> {
    store.set_json(&storage_key(key), &Stored { request, reply })
}

/// The answer to a key reused for a different request.
pub fn mismatch() -> Error {
    Error::new(
        StatusCode::UNPROCESSABLE_ENTITY,
        "this Idempotency-Key was already used for a different request; use a new key per order",
    )
}

/// The answer while another request with the same key is running.
pub fn in_progress() -> Error {
    Error::new(
        StatusCode::CONFLICT,
        "a request with this Idempotency-Key is still in progress; retry shortly",
    )
}
