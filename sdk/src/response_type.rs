//! [`Response`]: what a handler answers (and what an outbound call gets
//! back), kept as the host wants it.
//!
//! A `wasi:http` host takes a response's header fields as a list of
//! name/value pairs. `Response` keeps that list and builds the `http`
//! crate's `HeaderMap` only when a caller asks for it
//! ([`headers`](Response::headers), [`headers_mut`](Response::headers_mut)).
//! A function that answers with [`text`](crate::text) or
//! [`json`](crate::json) therefore runs no header-name parsing or hashing,
//! and does not even contain that code: with the same change on the request
//! side it was most of the `http` crate's share of a component.

use std::fmt;
use std::sync::OnceLock;

use bytes::Bytes;
use http::header::{HeaderName, HeaderValue};
use http::{HeaderMap, StatusCode};

/// Header fields as hosts give and take them: `(name, value)` in order.
type FieldList = Vec<(String, Vec<u8>)>;

/// An HTTP response, its body in memory.
///
/// Its accessors are named as `http::Response`'s are (`status`,
/// `status_mut`, `headers`, `headers_mut`, `body`, `body_mut`,
/// `into_body`), and [`Response::builder`] builds one as
/// `http::Response::builder` does. Cheap ones need no `HeaderMap`:
/// [`with_header`](Self::with_header), [`header`](Self::header) and
/// [`fields`](Self::fields). Convert to and from `http::Response` with
/// `From`/[`into_http`](Self::into_http); a handler may also return an
/// `http::Response<B>` directly.
///
/// ```
/// use fnsdk::{Response, StatusCode};
///
/// let resp = Response::new("created")
///     .with_status(StatusCode::CREATED)
///     .with_header("location", "/orders/7");
/// assert_eq!(resp.status(), StatusCode::CREATED);
/// assert_eq!(resp.header("Location"), Some("/orders/7"));
/// assert_eq!(resp.headers()["location"], "/orders/7");
/// assert_eq!(resp.body(), "created");
/// ```
#[derive(Clone)]
pub struct Response {
    status: StatusCode,
    headers: Headers,
    body: Bytes,
}

/// The header fields: a list, as hosts take them, with its `HeaderMap` view
/// built on first use; or a `HeaderMap` alone once a caller asked to change
/// it through [`Response::headers_mut`].
#[derive(Clone)]
enum Headers {
    List {
        /// `(name, value)` in order; names lower-case.
        fields: FieldList,
        map: OnceLock<HeaderMap>,
    },
    Map {
        map: HeaderMap,
        /// What a list-backed response does without a `HeaderMap`, done to
        /// the map. Set where the map is made, so that code
        /// (`HeaderName::from_bytes` is 12 KB, `as_str` 2 KB) is only in
        /// functions that use a `HeaderMap`.
        ops: &'static MapOps,
    },
}

struct MapOps {
    /// The map as a field list, for the host. Read inside a component.
    #[cfg_attr(not(any(target_arch = "wasm32", test)), allow(dead_code))]
    to_fields: fn(&HeaderMap) -> FieldList,
    /// Appends a field given as strings.
    append: fn(&mut HeaderMap, &str, &[u8]),
}

static MAP_OPS: MapOps = MapOps {
    to_fields: map_to_fields,
    append: |map, name, value| crate::glue::append_headers([(name, value)], map),
};

fn map_to_fields(map: &HeaderMap) -> FieldList {
    map.iter()
        .map(|(name, value)| (name.as_str().to_owned(), value.as_bytes().to_vec()))
        .collect()
}

fn fields_to_map(fields: &[(String, Vec<u8>)]) -> HeaderMap {
    let mut map = HeaderMap::with_capacity(fields.len());
    crate::glue::append_headers(fields.iter().map(|(n, v)| (n, v)), &mut map);
    map
}

impl Response {
    /// A `200 OK` response with `body` and no header fields.
    pub fn new(body: impl Into<Bytes>) -> Self {
        Self {
            status: StatusCode::OK,
            headers: Headers::List {
                fields: Vec::new(),
                map: OnceLock::new(),
            },
            body: body.into(),
        }
    }

    /// A builder, as `http::Response::builder()`:
    /// `Response::builder().status(201).header("location", "/x").body("made")`.
    pub fn builder() -> Builder {
        Builder {
            inner: Ok(Response::default()),
        }
    }

    /// The status code.
    pub fn status(&self) -> StatusCode {
        self.status
    }

    /// The status code, to change it.
    pub fn status_mut(&mut self) -> &mut StatusCode {
        &mut self.status
    }

    /// Sets the status code (builder style).
    pub fn with_status(mut self, status: StatusCode) -> Self {
        self.status = status;
        self
    }

    /// Appends a header field (builder style). The name is lower-cased; a
    /// name or value that is not valid HTTP is refused by the host when the
    /// response is sent (a 500), or left out of [`headers`](Self::headers).
    pub fn with_header(mut self, name: &str, value: impl AsRef<[u8]>) -> Self {
        self.append_header(name, value.as_ref());
        self
    }

