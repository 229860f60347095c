//! CloudEvents 1.0 over HTTP, binary and structured mode.
//!
//! Binary mode carries the attributes in `ce-*` headers and the data as the
//! body; structured mode carries the whole event as one JSON document with
//! `Content-Type: application/cloudevents+json`. Both give the same
//! [`CloudEvent`].

use std::{borrow::Cow, collections::BTreeMap};

use base64::Engine as _;
use http::HeaderValue;
use percent_encoding::{AsciiSet, CONTROLS, percent_decode_str, utf8_percent_encode};
use serde::{Serialize, de::DeserializeOwned};
use serde_json::{Map, Value};

use crate::Request;

const STRUCTURED: &str = "application/cloudevents+json";
const BATCH: &str = "application/cloudevents-batch+json";

/// A CloudEvents 1.0 event whose `data` is deserialised into `T`.
#[derive(Debug, Clone, PartialEq)]
pub struct CloudEvent<T = Value> {
    /// Identifies the event; `source` + `id` is unique per event, so a
    /// redelivery carries the same pair.
    pub id: String,
    /// The context in which the event happened (a URI reference).
    pub source: String,
    /// The event type, e.g. `com.example.user.registered`.
    pub ty: String,
    /// The CloudEvents version; always `1.0`.
    pub specversion: String,
    /// The subject of the event within the source.
    pub subject: Option<String>,
    /// When the event happened (RFC 3339), as sent.
    pub time: Option<String>,
    /// The media type of `data`.
    pub datacontenttype: Option<String>,
    /// The schema `data` adheres to.
    pub dataschema: Option<String>,
    /// Extension attributes, by lower-case name.
    pub extensions: BTreeMap<String, String>,
    /// The event payload.
    pub data: T,
}

/// Why a request is not a usable CloudEvent. Handlers answer it with a 400.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[non_exhaustive]
pub enum EventError {
    /// Neither binary nor structured mode.
    #[error(
        "not a CloudEvent: expected `ce-*` headers (binary mode) or Content-Type `{STRUCTURED}` (structured mode)"
    )]
    NotAnEvent,
    /// Batched mode is not accepted: each event is its own request.
    #[error("batched CloudEvents (`{BATCH}`) are not supported; send one event per request")]
    Batch,
    /// A required attribute is absent or empty.
    #[error("CloudEvent is missing the required attribute `{0}`")]
    Missing(&'static str),
    /// `specversion` is not `1.0`.
    #[error("unsupported CloudEvents specversion {0:?}; only \"1.0\" is supported")]
    SpecVersion(String),
    /// A header or attribute value is malformed.
    #[error("invalid CloudEvent attribute `{name}`: {reason}")]
    Attribute {
        /// The attribute.
        name: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The structured-mode body is not a JSON object.
    #[error("invalid structured CloudEvent: {0}")]
    Structured(String),
    /// `data` does not deserialise into the handler's type.
    #[error("CloudEvent data does not match the expected type: {0}")]
    Data(String),
    /// The request body could not be read.
    #[error("the request body could not be read: {0}")]
    Body(String),
}

impl<T> CloudEvent<T> {
    /// A new event with a generated id, for tests and for sending events.
    pub fn new(ty: impl Into<String>, source: impl Into<String>, data: T) -> Self {
        Self {
            id: next_id(),
            source: source.into(),
            ty: ty.into(),
            specversion: "1.0".into(),
            subject: None,
            time: None,
            datacontenttype: Some("application/json".into()),
            dataschema: None,
            extensions: BTreeMap::new(),
            data,
        }
    }

    /// Sets the id (builder style).
    pub fn with_id(mut self, id: impl Into<String>) -> Self {
        self.id = id.into();
        self
    }

    /// Sets the subject (builder style).
    pub fn with_subject(mut self, subject: impl Into<String>) -> Self {
        self.subject = Some(subject.into());
        self
    }

    /// Sets the time (builder style).
    pub fn with_time(mut self, time: impl Into<String>) -> Self {
        self.time = Some(time.into());
        self
    }

    /// Adds an extension attribute (builder style). Names are lower-cased.
    pub fn with_extension(mut self, name: &str, value: impl Into<String>) -> Self {
        self.extensions
            .insert(name.to_ascii_lowercase(), value.into());
        self
    }
}

fn body(req: &Request) -> Result<&[u8], EventError> {
    req.body_or_reason()
        .map(|body| &body[..])
        .map_err(|reason| EventError::Body(reason.to_owned()))
}

fn next_id() -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static COUNTER: AtomicU64 = AtomicU64::new(1);
    format!("fnsdk-{}", COUNTER.fetch_add(1, Ordering::Relaxed))
}

