//! The request glue of the SDK (`wasi:http` parts to an `http::Request`):
//! any parts the host could hand over give a request that keeps them, or an
//! error; never a panic.
#![no_main]

use arbitrary::Arbitrary;
use fnsdk::__private::{RawRequest, RawScheme, assemble_request};
use fnsdk::http;
use libfuzzer_sys::fuzz_target;

#[derive(Arbitrary, Debug)]
enum Scheme {
    Http,
    Https,
    Other(String),
}

#[derive(Arbitrary, Debug)]
struct Input {
    method: Option<String>,
    path_with_query: Option<String>,
    scheme: Option<Scheme>,
    authority: Option<String>,
    headers: Vec<(String, Vec<u8>)>,
    body: Vec<u8>,
}

fuzz_target!(|input: Input| {
    // The WASI backend maps the method enum first; `other` goes through
    // `Method::from_bytes`, whose failure is a 400 before assembly.
    let method = match input.method {
        None => http::Method::GET,
        Some(m) => match http::Method::from_bytes(m.as_bytes()) {
            Ok(m) => m,
            Err(_) => return,
        },
    };
    let header_count = input.headers.len();
    let raw = RawRequest {
        method: method.clone(),
        path_with_query: input.path_with_query.clone(),
        scheme: input.scheme.map(|s| match s {
            Scheme::Http => RawScheme::Http,
            Scheme::Https => RawScheme::Https,
            Scheme::Other(s) => RawScheme::Other(s),
        }),
        authority: input.authority.clone(),
        headers: input.headers,
        body: input.body.clone().into(),
    };
    let Ok(req) = assemble_request(raw) else {
        return;
    };
    assert_eq!(req.method(), method);
    assert_eq!(req.body(), &input.body[..]);
    assert!(req.headers().len() <= header_count);
    // A request target has no fragment; `http` drops one, and reads an
    // empty path as `/`.
    let path = input.path_with_query.as_deref().unwrap_or("/");
    let path = path.split('#').next().unwrap_or_default();
    let path = if path.is_empty() { "/" } else { path };
    let kept = req.uri().path_and_query().map(|p| p.as_str());
    assert_eq!(kept, Some(path), "the path and query are kept as given");
    match input.authority.as_deref() {
        Some(a) if !a.is_empty() => {
            assert_eq!(req.uri().authority().map(|a| a.as_str()), Some(a));
            assert!(req.uri().scheme().is_some());
        }
        _ => assert!(req.uri().authority().is_none()),
    }
});
