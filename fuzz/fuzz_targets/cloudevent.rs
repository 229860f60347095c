//! CloudEvents over HTTP, binary and structured mode: any request either
//! parses or is refused with an `EventError`, never a panic; and an event
//! that parses comes back identical after writing it in either mode and
//! parsing it again.
#![no_main]

use arbitrary::Arbitrary;
use fnsdk::{CloudEvent, http};
use libfuzzer_sys::fuzz_target;

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

fn request(input: Input) -> http::Request<fnsdk::Bytes> {
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
    builder.body(input.body.into()).expect("valid parts")
}

fuzz_target!(|input: Input| {
    let req = request(input);
    let Ok(event) = CloudEvent::<serde_json::Value>::from_request(&req) else {
        return;
    };
    let binary = event
        .to_binary_request()
        .expect("a parsed event serialises");
    let again = CloudEvent::<serde_json::Value>::from_request(&binary);
    assert_eq!(again.as_ref(), Ok(&event), "binary round trip of {req:?}");
    let structured = event
        .to_structured_request()
        .expect("a parsed event serialises");
    let again = CloudEvent::<serde_json::Value>::from_request(&structured);
    assert_eq!(
        again.as_ref(),
        Ok(&event),
        "structured round trip of {req:?}"
    );
});