impl<T: DeserializeOwned> CloudEvent<T> {
    /// Reads an event from an HTTP request in binary or structured mode.
    pub fn from_request(req: &Request) -> Result<Self, EventError> {
        let content_type = req.header("content-type").map(|v| {
            v.split(';')
                .next()
                .unwrap_or("")
                .trim()
                .to_ascii_lowercase()
        });
        match content_type.as_deref() {
            Some(STRUCTURED) => {
                let event = Self::from_structured(body(req)?)?;
                // A structured event carries its trace as an attribute.
                if let Some(traceparent) = event.extensions.get("traceparent") {
                    crate::trace::adopt(traceparent);
                }
                Ok(event)
            }
            Some(BATCH) => Err(EventError::Batch),
            _ if req.header_bytes("ce-specversion").is_some() => Self::from_binary(req),
            _ => Err(EventError::NotAnEvent),
        }
    }

    fn from_binary(req: &Request) -> Result<Self, EventError> {
        let mut attrs: BTreeMap<String, String> = BTreeMap::new();
        for (name, value) in req.fields() {
            // Hosts give names in lower case; a native test might not.
            let name = name.to_ascii_lowercase();
            let Some(attr) = name.strip_prefix("ce-") else {
                continue;
            };
            let visible = value
                .iter()
                .all(|b| (b' '..=b'~').contains(b) || *b == b'\t');
            let value = std::str::from_utf8(value)
                .ok()
                .filter(|_| visible)
                .ok_or_else(|| EventError::Attribute {
                    name: attr.to_owned(),
                    reason: "header value is not visible ASCII".into(),
                })?;
            let decoded = percent_decode(attr, value)?;
            if attrs.insert(attr.to_owned(), decoded).is_some() {
                // Which of two `ce-type` headers is the type? Refuse to guess.
                return Err(EventError::Attribute {
                    name: attr.to_owned(),
                    reason: "the header is given more than once".into(),
                });
            }
        }
        let datacontenttype = req.header("content-type").map(str::to_owned);
        let data = decode_data(body(req)?, datacontenttype.as_deref())?;
        Self::from_attributes(attrs, datacontenttype, data)
    }

    fn from_structured(body: &[u8]) -> Result<Self, EventError> {
        let doc: Map<String, Value> = serde_json::from_slice(body)
            .map_err(|e| EventError::Structured(format!("body is not a JSON object: {e}")))?;
        let mut attrs = BTreeMap::new();
        let mut data = None;
        let mut data_base64 = None;
        for (name, value) in doc {
            match name.as_str() {
                "data" => data = Some(value),
                "data_base64" => data_base64 = Some(value),
                _ => {
                    let text = match value {
                        Value::String(s) => s,
                        Value::Null => continue,
                        other => other.to_string(),
                    };
                    attrs.insert(name, text);
                }
            }
        }
        let datacontenttype = attrs.remove("datacontenttype");
        let data = match (data, data_base64) {
            (Some(_), Some(_)) => {
                return Err(EventError::Structured(
                    "`data` and `data_base64` are mutually exclusive".into(),
                ));
            }
            (Some(v), None) => {
                if is_json(datacontenttype.as_deref()) {
                    v
                } else if let Value::String(s) = v {
                    decode_data(s.as_bytes(), datacontenttype.as_deref())?
                } else {
                    // The JSON event format: data that is not JSON is a
                    // string (or `data_base64`).
                    return Err(EventError::Structured(format!(
                        "`data` must be a string when `datacontenttype` is {:?}",
                        datacontenttype.unwrap_or_default()
                    )));
                }
            }
            (None, Some(Value::String(b64))) => {
                let bytes = base64::engine::general_purpose::STANDARD
                    .decode(b64.as_bytes())
                    .map_err(|e| EventError::Attribute {
                        name: "data_base64".into(),
                        reason: e.to_string(),
                    })?;
                decode_data(&bytes, datacontenttype.as_deref())?
            }
            (None, Some(_)) => {
                return Err(EventError::Attribute {
                    name: "data_base64".into(),
                    reason: "must be a string".into(),
                });
            }
            (None, None) => Value::Null,
        };
        Self::from_attributes(attrs, datacontenttype, data)
    }

