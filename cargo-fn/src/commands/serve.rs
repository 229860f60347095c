//! `cargo fn serve`: an HTTP server on the embedded runtime, a fresh
//! instance per request.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use anyhow::Context as _;
use bytes::Bytes;
use fn_runtime::Function;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use tokio::net::TcpListener;

use cargo_fn::run::RunArgs;

/// Serve the function over HTTP on the embedded runtime
///
/// Every request runs on a fresh instance, under the per-call limits;
/// requests are served concurrently on all cores. One access-log line per
/// request goes to stderr, followed by what the function logged. Events are
/// POSTed as CloudEvents (binary or structured mode). Ctrl-C stops accepting
/// connections and lets in-flight requests finish.
///
/// Example:
///   cargo fn serve --addr 127.0.0.1:8080 --config api_key=test --kv greeting=hi
///   curl 'http://127.0.0.1:8080/?name=Ferris'
#[derive(Debug, clap::Args)]
#[command(verbatim_doc_comment)]
pub struct Args {
    #[command(flatten)]
    pub run: RunArgs,
    /// Address to listen on (port 0 picks a free port)
    #[arg(long, default_value = "127.0.0.1:8080", value_name = "ADDR")]
    pub addr: SocketAddr,
    /// Don't print what the function writes to stdout/stderr
    #[arg(long)]
    pub no_function_logs: bool,
}

impl Args {
    /// Runs `cargo fn serve` until Ctrl-C.
    pub fn run(self) -> anyhow::Result<()> {
        let artifact = self.run.artifact()?;
        let tokio = tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()?;
        tokio.block_on(async move {
            let runtime = self.run.runtime_for(&artifact)?;
            let started = Instant::now();
            let function = self.run.load(&runtime, &artifact)?;
            let listener = TcpListener::bind(self.addr).await.with_context(|| {
                format!(
                    "cannot listen on {}; is the port in use? Try --addr 127.0.0.1:0",
                    self.addr
                )
            })?;
            let addr = listener.local_addr()?;
            eprintln!(
                "Serving {} on http://{addr} (loaded in {:.0?}; Ctrl-C to stop)",
                artifact.display(),
                started.elapsed()
            );
            serve(
                listener,
                function,
                !self.no_function_logs,
                shutdown_signal(),
            )
            .await;
            eprintln!("Stopped.");
            anyhow::Ok(())
        })
    }
}

async fn shutdown_signal() {
    if tokio::signal::ctrl_c().await.is_err() {
        // No signal handling available: serve until killed.
        std::future::pending::<()>().await;
    }
}

/// Accepts connections until `shutdown` completes, then waits (up to 10 s)
/// for in-flight requests.
pub async fn serve(
    listener: TcpListener,
    function: Function,
    function_logs: bool,
    shutdown: impl std::future::Future<Output = ()>,
) {
    let graceful = GracefulShutdown::new();
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(conn) => conn,
                Err(e) => {
                    eprintln!("accept failed: {e}");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let _ = stream.set_nodelay(true);
        let function = function.clone();
        let service = service_fn(move |req| handle(function.clone(), req, function_logs));
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

async fn handle(
    function: Function,
    req: http::Request<Incoming>,
    function_logs: bool,
) -> Result<http::Response<Full<Bytes>>, Infallible> {
    let started = Instant::now();
    let method = req.method().clone();
    let target = req
        .uri()
        .path_and_query()
        .map_or_else(|| "/".to_owned(), |p| p.as_str().to_owned());
    let result = function.handle_incoming(req).await;
    let mut line = format!(
        "{method} {target} {} {:.1?}",
        result.status().as_u16(),
        started.elapsed()
    );
    if let Some(error) = &result.error {
        line.push_str(&format!(" ({error})"));
    }
    if function_logs {
        for bytes in [&result.logs.stdout, &result.logs.stderr] {
            for l in String::from_utf8_lossy(bytes).lines() {
                line.push_str("\n    ");
                line.push_str(l);
            }
        }
    }
    eprintln!("{line}");
    Ok(result.response.map(Full::new))
}
