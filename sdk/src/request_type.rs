//! [`Request`]: the incoming request as the host hands it over, read lazily.
//!
//! The host gives the method, the path with its query, the header fields as
//! a list of name/value pairs, and the body. `Request` keeps them as they
//! came and builds the `http` crate's views ([`Request::headers`] as a
//! `HeaderMap`, [`Request::uri`] as a `Uri`) only when a handler asks for
//! them. A handler that reads a query parameter and answers therefore runs
//! none of the header-name parsing, hashing or URI parsing, and a function
//! that never asks for them does not even contain that code: it is most of
//! the `http` crate's share of a component's size and of its per-request
//! instructions.

use std::fmt;
use std::sync::{Arc, OnceLock};

use bytes::Bytes;
use http::{HeaderMap, Method, Uri};

use crate::glue::RawScheme;
use crate::router::PathParams;

/// An incoming HTTP request, its body fully read into memory.
///
/// Its accessors are named as `http::Request`'s are (`method`, `uri`,
/// `headers`, `body`, `extensions`), plus cheap ones that need no parsing:
/// [`path`](Self::path), [`query_str`](Self::query_str),
/// [`header`](Self::header) and [`fields`](Self::fields). Convert to and from
/// `http::Request<Bytes>` with `From`/[`into_http`](Self::into_http); a
/// handler may also take `http::Request<Bytes>` itself as its last parameter.
///
/// ```
/// use fnsdk::Request;
///
/// let req = Request::new(fnsdk::http::Method::GET, "/orders/7?verbose=1")
///     .with_header("accept", "application/json");
/// assert_eq!(req.path(), "/orders/7");
/// assert_eq!(req.query_str(), Some("verbose=1"));
/// assert_eq!(req.header("Accept"), Some("application/json"));
/// assert_eq!(req.headers()["accept"], "application/json");
/// ```
pub struct Request {
    method: LazyMethod,
    /// The request target: a path with its query, without a fragment.
    target: String,
    /// The header fields, scheme and authority, read on first use.
    parts: Arc<Parts>,
    headers: Headers,
    /// The body: given, or read from the host on first use (`Parts`).
    body: OnceLock<Bytes>,
    uri: OnceLock<Uri>,
    params: Option<PathParams>,
    extensions: http::Extensions,
}

/// The method. An extension method (`PURGE`) is kept as the host sent it
/// and made an `http::Method` on first use: its parsing is 1.4 KB that a
/// function which never asks for the method does not contain. The glue
/// checked that it is a token.
#[derive(Clone)]
pub(crate) enum LazyMethod {
    Parsed(Method),
    #[cfg_attr(not(any(target_arch = "wasm32", test)), allow(dead_code))]
    Extension(String, OnceLock<Method>),
}

impl LazyMethod {
    fn get(&self) -> &Method {
        match self {
            LazyMethod::Parsed(method) => method,
            // Checked to be a token, which `from_bytes` accepts: the
            // default is never used.
            LazyMethod::Extension(name, method) => {
                method.get_or_init(|| Method::from_bytes(name.as_bytes()).unwrap_or_default())
            }
        }
    }

    fn into_method(self) -> Method {
        match self {
            LazyMethod::Parsed(method) => method,
            extension => extension.get().clone(),
        }
    }
}

impl From<Method> for LazyMethod {
    fn from(method: Method) -> Self {
        LazyMethod::Parsed(method)
    }
}

/// The `HeaderMap` view: built from the fields on first use; or a
/// `HeaderMap` alone once a caller asked to change it.
enum Headers {
    Fields(OnceLock<HeaderMap>),
    Map(HeaderMap),
}

/// The scheme and authority, as the host gave them.
#[derive(Clone, Default)]
struct Origin {
    scheme: Option<RawScheme>,
    authority: Option<String>,
}