    fn from_attributes(
        mut attrs: BTreeMap<String, String>,
        datacontenttype: Option<String>,
        data: Value,
    ) -> Result<Self, EventError> {
        let mut required = |name: &'static str| match attrs.remove(name) {
            Some(v) if !v.is_empty() => Ok(v),
            _ => Err(EventError::Missing(name)),
        };
        let specversion = required("specversion")?;
        if specversion != "1.0" {
            return Err(EventError::SpecVersion(specversion));
        }
        let id = required("id")?;
        let source = required("source")?;
        let ty = required("type")?;
        let subject = attrs.remove("subject");
        let time = attrs.remove("time");
        if let Some(time) = &time {
            check_time(time).map_err(|why| EventError::Attribute {
                name: "time".into(),
                reason: format!(
                    "{time:?} is not an RFC 3339 timestamp such as 2026-11-27T09:30:00Z: {why}"
                ),
            })?;
        }
        let dataschema = attrs.remove("dataschema");
        // `data` and `datacontenttype` are never extensions: in binary mode
        // they are the body and its Content-Type.
        if let Some(name) = attrs
            .keys()
            .find(|n| matches!(n.as_str(), "data" | "datacontenttype"))
        {
            return Err(EventError::Attribute {
                name: name.clone(),
                reason: "in binary mode this is the body and its Content-Type, not a `ce-` header"
                    .into(),
            });
        }
        if let Some(name) = attrs.keys().find(|name| !is_attribute_name(name)) {
            return Err(EventError::Attribute {
                name: name.clone(),
                reason: "attribute names are lowercase letters 'a' to 'z' and digits".into(),
            });
        }
        let data = serde_json::from_value(data).map_err(|e| EventError::Data(e.to_string()))?;
        Ok(Self {
            id,
            source,
            ty,
            specversion,
            subject,
            time,
            datacontenttype,
            dataschema,
            extensions: attrs,
            data,
        })
    }
}

/// CloudEvents 1.0: attribute names are lowercase ASCII letters and digits,
/// so every name maps to a `ce-` header and back.
fn is_attribute_name(name: &str) -> bool {
    !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
}

/// Checks an RFC 3339 `date-time` (what CloudEvents requires of `time`):
/// `YYYY-MM-DDTHH:MM:SS[.frac](Z|+HH:MM|-HH:MM)`, `T` and `Z` in either
/// case, a real calendar day, and second 60 for a leap second. A few lines
/// here instead of a date crate keep every event function smaller.
fn check_time(time: &str) -> Result<(), &'static str> {
    let b = time.as_bytes();
    let num = |at: usize, len: usize| -> Option<u32> {
        b.get(at..at + len)?.iter().try_fold(0, |n, &d| {
            d.is_ascii_digit().then(|| n * 10 + u32::from(d - b'0'))
        })
    };
    let sep = |at: usize, c: u8| b.get(at).is_some_and(|x| x.eq_ignore_ascii_case(&c));
    let (Some(year), true, Some(month), true, Some(day)) =
        (num(0, 4), sep(4, b'-'), num(5, 2), sep(7, b'-'), num(8, 2))
    else {
        return Err("the date must be YYYY-MM-DD");
    };
    if !(1..=12).contains(&month) {
        return Err("the month must be 01 to 12");
    }
    let leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0);
    let days = match month {
        2 if leap => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    };
    if !(1..=days).contains(&day) {
        return Err("no such day in that month");
    }
    if !sep(10, b'T') {
        return Err("the date and the time must be separated by 'T'");
    }
    let (Some(hour), true, Some(minute), true, Some(second)) = (
        num(11, 2),
        sep(13, b':'),
        num(14, 2),
        sep(16, b':'),
        num(17, 2),
    ) else {
        return Err("the time must be HH:MM:SS");
    };
    if hour > 23 {
        return Err("the hour must be 00 to 23");
    }
    if minute > 59 {
        return Err("the minute must be 00 to 59");
    }
    if second > 60 {
        return Err("the second must be 00 to 60 (60 for a leap second)");
    }
    let mut at = 19;
    if sep(at, b'.') {
        let digits = b[at + 1..]
            .iter()
            .take_while(|d| d.is_ascii_digit())
            .count();
        if digits == 0 {
            return Err("a '.' must be followed by fractional-second digits");
        }
        at += 1 + digits;
    }
    match b.get(at) {
        Some(b'Z' | b'z') if at + 1 == b.len() => Ok(()),
        Some(b'+' | b'-') if b.len() == at + 6 && sep(at + 3, b':') => {
            match (num(at + 1, 2), num(at + 4, 2)) {
                (Some(h), Some(m)) if h <= 23 && m <= 59 => Ok(()),
                _ => Err("the offset must be +HH:MM or -HH:MM"),
            }
        }
        _ => Err("the time must end with 'Z' or an offset +HH:MM / -HH:MM"),
    }
}

