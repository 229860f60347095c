//! Converting between `wasi:http` resources and `http` crate types.

use bytes::Bytes;

use super::bindings::wasi::http::types::{
    Fields, HeaderError, IncomingBody, IncomingRequest, Method, OutgoingResponse, ResponseOutparam,
    Scheme,
};
use super::bindings::wasi::io::streams::{InputStream, OutputStream, StreamError};
use crate::__private::Export;
use std::sync::Arc;

use crate::glue::RawScheme;
use crate::request_type::{LazyMethod, Parts};
use crate::{Request, Response, StatusCode, response};

/// The most a single `blocking-write-and-flush` may write.
const WRITE_CHUNK: usize = 4096;
pub(crate) const READ_CHUNK: u64 = 64 * 1024;

/// Entry point of the generated export: read the request, run `H`, write
/// the response.
pub fn serve<H: Export>(request: IncomingRequest, out: ResponseOutparam) {
    let response = match read_request(request) {
        Ok((req, parts)) => {
            let _trace = crate::trace::enter_lazy(parts);
            H::handle(req)
        }
        Err(reason) => {
            crate::log::warn(&format!("bad request: {reason}"));
            response::error(StatusCode::BAD_REQUEST, &reason)
        }
    };
    if let Err(reason) = write_response(out, response) {
        crate::log::error(&format!("failed to send the response: {reason}"));
    }
}

/// The method of an incoming request.
pub(crate) fn from_wasi_method(method: Method) -> Result<LazyMethod, String> {
    Ok(LazyMethod::Parsed(match method {
        Method::Get => http::Method::GET,
        Method::Head => http::Method::HEAD,
        Method::Post => http::Method::POST,
        Method::Put => http::Method::PUT,
        Method::Delete => http::Method::DELETE,
        Method::Connect => http::Method::CONNECT,
        Method::Options => http::Method::OPTIONS,
        Method::Trace => http::Method::TRACE,
        Method::Patch => http::Method::PATCH,
        Method::Other(m) => return crate::glue::extension_method(m),
    }))
}

pub(crate) fn to_wasi_method(method: &http::Method) -> Method {
    match *method {
        http::Method::GET => Method::Get,
        http::Method::HEAD => Method::Head,
        http::Method::POST => Method::Post,
        http::Method::PUT => Method::Put,
        http::Method::DELETE => Method::Delete,
        http::Method::CONNECT => Method::Connect,
        http::Method::OPTIONS => Method::Options,
        http::Method::TRACE => Method::Trace,
        http::Method::PATCH => Method::Patch,
        ref other => Method::Other(other.as_str().to_owned()),
    }
}

pub(crate) fn to_wasi_scheme(scheme: Option<&http::uri::Scheme>) -> Scheme {
    match scheme.map(|s| s.as_str()) {
        Some("http") => Scheme::Http,
        Some("https") | None => Scheme::Https,
        Some(other) => Scheme::Other(other.to_owned()),
    }
}

/// Header fields as a `wasi:http` field list, without hop-by-hop fields,
/// which hosts refuse in guest-made fields.
pub(crate) fn to_fields(mut list: Vec<(String, Vec<u8>)>) -> Result<Fields, String> {
    list.retain(|(name, _)| !is_hop_by_hop(name));
    Fields::from_list(&list).map_err(|e| {
        let why = match e {
            HeaderError::InvalidSyntax => "invalid syntax",
            HeaderError::Forbidden => "a header the host forbids",
            HeaderError::Immutable => "immutable fields",
        };
        format!("invalid headers: {why}")
    })
}

/// An `http` header map as a field list.
pub(crate) fn map_fields(headers: &http::HeaderMap) -> Vec<(String, Vec<u8>)> {
    headers
        .iter()
        .map(|(name, value)| (name.as_str().to_owned(), value.as_bytes().to_vec()))
        .collect()
}

/// Whether `name` (any case: a list from the host or the handler keeps
/// the case it was given) is a hop-by-hop field.
fn is_hop_by_hop(name: &str) -> bool {
    const HOP_BY_HOP: [&str; 11] = [
        "connection",
        "keep-alive",
        "proxy-authenticate",
        "proxy-authorization",
        "proxy-connection",
        "te",
        "trailer",
        "transfer-encoding",
        "upgrade",
        "host",
        "http2-settings",
    ];
    HOP_BY_HOP.iter().any(|h| h.eq_ignore_ascii_case(name))
}

