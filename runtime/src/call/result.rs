//! What one call produced: the response, the logs, the metrics, the outbound
//! requests, and why it failed if it did.

use crate::logs::Logs;
use crate::outbound::{Outcome, RecordedRequest};
use bytes::Bytes;
use http::{Method, StatusCode};
use std::time::{Duration, Instant};

/// Measurements of one call.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Metrics {
    /// Time to instantiate the component (a fresh instance per call).
    pub instantiate: Duration,
    /// Time from calling the handler until it returned and the response body
    /// was complete, or until it failed.
    pub handler: Duration,
    /// Whole call, request conversion and response collection included.
    pub total: Duration,
    /// Most linear memory the instance held, in bytes.
    pub peak_memory: u64,
    /// Fuel burnt, when the runtime meters fuel.
    pub fuel: Option<u64>,
}

/// Why a call did not produce the guest's own response. Each maps to the
/// status the caller got, see [`CallError::status`].
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CallError {
    /// The request body was larger than
    /// [`Limits::max_request_body`](crate::Limits::max_request_body); the
    /// guest never ran. 413.
    #[error("request body of {size} bytes is over the cap of {limit} bytes")]
    BodyTooLarge {
        /// Body size (or declared `content-length`).
        size: u64,
        /// The cap.
        limit: u64,
    },
    /// The request could not be handed to the guest (say, no authority). 400.
    #[error("invalid request: {0}")]
    BadRequest(String),
    /// Every instance slot is busy
    /// ([`RuntimeConfig::max_instances`](crate::RuntimeConfig::max_instances)
    /// concurrent calls). 503; retrying later works.
    #[error("no free instance slot: {0}")]
    Overloaded(String),
    /// The component could not be instantiated. 500.
    #[error("instantiation failed: {0}")]
    Instantiate(String),
    /// The guest trapped: a panic (`panic = "abort"`), `unreachable`, a bad
    /// memory access... The panic message, if any, is in the call's stderr. 500.
    #[error("the function trapped: {0}")]
    Trap(String),
    /// The request body did not arrive within
    /// [`Limits::body_timeout`](crate::Limits::body_timeout); the guest
    /// never ran. 408.
    #[error("the request body did not arrive within {0:?}")]
    BodyTimeout(Duration),
    /// The call ran past [`Limits::timeout`](crate::Limits::timeout). 504.
    #[error("the function ran past its timeout of {0:?}")]
    Timeout(Duration),
    /// The guest grew its memory past [`Limits::memory`](crate::Limits::memory). 500.
    #[error("the function went over its memory cap of {limit} bytes")]
    MemoryLimit {
        /// The cap.
        limit: u64,
    },
    /// The guest burnt all its [`Limits::fuel`](crate::Limits::fuel). 500.
    #[error("the function ran out of fuel ({0} units)")]
    OutOfFuel(u64),
    /// The guest passed an error to `response-outparam.set`. 500.
    #[error("the function answered with an error: {0}")]
    GuestError(String),
    /// The guest returned without setting a response. 500.
    #[error("the function returned without sending a response")]
    NoResponse,
    /// The guest made an outbound request no mock matched. The guest got an
    /// error and its response stands; this is reported so it is not missed.
    #[error("no mock for outbound request {method} {url}; register one with `mock_http`")]
    UnmatchedOutbound {
        /// The request method.
        method: Method,
        /// The request URL.
        url: String,
    },
}

/// The `Retry-After` (seconds) of a 503 for a full instance pool.
const OVERLOADED_RETRY_AFTER: &str = "1";