    /// Appends a header field; see [`with_header`](Self::with_header).
    pub fn append_header(&mut self, name: &str, value: impl AsRef<[u8]>) {
        let value = value.as_ref();
        match &mut self.headers {
            Headers::List { fields, map } => {
                fields.push((name.to_ascii_lowercase(), value.to_vec()));
                *map = OnceLock::new();
            }
            Headers::Map { map, ops } => (ops.append)(map, name, value),
        }
    }

    /// The header fields as a `HeaderMap`, built on first use. Fields that
    /// are not valid HTTP are left out. [`header`](Self::header) reads one
    /// field without building the map.
    pub fn headers(&self) -> &HeaderMap {
        match &self.headers {
            Headers::List { fields, map } => map.get_or_init(|| fields_to_map(fields)),
            Headers::Map { map, .. } => map,
        }
    }

    /// The header fields, to change them.
    pub fn headers_mut(&mut self) -> &mut HeaderMap {
        if let Headers::List { fields, map } = &mut self.headers {
            let map = map.take().unwrap_or_else(|| fields_to_map(fields));
            self.headers = Headers::Map { map, ops: &MAP_OPS };
        }
        match &mut self.headers {
            Headers::Map { map, .. } => map,
            Headers::List { .. } => unreachable!("replaced above"),
        }
    }

    /// The first value of header `name` (any case), when it is UTF-8
    /// ([`header_bytes`](Self::header_bytes) otherwise).
    pub fn header(&self, name: &str) -> Option<&str> {
        std::str::from_utf8(self.header_bytes(name)?).ok()
    }

    /// The first value of header `name` (any case).
    pub fn header_bytes(&self, name: &str) -> Option<&[u8]> {
        self.fields()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v)
    }

    /// Every header field, `(name, value)` in order.
    pub fn fields(&self) -> impl Iterator<Item = (&str, &[u8])> {
        let (list, map) = match &self.headers {
            Headers::List { fields, .. } => (Some(fields.as_slice()), None),
            Headers::Map { map, .. } => (None, Some(map)),
        };
        crate::glue::fields_of(list, map)
    }

    /// The body.
    pub fn body(&self) -> &Bytes {
        &self.body
    }

    /// The body, to change it.
    pub fn body_mut(&mut self) -> &mut Bytes {
        &mut self.body
    }

    /// The body, consuming the response.
    pub fn into_body(self) -> Bytes {
        self.body
    }

    /// The status, the header fields as a list and the body: what a host
    /// is given.
    #[cfg(any(target_arch = "wasm32", test))]
    pub(crate) fn into_host_parts(self) -> (StatusCode, FieldList, Bytes) {
        let fields = match self.headers {
            Headers::List { fields, .. } => fields,
            Headers::Map { map, ops } => (ops.to_fields)(&map),
        };
        (self.status, fields, self.body)
    }

    /// A response as a host gave it: status, fields and body.
    #[cfg(target_arch = "wasm32")]
    pub(crate) fn from_host(status: StatusCode, fields: FieldList, body: Bytes) -> Self {
        Self {
            status,
            headers: Headers::List {
                fields,
                map: OnceLock::new(),
            },
            body,
        }
    }

    /// The `http` crate's response, with the same status, fields and body.
    pub fn into_http(mut self) -> http::Response<Bytes> {
        let headers = std::mem::take(self.headers_mut());
        let mut resp = http::Response::new(self.body);
        *resp.status_mut() = self.status;
        *resp.headers_mut() = headers;
        resp
    }
}

impl Default for Response {
    fn default() -> Self {
        Self::new(Bytes::new())
    }
}

impl<B: Into<Bytes>> From<http::Response<B>> for Response {
    fn from(resp: http::Response<B>) -> Self {
        let (parts, body) = resp.into_parts();
        Self {
            status: parts.status,
            headers: Headers::Map {
                map: parts.headers,
                ops: &MAP_OPS,
            },
            body: body.into(),
        }
    }
}

impl From<Response> for http::Response<Bytes> {
    fn from(resp: Response) -> Self {
        resp.into_http()
    }
}

impl fmt::Debug for Response {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        struct Fields<'a>(&'a Response);
        impl fmt::Debug for Fields<'_> {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.debug_map()
                    .entries(
                        self.0
                            .fields()
                            .map(|(n, v)| (n, String::from_utf8_lossy(v))),
                    )
                    .finish()
            }
        }
        f.debug_struct("Response")
            .field("status", &self.status)
            .field("headers", &Fields(self))
            .field("body", &self.body)
            .finish()
    }
}

/// Builds a [`Response`] the way `http::response::Builder` does: the first
/// invalid status or header is the error [`body`](Self::body) returns.
#[derive(Debug)]
#[must_use = "a builder does nothing until `.body(..)`"]
pub struct Builder {
    inner: Result<Response, http::Error>,
}

impl Builder {
    /// Sets the status: a `StatusCode` or a `u16`.
    pub fn status<T>(self, status: T) -> Self
    where
        StatusCode: TryFrom<T>,
        <StatusCode as TryFrom<T>>::Error: Into<http::Error>,
    {
        self.and_then(|mut resp| {
            resp.status = StatusCode::try_from(status).map_err(Into::into)?;
            Ok(resp)
        })
    }

