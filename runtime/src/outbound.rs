//! Outbound HTTP (`wasi:http/outgoing-handler`): canned responses matched by
//! method and URL, every request recorded, the network untouched by default.

use crate::recording::format::RecordedResponse;
use crate::recording::tape::Tape;
use crate::recording::{Body as RecordedBody, Event};
use bytes::Bytes;
use http::{HeaderMap, Method, StatusCode};
use http_body_util::{BodyExt, Full};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant, SystemTime};
use wasmtime_wasi_http::{RequestOptions, WasiBody, WasiHttpHooks};

/// How a mock's URL is compared with the request's.
#[derive(Clone, Debug, PartialEq, Eq)]
enum UrlMatch {
    Exact(String),
    Prefix(String),
}

impl UrlMatch {
    fn matches(&self, url: &str) -> bool {
        match self {
            UrlMatch::Exact(want) => want == url,
            UrlMatch::Prefix(prefix) => url.starts_with(prefix.as_str()),
        }
    }
}

#[derive(Clone, Debug)]
struct Mock {
    method: Option<Method>,
    url: UrlMatch,
    response: http::Response<Bytes>,
    /// How long the mock takes to answer (a slow upstream).
    delay: Duration,
}

/// Canned responses for outbound HTTP, shared by every call of a function.
///
/// The first mock (in registration order) whose method and URL match
/// answers. A request that no mock matches fails in the guest with
/// `internal-error("no mock for ...")`, and the call's
/// [`CallResult::error`](crate::CallResult::error) names the URL, unless
/// [`HttpMocks::allow_network`] let it through to the real network.
#[derive(Clone, Debug, Default)]
pub struct HttpMocks {
    inner: Arc<RwLock<MockSet>>,
}

#[derive(Debug, Default)]
struct MockSet {
    mocks: Vec<Mock>,
    network: bool,
}

/// Normalizes a URL the way the runtime prints outgoing request URIs, so that
/// `https://example.com` and `https://example.com/` compare equal.
fn normalize(url: &str) -> String {
    match url.parse::<http::Uri>() {
        Ok(uri) if uri.scheme().is_some() => uri.to_string(),
        _ => url.to_owned(),
    }
}

impl HttpMocks {
    /// Answers `method url` (exact URL, query included) with `response`.
    /// `method` `None` matches any method.
    pub fn mock(&self, method: Option<Method>, url: &str, response: http::Response<Bytes>) {
        self.push(
            method,
            UrlMatch::Exact(normalize(url)),
            response,
            Duration::ZERO,
        );
    }

    /// Like [`HttpMocks::mock`], but the response arrives only after
    /// `delay`, as from a slow upstream. The guest's instance is not blocked
    /// meanwhile: it may start and await other requests.
    pub fn mock_delayed(
        &self,
        method: Option<Method>,
        url: &str,
        response: http::Response<Bytes>,
        delay: Duration,
    ) {
        self.push(method, UrlMatch::Exact(normalize(url)), response, delay);
    }

    /// Answers every `method` request whose URL starts with `prefix`.
    pub fn mock_prefix(
        &self,
        method: Option<Method>,
        prefix: &str,
        response: http::Response<Bytes>,
    ) {
        self.push(
            method,
            UrlMatch::Prefix(prefix.to_owned()),
            response,
            Duration::ZERO,
        );
    }

    fn push(
        &self,
        method: Option<Method>,
        url: UrlMatch,
        response: http::Response<Bytes>,
        delay: Duration,
    ) {
        let mut set = self.inner.write().unwrap_or_else(|e| e.into_inner());
        set.mocks.push(Mock {
            method,
            url,
            response,
            delay,
        });
    }

    /// Removes every mock.
    pub fn clear(&self) {
        let mut set = self.inner.write().unwrap_or_else(|e| e.into_inner());
        set.mocks.clear();
    }

    /// Sends requests that no mock matches to the real network instead of
    /// failing them (`cargo fn serve` does; tests should not).
    pub fn allow_network(&self, allow: bool) {
        self.inner
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .network = allow;
    }

    fn find(&self, method: &Method, url: &str) -> Lookup {
        let set = self.inner.read().unwrap_or_else(|e| e.into_inner());
        let found = set
            .mocks
            .iter()
            .find(|mock| mock.method.as_ref().is_none_or(|m| m == method) && mock.url.matches(url));
        match found {
            Some(mock) => Lookup::Mock(mock.response.clone(), mock.delay),
            None if set.network => Lookup::Network,
            None => Lookup::Unmatched,
        }
    }
}

/// How long a mock waits before answering.
fn delay_of(lookup: &Lookup) -> Duration {
    match lookup {
        Lookup::Mock(_, delay) => *delay,
        _ => Duration::ZERO,
    }
}

enum Lookup {
    Mock(http::Response<Bytes>, Duration),
    Network,
    Unmatched,
}

