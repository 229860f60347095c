//! The error type handlers return.

use std::fmt;

use http::StatusCode;

/// `Result` with [`Error`] as the default error type.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// An error a handler returns: an HTTP status plus a message.
///
/// Any `std::error::Error` converts into it with `?`, as a 500 whose message
/// is logged but never sent to the client. Client errors made with
/// [`Error::new`] or [`Error::bad_request`] (status below 500) send their
/// message to the client as `{"error": "..."}`.
pub struct Error {
    status: StatusCode,
    message: String,
    source: Option<Box<dyn std::error::Error + Send + Sync + 'static>>,
}

impl Error {
    /// An error with the given status and message.
    pub fn new(status: StatusCode, message: impl Into<String>) -> Self {
        Self {
            status,
            message: message.into(),
            source: None,
        }
    }

    /// A 400 Bad Request with the given message.
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, message)
    }

    /// A 404 Not Found with the given message.
    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, message)
    }

    /// A 500 Internal Server Error; the message is logged, not sent.
    pub fn internal(message: impl Into<String>) -> Self {
        Self::new(StatusCode::INTERNAL_SERVER_ERROR, message)
    }

    /// Replaces the status, keeping message and cause.
    pub fn with_status(mut self, status: StatusCode) -> Self {
        self.status = status;
        self
    }

    /// The HTTP status this error answers with.
    pub fn status(&self) -> StatusCode {
        self.status
    }

    /// The message (for 5xx errors: what is logged, not what the client sees).
    pub fn message(&self) -> &str {
        &self.message
    }

    /// The underlying error, if this was converted from one.
    pub fn source(&self) -> Option<&(dyn std::error::Error + Send + Sync + 'static)> {
        self.source.as_deref()
    }

    /// The message the client is allowed to see.
    pub(crate) fn public_message(&self) -> &str {
        if self.status.is_server_error() {
            // Not `canonical_reason`: its table of every status is 1.7 KB
            // in each function, for the few 5xx answered here.
            match self.status.as_u16() {
                500 => "Internal Server Error",
                501 => "Not Implemented",
                502 => "Bad Gateway",
                503 => "Service Unavailable",
                504 => "Gateway Timeout",
                507 => "Insufficient Storage",
                _ => "server error",
            }
        } else {
            &self.message
        }
    }

    /// The message and its cause chain, for the log.
    pub(crate) fn log_message(&self) -> String {
        let mut out = self.message.clone();
        let mut cause = self
            .source
            .as_deref()
            .and_then(|e| e.source().map(|s| s as &dyn std::error::Error));
        while let Some(c) = cause {
            out.push_str(": ");
            out.push_str(&c.to_string());
            cause = c.source();
        }
        out
    }
}

impl<E> From<E> for Error
where
    E: std::error::Error + Send + Sync + 'static,
{
    fn from(err: E) -> Self {
        Self {
            status: StatusCode::INTERNAL_SERVER_ERROR,
            message: err.to_string(),
            source: Some(Box::new(err)),
        }
    }
}

/// What a handler may return in `Err`: [`Error`], which keeps its own
/// status, or any other error, which answers 500.
///
/// That covers every `std::error::Error`, `anyhow::Error`,
/// `Box<dyn std::error::Error>`, and `String`/`&str` messages: anything
/// `Into<Box<dyn std::error::Error>>`. Such an error is logged with its
/// whole cause chain and the client sees only `{"error":"Internal Server
/// Error"}`. To give your own error type its own status, convert it into an
/// [`Error`] (`Error::new(status, msg)`) or implement this trait for it.
///
/// (A blanket `From<E> for Error` cannot also cover `anyhow::Error` and
/// `Box<dyn Error>`: neither implements `std::error::Error`, and coherence
/// forbids a second blanket impl. This trait is where the two meet.)
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be a handler's error",
    label = "a handler's `Err` must be `fnsdk::Error` or convert into `Box<dyn std::error::Error>`",
    note = "any `std::error::Error`, `anyhow::Error`, `Box<dyn Error>` or `String` works; implement `fnsdk::IntoError` for your own type"
)]
pub trait IntoError {
    /// Converts `self` into the SDK's error.
    fn into_error(self) -> Error;
}

impl IntoError for Error {
    fn into_error(self) -> Error {
        self
    }
}

impl<E: Into<Box<dyn std::error::Error>>> IntoError for E {
    fn into_error(self) -> Error {
        let err: Box<dyn std::error::Error> = self.into();
        let mut message = err.to_string();
        let mut cause = err.source();
        while let Some(c) = cause {
            message.push_str(": ");
            message.push_str(&c.to_string());
            cause = c.source();
        }
        Error::internal(message)
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({})", self.message, self.status)
    }
}

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Error")
            .field("status", &self.status)
            .field("message", &self.message)
            .field("source", &self.source)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, thiserror::Error)]
    #[error("outer")]
    struct Outer(#[source] std::io::Error);

    #[test]
    fn converted_errors_are_500_and_hide_their_message() {
        let err: Error = Outer(std::io::Error::other("disk on fire")).into();
        assert_eq!(err.status(), StatusCode::INTERNAL_SERVER_ERROR);
        assert_eq!(err.public_message(), "Internal Server Error");
        assert_eq!(err.log_message(), "outer: disk on fire");
    }

    #[test]
    fn any_error_is_a_500_with_its_chain_logged() {
        let err = Outer(std::io::Error::other("disk on fire")).into_error();
        assert_eq!(err.status(), StatusCode::INTERNAL_SERVER_ERROR);
        assert_eq!(err.message(), "outer: disk on fire");
        let any = anyhow::anyhow!("no row 7").context("loading order 7");
        let err = any.into_error();
        assert_eq!(err.status(), StatusCode::INTERNAL_SERVER_ERROR);
        assert_eq!(err.message(), "loading order 7: no row 7");
        let boxed: Box<dyn std::error::Error> = "plain message".into();
        assert_eq!(boxed.into_error().message(), "plain message");
        let own = Error::not_found("no such order").into_error();
        assert_eq!(own.status(), StatusCode::NOT_FOUND);
    }

    #[test]
    fn client_errors_show_their_message() {
        let err = Error::bad_request("quantity must be positive");
        assert_eq!(err.status(), StatusCode::BAD_REQUEST);
        assert_eq!(err.public_message(), "quantity must be positive");
    }
}
