//! Outbound HTTP requests (`wasi:http/outgoing-handler`).
//!
//! ```no_run
//! use fnsdk::{http, outbound, Bytes};
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let req = http::Request::post("https://api.example.com/charges")
//!     .header("content-type", "application/json")
//!     .body(Bytes::from_static(br#"{"amount":1200}"#))?;
//! let resp = outbound::send(req)?;
//! assert!(resp.status().is_success());
//! # Ok(()) }
//! ```
//!
//! In native tests, requests go to the mock installed with
//! [`testing::mock_outbound`](crate::testing::mock_outbound); with no mock
//! installed, `send` fails.

use bytes::Bytes;

use crate::Response;

/// A request to send: the `http` crate's, so it is built with its builder
/// (`http::Request::post(url).header(..).body(..)`). A [`Request`](crate::Request)
/// converts into one, so an incoming request can be forwarded.
pub type OutboundRequest = http::Request<Bytes>;

/// Why an outbound request failed. A response with a 4xx or 5xx status is
/// not an error: check `status()`.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The request cannot be sent as given (no scheme or authority, ...).
    #[error("invalid outbound request: {0}")]
    InvalidRequest(String),
    /// The host refused or failed to perform the request (DNS, connection,
    /// TLS, timeout, not allowed by the host's policy, ...).
    #[error("outbound request to {url} failed: {reason}")]
    Failed {
        /// The request URL.
        url: String,
        /// What the host reported.
        reason: String,
    },
}

/// Sends `req` and waits for the whole response.
///
/// The URL must be absolute (`https://host/path`). In an `async` handler,
/// [`fetch`] lets other requests run meanwhile.
pub fn send(req: impl Into<OutboundRequest>) -> Result<Response, Error> {
    crate::task::block_on(fetch(req))
}

/// Sends `req`; the future resolves to the whole response. Requests awaited
/// together ([`task::join`](crate::task::join), `futures::join!`) are in
/// flight at the same time.
///
/// Inside a traced call ([`trace`](crate::trace)), the request carries a
/// `traceparent` with the call's trace id and a span id of its own, unless
/// it has one already.
pub async fn fetch(req: impl Into<OutboundRequest>) -> Result<Response, Error> {
    let mut req = req.into();
    if req.uri().scheme().is_none() || req.uri().authority().is_none() {
        return Err(Error::InvalidRequest(format!(
            "URL {} must be absolute, like https://api.example.com{}",
            req.uri(),
            req.uri().path()
        )));
    }
    if let Some(trace) = crate::trace::current()
        && !req.headers().contains_key("traceparent")
        && let Ok(value) = http::HeaderValue::from_str(&trace.child().traceparent())
    {
        req.headers_mut().insert("traceparent", value);
    }
    imp::fetch(req).await
}

#[cfg(target_arch = "wasm32")]
use crate::wasm::outbound as imp;

#[cfg(not(target_arch = "wasm32"))]
mod imp {
    use super::*;

    pub(super) async fn fetch(req: OutboundRequest) -> Result<Response, Error> {
        crate::testing::dispatch_outbound(req)
    }
}