/// An outbound request the guest made during a call.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RecordedRequest {
    /// The request method.
    pub method: Method,
    /// The full URL, e.g. `https://api.example.com/v1/users?id=7`.
    pub url: String,
    /// The request headers (a `host` header included).
    pub headers: HeaderMap,
    /// The request body.
    pub body: Bytes,
    /// How the request was answered.
    pub outcome: Outcome,
    /// When the guest sent it.
    pub sent_at: SystemTime,
    /// How long the answer's head took to arrive (a mock's delay included).
    pub duration: Duration,
}

impl RecordedRequest {
    /// The body as text (invalid UTF-8 replaced).
    pub fn body_str(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// How an outbound request was answered.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// A mock answered with this status.
    Mocked(StatusCode),
    /// No mock matched; the guest got an error.
    Unmatched,
    /// The request went to the network.
    Network,
    /// A replay answered from the recording with this status
    /// ([`Function::replay`](crate::Function::replay)); `None`: the
    /// recording had no answer for it, and the guest got an error.
    Replayed(Option<StatusCode>),
}

/// The per-call [`WasiHttpHooks`]: looks up mocks and records requests.
pub(crate) struct OutboundHooks {
    pub(crate) mocks: HttpMocks,
    pub(crate) recorded: Arc<Mutex<Vec<RecordedRequest>>>,
    /// The call's tape: recording, each request and its answer go on it;
    /// replaying, it answers instead of the mocks and the network.
    pub(crate) tape: Option<Arc<Tape>>,
}

/// The message the guest (and the call result) gets for an unmatched request.
pub(crate) fn unmatched_message(method: &Method, url: &str) -> String {
    format!(
        "fn-host-test: no mock for outbound request {method} {url}; register one with \
         `mock_http` (the test harness never sends requests to the network)"
    )
}

type SendFuture = Box<
    dyn Future<
            Output = wasmtime_wasi_http::Result<(
                http::Response<WasiBody>,
                Box<dyn Future<Output = wasmtime_wasi_http::Result<()>> + Send>,
            )>,
        > + Send,
>;

fn full_body(bytes: Bytes) -> WasiBody {
    Full::new(bytes)
        .map_err(|never| match never {})
        .boxed_unsync()
}

/// An outbound request of a recorded or replayed call. Recording, it is
/// answered as usual (mock, network or refusal) with both bodies read
/// whole, and goes on the tape; replaying, the recording answers.
async fn taped_request(
    tape: Arc<Tape>,
    mocks: HttpMocks,
    recorded: Arc<Mutex<Vec<RecordedRequest>>>,
    request: http::Request<WasiBody>,
    options: Option<RequestOptions>,
) -> wasmtime_wasi_http::Result<(
    http::Response<WasiBody>,
    Box<dyn Future<Output = wasmtime_wasi_http::Result<()>> + Send>,
)> {
    let (parts, body) = request.into_parts();
    let body = body.collect().await?.to_bytes();
    let method = parts.method.clone();
    let url = parts.uri.to_string();
    let headers = crate::recording::format::headers(&parts.headers);
    let done = || -> Box<dyn Future<Output = wasmtime_wasi_http::Result<()>> + Send> {
        Box::new(async { Ok(()) })
    };
    let sent_at = SystemTime::now();
    let started = Instant::now();
    let note = |outcome: Outcome, delay: Duration| {
        recorded
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(RecordedRequest {
                method: method.clone(),
                url: url.clone(),
                headers: parts.headers.clone(),
                body: body.clone(),
                outcome,
                sent_at,
                duration: started.elapsed() + delay,
            });
    };
    let request_body = RecordedBody::new(&body);

    if tape.is_replay() {
        let answer = tape.replay_outbound(method.as_str(), &url, &headers, &request_body);
        let response = answer.and_then(|recorded| {
            let mut response = http::Response::new(recorded.body.bytes()?);
            *response.status_mut() = StatusCode::from_u16(recorded.status)
                .map_err(|e| format!("the recorded status: {e}"))?;
            *response.headers_mut() = crate::recording::format::header_map(&recorded.headers)?;
            Ok(response)
        });
        return match response {
            Ok(response) => {
                note(Outcome::Replayed(Some(response.status())), Duration::ZERO);
                Ok((response.map(full_body), done()))
            }
            Err(message) => {
                note(Outcome::Replayed(None), Duration::ZERO);
                Err(wasmtime_wasi_http::Error::InternalError(Some(message)))
            }
        };
    }

    let lookup = mocks.find(&method, &url);
    let answer: Result<(http::Response<Bytes>, Duration, Outcome), String> = match lookup {
        Lookup::Mock(response, delay) => {
            let status = response.status();
            Ok((response, delay, Outcome::Mocked(status)))
        }
        Lookup::Unmatched => Err(unmatched_message(&method, &url)),
        Lookup::Network => {
            let request = http::Request::from_parts(parts.clone(), full_body(body.clone()));
            let sent = async {
                let (response, io) =
                    wasmtime_wasi_http::default_send_request(request, options).await?;
                let (head, incoming) = response.into_parts();
                let bytes = incoming.collect().await?.to_bytes();
                io.await?;
                Ok::<_, wasmtime_wasi_http::Error>(http::Response::from_parts(head, bytes))
            };
            sent.await
                .map(|response| (response, Duration::ZERO, Outcome::Network))
                .map_err(|e| format!("{e:?}"))
        }
    };
    let (event_response, error) = match &answer {
        Ok((response, ..)) => (
            Some(RecordedResponse {
                status: response.status().as_u16(),
                headers: crate::recording::format::headers(response.headers()),
                body: RecordedBody::new(response.body()),
            }),
            None,
        ),
        Err(message) => (None, Some(message.clone())),
    };
    tape.push(Event::Outbound {
        method: method.to_string(),
        url: url.clone(),
        headers,
        body: request_body,
        response: event_response,
        error,
    });
    match answer {
        Ok((response, delay, outcome)) => {
            note(outcome, delay);
            if !delay.is_zero() {
                tokio::time::sleep(delay).await;
            }
            Ok((response.map(full_body), done()))
        }
        Err(message) => {
            note(Outcome::Unmatched, Duration::ZERO);
            Err(wasmtime_wasi_http::Error::InternalError(Some(message)))
        }
    }
}

impl WasiHttpHooks for OutboundHooks {
    fn send_request(
        &mut self,
        request: http::Request<WasiBody>,
        options: Option<RequestOptions>,
        _fut: Box<dyn Future<Output = wasmtime_wasi_http::Result<()>> + Send>,
    ) -> SendFuture {
        let mocks = self.mocks.clone();
        let recorded = self.recorded.clone();
        let tape = self.tape.clone();
        Box::new(async move {
            let method = request.method().clone();
            let url = request.uri().to_string();
            if let Some(tape) = tape {
                return taped_request(tape, mocks, recorded, request, options).await;
            }
            let lookup = mocks.find(&method, &url);
            let sent_at = SystemTime::now();
            let started = Instant::now();
            if let Lookup::Network = lookup {
                let headers = request.headers().clone();
                let sent = wasmtime_wasi_http::default_send_request(request, options).await;
                recorded
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .push(RecordedRequest {
                        method,
                        url,
                        headers,
                        body: Bytes::new(),
                        outcome: Outcome::Network,
                        sent_at,
                        duration: started.elapsed(),
                    });
                let (response, io) = sent?;
                let io: Box<dyn Future<Output = _> + Send> = Box::new(io);
                return Ok((response.map(BodyExt::boxed_unsync), io));
            }

            let (parts, body) = request.into_parts();
            let body = body.collect().await?.to_bytes();
            let outcome = match &lookup {
                Lookup::Mock(response, _) => Outcome::Mocked(response.status()),
                _ => Outcome::Unmatched,
            };
            recorded
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .push(RecordedRequest {
                    method: method.clone(),
                    url: url.clone(),
                    headers: parts.headers,
                    body,
                    outcome,
                    sent_at,
                    duration: started.elapsed() + delay_of(&lookup),
                });
            match lookup {
                Lookup::Mock(response, delay) => {
                    if !delay.is_zero() {
                        tokio::time::sleep(delay).await;
                    }
                    let io: Box<dyn Future<Output = _> + Send> = Box::new(async { Ok(()) });
                    Ok((response.map(full_body), io))
                }
                _ => Err(wasmtime_wasi_http::Error::InternalError(Some(
                    unmatched_message(&method, &url),
                ))),
            }
        })
    }

