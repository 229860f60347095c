//! CloudEvents over HTTP, binary and structured mode: any request either
//! parses or is refused with an `EventError`, never a panic; and an event
//! that parses comes back identical after writing it in either mode and
//! parsing it again.
#![no_main]

use arbitrary::Arbitrary;
use fnsdk::{CloudEvent, http};
use libfuzzer_sys::fuzz_target;
use serde_json::Value;

/// A header, biased towards the ones the parser reads.
#[derive(Arbitrary, Debug)]
enum Header {
    SpecVersion(bool, String),
    Id(String),
    Source(String),
    Type(String),
    Time(String),
    Subject(String),
    DataSchema(String),
    Extension(String, String),
    ContentType(ContentType),
    Other(String, Vec<u8>),
}

#[derive(Arbitrary, Debug)]
enum ContentType {
    Structured,
    Batch,
    Json,
    Text,
    Given(String),
}

#[derive(Arbitrary, Debug)]
struct Input {
    headers: Vec<Header>,
    body: Vec<u8>,
}

fn request(input: Input) -> fnsdk::Request {
    let mut builder = http::Request::post("/");
    for header in input.headers {
        let (name, value): (String, Vec<u8>) = match header {
            Header::SpecVersion(true, _) => ("ce-specversion".into(), b"1.0".to_vec()),
            Header::SpecVersion(false, v) => ("ce-specversion".into(), v.into_bytes()),
            Header::Id(v) => ("ce-id".into(), v.into_bytes()),
            Header::Source(v) => ("ce-source".into(), v.into_bytes()),
            Header::Type(v) => ("ce-type".into(), v.into_bytes()),
            Header::Time(v) => ("ce-time".into(), v.into_bytes()),
            Header::Subject(v) => ("ce-subject".into(), v.into_bytes()),
            Header::DataSchema(v) => ("ce-dataschema".into(), v.into_bytes()),
            Header::Extension(n, v) => (format!("ce-{n}"), v.into_bytes()),
            Header::ContentType(ct) => {
                let value = match ct {
                    ContentType::Structured => "application/cloudevents+json; charset=utf-8".into(),
                    ContentType::Batch => "application/cloudevents-batch+json".into(),
                    ContentType::Json => "application/json".into(),
                    ContentType::Text => "text/plain".into(),
                    ContentType::Given(s) => s,
                };
                ("content-type".into(), value.into_bytes())
            }
            Header::Other(n, v) => (n, v),
        };
        // Requests a server would not accept are not the parser's input.
        if let (Ok(n), Ok(v)) = (
            http::HeaderName::from_bytes(name.as_bytes()),
            http::HeaderValue::from_bytes(&value),
        ) {
            builder = builder.header(n, v);
        }
    }
    builder.body(input.body.into()).expect("valid parts").into()
}

/// Equal, except that numbers may differ in the last bit: serde_json
/// (without its `float_roundtrip` feature, which the SDK leaves off to keep
/// functions small) parses a decimal to within one ULP, so a large number
/// can move by one ULP when written and read again.
fn same_data(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => match (x.as_f64(), y.as_f64()) {
            (Some(x), Some(y)) if x.is_finite() && y.is_finite() => {
                x == y || (x - y).abs() <= f64::EPSILON * x.abs().max(y.abs())
            }
            _ => x == y,
        },
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(x, y)| same_data(x, y))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len()
                && x.iter()
                    .zip(y)
                    .all(|((kx, vx), (ky, vy))| kx == ky && same_data(vx, vy))
        }
        _ => a == b,
    }
}

/// Reads `written` back and compares it with `event`.
fn read_back(mode: &str, req: &fnsdk::Request, event: &CloudEvent, written: &fnsdk::Request) {
    let again = CloudEvent::<Value>::from_request(written)
        .unwrap_or_else(|e| panic!("{mode} round trip of {req:?}: {event:?} is refused: {e}"));
    let data_ok = same_data(&event.data, &again.data);
    let again = CloudEvent {
        data: event.data.clone(),
        ..again
    };
    assert!(
        data_ok && &again == event,
        "{mode} round trip of {req:?}: {event:?} read back as {again:?}"
    );
}

fuzz_target!(|input: Input| {
    let req = request(input);
    let Ok(event) = CloudEvent::<Value>::from_request(&req) else {
        return;
    };
    let binary = event
        .to_binary_request()
        .expect("a parsed event serialises");
    read_back("binary", &req, &event, &binary);
    let structured = event
        .to_structured_request()
        .expect("a parsed event serialises");
    read_back("structured", &req, &event, &structured);
});
