//! What the function answers, in a form that can be stored and replayed.

use fnsdk::{Response, StatusCode, http::header};
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// A finished answer: status, JSON body and, for a created order, its
/// location. Idempotent requests store it and send it again on a retry.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Reply {
    /// The HTTP status code.
    pub status: u16,
    /// The JSON body.
    pub body: Value,
    /// The `Location` header, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location: Option<String>,
}

impl Reply {
    /// A reply with `body` and no `Location`.
    pub fn new(status: StatusCode, body: Value) -> Self {
        Self {
            status: status.as_u16(),
            body,
            location: None,
        }
    }

    /// An error reply, `{"error": message}`. The message goes to the
    /// client, so it must never carry internal detail.
    pub fn error(status: StatusCode, message: impl Into<String>) -> Self {
        Self::new(status, serde_json::json!({ "error": message.into() }))
    }

    /// The status as a [`StatusCode`].
    pub fn status(&self) -> StatusCode {
        StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
    }

    /// The HTTP response.
    pub fn into_response(self) -> Response {
        let mut resp = fnsdk::json(&self.body);
        *resp.status_mut() = self.status();
        if let Some(location) = self
            .location
            .and_then(|l| header::HeaderValue::from_str(&l).ok())
        {
            resp.headers_mut().insert(header::LOCATION, location);
        }
        resp
    }
}