/// What is read from the host only when asked for: the header fields (a
/// call that reads no header makes none of the three host calls, nor the
/// copies of every name and value), the scheme and authority (two more) and
/// the body (five). Shared with `trace`, which looks for a `traceparent`
/// only when the call logs or sends a request.
pub(crate) struct Parts {
    fields: OnceLock<Vec<(String, Vec<u8>)>>,
    origin: OnceLock<Origin>,
    body: OnceLock<Result<Bytes, String>>,
    #[cfg(target_arch = "wasm32")]
    host: Option<crate::wasm::bindings::wasi::http::types::IncomingRequest>,
}

impl Parts {
    fn given(fields: Vec<(String, Vec<u8>)>, origin: Origin) -> Self {
        Self {
            fields: OnceLock::from(fields),
            origin: OnceLock::from(origin),
            body: OnceLock::new(),
            #[cfg(target_arch = "wasm32")]
            host: None,
        }
    }

    /// The parts of `request`, read from it when first asked for.
    #[cfg(target_arch = "wasm32")]
    pub(crate) fn host(request: crate::wasm::bindings::wasi::http::types::IncomingRequest) -> Self {
        Self {
            fields: OnceLock::new(),
            origin: OnceLock::new(),
            body: OnceLock::new(),
            host: Some(request),
        }
    }

    pub(crate) fn fields(&self) -> &[(String, Vec<u8>)] {
        self.fields.get_or_init(|| {
            #[cfg(target_arch = "wasm32")]
            if let Some(host) = &self.host {
                return crate::wasm::http_glue::read_fields(host);
            }
            Vec::new()
        })
    }

    /// The fields as a `HeaderMap`, without those that are not valid HTTP.
    fn header_map(&self) -> HeaderMap {
        let fields = self.fields();
        let mut map = HeaderMap::with_capacity(fields.len());
        crate::glue::append_headers(fields.iter().map(|(n, v)| (n, v)), &mut map);
        map
    }

    /// The body, read whole; or why it could not be.
    fn body(&self) -> &Result<Bytes, String> {
        self.body.get_or_init(|| {
            #[cfg(target_arch = "wasm32")]
            if let Some(host) = &self.host {
                return crate::wasm::http_glue::read_request_body(host);
            }
            Ok(Bytes::new())
        })
    }

    fn origin(&self) -> &Origin {
        self.origin.get_or_init(|| {
            #[cfg(target_arch = "wasm32")]
            if let Some(host) = &self.host {
                let (scheme, authority) = crate::wasm::http_glue::read_origin(host);
                return Origin { scheme, authority };
            }
            Origin::default()
        })
    }
}

impl Request {
    /// A request without headers or body. `target` is a path with an
    /// optional query (`/orders?limit=2`) or an absolute URL
    /// (`https://example.com/orders`).
    ///
    /// Panics when an absolute URL does not parse: this builds test and
    /// example requests from literals.
    #[track_caller]
    pub fn new(method: Method, target: &str) -> Self {
        if target.starts_with('/') || target == "*" {
            return Self::from_target(method, strip_fragment(target).to_owned());
        }
        let uri: Uri = target
            .parse()
            .unwrap_or_else(|e| panic!("invalid request URI {target:?}: {e}"));
        Self::from_uri(method, uri)
    }

    fn from_uri(method: Method, uri: Uri) -> Self {
        let target = uri.path_and_query().map_or("/", |p| p.as_str()).to_owned();
        let scheme = uri.scheme().map(|s| match s.as_str() {
            "http" => RawScheme::Http,
            "https" => RawScheme::Https,
            other => RawScheme::Other(other.to_owned()),
        });
        let authority = uri.authority().map(|a| a.as_str().to_owned());
        let parts = Parts::given(Vec::new(), Origin { scheme, authority });
        let request = Self::from_parts(method, target, Arc::new(parts));
        let _ = request.uri.set(uri);
        request
    }

    fn from_target(method: Method, target: String) -> Self {
        let parts = Parts::given(Vec::new(), Origin::default());
        Self::from_parts(method, target, Arc::new(parts))
    }

