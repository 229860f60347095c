//! The HTTP/1.1 server every long-running host of a function uses
//! (`cargo fn serve`, and the runner on Cloud Run and Azure Functions): it
//! accepts connections until told to stop, serves each request on its own
//! task, and drains in-flight requests on shutdown.
//!
//! What a request turns into is a [`Handler`]'s business: [`FunctionHandler`]
//! runs the function on a fresh instance and writes one access-log line to
//! stderr; hosts that translate a provider's envelope first (the runner's
//! Azure mode) wrap it.

use std::convert::Infallible;
use std::future::Future;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use tokio::net::TcpListener;

use crate::call::CallResult;
use crate::function::Function;
use crate::recording::Recorder;

/// The response type of the server.
pub type Response = http::Response<Full<Bytes>>;

/// What the server does with a request.
pub trait Handler: Clone + Send + Sync + 'static {
    /// Answers `request` (on a clone of the handler made for it). Failures
    /// are responses too (4xx/5xx): the server itself never fails a request.
    fn handle(self, request: http::Request<Incoming>) -> impl Future<Output = Response> + Send;
}

/// Runs the function for every request and logs one line per request to
/// stderr: `METHOD TARGET STATUS ELAPSED (error)`, followed, unless
/// disabled, by what the function wrote to stdout and stderr.
#[derive(Clone, Debug)]
pub struct FunctionHandler {
    function: Function,
    function_logs: bool,
    recorder: Option<Recorder>,
}

impl FunctionHandler {
    /// A handler for `function`, printing its output when `function_logs`.
    pub fn new(function: Function, function_logs: bool) -> Self {
        FunctionHandler {
            function,
            function_logs,
            recorder: None,
        }
    }

    /// This handler, recording calls as `recorder` says (see
    /// [`Recorder`]); each recorded call's access-log line names its file.
    pub fn with_recorder(mut self, recorder: Recorder) -> Self {
        self.recorder = Some(recorder);
        self
    }

    /// The function this handler runs.
    pub fn function(&self) -> &Function {
        &self.function
    }

    /// Runs the function on `request` (see [`Function::handle_incoming`])
    /// and logs the call.
    pub async fn call<B>(&self, request: http::Request<B>) -> CallResult
    where
        B: http_body::Body<Data = Bytes>,
        B::Error: std::error::Error + Send + Sync + 'static,
    {
        let started = Instant::now();
        let method = request.method().clone();
        let target = request
            .uri()
            .path_and_query()
            .map_or_else(|| "/".to_owned(), |p| p.as_str().to_owned());
        let recorder = self.recorder.as_ref().filter(|r| r.wants_call());
        let Some(recorder) = recorder else {
            let result = self.function.handle_incoming(request).await;
            self.log(&method, &target, started, &result, None);
            return result;
        };
        let (result, recording) = self
            .function
            .handle_incoming_recorded(request, recorder.options())
            .await;
        let note = keep(recorder, recording, &method, &result);
        self.log(&method, &target, started, &result, note.as_deref());
        result
    }

    /// Runs the function on a request the host made (an event it turned
    /// into a CloudEvent, say), recording it as [`Self::call`] does, and
    /// logs it as `POST <label>`.
    pub async fn call_as(&self, label: &str, request: http::Request<Bytes>) -> CallResult {
        let started = Instant::now();
        let method = request.method().clone();
        let recorder = self.recorder.as_ref().filter(|r| r.wants_call());
        let Some(recorder) = recorder else {
            let result = self.function.handle(request).await;
            self.log(&method, label, started, &result, None);
            return result;
        };
        let (result, recording) = self
            .function
            .handle_recorded(request, recorder.options())
            .await;
        let note = keep(recorder, Some(recording), &method, &result);
        self.log(&method, label, started, &result, note.as_deref());
        result
    }

    /// Writes the access-log line of a finished call (and the function's
    /// output) to stderr: what every host of this server prints.
    /// `note` (a recording's file, say) goes on a line of its own.
    pub fn log(
        &self,
        method: &http::Method,
        target: &str,
        started: Instant,
        result: &CallResult,
        note: Option<&str>,
    ) {
        let mut line = format!(
            "{method} {target} {} {:.1?}",
            result.status().as_u16(),
            started.elapsed()
        );
        if let Some(error) = &result.error {
            line.push_str(&format!(" ({error})"));
        }
        if let Some(note) = note {
            line.push_str("\n    ");
            line.push_str(note);
        }
        if self.function_logs {
            for bytes in [&result.logs.stdout, &result.logs.stderr] {
                for l in String::from_utf8_lossy(bytes).lines() {
                    line.push_str("\n    ");
                    line.push_str(l);
                }
            }
        }
        eprintln!("{line}");
    }
}

/// Writes a recording if the recorder keeps it; the log note saying where
/// (or why it could not be written).
fn keep(
    recorder: &Recorder,
    recording: Option<crate::Recording>,
    method: &http::Method,
    result: &CallResult,
) -> Option<String> {
    match recorder.keep(&recording?, method, result) {
        Ok(Some(path)) => Some(format!("recorded to {}", path.display())),
        Ok(None) => None,
        Err(err) => Some(format!(
            "could not write the recording into {}: {err}",
            recorder.dir().display()
        )),
    }
}

impl Handler for FunctionHandler {
    fn handle(self, request: http::Request<Incoming>) -> impl Future<Output = Response> + Send {
        let this = self;
        async move { this.call(request).await.response.map(Full::new) }
    }
}

/// Accepts connections on `listener` until `shutdown` completes, then waits
/// (up to 10 s) for in-flight requests. Each connection is served on its
/// own task; a slow client gets 10 s to send its request head.
pub async fn serve<H: Handler>(
    listener: TcpListener,
    handler: H,
    shutdown: impl Future<Output = ()>,
) {
    let graceful = GracefulShutdown::new();
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(conn) => conn,
                Err(e) => {
                    // Out of file descriptors, say: back off and go on.
                    eprintln!("accept failed: {e}");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let _ = stream.set_nodelay(true);
        let handler = handler.clone();
        let service = service_fn(move |request| {
            let response = handler.clone().handle(request);
            async move { Ok::<_, Infallible>(response.await) }
        });
        let conn = http1::Builder::new()
            .timer(TokioTimer::new())
            .header_read_timeout(Duration::from_secs(10))
            .serve_connection(TokioIo::new(stream), service);
        let conn = graceful.watch(conn);
        tokio::spawn(async move {
            if let Err(e) = conn.await
                && !e.is_incomplete_message()
            {
                eprintln!("{peer}: connection error: {e}");
            }
        });
    }
    eprintln!("Shutting down: waiting for in-flight requests...");
    tokio::select! {
        () = graceful.shutdown() => {}
        () = tokio::time::sleep(Duration::from_secs(10)) => {
            eprintln!("gave up waiting after 10 s");
        }
    }
}

/// Completes on Ctrl-C or SIGTERM (what container platforms send before
/// stopping an instance); never, where signals cannot be watched.
pub async fn shutdown_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        if let Ok(mut term) = signal(SignalKind::terminate()) {
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = term.recv() => {}
            }
            return;
        }
    }
    if tokio::signal::ctrl_c().await.is_err() {
        std::future::pending::<()>().await;
    }
}