    fn p2_outgoing_body_buffer_chunks(&mut self) -> usize {
        // Guests often write a whole body before sending the request; let a
        // few chunks queue up instead of blocking on the first one.
        16
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(body: &'static str) -> http::Response<Bytes> {
        http::Response::new(Bytes::from_static(body.as_bytes()))
    }

    #[test]
    fn first_matching_mock_wins_and_method_filters() {
        let mocks = HttpMocks::default();
        mocks.mock(Some(Method::POST), "https://api.test/a", ok("post"));
        mocks.mock(None, "https://api.test/a", ok("any"));
        mocks.mock_prefix(Some(Method::GET), "https://api.test/p/", ok("prefix"));

        let body = |lookup: Lookup| match lookup {
            Lookup::Mock(r, _) => String::from_utf8(r.into_body().to_vec()).unwrap(),
            Lookup::Network => "network".into(),
            Lookup::Unmatched => "unmatched".into(),
        };
        assert_eq!(
            body(mocks.find(&Method::POST, "https://api.test/a")),
            "post"
        );
        assert_eq!(body(mocks.find(&Method::GET, "https://api.test/a")), "any");
        assert_eq!(
            body(mocks.find(&Method::GET, "https://api.test/p/x?y=1")),
            "prefix"
        );
        assert_eq!(
            body(mocks.find(&Method::PUT, "https://api.test/p/x")),
            "unmatched"
        );
        mocks.allow_network(true);
        assert_eq!(
            body(mocks.find(&Method::PUT, "https://api.test/p/x")),
            "network"
        );
    }

    #[test]
    fn exact_urls_are_normalized() {
        let mocks = HttpMocks::default();
        mocks.mock(None, "https://api.test", ok("root"));
        assert!(matches!(
            mocks.find(&Method::GET, "https://api.test/"),
            Lookup::Mock(..)
        ));
    }
}
