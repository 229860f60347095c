//! # welcome-email
//!
//! Handles `user.registered` CloudEvents: e-mails the new user a welcome
//! message through a Resend-style API, once per event however often the
//! event platform delivers it.
//!
//! Event platforms deliver *at least once* and retry on 5xx, so what the
//! handler answers decides what happens next:
//!
//! | outcome | answer | platform |
//! |---|---|---|
//! | sent, or sent before | 204 | done |
//! | bad event data, provider refused the message | 400 / 422 | drops it (no retry) |
//! | provider down or unreachable, missing config | 5xx | retries later |
//!
//! Key-value store `default`: `sent:<event id>` once the message is sent.
//! Config: `email_api_key` (secret, required), `email_api_url` (default
//! `https://api.resend.com`), `email_from` (default `Welcome <welcome@example.com>`).

use fnsdk::{CloudEvent, Error, StatusCode, function, kv::Store};
use serde::{Deserialize, Serialize};

pub mod email;

use email::SendError;

fnsdk::config! {
    /// The e-mail provider's API key.
    pub EMAIL_API_KEY: secret "email_api_key";
    /// Where mail goes.
    pub EMAIL_API_URL: "email_api_url" = "https://api.resend.com";
    /// The sender.
    pub EMAIL_FROM: "email_from" = "Welcome <welcome@example.com>";
}

/// The `data` of a `user.registered` event.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UserRegistered {
    /// The new user's id.
    pub user_id: String,
    /// Where to send the welcome.
    pub email: String,
    /// How to greet them.
    pub name: String,
}

impl UserRegistered {
    /// Checks the data; a failure is the sender's bug, so it is a 400 and
    /// the platform does not retry it.
    pub fn validate(&self) -> Result<(), Error> {
        if self.user_id.trim().is_empty() {
            return Err(Error::bad_request("data.user_id must not be empty"));
        }
        let name = self.name.trim();
        if name.is_empty() || name.chars().count() > 100 || name.chars().any(char::is_control) {
            return Err(Error::bad_request(
                "data.name must be 1 to 100 characters, without control characters",
            ));
        }
        let well_formed = match self.email.rsplit_once('@') {
            Some((user, host)) => {
                !user.is_empty()
                    && host.split('.').count() >= 2
                    && host.split('.').all(|label| !label.is_empty())
            }
            None => false,
        };
        if !well_formed || self.email.contains(char::is_whitespace) {
            return Err(Error::bad_request(format!(
                "data.email {:?} is not an e-mail address",
                self.email
            )));
        }
        Ok(())
    }
}

/// Sends the welcome e-mail for one `user.registered` event.
#[function(event = "user.registered")]
fn welcome(event: CloudEvent<UserRegistered>) -> fnsdk::Result<()> {
    let user = &event.data;
    user.validate()?;

    // A redelivery of an event we already handled: nothing to do.
    let store = Store::open_default()?;
    let sent = format!("sent:{}", event.id);
    if store.exists(&sent)? {
        fnsdk::info!("event {} was already handled; not sending again", event.id);
        return Ok(());
    }

    // A missing key is our misconfiguration: `?` answers 500 (the platform
    // retries, so the event is not lost while someone fixes it).
    let api_key = EMAIL_API_KEY.get()?;
    let api_url = EMAIL_API_URL.get()?;
    let from = EMAIL_FROM.get()?;

    let message = email::welcome(&from, user.name.trim(), &user.email);
    // The `sent:` check above misses a redelivery that runs *while* this one
    // is still sending: both see no record and both post. They post with the
    // same Idempotency-Key (the event id), and the provider delivers one
    // message per key; the second post gets the first one's answer (or a
    // 409 while the first is in flight, which we retry). The key also covers
    // a send whose record below fails to be written: the redelivery posts
    // again and the provider drops it. So the record saves a call; the key
    // (honoured for as long as the provider keeps it, 24 hours for Resend)
    // is what guarantees "once".
    match email::send(&api_url, &api_key, &message, &event.id) {
        Ok(()) => {
            store.set(&sent, user.user_id.as_bytes())?;
            fnsdk::info!("welcomed user {} (event {})", user.user_id, event.id);
            Ok(())
        }
        // Nothing is recorded, so the platform's redelivery sends it.
        Err(SendError::Retry(detail)) => Err(Error::new(
            StatusCode::SERVICE_UNAVAILABLE,
            format!("email provider unavailable, retry later: {detail}"),
        )),
        Err(SendError::Rejected(detail)) => {
            fnsdk::warn!("welcome for user {} refused: {detail}", user.user_id);
            Err(Error::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "the email provider refused the welcome message",
            ))
        }
    }
}
