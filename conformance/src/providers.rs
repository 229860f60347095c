//! Stand-ins for the third-party APIs the examples call (payments, e-mail,
//! SMS), served on loopback so that both hosts send real outbound HTTP to the
//! same place and get the same answers.
//!
//! Answers depend only on the request, never on what came before:
//! - `POST …/payment_intents`: `payment_method=tok_chargeDeclined` → 402
//!   `card_declined`; `tok_outage` → 503; anything else → 200 `succeeded`.
//! - `POST …/emails`: a recipient containing `bounce` → 422; `outage` → 503;
//!   else 200.
//! - `POST …/Messages.json` (SMS): a `To` number ending in `503` → 503;
//!   else 201.
//! - anything else → 404.

use bytes::Bytes;
use http::{Method, Request, Response, StatusCode};
use http_body_util::{BodyExt as _, Full};
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

/// One request a provider received.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Received {
    /// Method.
    pub method: Method,
    /// Path and query.
    pub path: String,
    /// The `authorization` header, if any.
    pub authorization: Option<String>,
    /// The `content-type` header, if any.
    pub content_type: Option<String>,
    /// The `idempotency-key` header, if any.
    pub idempotency_key: Option<String>,
    /// The body.
    pub body: Bytes,
}

impl Received {
    /// The body as (lossy) UTF-8.
    pub fn body_str(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// The mock providers' server, on its own thread and runtime. Stops when
/// dropped.
pub struct Providers {
    addr: SocketAddr,
    received: Arc<Mutex<Vec<Received>>>,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Providers {
    /// Starts the server on a free loopback port.
    pub fn start() -> anyhow::Result<Self> {
        let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
        listener.set_nonblocking(true)?;
        let addr = listener.local_addr()?;
        let received = Arc::new(Mutex::new(Vec::new()));
        let (shutdown, mut stop) = tokio::sync::oneshot::channel::<()>();
        let log = received.clone();
        let thread = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("a tokio runtime for the mock providers");
            rt.block_on(async move {
                let listener =
                    tokio::net::TcpListener::from_std(listener).expect("a tokio listener");
                loop {
                    tokio::select! {
                        _ = &mut stop => break,
                        accepted = listener.accept() => {
                            let Ok((stream, _)) = accepted else { continue };
                            let log = log.clone();
                            tokio::spawn(async move {
                                let service = service_fn(move |req| answer(req, log.clone()));
                                let _ = hyper::server::conn::http1::Builder::new()
                                    .serve_connection(TokioIo::new(stream), service)
                                    .await;
                            });
                        }
                    }
                }
            });
        });
        Ok(Providers {
            addr,
            received,
            shutdown: Some(shutdown),
            thread: Some(thread),
        })
    }

    /// `http://127.0.0.1:PORT`, the base URL to configure.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Takes the requests received so far.
    pub fn take(&self) -> Vec<Received> {
        std::mem::take(&mut *self.received.lock().unwrap_or_else(|e| e.into_inner()))
    }
}

impl Drop for Providers {
    fn drop(&mut self) {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

async fn answer(
    req: Request<Incoming>,
    log: Arc<Mutex<Vec<Received>>>,
) -> Result<Response<Full<Bytes>>, Infallible> {
    let (parts, body) = req.into_parts();
    let body = body
        .collect()
        .await
        .map(|b| b.to_bytes())
        .unwrap_or_default();
    let header = |name: &str| {
        parts
            .headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    let received = Received {
        method: parts.method.clone(),
        path: parts
            .uri
            .path_and_query()
            .map_or("/".into(), |p| p.to_string()),
        authorization: header("authorization"),
        content_type: header("content-type"),
        idempotency_key: header("idempotency-key"),
        body,
    };
    let text = received.body_str();
    let path = parts.uri.path();
    let (status, reply) = if parts.method != Method::POST {
        (StatusCode::METHOD_NOT_ALLOWED, r#"{"error":"POST only"}"#)
    } else if path.ends_with("/payment_intents") {
        if text.contains("tok_chargeDeclined") {
            (
                StatusCode::PAYMENT_REQUIRED,
                r#"{"error":{"code":"card_declined","message":"Your card was declined."}}"#,
            )
        } else if text.contains("tok_outage") {
            (
                StatusCode::SERVICE_UNAVAILABLE,
                r#"{"error":"maintenance"}"#,
            )
        } else {
            (
                StatusCode::OK,
                r#"{"id":"pi_conformance","status":"succeeded"}"#,
            )
        }
    } else if path.ends_with("/emails") {
        if text.contains("bounce") {
            (
                StatusCode::UNPROCESSABLE_ENTITY,
                r#"{"name":"validation_error","message":"Invalid `to` field."}"#,
            )
        } else if text.contains("outage") {
            (
                StatusCode::SERVICE_UNAVAILABLE,
                r#"{"error":"maintenance"}"#,
            )
        } else {
            (StatusCode::OK, r#"{"id":"em_conformance"}"#)
        }
    } else if path.ends_with("/Messages.json") {
        let to = text
            .split('&')
            .find_map(|pair| pair.strip_prefix("To="))
            .unwrap_or_default();
        if to.ends_with("503") {
            (
                StatusCode::SERVICE_UNAVAILABLE,
                r#"{"error":"maintenance"}"#,
            )
        } else {
            (
                StatusCode::CREATED,
                r#"{"sid":"SM_conformance","status":"queued"}"#,
            )
        }
    } else {
        (StatusCode::NOT_FOUND, r#"{"error":"no such API"}"#)
    };
    log.lock().unwrap_or_else(|e| e.into_inner()).push(received);
    let response = Response::builder()
        .status(status)
        .header("content-type", "application/json")
        .body(Full::new(Bytes::from_static(reply.as_bytes())))
        .expect("a valid response");
    Ok(response)
}
