//! `cargo fn serve`: an HTTP server on the embedded runtime, a fresh
//! instance per request.

use std::collections::BTreeSet;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};
use fn_runtime::Function;
use fn_runtime::recording::{RecordOptions, RecordWhen, Recorder};
use fn_runtime::server::{self, FunctionHandler, Handler};
use tokio::net::TcpListener;

use cargo_fn::otlp::{CallSpan, Exporter};
use cargo_fn::package::FnPackage;
use cargo_fn::run::RunArgs;
use cargo_fn::schedule::{SCHEDULE_TYPE, Schedule};
use cargo_fn::watch;

/// Serve the function over HTTP on the embedded runtime
///
/// Every request runs on a fresh instance, under the per-call limits;
/// requests are served concurrently on all cores. One access-log line per
/// request goes to stderr, followed by what the function logged. Events are
/// POSTed as CloudEvents (binary or structured mode). Ctrl-C stops accepting
/// connections and lets in-flight requests finish.
///
/// A function whose `[package.metadata.fn]` declares a `schedule` gets its
/// ticks as the clouds deliver them: a `dev.cargo-fn.schedule` CloudEvent
/// POSTed to its route (UTC).
///
/// With --watch, a change to the package's files rebuilds it, and the new
/// build is swapped in without dropping requests in flight. With --record
/// DIR, calls are written down one file each, so a failure can be replayed
/// exactly with `cargo fn replay FILE`.
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
    /// Export a span per call, and one per outbound request, to this
    /// OpenTelemetry collector (OTLP/HTTP, e.g. http://localhost:4318);
    /// each call continues the request's W3C `traceparent`
    #[arg(long, value_name = "URL")]
    pub otlp: Option<String>,
    /// Rebuild when the package's files change and serve the new build
    /// (requests in flight finish on the old one); a build that fails is
    /// shown and the last good build keeps serving
    #[arg(long)]
    pub watch: bool,
}

impl Args {
    /// Runs `cargo fn serve` until Ctrl-C.
    pub fn run(self) -> anyhow::Result<()> {
        let opts = self.run.build_options()?;
        if self.watch && opts.is_none() {
            bail!(
                "--watch rebuilds a package when its files change: give a package (or run \
                 in its folder), not a .wasm file"
            );
        }
        let (artifact, mut secrets) = match &opts {
            None => self.run.artifact_and_secrets()?,
            Some(opts) => {
                let built = fn_pipeline::build(opts).context("building the function")?;
                let secrets = cargo_fn::run::secrets(&built);
                (built.artifact, secrets)
            }
        };
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
            let recorder = self.recorder(secrets)?;
            let function_logs = !self.no_function_logs;
            let handler = move |function| {
                let handler = FunctionHandler::new(function, function_logs);
                match &recorder {
                    Some(recorder) => handler.with_recorder(recorder.clone()),
                    None => handler,
                }
            };
            let serving = || {
                eprintln!(
                    "Serving {} on http://{addr} (loaded in {:.0?}; Ctrl-C to stop)",
                    artifact.display(),
                    started.elapsed()
                )
            };
            let current = Swappable(Arc::new(RwLock::new(handler(function))));
            if let Some(opts) = &opts {
                let package = FnPackage::load(opts)?;
                if let Some(schedule) = Schedule::of(package.name(), &package.metadata)? {
                    eprintln!(
                        "Schedule {:?} (UTC): each tick is POSTed to {} as a {} CloudEvent",
                        schedule.cron, schedule.route, SCHEDULE_TYPE
                    );
                    tokio::spawn(fire_ticks(schedule, current.clone()));
                }
            }
            let exporter = match &self.otlp {
                Some(url) => {
                    let name = artifact
                        .file_stem()
                        .map(|s| s.to_string_lossy().into_owned())
                        .unwrap_or_else(|| "function".into());
                    let exporter = Exporter::start(url, &name, Duration::from_millis(500))?;
                    eprintln!("Exporting a span per call and per outbound request to {url}");
                    Some(exporter)
                }
                None => None,
            };
            match opts.filter(|_| self.watch) {
                None => {
                    serving();
                    run_server(listener, current, exporter).await;
                }
                Some(opts) => {
                    let package = fn_pipeline::cargo::locate(&opts)?;
                    let dirs = watch::watched_dirs(&package);
                    let (watcher, changes) = watch::watch(&dirs, &package.target_dir)?;
                    let shown: Vec<String> = dirs.iter().map(|d| d.display().to_string()).collect();
                    eprintln!(
                        "Watching {} for changes: each one rebuilds and swaps the new build in",
                        shown.join(", ")
                    );
                    let rebuild = Rebuild {
                        opts,
                        run: self.run.clone(),
                        runtime,
                        current: current.clone(),
                        handler: Box::new(handler),
                    };
                    std::thread::spawn(move || rebuild.each(&changes));
                    // Only now: a change made once this line is out is seen.
                    serving();
                    run_server(listener, current, exporter).await;
                    drop(watcher);
                }
            }
            eprintln!("Stopped.");
            anyhow::Ok(())
        })
    }

    /// The recorder `--record` asks for, withholding `secrets`.
    fn recorder(&self, secrets: BTreeSet<String>) -> anyhow::Result<Option<Recorder>> {
        let Some(dir) = &self.record else {
            return Ok(None);
        };
        let options = RecordOptions { secrets };
        let recorder = Recorder::new(dir, self.record_when, options)
            .with_context(|| format!("cannot create the recording directory {}", dir.display()))?;
        eprintln!(
            "Recording {} calls into {} (replay one with `cargo fn replay FILE`)",
            match self.record_when {
                RecordWhen::All => "all".to_owned(),
                RecordWhen::Errors => "failed".to_owned(),
                RecordWhen::Sample(rate) => format!("{:.3}% of the", rate * 100.0),
            },
            dir.display()
        );
        Ok(Some(recorder))
    }
}

