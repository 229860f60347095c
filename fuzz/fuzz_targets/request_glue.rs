//! The request glue of the SDK (`wasi:http` parts to an `fnsdk::Request`):
//! any parts the host could hand over give a request that keeps them, or an
//! error; never a panic, and none from the views built later (`uri()`,
//! `headers()`, the conversion to `http::Request`).
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
    assert_eq!(req.fields().count(), header_count, "every field is kept");
    assert!(req.headers().len() <= header_count);
    // A request target has no fragment; an empty one reads as `/`.
    let target = input.path_with_query.as_deref().unwrap_or("/");
    let target = target.split('#').next().unwrap_or_default();
    let target = if target.is_empty() { "/" } else { target };
    assert_eq!(req.path_and_query(), target, "the target is kept as given");
    assert_eq!(
        format!(
            "{}{}",
            req.path(),
            req.query_str().map(|q| format!("?{q}")).unwrap_or_default()
        ),
        target
    );
    // The URI always exists; its authority is the host's when the `http`
    // crate accepts it, and then it has a scheme.
    let uri = req.uri();
    assert!(uri.path_and_query().is_some());
    if let Some(authority) = uri.authority() {
        assert_eq!(Some(authority.as_str()), input.authority.as_deref());
        assert!(uri.scheme().is_some());
    }
    let http_req = req.clone().into_http();
    assert_eq!(http_req.uri(), uri);
    assert_eq!(http_req.headers(), req.headers());
});
