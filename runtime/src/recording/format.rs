//! The recording file: its header, events and trailer, written and read as
//! JSON lines.

use super::{FORMAT, VERSION};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use bytes::Bytes;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::Path;

/// The first line of a recording: what it is, and of which function.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct Header {
    /// Always [`FORMAT`].
    pub format: String,
    /// The format version (this runtime writes [`VERSION`]).
    pub version: u32,
    /// The function's name (its artifact's file stem).
    pub function: String,
    /// The artifact's digest, `sha256:<hex>`.
    pub artifact: String,
    /// When the call was recorded (RFC 3339, UTC).
    pub recorded_at: String,
    /// Config keys whose values were withheld.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub redacted: Vec<String>,
}

/// A body: text when it is UTF-8, base64 otherwise.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Body {
    /// A UTF-8 body.
    Text(String),
    /// Any other body, base64 (standard alphabet, padded).
    Base64(String),
}

impl Body {
    /// The body of `bytes`.
    pub fn new(bytes: &[u8]) -> Body {
        match std::str::from_utf8(bytes) {
            Ok(text) => Body::Text(text.to_owned()),
            Err(_) => Body::Base64(BASE64.encode(bytes)),
        }
    }

    /// The bytes, or why base64 would not decode.
    pub fn bytes(&self) -> Result<Bytes, String> {
        match self {
            Body::Text(text) => Ok(Bytes::from(text.clone())),
            Body::Base64(b64) => BASE64
                .decode(b64)
                .map(Bytes::from)
                .map_err(|e| format!("a base64 body does not decode: {e}")),
        }
    }

    /// The body as text for messages (base64 bodies say so).
    pub fn display(&self) -> String {
        match self {
            Body::Text(text) => text.clone(),
            Body::Base64(b64) => format!("(base64) {b64}"),
        }
    }
}

/// Headers as `[name, value]` pairs, in order; values that are not UTF-8
/// are written lossily.
pub type Headers = Vec<(String, String)>;

pub(crate) fn headers(map: &http::HeaderMap) -> Headers {
    map.iter()
        .map(|(name, value)| {
            (
                name.as_str().to_owned(),
                String::from_utf8_lossy(value.as_bytes()).into_owned(),
            )
        })
        .collect()
}

pub(crate) fn header_map(headers: &Headers) -> Result<http::HeaderMap, String> {
    let mut map = http::HeaderMap::new();
    for (name, value) in headers {
        let name = http::HeaderName::from_bytes(name.as_bytes())
            .map_err(|e| format!("header name `{name}`: {e}"))?;
        let value = http::HeaderValue::from_str(value)
            .map_err(|e| format!("header `{name}` value: {e}"))?;
        map.append(name, value);
    }
    Ok(map)
}

/// One key-value call and its arguments.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "kebab-case")]
pub enum KvCall {
    /// `store.open`.
    Open {
        /// The store name.
        store: String,
    },
    /// `bucket.get`.
    Get {
        /// The store.
        store: String,
        /// The key.
        key: String,
    },
    /// `bucket.set`.
    Set {
        /// The store.
        store: String,
        /// The key.
        key: String,
        /// The value written.
        value: Body,
    },
    /// `bucket.delete`.
    Delete {
        /// The store.
        store: String,
        /// The key.
        key: String,
    },
    /// `bucket.exists`.
    Exists {
        /// The store.
        store: String,
        /// The key.
        key: String,
    },
    /// `bucket.list-keys`.
    ListKeys {
        /// The store.
        store: String,
        /// Where the page starts.
        cursor: Option<u64>,
    },
    /// `atomics.increment`.
    Increment {
        /// The store.
        store: String,
        /// The key.
        key: String,
        /// The amount added.
        delta: u64,
    },
}