/// Serves until Ctrl-C, tracing each call when `exporter` is set.
async fn run_server(listener: TcpListener, current: Swappable, exporter: Option<Exporter>) {
    match exporter {
        None => server::serve(listener, current, server::shutdown_signal()).await,
        Some(exporter) => {
            let traced = Traced {
                inner: current,
                exporter,
            };
            server::serve(listener, traced, server::shutdown_signal()).await;
        }
    }
}

/// Each call as a span continuing the request's `traceparent`: the
/// function is handed a `traceparent` naming the call's span, so its
/// outbound requests become the span's children.
#[derive(Clone)]
struct Traced {
    inner: Swappable,
    exporter: Exporter,
}

impl Handler for Traced {
    async fn handle(self, mut request: http::Request<hyper::body::Incoming>) -> server::Response {
        let incoming = request
            .headers()
            .get("traceparent")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let span = CallSpan::start(incoming.as_deref());
        if let Ok(value) = http::HeaderValue::from_str(&span.context.traceparent()) {
            request.headers_mut().insert("traceparent", value);
        }
        let method = request.method().clone();
        let target = request
            .uri()
            .path_and_query()
            .map_or_else(|| "/".to_owned(), |p| p.as_str().to_owned());
        let result = self.inner.current().call(request).await;
        self.exporter.export(span.finish(&method, &target, &result));
        result.response.map(http_body_util::Full::new)
    }
}

/// Delivers the ticks of `schedule` to the build being served, each on its
/// own task, so a slow tick does not delay the next.
async fn fire_ticks(schedule: Schedule, current: Swappable) {
    loop {
        let now = chrono::Utc::now();
        let next = match schedule.next_after(now) {
            Ok(next) => next,
            Err(err) => {
                eprintln!("schedule: {err:#}; no more ticks");
                return;
            }
        };
        tokio::time::sleep((next - now).to_std().unwrap_or_default()).await;
        let label = format!(
            "{} (schedule tick {})",
            schedule.route,
            next.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
        );
        let request = schedule.tick(next);
        let handler = current.current();
        tokio::spawn(async move { handler.call_as(&label, request).await });
    }
}

/// The handler of the build being served; `--watch` swaps in the next.
/// Each request takes the current one when it starts, so requests in
/// flight during a swap finish on the build they started on.
#[derive(Clone)]
struct Swappable(Arc<RwLock<FunctionHandler>>);

impl Swappable {
    fn current(&self) -> FunctionHandler {
        self.0.read().unwrap_or_else(|e| e.into_inner()).clone()
    }

    fn swap(&self, handler: FunctionHandler) {
        *self.0.write().unwrap_or_else(|e| e.into_inner()) = handler;
    }
}

impl Handler for Swappable {
    fn handle(
        self,
        request: http::Request<hyper::body::Incoming>,
    ) -> impl Future<Output = server::Response> + Send {
        self.current().handle(request)
    }
}

/// The rebuild loop of `--watch`.
struct Rebuild {
    opts: fn_pipeline::BuildOptions,
    run: RunArgs,
    runtime: fn_runtime::Runtime,
    current: Swappable,
    handler: Box<dyn Fn(Function) -> FunctionHandler + Send>,
}

impl Rebuild {
    /// Rebuilds on every change until the watcher stops; a build that fails
    /// (or does not load) is reported and never served.
    fn each(self, changes: &std::sync::mpsc::Receiver<PathBuf>) {
        while let Some(path) = watch::next_change(changes, Duration::from_millis(300)) {
            eprintln!("Changed: {}; rebuilding...", path.display());
            let started = Instant::now();
            match self.build() {
                Ok(function) => {
                    let digest = function.digest().to_owned();
                    self.current.swap((self.handler)(function));
                    eprintln!(
                        "Rebuilt in {:.1?}: serving the new build ({}) from now on",
                        started.elapsed(),
                        &digest[..digest.len().min(19)]
                    );
                }
                Err(err) => eprintln!(
                    "Build failed; still serving the last good build. {}",
                    error_chain(&err)
                ),
            }
        }
    }

    /// The new build, loaded as the first was, with the running build's
    /// key-value stores (what earlier requests stored stays).
    fn build(&self) -> anyhow::Result<Function> {
        let built = fn_pipeline::build(&self.opts).context("building the function")?;
        let function = self.run.load(&self.runtime, &built.artifact)?;
        let kv = self.current.current().function().kv().clone();
        Ok(function.with_key_value(kv))
    }
}

fn error_chain(err: &anyhow::Error) -> String {
    let causes: Vec<String> = err.chain().map(ToString::to_string).collect();
    causes.join(": ")
}
