//! The requests a bench sends: `GET /` unless a file says otherwise.
//!
//! The file is JSON: one request object, an array of them, or one per line
//! (JSON lines). A request is either HTTP or a CloudEvent (sent in binary
//! mode, as the cloud runners deliver events):
//!
//! ```json
//! {"method": "POST", "path": "/orders", "headers": {"content-type": "application/json"}, "json": {"sku": "A-1"}}
//! {"path": "/?name=Ferris"}
//! {"event": {"type": "com.example.order.placed", "source": "/shop", "data": {"id": 7}}}
//! ```
//!
//! `body` is a string sent as it is; `json` is any JSON value sent
//! serialized (with `content-type: application/json` unless set). The bench
//! sends the requests in turn, round robin.

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::{Context as _, bail};
use bytes::Bytes;
use serde::Deserialize;

/// One request of the file.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct BenchRequest {
    /// HTTP method (default: GET, or POST with a body).
    #[serde(default)]
    pub method: Option<String>,
    /// Path and query (default: `/`).
    #[serde(default)]
    pub path: Option<String>,
    /// Headers.
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
    /// A text body.
    #[serde(default)]
    pub body: Option<String>,
    /// A JSON body.
    #[serde(default)]
    pub json: Option<serde_json::Value>,
    /// A CloudEvent instead of a plain request.
    #[serde(default)]
    pub event: Option<BenchEvent>,
}

/// A CloudEvent to send.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct BenchEvent {
    /// The event type.
    #[serde(rename = "type")]
    pub ty: String,
    /// The source attribute (default: `/cargo-fn/bench`).
    #[serde(default)]
    pub source: Option<String>,
    /// The data (JSON).
    #[serde(default)]
    pub data: serde_json::Value,
}

impl Default for BenchRequest {
    /// `GET /`.
    fn default() -> Self {
        BenchRequest {
            method: None,
            path: None,
            headers: BTreeMap::new(),
            body: None,
            json: None,
            event: None,
        }
    }
}

impl BenchRequest {
    /// The request, with an empty authority: each host adds its own.
    pub fn to_http(&self) -> anyhow::Result<http::Request<Bytes>> {
        if self.body.is_some() && self.json.is_some() {
            bail!("a request has either `body` or `json`, not both");
        }
        let path = self.path.as_deref().unwrap_or("/");
        let mut request = if let Some(event) = &self.event {
            if self.body.is_some() || self.json.is_some() {
                bail!("an `event` request carries its data in `event.data`, not `body` or `json`");
            }
            let source = event.source.as_deref().unwrap_or("/cargo-fn/bench");
            let mut request = fnsdk::CloudEvent::new(&event.ty, source, event.data.clone())
                .to_binary_request()
                .context("serializing the event")?
                .into_http();
            *request.uri_mut() = path
                .parse()
                .with_context(|| format!("invalid path {path:?}"))?;
            request
        } else {
            let (body, json) = match (&self.body, &self.json) {
                (Some(text), _) => (Bytes::from(text.clone()), false),
                (None, Some(value)) => (Bytes::from(serde_json::to_vec(value)?), true),
                (None, None) => (Bytes::new(), false),
            };
            let method = match &self.method {
                Some(method) => method.to_ascii_uppercase(),
                None if !body.is_empty() => "POST".to_owned(),
                None => "GET".to_owned(),
            };
            let mut request = http::Request::builder()
                .method(method.as_str())
                .uri(path)
                .body(body)
                .with_context(|| format!("invalid request {method} {path}"))?;
            if json {
                request.headers_mut().insert(
                    http::header::CONTENT_TYPE,
                    http::HeaderValue::from_static("application/json"),
                );
            }
            request
        };
        if let (Some(method), Some(_)) = (&self.method, &self.event) {
            *request.method_mut() = method
                .to_ascii_uppercase()
                .parse()
                .with_context(|| format!("invalid method {method:?}"))?;
        }
        for (name, value) in &self.headers {
            request.headers_mut().insert(
                http::HeaderName::from_bytes(name.as_bytes())
                    .with_context(|| format!("invalid header name {name:?}"))?,
                http::HeaderValue::from_str(value)
                    .with_context(|| format!("invalid value for header {name}"))?,
            );
        }
        Ok(request)
    }

    /// `METHOD /path` or `event TYPE`, for the report.
    pub fn label(&self) -> String {
        match &self.event {
            Some(event) => format!("event {}", event.ty),
            None => format!(
                "{} {}",
                self.method
                    .as_deref()
                    .unwrap_or(if self.body.is_some() || self.json.is_some() {
                        "POST"
                    } else {
                        "GET"
                    }),
                self.path.as_deref().unwrap_or("/")
            ),
        }
    }
}

/// Parses a requests file: one object, an array, or JSON lines.
pub fn parse(text: &str) -> anyhow::Result<Vec<BenchRequest>> {
    let trimmed = text.trim_start();
    let requests: Vec<BenchRequest> = if trimmed.starts_with('[') {
        serde_json::from_str(text).context("reading the array of requests")?
    } else {
        let mut requests = Vec::new();
        for (index, item) in serde_json::Deserializer::from_str(text)
            .into_iter::<BenchRequest>()
            .enumerate()
        {
            requests.push(item.with_context(|| format!("reading request {}", index + 1))?);
        }
        requests
    };
    if requests.is_empty() {
        bail!("no requests in the file");
    }
    for (index, request) in requests.iter().enumerate() {
        request
            .to_http()
            .with_context(|| format!("request {} ({})", index + 1, request.label()))?;
    }
    Ok(requests)
}

/// Reads and parses the requests file `path`.
pub fn read(path: &Path) -> anyhow::Result<Vec<BenchRequest>> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    parse(&text).with_context(|| format!("in {}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_object_an_array_or_json_lines() {
        let one = parse(r#"{"path": "/?name=Ferris"}"#).unwrap();
        assert_eq!(one.len(), 1);
        assert_eq!(one[0].label(), "GET /?name=Ferris");
        let array = parse(r#"[{"path": "/a"}, {"method": "delete", "path": "/b"}]"#).unwrap();
        assert_eq!(array[1].to_http().unwrap().method(), http::Method::DELETE);
        let lines =
            parse("{\"json\": {\"sku\": \"A-1\"}}\n{\"event\": {\"type\": \"t\", \"data\": 1}}\n")
                .unwrap();
        let post = lines[0].to_http().unwrap();
        assert_eq!(post.method(), http::Method::POST);
        assert_eq!(post.headers()["content-type"], "application/json");
        assert_eq!(post.body().as_ref(), br#"{"sku":"A-1"}"#);
        let event = lines[1].to_http().unwrap();
        assert_eq!(event.headers()["ce-type"], "t");
        assert_eq!(lines[1].label(), "event t");
    }

    #[test]
    fn mistakes_name_the_request() {
        let err = parse("{\"path\": \"/\"}\n{\"pth\": \"/\"}").unwrap_err();
        assert!(format!("{err:#}").contains("request 2"), "{err:#}");
        let err = parse(r#"{"body": "a", "json": 1}"#).unwrap_err();
        assert!(format!("{err:#}").contains("not both"), "{err:#}");
        let err = parse(r#"{"headers": {"bad name": "x"}}"#).unwrap_err();
        assert!(format!("{err:#}").contains("bad name"), "{err:#}");
        assert!(parse("[]").is_err());
    }
}