fn is_json(content_type: Option<&str>) -> bool {
    match content_type {
        None => true,
        Some(ct) => {
            let ct = ct
                .split(';')
                .next()
                .unwrap_or("")
                .trim()
                .to_ascii_lowercase();
            ct == "application/json" || ct.ends_with("+json") || ct == "text/json"
        }
    }
}

/// Data as a JSON value: parsed for JSON content types, a string for text.
fn decode_data(body: &[u8], content_type: Option<&str>) -> Result<Value, EventError> {
    if body.is_empty() {
        return Ok(Value::Null);
    }
    if is_json(content_type) {
        return serde_json::from_slice(body)
            .map_err(|e| EventError::Data(format!("data is not valid JSON: {e}")));
    }
    match std::str::from_utf8(body) {
        Ok(text) => Ok(Value::String(text.to_owned())),
        Err(_) => Err(EventError::Data(format!(
            "binary data of type {} is not supported; send JSON or text",
            content_type.unwrap_or("?")
        ))),
    }
}

/// What the CloudEvents HTTP binding percent-encodes in a header value:
/// everything outside U+0021..=U+007E (controls, space, non-ASCII bytes),
/// plus `"` and `%`.
const HEADER_ESCAPES: &AsciiSet = &CONTROLS.add(b' ').add(b'"').add(b'%');

/// CloudEvents HTTP binding: header values percent-encode non-ASCII bytes.
/// A `%` not followed by two hex digits, or bytes that are not UTF-8, make
/// the attribute invalid.
fn percent_decode(name: &str, value: &str) -> Result<String, EventError> {
    let bad = || EventError::Attribute {
        name: name.to_owned(),
        reason: "invalid percent-encoding".into(),
    };
    let escapes_ok = value.match_indices('%').all(|(at, _)| {
        value
            .as_bytes()
            .get(at + 1..at + 3)
            .is_some_and(|hex| hex.iter().all(u8::is_ascii_hexdigit))
    });
    if !escapes_ok {
        return Err(bad());
    }
    percent_decode_str(value)
        .decode_utf8()
        .map(Cow::into_owned)
        .map_err(|_| bad())
}

fn percent_encode(value: &str) -> String {
    utf8_percent_encode(value, HEADER_ESCAPES).to_string()
}

impl<T: Serialize> CloudEvent<T> {
    fn optional_attributes(&self) -> impl Iterator<Item = (&str, &str)> {
        [
            ("subject", self.subject.as_deref()),
            ("time", self.time.as_deref()),
            ("dataschema", self.dataschema.as_deref()),
        ]
        .into_iter()
        .filter_map(|(k, v)| v.map(|v| (k, v)))
        .chain(
            self.extensions
                .iter()
                .map(|(k, v)| (k.as_str(), v.as_str())),
        )
    }