    /// A request whose fields, origin and body come from `parts`. `target`
    /// was checked by the caller (`glue::target`).
    pub(crate) fn from_parts(
        method: impl Into<LazyMethod>,
        target: String,
        parts: Arc<Parts>,
    ) -> Self {
        Self {
            method: method.into(),
            target,
            parts,
            headers: Headers::Fields(OnceLock::new()),
            body: OnceLock::new(),
            uri: OnceLock::new(),
            params: None,
            extensions: http::Extensions::new(),
        }
    }

    /// The request as a host described it, every part given.
    pub(crate) fn from_host(
        method: Method,
        target: String,
        scheme: Option<RawScheme>,
        authority: Option<String>,
        fields: Vec<(String, Vec<u8>)>,
        body: Bytes,
    ) -> Self {
        let parts = Parts::given(fields, Origin { scheme, authority });
        Self::from_parts(method, target, Arc::new(parts)).with_body(body)
    }

    /// Adds a header field (builder style, for tests and examples).
    pub fn with_header(mut self, name: &str, value: impl AsRef<[u8]>) -> Self {
        let value = value.as_ref();
        match &mut self.headers {
            Headers::Fields(map) => {
                let mut fields = self.parts.fields().to_vec();
                fields.push((name.to_ascii_lowercase(), value.to_vec()));
                // The same origin and body (read now, or the reason it
                // could not be): only the fields change.
                let parts = Parts::given(fields, self.parts.origin().clone());
                let _ = parts.body.set(self.parts.body().clone());
                self.parts = Arc::new(parts);
                *map = OnceLock::new();
            }
            Headers::Map(map) => {
                if let (Ok(n), Ok(v)) = (
                    http::HeaderName::from_bytes(name.as_bytes()),
                    http::HeaderValue::from_bytes(value),
                ) {
                    map.append(n, v);
                }
            }
        }
        self
    }

    /// Replaces the body (builder style, for tests and examples).
    pub fn with_body(mut self, body: impl Into<Bytes>) -> Self {
        self.body = OnceLock::from(body.into());
        self
    }

    /// The method.
    pub fn method(&self) -> &Method {
        self.method.get()
    }

    /// The path, without the query: `/orders/7`.
    pub fn path(&self) -> &str {
        match self.target.split_once('?') {
            Some((path, _)) => path,
            None => &self.target,
        }
    }

    /// The query string without the `?`, as sent (not decoded); `None`
    /// when there is no `?`. [`RequestExt::query`](crate::RequestExt::query)
    /// and [`query_param`](crate::RequestExt::query_param) decode it.
    pub fn query_str(&self) -> Option<&str> {
        self.target.split_once('?').map(|(_, query)| query)
    }

    /// The path with its query, as sent: `/orders/7?verbose=1`.
    pub fn path_and_query(&self) -> &str {
        &self.target
    }

    /// The request URI, with the scheme and authority when the host gave
    /// them. Parsed on first use. Bytes the `http` crate does not accept in
    /// a URI (hosts pass some, such as `<` or a space in a query) are
    /// percent-encoded; an authority it does not accept is left out.
    pub fn uri(&self) -> &Uri {
        self.uri.get_or_init(|| {
            let path_and_query = http::uri::PathAndQuery::try_from(self.target.as_str())
                .or_else(|_| http::uri::PathAndQuery::try_from(escape_target(&self.target)))
                .unwrap_or_else(|_| http::uri::PathAndQuery::from_static("/"));
            let origin = self.parts.origin();
            let mut parts = http::uri::Parts::default();
            parts.path_and_query = Some(path_and_query.clone());
            if let Some(Ok(authority)) = origin
                .authority
                .as_deref()
                .filter(|a| !a.is_empty())
                .map(http::uri::Authority::try_from)
            {
                let scheme = match &origin.scheme {
                    Some(RawScheme::Http) => Some(http::uri::Scheme::HTTP),
                    Some(RawScheme::Https) | None => Some(http::uri::Scheme::HTTPS),
                    Some(RawScheme::Other(s)) => http::uri::Scheme::try_from(s.as_str()).ok(),
                };
                if let Some(scheme) = scheme {
                    parts.authority = Some(authority);
                    parts.scheme = Some(scheme);
                }
            }
            Uri::from_parts(parts).unwrap_or_else(|_| Uri::from(path_and_query))
        })
    }

