//! The pending code of a user, as kept in key-value.
//!
//! Two keys per user:
//! - `mfa:<user>`: `{"hash": "<hex HMAC-SHA256>", "expires_at": <unix secs>}`.
//!   The hash covers user, code and expiry, keyed with `mfa_secret`: the
//!   store never sees the code, and a record cannot be moved to another user
//!   or have its expiry extended without the secret.
//! - `mfa:<user>:attempts`: a counter bumped with the atomic `increment`
//!   before every comparison, so concurrent guesses cannot get past the limit
//!   (a read-check-write would let them).
//! - `mfa:<user>:used`: a counter bumped by every right guess. The record
//!   keeps its value at send time, and only the guess whose increment lands
//!   on that value plus one verifies: a code works once even when right
//!   guesses race (the store has no compare-and-swap to do it otherwise).

use std::time::{SystemTime, UNIX_EPOCH};

use fnsdk::{Result, kv::Store};
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;
use subtle::ConstantTimeEq;

use crate::settings::Settings;

#[derive(Serialize, Deserialize)]
pub struct Pending {
    hash: String,
    expires_at: u64,
    /// `mfa:<user>:used` when the code was sent.
    #[serde(default)]
    used_before: u64,
}

/// The outcome of a verification.
pub enum Verdict {
    Verified,
    Wrong { attempts_left: u64 },
    NoPendingCode,
    Expired,
    TooManyAttempts,
}

impl Pending {
    pub fn new(settings: &Settings, user: &str, code: &str) -> Self {
        let expires_at = now().saturating_add(settings.code_ttl_seconds);
        let hash = hex::encode(mac(&settings.secret, user, code, expires_at));
        Pending {
            hash,
            expires_at,
            used_before: 0,
        }
    }

    /// Stores this as the user's only pending code, with a fresh attempt
    /// count.
    pub fn save(&mut self, user: &str) -> Result<()> {
        let store = store()?;
        self.used_before = store.counter(&used_key(user))?;
        // Reset the counter first: a guess racing with this send then counts
        // against the new code, never the other way round.
        store.delete(&attempts_key(user))?;
        store.set_json(&code_key(user), self)?;
        Ok(())
    }

    /// Forgets the user's pending code and its attempt count.
    pub fn discard(user: &str) -> Result<()> {
        let store = store()?;
        store.delete(&code_key(user))?;
        store.delete(&attempts_key(user))?;
        Ok(())
    }

    /// Whether `code` is the one this record was made for, compared in
    /// constant time so response timing says nothing about the hash.
    fn matches(&self, settings: &Settings, user: &str, code: &str) -> bool {
        let Ok(stored) = hex::decode(&self.hash) else {
            return false;
        };
        let candidate = mac(&settings.secret, user, code, self.expires_at);
        candidate.as_slice().ct_eq(&stored).into()
    }
}

/// Checks `code` against the user's pending code, consuming an attempt.
pub fn verify(settings: &Settings, user: &str, code: &str) -> Result<Verdict> {
    let store = store()?;
    let Some(pending) = store.get_json::<Pending>(&code_key(user))? else {
        return Ok(Verdict::NoPendingCode);
    };
    if now() >= pending.expires_at {
        Pending::discard(user)?;
        return Ok(Verdict::Expired);
    }
    // Count the attempt before looking at the code. `increment` is atomic,
    // so of N concurrent guesses exactly one sees each count.
    let attempts = store.increment(&attempts_key(user), 1)?;
    if attempts > settings.max_attempts {
        // Keep the counter (a new send resets it): guesses still in flight
        // must keep seeing "exceeded".
        store.delete(&code_key(user))?;
        return Ok(Verdict::TooManyAttempts);
    }
    if pending.matches(settings, user, code) {
        // A code works once: of right guesses racing each other, only the
        // one whose increment comes first finds the count it expects.
        let used = store.increment(&used_key(user), 1)?;
        if used != pending.used_before + 1 {
            return Ok(Verdict::NoPendingCode);
        }
        Pending::discard(user)?;
        Ok(Verdict::Verified)
    } else {
        Ok(Verdict::Wrong {
            attempts_left: settings.max_attempts - attempts,
        })
    }
}

fn store() -> Result<Store> {
    Ok(Store::open_default()?)
}

fn code_key(user: &str) -> String {
    format!("mfa:{user}")
}

fn attempts_key(user: &str) -> String {
    format!("mfa:{user}:attempts")
}

fn used_key(user: &str) -> String {
    format!("mfa:{user}:used")
}

fn mac(secret: &str, user: &str, code: &str, expires_at: u64) -> [u8; 32] {
    let mut mac =
        Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC takes keys of any length");
    // NUL separators: user ids cannot contain NUL, so fields cannot run into
    // each other ("ab"+"1" vs "a"+"b1").
    for part in [user.as_bytes(), b"\0", code.as_bytes(), b"\0"] {
        mac.update(part);
    }
    mac.update(&expires_at.to_be_bytes());
    mac.finalize().into_bytes().into()
}

/// Seconds since the Unix epoch (the host's wall clock).
fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}
