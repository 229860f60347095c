//! `cargo fn serve --otlp URL`: each call as a span, with a child span per
//! outbound request, exported to an OpenTelemetry collector over OTLP/HTTP
//! (the JSON encoding, `POST <URL>/v1/traces`), so Jaeger or any collector
//! shows a call and what it called as one trace.
//!
//! The server span continues the incoming `traceparent` (or starts a
//! trace), and the function is handed a `traceparent` naming that span, so
//! the SDK's outbound requests ([`fnsdk::trace`]) become its children.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use anyhow::{Context as _, bail};
use bytes::Bytes;
use fn_runtime::CallResult;
use fnsdk::trace::TraceContext;
use http_body_util::{BodyExt as _, Full};
use hyper_util::rt::TokioIo;
use serde_json::{Value, json};
use tokio::sync::mpsc;

/// A finished span.
#[derive(Debug, Clone, PartialEq)]
pub struct Span {
    /// 32 hex digits.
    pub trace_id: String,
    /// 16 hex digits.
    pub span_id: String,
    /// The parent's span id, if any.
    pub parent_span_id: Option<String>,
    /// `GET /orders`, `POST pay.test`...
    pub name: String,
    /// Whether it is the call (server) or an outbound request (client).
    pub kind: Kind,
    /// When it started.
    pub start: SystemTime,
    /// When it ended.
    pub end: SystemTime,
    /// Its attributes (OpenTelemetry semantic conventions for HTTP).
    pub attributes: Vec<(&'static str, Value)>,
    /// Whether it failed (a 5xx, a trap, a failed request).
    pub error: bool,
}

/// The span kinds used here.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A call of the function.
    Server,
    /// An outbound request it made.
    Client,
}

/// The span context of a call about to run: the trace it belongs to, its
/// own span, and the caller's span.
#[derive(Debug, Clone, Copy)]
pub struct CallSpan {
    /// The call's own position: what the function is handed.
    pub context: TraceContext,
    /// The caller's span, from the incoming `traceparent`.
    pub parent: Option<TraceContext>,
    start: SystemTime,
}

impl CallSpan {
    /// A span for a call whose request carried `incoming` (or nothing: a
    /// new trace).
    pub fn start(incoming: Option<&str>) -> CallSpan {
        let parent = incoming.and_then(TraceContext::parse);
        let context = match parent {
            Some(parent) => parent.child(),
            None => TraceContext::root(),
        };
        CallSpan {
            context,
            parent,
            start: SystemTime::now(),
        }
    }

    /// The call's span and one per outbound request of this trace, now
    /// that `result` is in.
    pub fn finish(&self, method: &http::Method, target: &str, result: &CallResult) -> Vec<Span> {
        let trace_id = self.context.trace_id();
        let status = result.status().as_u16();
        let (path, query) = match target.split_once('?') {
            Some((path, query)) => (path, Some(query)),
            None => (target, None),
        };
        let mut attributes = vec![
            ("http.request.method", json!(method.as_str())),
            ("url.path", json!(path)),
            ("http.response.status_code", json!(status)),
        ];
        if let Some(query) = query {
            attributes.push(("url.query", json!(query)));
        }
        if let Some(error) = &result.error {
            attributes.push(("error.message", json!(error.to_string())));
        }
        let mut spans = vec![Span {
            trace_id: trace_id.clone(),
            span_id: self.context.span_id(),
            parent_span_id: self.parent.map(|p| p.span_id()),
            name: format!("{method} {path}"),
            kind: Kind::Server,
            start: self.start,
            end: SystemTime::now(),
            attributes,
            error: result.error.is_some() || status >= 500,
        }];
        for outbound in &result.outbound {
            let Some(child) = outbound
                .headers
                .get("traceparent")
                .and_then(|v| v.to_str().ok())
                .and_then(TraceContext::parse)
                .filter(|c| c.trace_id() == trace_id)
            else {
                continue;
            };
            let host = outbound
                .url
                .parse::<http::Uri>()
                .ok()
                .and_then(|u| u.host().map(str::to_owned))
                .unwrap_or_default();
            let (status, failed) = match outbound.outcome {
                fn_runtime::Outcome::Mocked(status)
                | fn_runtime::Outcome::Replayed(Some(status)) => {
                    (Some(status.as_u16()), status.is_server_error())
                }
                fn_runtime::Outcome::Network => (None, false),
                _ => (None, true),
            };
            let mut attributes = vec![
                ("http.request.method", json!(outbound.method.as_str())),
                ("url.full", json!(outbound.url)),
                ("server.address", json!(host)),
            ];
            if let Some(status) = status {
                attributes.push(("http.response.status_code", json!(status)));
            }
            spans.push(Span {
                trace_id: trace_id.clone(),
                span_id: child.span_id(),
                parent_span_id: Some(self.context.span_id()),
                name: format!("{} {host}", outbound.method),
                kind: Kind::Client,
                start: outbound.sent_at,
                end: outbound.sent_at + outbound.duration,
                attributes,
                error: failed,
            });
        }
        spans
    }
}

