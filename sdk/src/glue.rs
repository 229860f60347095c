//! The target-independent half of reading an incoming request: the parts
//! `wasi:http` hands over, assembled into a [`Request`]. The WASI backend
//! (`wasm::http_glue`) gathers the parts; keeping the assembly here lets it
//! be tested and fuzzed natively (`fuzz/fuzz_targets/request_glue.rs`).

use bytes::Bytes;
use http::uri::{Authority, Parts, PathAndQuery, Scheme};

use crate::Request;

/// A request's scheme as `wasi:http` names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RawScheme {
    /// `http`.
    Http,
    /// `https`.
    Https,
    /// Any other scheme, as given.
    Other(String),
}

/// An incoming request as the host describes it.
#[derive(Debug, Clone)]
pub struct RawRequest {
    /// The method.
    pub method: http::Method,
    /// `path-with-query`; `None` reads as `/`.
    pub path_with_query: Option<String>,
    /// The scheme, when the host knows it.
    pub scheme: Option<RawScheme>,
    /// The authority; `None` or empty when the host has none.
    pub authority: Option<String>,
    /// The header fields, in order.
    pub headers: Vec<(String, Vec<u8>)>,
    /// The whole body.
    pub body: Bytes,
}

/// Builds the [`Request`] a handler sees. The URI is parsed part by part:
/// formatting the whole URI to parse it again cost a sixth of the glue's
/// instructions. Header fields that are not valid HTTP are skipped (hosts
/// validate them already); a path, authority or scheme that is not valid is
/// an error naming the part, answered 400.
pub fn assemble(raw: RawRequest) -> Result<Request, String> {
    let path = raw.path_with_query.as_deref().unwrap_or("/");
    let mut parts = Parts::default();
    parts.path_and_query = Some(
        PathAndQuery::try_from(path).map_err(|e| format!("invalid request path {path:?}: {e}"))?,
    );
    if let Some(authority) = raw.authority.as_deref().filter(|a| !a.is_empty()) {
        parts.authority = Some(
            Authority::try_from(authority)
                .map_err(|e| format!("invalid authority {authority:?}: {e}"))?,
        );
        parts.scheme = Some(match &raw.scheme {
            Some(RawScheme::Http) => Scheme::HTTP,
            Some(RawScheme::Other(s)) => {
                Scheme::try_from(s.as_str()).map_err(|e| format!("invalid scheme {s:?}: {e}"))?
            }
            Some(RawScheme::Https) | None => Scheme::HTTPS,
        });
    }
    let uri = http::Uri::from_parts(parts).map_err(|e| format!("invalid request URI: {e}"))?;
    let mut req = Request::new(raw.body);
    *req.method_mut() = raw.method;
    *req.uri_mut() = uri;
    append_headers(raw.headers, req.headers_mut());
    Ok(req)
}

/// Appends the valid fields of `fields` to `headers`.
/// The raw `traceparent` value among a request's header fields (or a
/// binary-mode CloudEvent's `ce-traceparent`): found while the fields are at
/// hand, parsed only if the call ever needs it (see `trace`).
#[cfg(any(target_arch = "wasm32", test))]
pub(crate) fn traceparent(fields: &[(String, Vec<u8>)]) -> Option<String> {
    fields
        .iter()
        .find(|(name, _)| name == "traceparent" || name == "ce-traceparent")
        .and_then(|(_, value)| String::from_utf8(value.clone()).ok())
}

pub(crate) fn append_headers(
    fields: impl IntoIterator<Item = (String, Vec<u8>)>,
    headers: &mut http::HeaderMap,
) {
    for (name, value) in fields {
        if let (Ok(n), Ok(v)) = (
            http::HeaderName::from_bytes(name.as_bytes()),
            http::HeaderValue::from_bytes(&value),
        ) {
            headers.append(n, v);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_traceparent_is_found_among_the_fields() {
        let field = |name: &str, value: &str| (name.to_owned(), value.as_bytes().to_vec());
        let fields = [field("host", "x"), field("ce-traceparent", "00-a-b-01")];
        assert_eq!(traceparent(&fields).as_deref(), Some("00-a-b-01"));
        assert_eq!(traceparent(&fields[..1]), None);
    }

    fn raw(path: &str, authority: Option<&str>, scheme: Option<RawScheme>) -> RawRequest {
        RawRequest {
            method: http::Method::GET,
            path_with_query: Some(path.to_owned()),
            scheme,
            authority: authority.map(str::to_owned),
            headers: vec![
                ("x-one".into(), b"1".to_vec()),
                ("bad name".into(), b"skipped".to_vec()),
                ("x-one".into(), b"2".to_vec()),
            ],
            body: Bytes::from_static(b"body"),
        }
    }

    #[test]
    fn builds_the_uri_from_its_parts() {
        let req = assemble(raw("/a?b=1", Some("h:8080"), Some(RawScheme::Http))).unwrap();
        assert_eq!(req.uri(), "http://h:8080/a?b=1");
        let req = assemble(raw("/a", Some("h"), None)).unwrap();
        assert_eq!(req.uri(), "https://h/a");
        let req = assemble(raw("/a", Some(""), Some(RawScheme::Http))).unwrap();
        assert_eq!(req.uri(), "/a");
        let other = RawScheme::Other("wss".into());
        assert_eq!(
            assemble(raw("/", Some("h"), Some(other))).unwrap().uri(),
            "wss://h/"
        );
        let none = RawRequest {
            path_with_query: None,
            ..raw("/", None, None)
        };
        assert_eq!(assemble(none).unwrap().uri(), "/");
    }

    #[test]
    fn keeps_valid_headers_in_order_and_the_body() {
        let req = assemble(raw("/", None, None)).unwrap();
        let ones: Vec<_> = req.headers().get_all("x-one").iter().collect();
        assert_eq!(ones, ["1", "2"]);
        assert_eq!(req.headers().len(), 2);
        assert_eq!(req.body(), "body");
    }

    #[test]
    fn names_the_part_that_is_invalid() {
        let err = assemble(raw("/a b", None, None)).unwrap_err();
        assert!(err.starts_with("invalid request path"), "{err}");
        let err = assemble(raw("/", Some("a b"), None)).unwrap_err();
        assert!(err.starts_with("invalid authority"), "{err}");
        let bad = RawScheme::Other("no scheme".into());
        let err = assemble(raw("/", Some("h"), Some(bad))).unwrap_err();
        assert!(err.starts_with("invalid scheme"), "{err}");
    }
}