impl CallError {
    /// The status the caller gets for this failure. An
    /// [`UnmatchedOutbound`](CallError::UnmatchedOutbound) request does not
    /// replace the guest's response; its nominal status is 200.
    pub fn status(&self) -> StatusCode {
        match self {
            CallError::BodyTooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            CallError::BadRequest(_) => StatusCode::BAD_REQUEST,
            CallError::BodyTimeout(_) => StatusCode::REQUEST_TIMEOUT,
            CallError::Timeout(_) => StatusCode::GATEWAY_TIMEOUT,
            CallError::Overloaded(_) => StatusCode::SERVICE_UNAVAILABLE,
            CallError::UnmatchedOutbound { .. } => StatusCode::OK,
            _ => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// The response sent instead of the guest's, a short plain-text body
    /// (details go to the host log, not to the client).
    pub(crate) fn response(&self) -> http::Response<Bytes> {
        let status = self.status();
        let reason = match self {
            CallError::BodyTooLarge { limit, .. } => {
                format!("request body too large (limit {limit} bytes)")
            }
            CallError::BadRequest(msg) => format!("bad request: {msg}"),
            CallError::BodyTimeout(_) => "the request body did not arrive in time".into(),
            CallError::Timeout(_) => "the function timed out".into(),
            CallError::Overloaded(_) => "too many concurrent calls, retry later".into(),
            _ => "the function failed".into(),
        };
        let mut response = http::Response::new(Bytes::from(format!("{reason}\n")));
        *response.status_mut() = status;
        response.headers_mut().insert(
            http::header::CONTENT_TYPE,
            http::HeaderValue::from_static("text/plain; charset=utf-8"),
        );
        if let CallError::Overloaded(_) = self {
            // Every slot is busy with a call that ends within its timeout:
            // a client (or a platform's retry policy) comes back shortly.
            response.headers_mut().insert(
                http::header::RETRY_AFTER,
                http::HeaderValue::from_static(OVERLOADED_RETRY_AFTER),
            );
        }
        response
    }
}

/// Everything one call produced.
#[derive(Clone, Debug)]
pub struct CallResult {
    /// The response the caller gets: the guest's, or the runtime's 4xx/5xx
    /// when the call failed.
    pub response: http::Response<Bytes>,
    /// What the guest wrote to stdout and stderr.
    pub logs: Logs,
    /// What the host has to say about the call (failure reasons with wasm
    /// backtraces, unmatched outbound requests, dropped log bytes).
    pub host_log: Vec<String>,
    /// Time and memory measurements.
    pub metrics: Metrics,
    /// The outbound requests the guest made, in order.
    pub outbound: Vec<RecordedRequest>,
    /// Why the call failed, if it did (the first reason).
    pub error: Option<CallError>,
}

impl CallResult {
    /// The result of a call refused before the guest ran.
    pub(crate) fn rejected(error: CallError, started: Instant) -> CallResult {
        CallResult {
            response: error.response(),
            logs: Logs::default(),
            host_log: vec![error.to_string()],
            metrics: Metrics {
                total: started.elapsed(),
                ..Metrics::default()
            },
            outbound: Vec::new(),
            error: Some(error),
        }
    }

    /// The response status.
    pub fn status(&self) -> StatusCode {
        self.response.status()
    }

    /// The response body.
    pub fn body(&self) -> &Bytes {
        self.response.body()
    }

    /// The response body as text (invalid UTF-8 replaced).
    pub fn text(&self) -> String {
        String::from_utf8_lossy(self.response.body()).into_owned()
    }

    /// The response body parsed as JSON.
    pub fn json<T: serde::de::DeserializeOwned>(&self) -> serde_json::Result<T> {
        serde_json::from_slice(self.response.body())
    }

    /// A response header as text, if present and valid.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.response.headers().get(name)?.to_str().ok()
    }

    /// The outbound requests no mock matched.
    pub fn unmatched_outbound(&self) -> impl Iterator<Item = &RecordedRequest> {
        self.outbound
            .iter()
            .filter(|r| r.outcome == Outcome::Unmatched)
    }

    /// Panics with the status, error, host log and guest stderr unless the
    /// call succeeded (2xx and no error); returns `self` for chaining.
    #[track_caller]
    pub fn assert_ok(&self) -> &Self {
        if !self.status().is_success() || self.error.is_some() {
            panic!("call failed:\n{}", self.describe());
        }
        self
    }

    /// A multi-line summary for failure messages.
    pub fn describe(&self) -> String {
        let mut out = format!("status: {}\n", self.status());
        if let Some(error) = &self.error {
            out += &format!("error: {error}\n");
        }
        out += &format!("body: {}\n", self.text());
        for line in &self.host_log {
            out += &format!("host: {line}\n");
        }
        if !self.logs.stderr.is_empty() {
            out += &format!("stderr:\n{}\n", self.logs.stderr_str());
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_of_failures() {
        let too_large = CallError::BodyTooLarge { size: 2, limit: 1 };
        assert_eq!(too_large.status(), StatusCode::PAYLOAD_TOO_LARGE);
        assert_eq!(too_large.response().status(), StatusCode::PAYLOAD_TOO_LARGE);
        let timeout = CallError::Timeout(Duration::from_secs(1));
        assert_eq!(timeout.response().status(), StatusCode::GATEWAY_TIMEOUT);
        assert!(timeout.response().headers().get("retry-after").is_none());
        let full = CallError::Overloaded("pool full".into()).response();
        assert_eq!(full.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(full.headers()["retry-after"], "1");
        let trap = CallError::Trap("unreachable".into());
        let response = trap.response();
        assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
        // Trap details stay in the host log, not in the client's body.
        assert!(!String::from_utf8_lossy(response.body()).contains("unreachable"));
    }
}
