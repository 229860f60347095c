//! One call on one fresh instance: hand the request over, drive the guest,
//! collect the response, and explain failures.

use super::{CallError, HostState};
use crate::limits::{Limits, MemoryLimitExceeded, TimeoutExceeded};
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use std::time::{Duration, Instant};
use wasmtime::{PoolConcurrencyLimitError, Store, Trap};
use wasmtime_wasi_http::WasiHttpView;
use wasmtime_wasi_http::p2::bindings::ProxyPre;
use wasmtime_wasi_http::p2::bindings::http::types::Scheme;

/// Where a wasmtime error came from.
pub(crate) enum Stage {
    Instantiate,
    Call,
}

/// Why [`run`] did not return a response.
pub(crate) enum RunError {
    BadRequest(String),
    Wasm(Stage, wasmtime::Error),
    Guest(String),
    NoResponse,
}

#[derive(Default)]
pub(crate) struct Timings {
    pub(crate) instantiate: Duration,
    /// When the handler was called, if it was.
    pub(crate) called: Option<Instant>,
}

/// Makes a request the runtime accepts: an authority (tests often write
/// `Request::get("/path")`), and the scheme of the URI.
fn prepare(mut request: http::Request<Bytes>) -> (Scheme, http::Request<Bytes>) {
    if request.uri().authority().is_none() && !request.headers().contains_key(http::header::HOST) {
        request.headers_mut().insert(
            http::header::HOST,
            http::HeaderValue::from_static("localhost"),
        );
    }
    let scheme = match request.uri().scheme() {
        Some(scheme) if *scheme == http::uri::Scheme::HTTPS => Scheme::Https,
        _ => Scheme::Http,
    };
    (scheme, request)
}

/// Instantiates the component in `store` and runs its handler on `request`,
/// reading the response body while the guest writes it.
pub(crate) async fn run(
    store: &mut Store<HostState>,
    pre: &ProxyPre<HostState>,
    request: http::Request<Bytes>,
    timings: &mut Timings,
) -> Result<http::Response<Bytes>, RunError> {
    let (scheme, request) = prepare(request);
    let request = request.map(|body| {
        Full::new(body).map_err(|never| -> wasmtime_wasi_http::Error { match never {} })
    });
    let (sender, mut receiver) = tokio::sync::oneshot::channel();
    let mut http = store.data_mut().http();
    let request = http
        .new_incoming_request(scheme, request)
        .map_err(|e| RunError::BadRequest(format!("{e:#}")))?;
    let out = http
        .new_response_outparam(sender)
        .map_err(|e| RunError::Wasm(Stage::Instantiate, e))?;

    let started = Instant::now();
    let proxy = pre
        .instantiate_async(&mut *store)
        .await
        .map_err(|e| RunError::Wasm(Stage::Instantiate, e))?;
    timings.instantiate = started.elapsed();

    timings.called = Some(Instant::now());
    let guest = proxy.wasi_http_incoming_handler();
    let call = guest.call_handle(&mut *store, request, out);
    tokio::pin!(call);
    let call_error = |e| RunError::Wasm(Stage::Call, e);

    // Wait for the response head, or for the guest to be done without one.
    let mut call_done = false;
    let head = tokio::select! {
        result = &mut call => {
            result.map_err(call_error)?;
            call_done = true;
            receiver.try_recv().map_err(|_| RunError::NoResponse)?
        }
        head = &mut receiver => match head {
            Ok(head) => head,
            // The outparam was dropped unset; a trap may follow.
            Err(_) => {
                call.await.map_err(call_error)?;
                return Err(RunError::NoResponse);
            }
        },
    };
    let response = head.map_err(|code| RunError::Guest(format!("{code:?}")))?;

    // Read the body while the guest writes it: its writes block once the
    // channel is full. A trap mid-body must not leave us waiting.
    let (parts, body) = response.into_parts();
    let collect = body.collect();
    tokio::pin!(collect);
    let collected = if call_done {
        collect.await
    } else {
        tokio::select! {
            result = &mut call => {
                result.map_err(call_error)?;
                collect.await
            }
            collected = &mut collect => {
                call.await.map_err(call_error)?;
                collected
            }
        }
    };
    let body = collected
        .map_err(|e| RunError::Guest(format!("the response body failed: {e:?}")))?
        .to_bytes();
    Ok(http::Response::from_parts(parts, body))
}

/// Turns a failed run into the error the caller sees, logging the details.
pub(crate) fn classify(
    err: RunError,
    store: &Store<HostState>,
    limits: &Limits,
    host_log: &mut Vec<String>,
) -> CallError {
    let (stage, err) = match err {
        RunError::BadRequest(msg) => {
            host_log.push(format!("rejected the request: {msg}"));
            return CallError::BadRequest(msg);
        }
        RunError::Guest(msg) => {
            host_log.push(format!("the function answered with an error: {msg}"));
            return CallError::GuestError(msg);
        }
        RunError::NoResponse => {
            let error = CallError::NoResponse;
            host_log.push(error.to_string());
            return error;
        }
        RunError::Wasm(stage, err) => (stage, err),
    };
    let error = if err.downcast_ref::<TimeoutExceeded>().is_some() {
        CallError::Timeout(limits.timeout)
    } else if store.data().limiter.exceeded() || err.downcast_ref::<MemoryLimitExceeded>().is_some()
    {
        CallError::MemoryLimit {
            limit: limits.memory,
        }
    } else if let Some(full) = err.downcast_ref::<PoolConcurrencyLimitError>() {
        CallError::Overloaded(full.to_string())
    } else if err.downcast_ref::<Trap>() == Some(&Trap::OutOfFuel) {
        CallError::OutOfFuel(limits.fuel.unwrap_or(u64::MAX))
    } else {
        let root = err
            .chain()
            .last()
            .map(ToString::to_string)
            .unwrap_or_default();
        match stage {
            Stage::Instantiate => CallError::Instantiate(root),
            Stage::Call => CallError::Trap(root),
        }
    };
    // The cause chain carries the wasm backtrace; the Rust backtrace (when
    // RUST_BACKTRACE is set) is of no use to a function author.
    let causes: Vec<String> = err.chain().map(ToString::to_string).collect();
    host_log.push(format!("{error}\n{}", causes.join("\ncaused by: ")));
    error
}
