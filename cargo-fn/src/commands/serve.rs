//! `cargo fn serve`: an HTTP server on the embedded runtime, a fresh
//! instance per request.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Instant;

use anyhow::Context as _;
use fn_runtime::recording::{RecordOptions, RecordWhen, Recorder};
use fn_runtime::server::{self, FunctionHandler};
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
/// With --record DIR, calls are written down one file each, so a failure
/// can be replayed exactly with `cargo fn replay FILE`.
///
/// With --record DIR, calls are written down one file each, so a failure
/// can be replayed exactly with `cargo fn replay FILE`.
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
    /// Record calls into DIR, one file per call, for `cargo fn replay`:
    /// the request, every outbound request and its response, key-value
    /// and config reads, clock and random values, logs and the response
    #[arg(long, value_name = "DIR")]
    pub record: Option<PathBuf>,
    /// Which calls --record keeps: `all`, `errors` (5xx and failed calls)
    /// or a sampling rate such as 0.1
    #[arg(long, value_name = "WHEN", default_value = "all", requires = "record")]
    pub record_when: RecordWhen,
    /// A config key whose value a recording withholds (repeatable); keys
    /// the code declares secret (`fnsdk::config!`) are withheld anyway
    #[arg(long = "redact", value_name = "KEY", requires = "record")]
    pub redact: Vec<String>,
}

impl Args {
    /// Runs `cargo fn serve` until Ctrl-C.
    pub fn run(self) -> anyhow::Result<()> {
        let (artifact, mut secrets) = self.run.artifact_and_secrets()?;
        secrets.extend(self.redact.iter().cloned());
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
            let mut handler = FunctionHandler::new(function, !self.no_function_logs);
            if let Some(dir) = &self.record {
                let options = RecordOptions { secrets };
                let recorder =
                    Recorder::new(dir, self.record_when, options).with_context(|| {
                        format!("cannot create the recording directory {}", dir.display())
                    })?;
                eprintln!(
                    "Recording {} calls into {} (replay one with `cargo fn replay FILE`)",
                    match self.record_when {
                        RecordWhen::All => "all".to_owned(),
                        RecordWhen::Errors => "failed".to_owned(),
                        RecordWhen::Sample(rate) => format!("{:.3}% of the", rate * 100.0),
                    },
                    dir.display()
                );
                handler = handler.with_recorder(recorder);
            }
            server::serve(listener, handler, server::shutdown_signal()).await;
            eprintln!("Stopped.");
            anyhow::Ok(())
        })
    }
}