    /// The header fields as a `HeaderMap`, built on first use. Fields that
    /// are not valid HTTP are left out (hosts validate them already).
    /// [`header`](Self::header) reads one field without building the map.
    pub fn headers(&self) -> &HeaderMap {
        match &self.headers {
            Headers::Fields(map) => map.get_or_init(|| self.parts.header_map()),
            Headers::Map(map) => map,
        }
    }

    /// The header fields, to change them.
    pub fn headers_mut(&mut self) -> &mut HeaderMap {
        if let Headers::Fields(..) = self.headers {
            let map = self.headers().clone();
            self.headers = Headers::Map(map);
        }
        match &mut self.headers {
            Headers::Map(map) => map,
            Headers::Fields(..) => unreachable!("replaced above"),
        }
    }

    /// The first value of header `name` (any case), when it is UTF-8
    /// ([`header_bytes`](Self::header_bytes) otherwise).
    pub fn header(&self, name: &str) -> Option<&str> {
        std::str::from_utf8(self.header_bytes(name)?).ok()
    }

    /// The first value of header `name` (any case), as sent.
    pub fn header_bytes(&self, name: &str) -> Option<&[u8]> {
        self.fields()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v)
    }

    /// Every header field, `(name, value)` in the order received. Names are
    /// lower-case, as hosts give them.
    pub fn fields(&self) -> impl Iterator<Item = (&str, &[u8])> {
        let (list, map) = match &self.headers {
            Headers::Fields(_) => (Some(self.parts.fields()), None),
            Headers::Map(map) => (None, Some(map)),
        };
        crate::glue::fields_of(list, map)
    }

    /// The whole body, read from the host on first use.
    ///
    /// A body that cannot be read (the client went away mid-upload, a host
    /// limit) reads as empty here, with a warning logged; the extractors,
    /// [`RequestExt`](crate::RequestExt)'s readers and
    /// [`try_body`](Self::try_body) answer 400 instead.
    pub fn body(&self) -> &Bytes {
        self.body.get_or_init(|| match self.parts.body() {
            Ok(body) => body.clone(),
            Err(reason) => {
                crate::log::warn(&format!("the request body could not be read: {reason}"));
                Bytes::new()
            }
        })
    }

    /// The whole body, or a 400 naming why it could not be read.
    pub fn try_body(&self) -> Result<&Bytes, crate::Error> {
        self.body_or_reason().map_err(|reason| {
            crate::Error::bad_request(format!("the request body could not be read: {reason}"))
        })
    }

    /// The body, or why the host could not give it.
    pub(crate) fn body_or_reason(&self) -> Result<&Bytes, &str> {
        if self.body.get().is_none()
            && let Err(reason) = self.parts.body()
        {
            return Err(reason);
        }
        Ok(self.body())
    }

    /// The body, to change it.
    pub fn body_mut(&mut self) -> &mut Bytes {
        self.body();
        self.body.get_mut().expect("read just now")
    }

    /// The body, taking the request apart.
    pub fn into_body(self) -> Bytes {
        self.body();
        self.body.into_inner().expect("read just now")
    }

    /// Typed values middleware and handlers attach to the request.
    pub fn extensions(&self) -> &http::Extensions {
        &self.extensions
    }

    /// The extensions, to change them.
    pub fn extensions_mut(&mut self) -> &mut http::Extensions {
        &mut self.extensions
    }

    /// The path parameters a [`Router`](crate::router::Router) matched.
    pub fn path_params(&self) -> Option<&PathParams> {
        self.params.as_ref()
    }

    pub(crate) fn set_path_params(&mut self, params: PathParams) {
        self.params = Some(params);
    }

    /// The same request as an `http::Request<Bytes>` (its URI, headers,
    /// body and extensions).
    pub fn into_http(self) -> http::Request<Bytes> {
        let uri = self.uri().clone();
        self.body();
        let body = self.body.into_inner().expect("read just now");
        let headers = match self.headers {
            Headers::Map(map) => map,
            Headers::Fields(map) => map.into_inner().unwrap_or_else(|| self.parts.header_map()),
        };
        let mut req = http::Request::new(body);
        *req.method_mut() = self.method.into_method();
        *req.uri_mut() = uri;
        *req.headers_mut() = headers;
        *req.extensions_mut() = self.extensions;
        if let Some(params) = self.params {
            req.extensions_mut().insert(params);
        }
        req
    }
}