    /// Appends a header field: a name (`&str` or `http::header::NAME`) and
    /// a value (`&str`, `String` or `HeaderValue`).
    pub fn header<K, V>(self, name: K, value: V) -> Self
    where
        HeaderName: TryFrom<K>,
        <HeaderName as TryFrom<K>>::Error: Into<http::Error>,
        HeaderValue: TryFrom<V>,
        <HeaderValue as TryFrom<V>>::Error: Into<http::Error>,
    {
        self.and_then(|mut resp| {
            let name = HeaderName::try_from(name).map_err(Into::into)?;
            let value = HeaderValue::try_from(value).map_err(Into::into)?;
            resp.append_header(name.as_str(), value.as_bytes());
            Ok(resp)
        })
    }

    /// The header fields so far, to change them (`None` after an error).
    pub fn headers_mut(&mut self) -> Option<&mut HeaderMap> {
        self.inner.as_mut().ok().map(Response::headers_mut)
    }

    /// The response with `body`; or the first invalid status or header.
    pub fn body(self, body: impl Into<Bytes>) -> Result<Response, http::Error> {
        self.inner.map(|mut resp| {
            resp.body = body.into();
            resp
        })
    }

    fn and_then(self, f: impl FnOnce(Response) -> Result<Response, http::Error>) -> Self {
        Self {
            inner: self.inner.and_then(f),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::header;

    #[test]
    fn fields_stay_a_list_until_a_map_is_asked_for() {
        let resp = Response::new("hi")
            .with_header("Content-Type", "text/plain")
            .with_header("set-cookie", "a=1")
            .with_header("set-cookie", "b=2");
        assert!(matches!(resp.headers, Headers::List { .. }));
        assert_eq!(resp.header("content-type"), Some("text/plain"));
        let (status, fields, body) = resp.clone().into_host_parts();
        assert_eq!(status, StatusCode::OK);
        assert_eq!(body, "hi");
        assert_eq!(
            fields,
            [
                ("content-type".to_owned(), b"text/plain".to_vec()),
                ("set-cookie".to_owned(), b"a=1".to_vec()),
                ("set-cookie".to_owned(), b"b=2".to_vec()),
            ]
        );
        // The map view reads the same fields, and leaves the list in charge.
        let cookies: Vec<_> = resp.headers().get_all(header::SET_COOKIE).iter().collect();
        assert_eq!(cookies, ["a=1", "b=2"]);
        assert!(matches!(resp.headers, Headers::List { .. }));
    }

    #[test]
    fn a_changed_map_is_what_is_sent() {
        let mut resp = Response::new("x").with_header("content-type", "text/plain");
        resp.headers_mut()
            .insert(header::CONTENT_TYPE, "application/json".parse().unwrap());
        resp.headers_mut()
            .append(header::VARY, HeaderValue::from_static("accept"));
        // Appending after the switch goes into the map.
        let resp = resp.with_header("X-Trace", "1");
        let (_, fields, _) = resp.into_host_parts();
        assert_eq!(
            fields,
            [
                ("content-type".to_owned(), b"application/json".to_vec()),
                ("vary".to_owned(), b"accept".to_vec()),
                ("x-trace".to_owned(), b"1".to_vec()),
            ]
        );
    }

    #[test]
    fn the_builder_checks_what_http_s_builder_checks() {
        let resp = Response::builder()
            .status(201)
            .header(header::LOCATION, "/orders/7")
            .header("x-id", "7")
            .body("made")
            .unwrap();
        assert_eq!(resp.status(), StatusCode::CREATED);
        assert_eq!(resp.header("location"), Some("/orders/7"));
        assert_eq!(resp.header("X-Id"), Some("7"));
        assert_eq!(resp.body(), "made");

        assert!(Response::builder().status(1000).body("").is_err());
        assert!(
            Response::builder()
                .header("bad name", "v")
                .body("")
                .is_err()
        );
        assert!(
            Response::builder()
                .header("x", "bad\nvalue")
                .body("")
                .is_err()
        );
    }

    #[test]
    fn converts_to_and_from_http() {
        let http_resp = http::Response::builder()
            .status(404)
            .header("x-a", "1")
            .body("gone")
            .unwrap();
        let resp = Response::from(http_resp);
        assert_eq!(resp.status(), StatusCode::NOT_FOUND);
        assert_eq!(resp.header("x-a"), Some("1"));
        let back = resp.with_header("x-b", "2").into_http();
        assert_eq!(back.status(), StatusCode::NOT_FOUND);
        assert_eq!(back.headers()["x-a"], "1");
        assert_eq!(back.headers()["x-b"], "2");
        assert_eq!(back.body(), "gone");
    }

    #[test]
    fn debug_shows_status_fields_and_body() {
        let resp = Response::new("hi").with_header("x-a", "1");
        let shown = format!("{resp:?}");
        assert!(shown.contains("200"), "{shown}");
        assert!(shown.contains("\"x-a\": \"1\""), "{shown}");
        assert!(shown.contains("b\"hi\""), "{shown}");
    }
}