pub(crate) fn read_stream(stream: &InputStream) -> Result<Bytes, String> {
    let mut body = Vec::new();
    loop {
        match stream.blocking_read(READ_CHUNK) {
            Ok(chunk) => body.extend_from_slice(&chunk),
            Err(StreamError::Closed) => return Ok(Bytes::from(body)),
            Err(StreamError::LastOperationFailed(e)) => {
                return Err(format!("reading the body failed: {}", e.to_debug_string()));
            }
        }
    }
}

pub(crate) fn read_body(body: IncomingBody) -> Result<Bytes, String> {
    let stream = body
        .stream()
        .map_err(|()| "the body stream was already taken".to_owned())?;
    let bytes = read_stream(&stream)?;
    // The stream is a child of the body, so it goes first. Dropping the
    // body instead of `finish`ing it skips two host calls (finish, and
    // dropping the trailers future) for trailers nobody reads.
    drop(stream);
    drop(body);
    Ok(bytes)
}

pub(crate) fn write_stream(stream: &OutputStream, bytes: &[u8]) -> Result<(), String> {
    for chunk in bytes.chunks(WRITE_CHUNK) {
        stream
            .blocking_write_and_flush(chunk)
            .map_err(|e| match e {
                StreamError::Closed => "the body stream was closed by the host".to_owned(),
                StreamError::LastOperationFailed(e) => {
                    format!("writing the body failed: {}", e.to_debug_string())
                }
            })?;
    }
    Ok(())
}

/// The request, and its parts that are read lazily (shared with `trace`).
/// The method and the target are read now: a bad target is a 400 before the
/// handler runs.
fn read_request(request: IncomingRequest) -> Result<(Request, Arc<Parts>), String> {
    let method = from_wasi_method(request.method())?;
    let target = crate::glue::target(request.path_with_query())?;
    let parts = Arc::new(Parts::host(request));
    let request = Request::from_parts(method, target, Arc::clone(&parts));
    Ok((request, parts))
}

/// The body of `request`, read whole.
pub(crate) fn read_request_body(request: &IncomingRequest) -> Result<Bytes, String> {
    match request.consume() {
        Ok(body) => read_body(body),
        Err(()) => Ok(Bytes::new()),
    }
}

/// The header fields of `request` (three host calls and a copy of each).
pub(crate) fn read_fields(request: &IncomingRequest) -> Vec<(String, Vec<u8>)> {
    // The fields are a child of the request: dropped before it is.
    let fields = request.headers();
    fields.entries()
}

/// The scheme and authority of `request`.
pub(crate) fn read_origin(request: &IncomingRequest) -> (Option<RawScheme>, Option<String>) {
    let scheme = request.scheme().map(|scheme| match scheme {
        Scheme::Http => RawScheme::Http,
        Scheme::Https => RawScheme::Https,
        Scheme::Other(other) => RawScheme::Other(other),
    });
    (scheme, request.authority())
}

fn write_response(out: ResponseOutparam, response: Response) -> Result<(), String> {
    let (status, fields, body) = response.into_host_parts();
    let fields = match to_fields(fields) {
        Ok(fields) => fields,
        Err(reason) => {
            // Refused fields are the handler's fault, answered like its
            // errors: a 500 that leaks nothing, the reason in the log. (A
            // response is always sent, never an `error-code`: lowering one
            // would put all of `error-code` into every function.)
            crate::log::error(&format!("failed to send the response: {reason}"));
            let internal =
                response::error(StatusCode::INTERNAL_SERVER_ERROR, "Internal Server Error");
            return write_response(out, internal);
        }
    };
    let resp = OutgoingResponse::new(fields);
    // A new response is 200 already: one host call fewer for most.
    if status != StatusCode::OK {
        resp.set_status_code(status.as_u16())
            // `as_u16`: `StatusCode`'s Display brings its reason phrases.
            .map_err(|()| format!("invalid status {}", status.as_u16()))?;
    }
    let outgoing = resp
        .body()
        .map_err(|()| "response body already taken".to_owned())?;
    super::raw::send_response(out, resp);
    let stream = outgoing
        .write()
        .map_err(|()| "response body stream already taken".to_owned())?;
    write_stream(&stream, &body)?;
    drop(stream);
    super::raw::finish_body(outgoing)
        .map_err(|()| "the host rejected the finished response body".to_owned())
}