/// What a key-value call answered.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum KvResult {
    /// `open` found the store, or a write succeeded.
    Ok,
    /// `open` found no such store.
    NoSuchStore,
    /// A `get`'s value (`None`: no such key).
    Value(Option<Body>),
    /// An `exists`' answer.
    Exists(bool),
    /// A `list-keys` page and the next cursor.
    Keys {
        /// The keys of the page.
        keys: Vec<String>,
        /// Where the next page starts, if any.
        cursor: Option<u64>,
    },
    /// An `increment`'s new value.
    Count(u64),
    /// The call failed with this message.
    Error(String),
}

/// An outbound response as the guest received it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecordedResponse {
    /// The status code.
    pub status: u16,
    /// The headers.
    pub headers: Headers,
    /// The body.
    pub body: Body,
}

/// One thing that crossed the component's boundary.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum Event {
    /// The incoming request.
    Request {
        /// The method.
        method: String,
        /// The full URI, scheme and authority included.
        uri: String,
        /// The headers.
        headers: Headers,
        /// The body.
        body: Body,
    },
    /// The config values the call could read (`None`: redacted).
    Config {
        /// Key to value.
        values: BTreeMap<String, Option<String>>,
    },
    /// The seeds of the call's random sources: the generators are seeded
    /// from these, so a replay draws the same numbers however many it
    /// draws.
    Random {
        /// Seed of `wasi:random/random` (hex, 32 bytes).
        secure: String,
        /// Seed of `wasi:random/insecure` (hex, 32 bytes).
        insecure: String,
        /// What `wasi:random/insecure-seed` returned (decimal).
        insecure_seed: String,
    },
    /// A `wasi:clocks/wall-clock.now`: nanoseconds since the Unix epoch.
    WallClock {
        /// The value returned.
        ns: u64,
    },
    /// A `wasi:clocks/monotonic-clock.now`.
    MonotonicClock {
        /// The value returned.
        ns: u64,
    },
    /// An outbound HTTP request and what answered it.
    Outbound {
        /// The method.
        method: String,
        /// The full URL.
        url: String,
        /// The request headers.
        headers: Headers,
        /// The request body.
        body: Body,
        /// The response, when there was one.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        response: Option<RecordedResponse>,
        /// Why the request failed, when it did.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        error: Option<String>,
    },
    /// A key-value call and its result.
    Kv {
        /// The call.
        #[serde(flatten)]
        call: KvCall,
        /// What it answered.
        result: KvResult,
    },
    /// What the guest wrote to stdout or stderr during the call.
    Log {
        /// `stdout` or `stderr`.
        stream: String,
        /// The text written.
        text: String,
    },
    /// The call's response (the runtime's 4xx/5xx when it failed).
    Response {
        /// The status code.
        status: u16,
        /// The headers.
        headers: Headers,
        /// The body.
        body: Body,
        /// Why the call failed, when it did.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        error: Option<String>,
    },
}

#[derive(Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
enum Trailer {
    End { events: usize },
}

/// One recorded call: the header and its events.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Recording {
    /// What was recorded, and of which function.
    pub header: Header,
    /// The events, in order.
    pub events: Vec<Event>,
}

/// Why a recording could not be read or replayed.
#[derive(Debug, thiserror::Error)]
pub enum RecordingError {
    /// The file could not be read.
    #[error("could not read the recording `{}`: {source}", path.display())]
    Read {
        /// The file.
        path: std::path::PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// It is not a recording: no header, another format, or a bad line.
    #[error("not a cargo-fn recording: {0}")]
    Malformed(String),
    /// It was written by a newer cargo-fn.
    #[error(
        "the recording is format version {found}; this cargo-fn reads versions up to {VERSION}: \
         upgrade cargo-fn to replay it"
    )]
    Version {
        /// The file's version.
        found: u32,
    },
    /// It was cut short: no trailer, or fewer events than the trailer says.
    #[error("the recording is truncated ({0}); it was not replayed")]
    Truncated(String),
    /// It records another function.
    #[error(
        "the recording is of the function `{recorded}`, not `{loaded}`; replay it with that \
         function's artifact"
    )]
    OtherFunction {
        /// The function in the recording.
        recorded: String,
        /// The function loaded.
        loaded: String,
    },
}