impl From<http::Request<Bytes>> for Request {
    fn from(req: http::Request<Bytes>) -> Self {
        let (mut parts, body) = req.into_parts();
        let params = parts.extensions.remove::<PathParams>();
        let mut request = Self::from_uri(parts.method, parts.uri).with_body(body);
        request.headers = Headers::Map(parts.headers);
        request.params = params;
        request.extensions = parts.extensions;
        request
    }
}

impl From<Request> for http::Request<Bytes> {
    fn from(req: Request) -> Self {
        req.into_http()
    }
}

impl Clone for Request {
    fn clone(&self) -> Self {
        let headers = match &self.headers {
            Headers::Fields(map) => Headers::Fields(map.clone()),
            Headers::Map(map) => Headers::Map(map.clone()),
        };
        Self {
            method: self.method.clone(),
            target: self.target.clone(),
            parts: Arc::clone(&self.parts),
            headers,
            body: self.body.clone(),
            uri: self.uri.clone(),
            params: self.params.clone(),
            extensions: self.extensions.clone(),
        }
    }
}

impl Default for Request {
    /// `GET /`.
    fn default() -> Self {
        Self::new(Method::GET, "/")
    }
}

impl fmt::Debug for Request {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Request")
            .field("method", self.method())
            .field("target", &self.target)
            .field("authority", &self.parts.origin().authority)
            .field(
                "headers",
                &self
                    .fields()
                    .map(|(n, v)| (n, String::from_utf8_lossy(v)))
                    .collect::<Vec<_>>(),
            )
            .field("body", &self.body.get())
            .finish_non_exhaustive()
    }
}

fn strip_fragment(target: &str) -> &str {
    target.split_once('#').map_or(target, |(before, _)| before)
}

