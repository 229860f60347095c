//! Turning handler return values into responses.

use bytes::Bytes;
use http::{StatusCode, header};
use serde::Serialize;

use crate::{Error, IntoError, Response};

/// Anything a `#[function]` HTTP handler may return.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be turned into an HTTP response",
    label = "the handler's return type must implement `fnsdk::IntoResponse`",
    note = "return a `fnsdk::Response`, a `String` or `&'static str`, a `StatusCode`, `fnsdk::Json<T>`, `(StatusCode, R)`, or `Result<R, E>` where `E: fnsdk::IntoError` (`fnsdk::Error`, any `std::error::Error`, `anyhow::Error`, `Box<dyn Error>`)"
)]
pub trait IntoResponse {
    /// Converts `self` into a response.
    fn into_response(self) -> Response;
}

impl IntoResponse for Response {
    fn into_response(self) -> Response {
        self
    }
}

impl<B: Into<Bytes>> IntoResponse for http::Response<B> {
    fn into_response(self) -> Response {
        self.into()
    }
}

impl IntoResponse for &'static str {
    fn into_response(self) -> Response {
        text(self)
    }
}

impl IntoResponse for String {
    fn into_response(self) -> Response {
        text(self)
    }
}

impl IntoResponse for StatusCode {
    fn into_response(self) -> Response {
        status(self)
    }
}

impl IntoResponse for () {
    fn into_response(self) -> Response {
        status(StatusCode::NO_CONTENT)
    }
}

impl<R: IntoResponse> IntoResponse for (StatusCode, R) {
    fn into_response(self) -> Response {
        let mut resp = self.1.into_response();
        *resp.status_mut() = self.0;
        resp
    }
}

impl<R: IntoResponse, E: IntoError> IntoResponse for Result<R, E> {
    fn into_response(self) -> Response {
        match self {
            Ok(r) => r.into_response(),
            Err(e) => e.into_error().into_response(),
        }
    }
}

impl IntoResponse for Error {
    fn into_response(self) -> Response {
        if self.status().is_server_error() {
            crate::log::error(&format!("handler failed: {}", self.log_message()));
        }
        error(self.status(), self.public_message())
    }
}

/// A JSON response body: `Json(value)` serialises `value` with serde.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Json<T>(pub T);

impl<T: Serialize> IntoResponse for Json<T> {
    fn into_response(self) -> Response {
        json(&self.0)
    }
}

fn with_body(status: StatusCode, content_type: &'static str, body: Bytes) -> Response {
    Response::new(body)
        .with_status(status)
        .with_header("content-type", content_type)
}

/// A 200 response with a `text/plain; charset=utf-8` body.
pub fn text(body: impl Into<String>) -> Response {
    with_body(
        StatusCode::OK,
        "text/plain; charset=utf-8",
        Bytes::from(body.into()),
    )
}

/// A 200 response with `value` serialised as JSON (a 500 if it cannot be).
pub fn json<T: Serialize + ?Sized>(value: &T) -> Response {
    match serde_json::to_vec(value) {
        Ok(body) => with_body(StatusCode::OK, "application/json", Bytes::from(body)),
        Err(e) => Error::from(e).into_response(),
    }
}

/// An error response with body `{"error": message}`.
pub fn error(status: StatusCode, message: &str) -> Response {
    let mut body = String::with_capacity(message.len() + 12);
    body.push_str("{\"error\":");
    crate::json::push_str(&mut body, message);
    body.push('}');
    with_body(status, "application/json", Bytes::from(body))
}

/// An empty response with the given status.
pub fn status(status: StatusCode) -> Response {
    Response::new(Bytes::new()).with_status(status)
}

/// A `303 See Other` redirect to `location` (the right answer to a form POST).
pub fn redirect(location: &str) -> Response {
    redirect_with(StatusCode::SEE_OTHER, location)
}

/// A redirect with an explicit 3xx status (301, 302, 307, 308, ...).
pub fn redirect_with(status: StatusCode, location: &str) -> Response {
    match header::HeaderValue::from_str(location) {
        Ok(_) => self::status(status).with_header("location", location),
        Err(_) => {
            Error::internal(format!("invalid redirect location {location:?}")).into_response()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body(r: &Response) -> &str {
        std::str::from_utf8(r.body()).unwrap()
    }

    #[test]
    fn strings_become_text() {
        let r = "hi".into_response();
        assert_eq!(r.status(), StatusCode::OK);
        assert_eq!(
            r.headers()[header::CONTENT_TYPE],
            "text/plain; charset=utf-8"
        );
        assert_eq!(body(&r), "hi");
    }

    #[test]
    fn json_and_status_tuple() {
        let r = (StatusCode::CREATED, Json(serde_json::json!({"id": 7}))).into_response();
        assert_eq!(r.status(), StatusCode::CREATED);
        assert_eq!(r.headers()[header::CONTENT_TYPE], "application/json");
        assert_eq!(body(&r), r#"{"id":7}"#);
    }

    #[test]
    fn errors_do_not_leak_internals() {
        let res: Result<&str, std::io::Error> = Err(std::io::Error::other("db password wrong"));
        let r = res.into_response();
        assert_eq!(r.status(), StatusCode::INTERNAL_SERVER_ERROR);
        assert_eq!(body(&r), r#"{"error":"Internal Server Error"}"#);
        assert!(
            crate::testing::logs()
                .iter()
                .any(|l| l.contains("db password wrong"))
        );
    }

    #[test]
    fn anyhow_and_boxed_errors_are_500s_that_leak_nothing() {
        fn load() -> anyhow::Result<String> {
            let n: u32 = "x".parse()?;
            Ok(n.to_string())
        }
        fn handler() -> anyhow::Result<String> {
            use anyhow::Context;
            let order = load().context("loading the order")?;
            Ok(order)
        }
        let r = handler().into_response();
        assert_eq!(r.status(), StatusCode::INTERNAL_SERVER_ERROR);
        assert_eq!(body(&r), r#"{"error":"Internal Server Error"}"#);
        assert!(
            crate::testing::logs()
                .iter()
                .any(|l| l.contains("loading the order: invalid digit found in string"))
        );
        fn boxed() -> Result<&'static str, Box<dyn std::error::Error>> {
            Err("secret detail")?
        }
        let r = boxed().into_response();
        assert_eq!(r.status(), StatusCode::INTERNAL_SERVER_ERROR);
        assert!(!body(&r).contains("secret"));
    }

    #[test]
    fn client_errors_keep_their_message() {
        let res: crate::Result<String> = Err(Error::bad_request("missing field `sku`"));
        let r = res.into_response();
        assert_eq!(r.status(), StatusCode::BAD_REQUEST);
        assert_eq!(body(&r), r#"{"error":"missing field `sku`"}"#);
    }

    #[test]
    fn redirects_set_location() {
        let r = redirect("/done");
        assert_eq!(r.status(), StatusCode::SEE_OTHER);
        assert_eq!(r.headers()[header::LOCATION], "/done");
        let bad = redirect("/bad\nheader");
        assert_eq!(bad.status(), StatusCode::INTERNAL_SERVER_ERROR);
    }
}