impl Recording {
    /// Reads and checks the recording at `path`.
    pub fn from_file(path: impl AsRef<Path>) -> Result<Recording, RecordingError> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path).map_err(|source| RecordingError::Read {
            path: path.to_owned(),
            source,
        })?;
        Recording::parse(&text)
    }

    /// Parses a recording, refusing another format, a newer version and a
    /// truncated file.
    pub fn parse(text: &str) -> Result<Recording, RecordingError> {
        let mut lines = text
            .lines()
            .enumerate()
            .filter(|(_, l)| !l.trim().is_empty());
        let (_, first) = lines
            .next()
            .ok_or_else(|| RecordingError::Malformed("the file is empty".into()))?;
        let header: serde_json::Value = serde_json::from_str(first)
            .map_err(|e| RecordingError::Malformed(format!("line 1: {e}")))?;
        if header.get("format").and_then(|f| f.as_str()) != Some(FORMAT) {
            return Err(RecordingError::Malformed(format!(
                "line 1 is not a header with \"format\": \"{FORMAT}\""
            )));
        }
        // The version first, so a newer file is named as such rather than
        // failing on a field this version does not know.
        let version = header.get("version").and_then(|v| v.as_u64()).unwrap_or(0);
        if version > u64::from(VERSION) {
            return Err(RecordingError::Version {
                found: u32::try_from(version).unwrap_or(u32::MAX),
            });
        }
        let header: Header = serde_json::from_value(header)
            .map_err(|e| RecordingError::Malformed(format!("line 1: {e}")))?;

        let mut events = Vec::new();
        let mut ended = None;
        for (index, line) in lines {
            if ended.is_some() {
                return Err(RecordingError::Malformed(format!(
                    "line {}: more lines after the `end` trailer",
                    index + 1
                )));
            }
            let value: serde_json::Value = serde_json::from_str(line).map_err(|e| {
                RecordingError::Truncated(format!("line {} is not complete JSON: {e}", index + 1))
            })?;
            if value.get("kind").and_then(|k| k.as_str()) == Some("end") {
                let Trailer::End { events: count } = serde_json::from_value(value)
                    .map_err(|e| RecordingError::Malformed(format!("line {}: {e}", index + 1)))?;
                ended = Some(count);
                continue;
            }
            let event: Event = serde_json::from_value(value)
                .map_err(|e| RecordingError::Malformed(format!("line {}: {e}", index + 1)))?;
            events.push(event);
        }
        match ended {
            None => Err(RecordingError::Truncated(
                "it has no `end` trailer".to_owned(),
            )),
            Some(count) if count != events.len() => Err(RecordingError::Truncated(format!(
                "the trailer counts {count} events, the file holds {}",
                events.len()
            ))),
            Some(_) => Ok(Recording { header, events }),
        }
    }

    /// The recording as JSON lines (header, events, trailer).
    pub fn to_jsonl(&self) -> String {
        let mut out = String::new();
        let mut line = |value: serde_json::Result<String>| {
            out.push_str(&value.expect("recordings serialize"));
            out.push('\n');
        };
        line(serde_json::to_string(&self.header));
        for event in &self.events {
            line(serde_json::to_string(event));
        }
        line(serde_json::to_string(&Trailer::End {
            events: self.events.len(),
        }));
        out
    }

    /// Writes the recording to `path` (through a temporary file and a
    /// rename, so a reader never sees half a file).
    pub fn write(&self, path: impl AsRef<Path>) -> std::io::Result<()> {
        let path = path.as_ref();
        let dir = path.parent().unwrap_or(Path::new("."));
        let name = path.file_name().unwrap_or_default().to_string_lossy();
        let tmp = dir.join(format!(".{name}.{}.tmp", std::process::id()));
        std::fs::write(&tmp, self.to_jsonl())?;
        std::fs::rename(&tmp, path).inspect_err(|_| {
            let _ = std::fs::remove_file(&tmp);
        })
    }

    /// The recorded incoming request.
    pub fn request(&self) -> Result<http::Request<Bytes>, RecordingError> {
        let bad = |what: String| RecordingError::Malformed(format!("the request event: {what}"));
        let Some(Event::Request {
            method,
            uri,
            headers,
            body,
        }) = self
            .events
            .iter()
            .find(|e| matches!(e, Event::Request { .. }))
        else {
            return Err(RecordingError::Malformed(
                "it has no `request` event".to_owned(),
            ));
        };
        let mut request = http::Request::new(body.bytes().map_err(bad)?);
        *request.method_mut() =
            http::Method::from_bytes(method.as_bytes()).map_err(|e| bad(e.to_string()))?;
        *request.uri_mut() = uri
            .parse()
            .map_err(|e: http::uri::InvalidUri| bad(e.to_string()))?;
        *request.headers_mut() = header_map(headers).map_err(bad)?;
        Ok(request)
    }

    /// The recorded response event: status, headers, body and error.
    pub fn response(&self) -> Option<&Event> {
        self.events
            .iter()
            .rev()
            .find(|e| matches!(e, Event::Response { .. }))
    }

    /// The recorded outbound requests, in order.
    pub fn outbound(&self) -> impl Iterator<Item = &Event> {
        self.events
            .iter()
            .filter(|e| matches!(e, Event::Outbound { .. }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Recording {
        Recording {
            header: Header {
                format: FORMAT.into(),
                version: VERSION,
                function: "hello".into(),
                artifact: "sha256:00".into(),
                recorded_at: "2026-12-04T00:00:00Z".into(),
                redacted: vec!["api_key".into()],
            },
            events: vec![
                Event::Request {
                    method: "POST".into(),
                    uri: "http://localhost/x?y=1".into(),
                    headers: vec![("content-type".into(), "application/json".into())],
                    body: Body::new(b"{}"),
                },
                Event::Kv {
                    call: KvCall::Get {
                        store: "default".into(),
                        key: "k".into(),
                    },
                    result: KvResult::Value(Some(Body::new(&[0xff, 0]))),
                },
                Event::Response {
                    status: 200,
                    headers: vec![],
                    body: Body::new(b"ok"),
                    error: None,
                },
            ],
        }
    }

    #[test]
    fn a_recording_round_trips_and_binary_bodies_are_base64() {
        let recording = sample();
        let text = recording.to_jsonl();
        assert!(text.contains(r#"{"base64":"/wA="}"#), "{text}");
        assert!(
            text.ends_with("{\"kind\":\"end\",\"events\":3}\n"),
            "{text}"
        );
        assert_eq!(Recording::parse(&text).unwrap(), recording);
        let request = recording.request().unwrap();
        assert_eq!(request.uri(), "http://localhost/x?y=1");
        assert_eq!(request.headers()["content-type"], "application/json");
    }

    #[test]
    fn truncated_newer_and_foreign_files_are_refused() {
        let text = sample().to_jsonl();
        let lines: Vec<&str> = text.lines().collect();

        let no_trailer = lines[..lines.len() - 1].join("\n");
        let err = Recording::parse(&no_trailer).unwrap_err();
        assert!(matches!(err, RecordingError::Truncated(_)), "{err}");

        let mut cut_mid_line = lines[..lines.len() - 1].join("\n");
        cut_mid_line.truncate(cut_mid_line.len() - 5);
        let err = Recording::parse(&cut_mid_line).unwrap_err();
        assert!(matches!(err, RecordingError::Truncated(_)), "{err}");

        let missing_event = [lines[0], lines[1], lines[3], lines[4]].join("\n");
        let err = Recording::parse(&missing_event).unwrap_err();
        assert!(err.to_string().contains("counts 3 events"), "{err}");

        let newer = text.replace("\"version\":1", "\"version\":2");
        let err = Recording::parse(&newer).unwrap_err();
        assert!(matches!(err, RecordingError::Version { found: 2 }), "{err}");
        assert!(err.to_string().contains("upgrade cargo-fn"), "{err}");

        let err = Recording::parse("{\"hello\":1}\n").unwrap_err();
        assert!(matches!(err, RecordingError::Malformed(_)), "{err}");
        assert!(Recording::parse("").is_err());
    }
}