/// `target` with every byte outside the URI's unreserved, reserved and `%`
/// characters percent-encoded.
fn escape_target(target: &str) -> String {
    use percent_encoding::{AsciiSet, CONTROLS, utf8_percent_encode};
    const ESCAPED: &AsciiSet = &CONTROLS
        .add(b' ')
        .add(b'"')
        .add(b'<')
        .add(b'>')
        .add(b'`')
        .add(b'\\')
        .add(b'^')
        .add(b'{')
        .add(b'}')
        .add(b'|')
        .add(b'#');
    utf8_percent_encode(target, ESCAPED).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn extension_methods_are_tokens_parsed_on_first_use() {
        use crate::glue::extension_method;
        let mut req = Request::new(Method::GET, "/");
        req.method = extension_method("PURGE".into()).unwrap();
        assert_eq!(req.method(), http::Method::from_bytes(b"PURGE").unwrap());
        assert_eq!(req.clone().into_http().method().as_str(), "PURGE");
        for bad in ["", "GET /", "SP ACE", "BRA{CE}", "caf\u{e9}"] {
            let err = extension_method(bad.into()).err().unwrap();
            assert!(err.starts_with("invalid method"), "{bad:?}: {err}");
        }
    }

    #[test]
    fn reads_the_parts_without_parsing() {
        let req = Request::from_host(
            Method::POST,
            "/a/b?x=1&y=2".into(),
            Some(RawScheme::Http),
            Some("h:8080".into()),
            vec![
                ("x-one".into(), b"1".to_vec()),
                ("bad name".into(), b"kept raw, left out of the map".to_vec()),
                ("x-one".into(), b"2".to_vec()),
            ],
            Bytes::from_static(b"body"),
        );
        assert_eq!(req.path(), "/a/b");
        assert_eq!(req.query_str(), Some("x=1&y=2"));
        assert_eq!(req.header("X-One"), Some("1"));
        assert_eq!(req.fields().count(), 3);
        assert_eq!(req.uri(), "http://h:8080/a/b?x=1&y=2");
        let ones: Vec<_> = req.headers().get_all("x-one").iter().collect();
        assert_eq!(ones, ["1", "2"]);
        assert_eq!(req.headers().len(), 2);
        assert_eq!(req.body(), "body");
    }

    #[test]
    fn a_target_the_http_crate_refuses_is_escaped_in_the_uri() {
        let req = Request::new(Method::GET, "/a<b>?q=\"x y\"");
        assert_eq!(req.path(), "/a<b>");
        assert_eq!(req.uri().path(), "/a%3Cb%3E");
        assert_eq!(req.uri().query(), Some("q=%22x%20y%22"));
        let bad_authority = Request::from_host(
            Method::GET,
            "/".into(),
            None,
            Some("a b".into()),
            vec![],
            Bytes::new(),
        );
        assert_eq!(bad_authority.uri(), "/");
    }

    #[test]
    fn converts_to_and_from_http() {
        let mut req = Request::new(Method::PUT, "https://example.com/x?y=1")
            .with_header("content-type", "text/plain")
            .with_body("hi");
        req.set_path_params(PathParams(vec![("id".into(), "7".into())]));
        let http_req = req.clone().into_http();
        assert_eq!(http_req.uri(), "https://example.com/x?y=1");
        assert_eq!(http_req.headers()["content-type"], "text/plain");
        assert_eq!(http_req.body(), "hi");
        let back = Request::from(http_req);
        assert_eq!(back.method(), Method::PUT);
        assert_eq!(back.path_and_query(), "/x?y=1");
        assert_eq!(back.header("content-type"), Some("text/plain"));
        assert_eq!(back.path_params().and_then(|p| p.get("id")), Some("7"));
    }

    #[test]
    fn a_body_the_host_could_not_give_is_a_400_where_it_can_be() {
        let failing = |fields: Vec<(String, Vec<u8>)>| {
            let parts = Parts::given(fields, Origin::default());
            parts.body.set(Err("the client went away".into())).unwrap();
            Request::from_parts(Method::POST, "/".into(), Arc::new(parts))
        };
        let req = failing(Vec::new());
        let err = req.try_body().unwrap_err();
        assert_eq!(err.status(), 400);
        assert!(err.message().ends_with("the client went away"), "{err}");
        use crate::RequestExt;
        assert_eq!(req.json::<serde_json::Value>().unwrap_err().status(), 400);
        assert_eq!(req.text().unwrap_err().status(), 400);
        use crate::extract::FromRequestRef;
        assert_eq!(Bytes::from_request_ref(&req).unwrap_err().status(), 400);
        let structured = failing(vec![(
            "content-type".into(),
            b"application/cloudevents+json".to_vec(),
        )]);
        let event = crate::CloudEvent::<serde_json::Value>::from_request(&structured);
        assert_eq!(
            event.unwrap_err(),
            crate::EventError::Body("the client went away".into())
        );
        // `body()` reads as empty; a body set afterwards is what it is.
        assert!(req.body().is_empty());
        assert!(req.try_body().is_ok());
        assert_eq!(
            failing(Vec::new()).with_body("given").try_body().unwrap(),
            "given"
        );
    }

    #[test]
    fn changed_headers_are_what_every_accessor_sees() {
        let mut req = Request::new(Method::GET, "/").with_header("a", "1");
        req.headers_mut()
            .insert("b", http::HeaderValue::from_static("2"));
        let req = req.with_header("c", "3");
        assert_eq!(req.header("a"), Some("1"));
        assert_eq!(req.header("b"), Some("2"));
        assert_eq!(req.header("c"), Some("3"));
        assert_eq!(req.fields().count(), 3);
    }
}