fn nanos(time: SystemTime) -> String {
    time.duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_nanos()
        .to_string()
}

/// The OTLP/HTTP JSON body of `spans` from the service `service`.
pub fn encode(service: &str, spans: &[Span]) -> Value {
    let spans: Vec<Value> = spans
        .iter()
        .map(|span| {
            let mut out = json!({
                "traceId": span.trace_id,
                "spanId": span.span_id,
                "name": span.name,
                // SPAN_KIND_SERVER = 2, SPAN_KIND_CLIENT = 3.
                "kind": match span.kind { Kind::Server => 2, Kind::Client => 3 },
                "startTimeUnixNano": nanos(span.start),
                "endTimeUnixNano": nanos(span.end),
                "attributes": span.attributes.iter().map(|(k, v)| attribute(k, v)).collect::<Vec<_>>(),
                // STATUS_CODE_ERROR = 2, STATUS_CODE_UNSET = 0.
                "status": {"code": if span.error { 2 } else { 0 }},
            });
            if let Some(parent) = &span.parent_span_id {
                out["parentSpanId"] = json!(parent);
            }
            out
        })
        .collect();
    json!({
        "resourceSpans": [{
            "resource": {"attributes": [attribute("service.name", &json!(service))]},
            "scopeSpans": [{
                "scope": {"name": "cargo-fn", "version": env!("CARGO_PKG_VERSION")},
                "spans": spans,
            }],
        }],
    })
}

fn attribute(key: &str, value: &Value) -> Value {
    let value = match value {
        Value::Number(n) if n.is_i64() || n.is_u64() => json!({"intValue": n.to_string()}),
        Value::Number(n) => json!({"doubleValue": n}),
        Value::Bool(b) => json!({"boolValue": b}),
        Value::String(s) => json!({"stringValue": s}),
        other => json!({"stringValue": other.to_string()}),
    };
    json!({"key": key, "value": value})
}

/// Sends spans to a collector in the background, in batches.
#[derive(Clone)]
pub struct Exporter {
    spans: mpsc::UnboundedSender<Vec<Span>>,
}

impl Exporter {
    /// An exporter to the collector at `url` (`http://host:port`, the
    /// OTLP/HTTP port, usually 4318; `/v1/traces` is added unless given),
    /// naming the service `service`. Spans go out at most every
    /// `interval`; an export that fails is reported once per failure run,
    /// and the spans are dropped rather than piling up.
    pub fn start(url: &str, service: &str, interval: Duration) -> anyhow::Result<Exporter> {
        let endpoint = endpoint(url)?;
        let (tx, mut rx) = mpsc::unbounded_channel::<Vec<Span>>();
        let service = service.to_owned();
        tokio::spawn(async move {
            let mut failing = false;
            while let Some(first) = rx.recv().await {
                tokio::time::sleep(interval).await;
                let mut batch = first;
                while let Ok(more) = rx.try_recv() {
                    batch.extend(more);
                }
                let body = encode(&service, &batch).to_string();
                match post(&endpoint, body).await {
                    Ok(()) => failing = false,
                    Err(err) if !failing => {
                        failing = true;
                        eprintln!(
                            "otlp: could not export {} span(s) to {}: {err:#}",
                            batch.len(),
                            endpoint
                        );
                    }
                    Err(_) => {}
                }
            }
        });
        Ok(Exporter { spans: tx })
    }

    /// Queues `spans` for export.
    pub fn export(&self, spans: Vec<Span>) {
        let _ = self.spans.send(spans);
    }
}

