//! The target-independent half of reading an incoming request: the parts
//! `wasi:http` hands over, assembled into a [`Request`]. The WASI backend
//! (`wasm::http_glue`) gathers the parts; keeping the assembly here lets it
//! be tested and fuzzed natively (`fuzz/fuzz_targets/request_glue.rs`).

use bytes::Bytes;

use crate::Request;
#[cfg(any(target_arch = "wasm32", test))]
use crate::request_type::LazyMethod;

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

/// Builds the [`Request`] a handler sees. Nothing is parsed here: the
/// header fields stay the host's list and the URI is built only if the
/// handler asks for it (see `Request`). A request target that is not a
/// path (`/...` or `*`), or holds a control character or a space, is an
/// error, answered 400; a fragment is dropped.
pub fn assemble(raw: RawRequest) -> Result<Request, String> {
    Ok(Request::from_host(
        raw.method,
        target(raw.path_with_query)?,
        raw.scheme,
        raw.authority,
        raw.headers,
        raw.body,
    ))
}

/// The request target a handler sees, from `path-with-query`.
pub(crate) fn target(path_with_query: Option<String>) -> Result<String, String> {
    let mut target = path_with_query.unwrap_or_default();
    if let Some(at) = target.find('#') {
        target.truncate(at);
    }
    if target.is_empty() {
        target.push('/');
    }
    let printable = target.bytes().all(|b| b > b' ' && b != 0x7f);
    if !(target.starts_with('/') || target == "*") || !printable || target.len() > MAX_TARGET {
        // Not `{target:?}`: `str`'s Debug escaping adds about 3 KB to every
        // function. The reason is JSON-escaped in the 400 and the log line.
        return Err(format!("invalid request path `{target}`"));
    }
    Ok(target)
}

/// An extension method (not one of the nine `wasi:http` names), as a host
/// sent it: checked now to be a token (RFC 9110, 5.6.2), so a bad one is a
/// 400 before the handler runs, and parsed only if the handler asks.
#[cfg(any(target_arch = "wasm32", test))]
pub(crate) fn extension_method(name: String) -> Result<LazyMethod, String> {
    let tchar = |b: u8| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b);
    if name.is_empty() || !name.bytes().all(tchar) {
        // Display, not Debug: `str`'s Debug escaping adds 3 KB to every
        // function; the message is JSON-escaped where it is shown.
        return Err(format!("invalid method `{name}`"));
    }
    Ok(LazyMethod::Extension(name, Default::default()))
}

/// The longest request target accepted (the `http` crate's limit).
const MAX_TARGET: usize = u16::MAX as usize - 1;

/// Appends the valid fields of `fields` to `headers`.
/// The raw `traceparent` value among a request's header fields (or a
/// binary-mode CloudEvent's `ce-traceparent`): looked for, and parsed, only
/// if the call ever needs it (see `trace`).
#[cfg(any(target_arch = "wasm32", test))]
pub(crate) fn traceparent(fields: &[(String, Vec<u8>)]) -> Option<String> {
    fields
        .iter()
        .find(|(name, _)| name == "traceparent" || name == "ce-traceparent")
        .and_then(|(_, value)| String::from_utf8(value.clone()).ok())
}

pub(crate) fn append_headers<N: AsRef<[u8]>, V: AsRef<[u8]>>(
    fields: impl IntoIterator<Item = (N, V)>,
    headers: &mut http::HeaderMap,
) {
    for (name, value) in fields {
        if let (Ok(n), Ok(v)) = (
            http::HeaderName::from_bytes(name.as_ref()),
            http::HeaderValue::from_bytes(value.as_ref()),
        ) {
            headers.append(n, v);
        }
    }
}

/// The header fields a request or response holds, as a host's list or as a
/// `HeaderMap` (whichever it has), as `(name, value)` pairs in order.
pub(crate) fn fields_of<'a>(
    list: Option<&'a [(String, Vec<u8>)]>,
    map: Option<&'a http::HeaderMap>,
) -> impl Iterator<Item = (&'a str, &'a [u8])> {
    let list = list
        .into_iter()
        .flatten()
        .map(|(n, v)| (n.as_str(), v.as_slice()));
    let map = map
        .into_iter()
        .flat_map(|m| m.iter())
        .map(|(n, v)| (n.as_str(), v.as_bytes()));
    list.chain(map)
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
        let fragment = assemble(raw("/a?b#c", None, None)).unwrap();
        assert_eq!(fragment.path_and_query(), "/a?b");
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
    fn a_target_that_is_not_a_path_is_refused() {
        for bad in ["/a b", "a", "/\u{7f}", "/\t"] {
            let err = assemble(raw(bad, None, None)).unwrap_err();
            assert!(err.starts_with("invalid request path"), "{err}");
        }
        let long = format!("/{}", "a".repeat(MAX_TARGET));
        assert!(assemble(raw(&long, None, None)).is_err());
        // What the URI cannot hold is left out of it, not refused: the
        // handler still has the host's values.
        let req = assemble(raw("/", Some("a b"), None)).unwrap();
        assert_eq!(req.uri(), "/");
        let bad = RawScheme::Other("no scheme".into());
        let req = assemble(raw("/", Some("h"), Some(bad))).unwrap();
        assert_eq!(req.uri(), "/");
        assert!(assemble(raw("*", None, None)).is_ok());
    }
}