    /// Encodes the event as a binary-mode POST request to `/`.
    pub fn to_binary_request(&self) -> Result<Request, serde_json::Error> {
        // What the parser reads back as this data: no data is an empty
        // body, and data that is not JSON is the text itself.
        let body = match serde_json::to_value(&self.data)? {
            Value::Null => Vec::new(),
            Value::String(text) if !is_json(self.datacontenttype.as_deref()) => text.into_bytes(),
            data => serde_json::to_vec(&data)?,
        };
        let mut req = Request::new(http::Method::POST, "/").with_body(body);
        let mut put = |name: &str, value: &str| {
            let name = format!("ce-{name}");
            let value = percent_encode(value);
            if http::HeaderName::from_bytes(name.as_bytes()).is_ok() {
                req = std::mem::take(&mut req).with_header(&name, value);
            }
        };
        put("specversion", &self.specversion);
        put("id", &self.id);
        put("source", &self.source);
        put("type", &self.ty);
        for (k, v) in self.optional_attributes() {
            put(k, v);
        }
        // Without `datacontenttype` the data is JSON (the spec's default),
        // and no Content-Type says so, so the event reads back unchanged.
        if let Some(ct) = &self.datacontenttype
            && HeaderValue::from_str(ct).is_ok()
        {
            req = req.with_header("content-type", ct);
        }
        Ok(req)
    }