/// The traces endpoint of a collector URL.
fn endpoint(url: &str) -> anyhow::Result<http::Uri> {
    let trimmed = url.trim_end_matches('/');
    let full = if trimmed.ends_with("/v1/traces") {
        trimmed.to_owned()
    } else {
        format!("{trimmed}/v1/traces")
    };
    let uri: http::Uri = full
        .parse()
        .with_context(|| format!("--otlp {url:?} is not a URL"))?;
    if uri.scheme_str() != Some("http") || uri.host().is_none() {
        bail!(
            "--otlp {url:?}: give the collector's OTLP/HTTP address as http://host:port \
             (for a local Jaeger or OpenTelemetry Collector, http://localhost:4318); \
             https is not supported"
        );
    }
    Ok(uri)
}

async fn post(endpoint: &http::Uri, body: String) -> anyhow::Result<()> {
    let host = endpoint.host().unwrap_or("localhost");
    let port = endpoint.port_u16().unwrap_or(80);
    let stream = tokio::time::timeout(
        Duration::from_secs(5),
        tokio::net::TcpStream::connect((host, port)),
    )
    .await
    .context("connecting timed out")?
    .context("connecting")?;
    let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .context("HTTP handshake")?;
    tokio::spawn(connection);
    let request = http::Request::post(endpoint.path())
        .header(http::header::HOST, format!("{host}:{port}"))
        .header(http::header::CONTENT_TYPE, "application/json")
        .body(Full::new(Bytes::from(body)))?;
    let response = tokio::time::timeout(Duration::from_secs(10), sender.send_request(request))
        .await
        .context("the collector did not answer within 10 s")??;
    let status = response.status();
    if !status.is_success() {
        let body = response.into_body().collect().await?.to_bytes();
        bail!(
            "the collector answered {status}: {}",
            String::from_utf8_lossy(&body)
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const PARENT: &str = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

    #[test]
    fn a_call_continues_the_incoming_trace_in_a_span_of_its_own() {
        let span = CallSpan::start(Some(PARENT));
        assert_eq!(span.context.trace_id(), "4bf92f3577b34da6a3ce929d0e0e4736");
        assert_ne!(span.context.span_id(), "00f067aa0ba902b7");
        assert_eq!(span.parent.unwrap().span_id(), "00f067aa0ba902b7");
        let root = CallSpan::start(None);
        assert!(root.parent.is_none());
        assert_eq!(root.context.trace_id().len(), 32);
        assert_ne!(root.context.trace_id(), span.context.trace_id());
    }

    #[test]
    fn spans_encode_as_otlp_json() {
        let start = UNIX_EPOCH + Duration::from_nanos(1_700_000_000_000_000_001);
        let span = Span {
            trace_id: "4bf92f3577b34da6a3ce929d0e0e4736".into(),
            span_id: "00f067aa0ba902b7".into(),
            parent_span_id: None,
            name: "GET /".into(),
            kind: Kind::Client,
            start,
            end: start + Duration::from_millis(2),
            attributes: vec![("http.response.status_code", json!(502))],
            error: true,
        };
        let body = encode("hello", &[span]);
        let resource = &body["resourceSpans"][0];
        assert_eq!(
            resource["resource"]["attributes"][0],
            json!({"key": "service.name", "value": {"stringValue": "hello"}})
        );
        let out = &resource["scopeSpans"][0]["spans"][0];
        assert_eq!(out["kind"], 3);
        assert_eq!(out["startTimeUnixNano"], "1700000000000000001");
        assert_eq!(out["endTimeUnixNano"], "1700000000002000001");
        assert_eq!(out["status"]["code"], 2);
        assert!(out.get("parentSpanId").is_none());
        assert_eq!(
            out["attributes"][0],
            json!({"key": "http.response.status_code", "value": {"intValue": "502"}})
        );
    }

    #[test]
    fn collector_urls_get_the_traces_path_and_https_is_refused() {
        assert_eq!(
            endpoint("http://localhost:4318").unwrap().to_string(),
            "http://localhost:4318/v1/traces"
        );
        assert_eq!(
            endpoint("http://c:4318/v1/traces/").unwrap().to_string(),
            "http://c:4318/v1/traces"
        );
        let err = endpoint("https://c:4318").unwrap_err().to_string();
        assert!(err.contains("http://localhost:4318"), "{err}");
    }
}