    /// Encodes the event as a structured-mode POST request to `/`.
    pub fn to_structured_request(&self) -> Result<Request, serde_json::Error> {
        let mut doc = Map::new();
        doc.insert("specversion".into(), self.specversion.clone().into());
        doc.insert("id".into(), self.id.clone().into());
        doc.insert("source".into(), self.source.clone().into());
        doc.insert("type".into(), self.ty.clone().into());
        for (k, v) in self.optional_attributes() {
            doc.insert(k.into(), v.into());
        }
        if let Some(ct) = &self.datacontenttype {
            doc.insert("datacontenttype".into(), ct.clone().into());
        }
        match serde_json::to_value(&self.data)? {
            Value::Null => {}
            data => {
                doc.insert("data".into(), data);
            }
        }
        let body = serde_json::to_vec(&doc)?;
        Ok(Request::new(http::Method::POST, "/")
            .with_header("content-type", STRUCTURED)
            .with_body(body))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::Bytes;
    use serde::Deserialize;

    #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
    struct User {
        email: String,
    }

    fn sample() -> CloudEvent<User> {
        CloudEvent::new(
            "com.example.user.registered",
            "/users",
            User {
                email: "a@b.c".into(),
            },
        )
        .with_id("42")
        .with_subject("user/7")
        .with_time("2026-11-27T00:00:00Z")
        .with_extension("TraceParent", "00-abc-def-01")
    }

    #[test]
    fn binary_and_structured_give_the_same_event() {
        let ev = sample();
        let bin = CloudEvent::<User>::from_request(&ev.to_binary_request().unwrap()).unwrap();
        let st = CloudEvent::<User>::from_request(&ev.to_structured_request().unwrap()).unwrap();
        assert_eq!(bin, ev);
        assert_eq!(st, ev);
        assert_eq!(bin.extensions["traceparent"], "00-abc-def-01");
    }

    /// What `fuzz/fuzz_targets/cloudevent.rs` found: events that read back
    /// differently after writing them, and headers that were guessed at.
    #[test]
    fn every_event_that_parses_reads_back_the_same_in_both_modes() {
        let text = CloudEvent::new("t", "/s", Value::String("plain \"text\"".into()));
        let text = CloudEvent {
            datacontenttype: Some("text/plain".into()),
            ..text
        };
        let untyped = CloudEvent {
            datacontenttype: None,
            ..CloudEvent::new("t", "/s", serde_json::json!({"n": 1}))
        };
        let empty = CloudEvent::new("t", "/s", Value::Null);
        for ev in [text, untyped, empty] {
            let bin = ev.to_binary_request().unwrap();
            assert_eq!(CloudEvent::from_request(&bin).as_ref(), Ok(&ev), "{bin:?}");
            let st = ev.to_structured_request().unwrap();
            assert_eq!(CloudEvent::from_request(&st).as_ref(), Ok(&ev), "{st:?}");
        }
    }

    #[test]
    fn ambiguous_or_misnamed_attributes_are_refused() {
        let binary = |extra: &[(&str, &str)]| {
            let mut req = http::Request::post("/")
                .header("ce-specversion", "1.0")
                .header("ce-id", "1")
                .header("ce-source", "/s")
                .header("ce-type", "t");
            for (name, value) in extra {
                req = req.header(*name, *value);
            }
            let req: Request = req.body(Bytes::new()).unwrap().into();
            CloudEvent::<Value>::from_request(&req)
        };
        assert!(binary(&[]).is_ok());
        let twice = binary(&[("ce-type", "u")]).unwrap_err();
        assert!(twice.to_string().contains("more than once"), "{twice}");
        let dashed = binary(&[("ce-trace-id", "x")]).unwrap_err();
        assert!(dashed.to_string().contains("lowercase letters"), "{dashed}");
        let ct = binary(&[("ce-datacontenttype", "text/plain")]).unwrap_err();
        assert!(ct.to_string().contains("Content-Type"), "{ct}");

        let structured = |doc: Value| {
            let req: Request = http::Request::post("/")
                .header("content-type", STRUCTURED)
                .body(Bytes::from(doc.to_string()))
                .unwrap()
                .into();
            CloudEvent::<Value>::from_request(&req)
        };
        let doc = serde_json::json!({"specversion": "1.0", "id": "1", "source": "/s", "type": "t",
            "datacontenttype": "text/plain", "data": {"not": "text"}});
        let err = structured(doc).unwrap_err();
        assert!(err.to_string().contains("must be a string"), "{err}");
        let doc = serde_json::json!({"specversion": "1.0", "id": "1", "source": "/s", "type": "t",
            "Upper": "x"});
        assert!(structured(doc).is_err());
    }

    #[test]
    fn binary_mode_by_hand() {
        let req: Request = http::Request::post("/")
            .header("ce-specversion", "1.0")
            .header("ce-id", "1")
            .header("ce-source", "urn:test")
            .header("ce-type", "t")
            .header("ce-comexampleext", "caf%C3%A9")
            .header("content-type", "text/plain")
            .body(Bytes::from_static(b"hello"))
            .unwrap()
            .into();
        let ev = CloudEvent::<String>::from_request(&req).unwrap();
        assert_eq!(ev.data, "hello");
        assert_eq!(ev.extensions["comexampleext"], "café");
        assert_eq!(ev.datacontenttype.as_deref(), Some("text/plain"));
    }

    #[test]
    fn structured_base64_and_extensions() {
        let body = r#"{"specversion":"1.0","id":"9","source":"s","type":"t","datacontenttype":"application/json","data_base64":"eyJlbWFpbCI6InhAeS56In0=","partition":3}"#;
        let req = Request::new(http::Method::POST, "/")
            .with_header(
                "content-type",
                "application/cloudevents+json; charset=utf-8",
            )
            .with_body(body);
        let ev = CloudEvent::<User>::from_request(&req).unwrap();
        assert_eq!(ev.data.email, "x@y.z");
        assert_eq!(ev.extensions["partition"], "3");
    }

    #[test]
    fn malformed_events_are_rejected_with_reasons() {
        let plain: Request = http::Request::post("/")
            .body(Bytes::from_static(b"{}"))
            .unwrap()
            .into();
        assert_eq!(
            CloudEvent::<Value>::from_request(&plain),
            Err(EventError::NotAnEvent)
        );

        let mut no_id = sample().to_binary_request().unwrap();
        no_id.headers_mut().remove("ce-id");
        assert_eq!(
            CloudEvent::<User>::from_request(&no_id),
            Err(EventError::Missing("id"))
        );

        let mut v2 = sample().to_binary_request().unwrap();
        v2.headers_mut()
            .insert("ce-specversion", HeaderValue::from_static("0.3"));
        assert!(matches!(
            CloudEvent::<User>::from_request(&v2),
            Err(EventError::SpecVersion(_))
        ));

        let wrong_data = CloudEvent::new("t", "s", serde_json::json!({"mail": 1}))
            .to_structured_request()
            .unwrap();
        let err = CloudEvent::<User>::from_request(&wrong_data).unwrap_err();
        assert!(err.to_string().contains("missing field `email`"), "{err}");

        let not_json: Request = http::Request::post("/")
            .header("content-type", STRUCTURED)
            .body(Bytes::from_static(b"[1,2"))
            .unwrap()
            .into();
        assert!(matches!(
            CloudEvent::<Value>::from_request(&not_json),
            Err(EventError::Structured(_))
        ));

        let batch: Request = http::Request::post("/")
            .header("content-type", BATCH)
            .body(Bytes::from_static(b"[]"))
            .unwrap()
            .into();
        assert_eq!(
            CloudEvent::<Value>::from_request(&batch),
            Err(EventError::Batch)
        );
    }

    #[test]
    fn rfc3339_times_are_checked() {
        for good in [
            "2026-11-27T09:30:00Z",
            "2026-11-27t09:30:00z",
            "2026-11-27T09:30:00.5Z",
            "2026-11-27T09:30:00.123456789+05:30",
            "2026-11-27T09:30:00-08:00",
            "2024-02-29T00:00:00Z",
            "2000-02-29T23:59:59+00:00",
            "2016-12-31T23:59:60Z",
            "0001-01-01T00:00:00Z",
        ] {
            assert_eq!(check_time(good), Ok(()), "{good}");
        }
        for (bad, why) in [
            ("", "YYYY-MM-DD"),
            ("yesterday", "YYYY-MM-DD"),
            ("2026-11-27", "separated by 'T'"),
            ("2026-11-27 09:30:00Z", "separated by 'T'"),
            ("26-11-27T09:30:00Z", "YYYY-MM-DD"),
            ("2026-13-01T00:00:00Z", "month"),
            ("2026-00-01T00:00:00Z", "month"),
            ("2026-11-31T00:00:00Z", "no such day"),
            ("2026-11-00T00:00:00Z", "no such day"),
            ("2025-02-29T00:00:00Z", "no such day"),
            ("1900-02-29T00:00:00Z", "no such day"),
            ("2026-11-27T24:00:00Z", "hour"),
            ("2026-11-27T09:60:00Z", "minute"),
            ("2026-11-27T09:30:61Z", "second"),
            ("2026-11-27T9:30:00Z", "HH:MM:SS"),
            ("2026-11-27T09:30Z", "HH:MM:SS"),
            ("2026-11-27T09:30:00", "end with 'Z'"),
            ("2026-11-27T09:30:00.Z", "fractional"),
            ("2026-11-27T09:30:00Z ", "end with 'Z'"),
            ("2026-11-27T09:30:00+0530", "end with 'Z'"),
            ("2026-11-27T09:30:00+24:00", "offset"),
            ("2026-11-27T09:30:00+05:60", "offset"),
            ("Fri, 27 Nov 2026 09:30:00 GMT", "YYYY-MM-DD"),
        ] {
            let result = check_time(bad);
            assert!(
                result.is_err_and(|e| e.contains(why)),
                "{bad:?}: {result:?}"
            );
        }
    }

    #[test]
    fn time_is_validated_in_binary_and_structured_mode() {
        let bad = sample().with_time("27/11/2026");
        for req in [
            bad.to_binary_request().unwrap(),
            bad.to_structured_request().unwrap(),
        ] {
            let err = CloudEvent::<User>::from_request(&req).unwrap_err();
            assert!(
                matches!(&err, EventError::Attribute { name, .. } if name == "time"),
                "{err:?}"
            );
            assert!(err.to_string().contains("`time`"), "{err}");
            assert!(err.to_string().contains("RFC 3339"), "{err}");
        }
        let good = sample().with_time("2026-11-27T09:30:00.25+01:00");
        let ev = CloudEvent::<User>::from_request(&good.to_binary_request().unwrap()).unwrap();
        assert_eq!(ev.time.as_deref(), Some("2026-11-27T09:30:00.25+01:00"));
    }

    #[test]
    fn header_values_are_percent_encoded_per_the_http_binding() {
        assert_eq!(percent_encode("a b\"c%d~é\n"), "a%20b%22c%25d~%C3%A9%0A");
        for value in ["plain", "a b\"c%d", "café ☕", "%41"] {
            assert_eq!(percent_decode("x", &percent_encode(value)).unwrap(), value);
        }
        // Needless escapes are accepted, as the binding requires.
        assert_eq!(percent_decode("x", "%41b").unwrap(), "Ab");
        for bad in ["%", "%4", "%zz", "a%C0%A0", "%FF"] {
            let err = percent_decode("x", bad).unwrap_err();
            assert!(err.to_string().contains("percent-encoding"), "{bad}: {err}");
        }
    }
}
