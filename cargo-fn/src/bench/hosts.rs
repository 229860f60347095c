//! Measuring one host: in this process on the embedded runtime, or a server
//! process (`cargo fn serve`, `fn-runner`, `wasmtime serve`) over loopback.

use std::net::{Ipv4Addr, SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};
use bytes::Bytes;
use fn_runtime::bundle::{self, BundleFile, Manifest};
use fn_runtime::{Precompiled, Runtime, RuntimeConfig};
use http_body_util::{BodyExt as _, Full};
use hyper::client::conn::http1::SendRequest;
use hyper_util::rt::TokioIo;

use super::{BenchOptions, COLD_STARTS, HostReport, Percentiles, median_ms, resident_memory};

/// Where a host runs the function.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Host {
    /// `cargo fn serve`'s runtime, in this process
    InProcess,
    /// `cargo fn serve`, a process, over loopback HTTP
    Serve,
    /// The native cloud runner (`fn-runner --mode http`) on a bundle
    Native,
    /// `wasmtime serve` (on PATH, or $FN_WASMTIME)
    Wasmtime,
    /// The Cloudflare Worker `cargo fn deploy` writes, bundled by
    /// `wrangler deploy --dry-run` and served by workerd (both from
    /// $FN_JS_HOSTS/node_modules/.bin, or on PATH)
    Workerd,
}

impl Host {
    /// Every host, in table order.
    pub const ALL: [Host; 5] = [
        Host::InProcess,
        Host::Serve,
        Host::Native,
        Host::Wasmtime,
        Host::Workerd,
    ];

    /// Its id, as `--host` takes it.
    pub fn id(self) -> &'static str {
        match self {
            Host::InProcess => "in-process",
            Host::Serve => "serve",
            Host::Native => "native",
            Host::Wasmtime => "wasmtime",
            Host::Workerd => "workerd",
        }
    }
}

/// The programs the process hosts run.
#[derive(Debug, Clone, Default)]
pub struct HostSetup {
    /// This cargo-fn (for `cargo fn serve`).
    pub cargo_fn: Option<PathBuf>,
    /// `fn-runner`.
    pub runner: Option<PathBuf>,
    /// `wasmtime`.
    pub wasmtime: Option<PathBuf>,
    /// `workerd` and `wrangler`.
    pub workerd: Option<(PathBuf, PathBuf)>,
}

/// How long a server may take to answer its first request.
const START_TIMEOUT: Duration = Duration::from_secs(120);

/// Measures `host` running the component at `wasm` (named `name`). Must run
/// on a multi-threaded tokio runtime.
pub async fn measure(
    host: Host,
    name: &str,
    wasm: &Path,
    opts: &BenchOptions,
    setup: &HostSetup,
) -> anyhow::Result<HostReport> {
    let requests = opts
        .requests
        .iter()
        .map(|r| r.to_http())
        .collect::<anyhow::Result<Vec<_>>>()?;
    match host {
        Host::InProcess => in_process(name, wasm, &requests, opts).await,
        Host::Serve => {
            let cargo_fn = setup
                .cargo_fn
                .clone()
                .context("this cargo-fn's own path is unknown")?;
            let server = Server::Serve { cargo_fn };
            over_http(host, &server, wasm, &requests, opts).await
        }
        Host::Native => {
            let runner = setup
                .runner
                .clone()
                .context("no fn-runner: set $FN_RUNNER or ask for `--host native` to build one")?;
            over_http(host, &Server::Native { runner }, wasm, &requests, opts).await
        }
        Host::Wasmtime => {
            let wasmtime = setup
                .wasmtime
                .clone()
                .context("no wasmtime on PATH (or $FN_WASMTIME)")?;
            over_http(host, &Server::Wasmtime { wasmtime }, wasm, &requests, opts).await
        }
        Host::Workerd => {
            let (workerd, wrangler) = setup
                .workerd
                .clone()
                .context("no workerd and wrangler ($FN_JS_HOSTS/node_modules/.bin, or PATH)")?;
            let server = Server::Workerd { workerd, wrangler };
            over_http(host, &server, wasm, &requests, opts).await
        }
    }
}

/// Progress on stderr: a bar on a terminal, nothing otherwise.
struct Progress {
    label: String,
    total: usize,
    shown: bool,
}

impl Progress {
    fn new(label: String, total: usize, shown: bool) -> Progress {
        Progress {
            label,
            total,
            shown,
        }
    }

    fn update(&self, done: usize) {
        if !self.shown || (!done.is_multiple_of(64) && done != self.total) {
            return;
        }
        const WIDTH: usize = 30;
        let filled = WIDTH * done / self.total.max(1);
        eprint!(
            "\r{:>12} [{}{}] {done}/{}",
            self.label,
            "=".repeat(filled),
            " ".repeat(WIDTH - filled),
            self.total
        );
        if done == self.total {
            eprint!("\r{}\r", " ".repeat(WIDTH + 40));
        }
    }
}

/// Samples of a steady run.
#[derive(Default)]
struct Steady {
    latency: Vec<Duration>,
    instantiate: Vec<Duration>,
    peak_memory: u64,
    non_2xx: usize,
    wall: Duration,
}

impl Steady {
    fn merge(&mut self, other: Steady) {
        self.latency.extend(other.latency);
        self.instantiate.extend(other.instantiate);
        self.peak_memory = self.peak_memory.max(other.peak_memory);
        self.non_2xx += other.non_2xx;
    }
}

/// What one request measured.
struct Sample {
    status: http::StatusCode,
    /// Instantiation, when the host reports it.
    instantiate: Option<Duration>,
    /// Guest memory, when the host reports it.
    peak_memory: u64,
}

/// One client of a steady run: sends the request it is given and waits for
/// the whole answer.
trait Worker: Send + 'static {
    fn send(
        &mut self,
        request: http::Request<Bytes>,
    ) -> impl std::future::Future<Output = anyhow::Result<Sample>> + Send;
}

/// Sends `count` of `requests` (round robin) through `workers` at once, each
/// taking the next request when its last one is answered.
async fn drive<W: Worker>(
    workers: Vec<W>,
    requests: &Arc<[http::Request<Bytes>]>,
    count: usize,
    progress: Option<Arc<Progress>>,
) -> anyhow::Result<Steady> {
    let next = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let mut tasks = Vec::new();
    for mut worker in workers {
        let (requests, next, progress) = (requests.clone(), next.clone(), progress.clone());
        tasks.push(tokio::spawn(async move {
            let mut steady = Steady::default();
            loop {
                let index = next.fetch_add(1, Ordering::Relaxed);
                if index >= count {
                    break anyhow::Ok(steady);
                }
                let request = requests[index % requests.len()].clone();
                let sent = Instant::now();
                let sample = worker.send(request).await?;
                steady.latency.push(sent.elapsed());
                steady.instantiate.extend(sample.instantiate);
                steady.peak_memory = steady.peak_memory.max(sample.peak_memory);
                if !sample.status.is_success() {
                    steady.non_2xx += 1;
                }
                if let Some(progress) = &progress {
                    progress.update(index + 1);
                }
            }
        }));
    }
    let mut all = Steady::default();
    for task in tasks {
        all.merge(task.await.context("a bench task panicked")??);
    }
    all.wall = started.elapsed();
    Ok(all)
}

/// A warm-up, then the measured run of `opts.requests_per_host`.
async fn warm_and_measure<W: Worker>(
    label: &str,
    make_workers: impl AsyncFn() -> anyhow::Result<Vec<W>>,
    requests: &[http::Request<Bytes>],
    opts: &BenchOptions,
) -> anyhow::Result<Steady> {
    let requests: Arc<[http::Request<Bytes>]> = requests.to_vec().into();
    let warm_up = (opts.requests_per_host / 10).clamp(1, 1000);
    drive(make_workers().await?, &requests, warm_up, None).await?;
    let progress = Arc::new(Progress::new(
        label.to_owned(),
        opts.requests_per_host,
        opts.progress,
    ));
    drive(
        make_workers().await?,
        &requests,
        opts.requests_per_host,
        Some(progress),
    )
    .await
}

/// A worker calling the function in this process.
struct InProcessWorker(Arc<fn_runtime::Function>);

impl Worker for InProcessWorker {
    async fn send(&mut self, request: http::Request<Bytes>) -> anyhow::Result<Sample> {
        let result = self.0.handle(request).await;
        Ok(Sample {
            status: result.status(),
            instantiate: Some(result.metrics.instantiate),
            peak_memory: result.metrics.peak_memory,
        })
    }
}

/// A worker on its own keep-alive connection to a server.
struct HttpWorker {
    conn: Connection,
    addr: SocketAddr,
}

impl Worker for HttpWorker {
    async fn send(&mut self, request: http::Request<Bytes>) -> anyhow::Result<Sample> {
        let status = match self.conn.send(request.clone()).await {
            Ok(status) => status,
            // The server closed the connection (after an error answer,
            // say): reconnect once.
            Err(_) => {
                self.conn = Connection::open(self.addr).await?;
                self.conn.send(request).await?
            }
        };
        Ok(Sample {
            status,
            instantiate: None,
            peak_memory: 0,
        })
    }
}

async fn in_process(
    name: &str,
    wasm_path: &Path,
    requests: &[http::Request<Bytes>],
    opts: &BenchOptions,
) -> anyhow::Result<HostReport> {
    let wasm =
        std::fs::read(wasm_path).with_context(|| format!("reading {}", wasm_path.display()))?;
    let scratch = tempfile::tempdir().context("creating a scratch directory")?;
    let cwasm = scratch.path().join("fn.cwasm");
    let config = || RuntimeConfig {
        cache_dir: None,
        ..RuntimeConfig::default()
    };
    let first = &requests[0];

    let mut cold = Vec::new();
    for round in 0..COLD_STARTS {
        let started = Instant::now();
        let runtime = Runtime::new(config())?;
        let function = runtime.load_bytes(name, &wasm)?;
        function.set_limits(opts.limits)?;
        let result = function.handle(first.clone()).await;
        cold.push(started.elapsed());
        if let Some(error) = &result.error {
            bail!(
                "the first request ({} {}) failed: {error}; pass the function's own requests with --requests FILE",
                first.method(),
                first.uri()
            );
        }
        if round == 0 {
            std::fs::write(&cwasm, runtime.precompile(&wasm)?)
                .with_context(|| format!("writing {}", cwasm.display()))?;
        }
    }
    let mut cold_cwasm = Vec::new();
    let mut steady_on = None;
    for _ in 0..COLD_STARTS {
        let started = Instant::now();
        let runtime = Runtime::new(config())?;
        // SAFETY: `cwasm` was written above by `Runtime::precompile` of
        // these very bytes, in a private temporary directory.
        let (function, used) = unsafe { runtime.load_precompiled(name, &wasm, &cwasm)? };
        function.set_limits(opts.limits)?;
        let _ = function.handle(first.clone()).await;
        if let Precompiled::Rejected(why) = used {
            bail!("the runtime refused its own precompiled code: {why}");
        }
        cold_cwasm.push(started.elapsed());
        steady_on = Some(function);
    }
    let function = Arc::new(steady_on.expect("COLD_STARTS > 0"));

    let workers = async || {
        let worker = || InProcessWorker(function.clone());
        Ok((0..opts.concurrency.max(1)).map(|_| worker()).collect())
    };
    let mut steady = warm_and_measure("in-process", workers, requests, opts).await?;
    Ok(HostReport {
        host: "in-process".into(),
        detail: format!("fn-runtime {}", env!("CARGO_PKG_VERSION")),
        cold_start_ms: median_ms(&mut cold).unwrap_or_default(),
        cold_start_cwasm_ms: median_ms(&mut cold_cwasm),
        instantiate: Percentiles::of(&mut steady.instantiate),
        latency: Percentiles::of(&mut steady.latency).context("no requests were measured")?,
        requests_per_second: steady.latency.len() as f64 / steady.wall.as_secs_f64(),
        requests: steady.latency.len(),
        non_2xx: steady.non_2xx,
        peak_guest_memory: Some(steady.peak_memory),
        host_rss: resident_memory("self").map(|(peak, _)| peak),
    })
}

/// A server program and how it runs a component.
enum Server {
    Serve { cargo_fn: PathBuf },
    Native { runner: PathBuf },
    Wasmtime { wasmtime: PathBuf },
    Workerd { workerd: PathBuf, wrangler: PathBuf },
}

/// A directory with what the server needs, compiled or precompiled.
struct Prepared {
    _dir: tempfile::TempDir,
    /// Start commands for `addr`: compiling, then from precompiled code.
    compile: Box<dyn Fn(SocketAddr) -> Command + Send + Sync>,
    precompiled: Option<Box<dyn Fn(SocketAddr) -> Command + Send + Sync>>,
    detail: String,
}

impl Server {
    fn prepare(&self, wasm: &Path) -> anyhow::Result<Prepared> {
        let dir = tempfile::tempdir().context("creating a scratch directory")?;
        let bytes = std::fs::read(wasm).with_context(|| format!("reading {}", wasm.display()))?;
        match self {
            Server::Serve { cargo_fn } => {
                // `cargo fn serve` caches compiled code in `.cache` next to
                // the artifact: a fresh folder compiles, and every start
                // after the first loads the cached code.
                let fresh = dir.path().join("fresh");
                let cached = dir.path().join("cached");
                for folder in [&fresh, &cached] {
                    std::fs::create_dir_all(folder)?;
                    std::fs::write(folder.join("fn.wasm"), &bytes)?;
                }
                let command = |cargo_fn: PathBuf, artifact: PathBuf, wipe: Option<PathBuf>| {
                    move |addr: SocketAddr| {
                        if let Some(cache) = &wipe {
                            let _ = std::fs::remove_dir_all(cache);
                        }
                        let mut cmd = Command::new(&cargo_fn);
                        cmd.args(["fn", "serve"])
                            .arg(&artifact)
                            .arg("--addr")
                            .arg(addr.to_string())
                            .arg("--no-function-logs");
                        cmd
                    }
                };
                let compile = command(
                    cargo_fn.clone(),
                    fresh.join("fn.wasm"),
                    Some(fresh.join(".cache")),
                );
                let precompiled = command(cargo_fn.clone(), cached.join("fn.wasm"), None);
                // Fill the cache once (the call's own outcome does not
                // matter here).
                std::process::Command::new(cargo_fn)
                    .args(["fn", "invoke"])
                    .arg(cached.join("fn.wasm"))
                    .stdout(Stdio::null())
                    .stderr(Stdio::null())
                    .status()
                    .context("running cargo fn invoke to fill the code cache")?;
                let warm = std::fs::read_dir(cached.join(".cache"))
                    .is_ok_and(|mut entries| entries.next().is_some());
                Ok(Prepared {
                    _dir: dir,
                    compile: Box::new(compile),
                    precompiled: warm.then(|| {
                        Box::new(precompiled) as Box<dyn Fn(SocketAddr) -> Command + Send + Sync>
                    }),
                    detail: format!("{} fn serve", cargo_fn.display()),
                })
            }
            Server::Native { runner } => {
                let plain = dir.path().join("plain");
                let with_code = dir.path().join("precompiled");
                let cwasm = dir.path().join("fn.cwasm");
                let status = Command::new(runner)
                    .arg("--precompile")
                    .arg(wasm)
                    .arg(&cwasm)
                    .stdin(Stdio::null())
                    .status()
                    .with_context(|| format!("running {}", runner.display()))?;
                let code = if status.success() {
                    Some(std::fs::read(&cwasm)?)
                } else {
                    None
                };
                write_bundle(&plain, &bytes, None)?;
                if let Some(code) = &code {
                    write_bundle(&with_code, &bytes, Some(code))?;
                }
                let command = |runner: PathBuf, bundle: PathBuf| {
                    move |addr: SocketAddr| {
                        let mut cmd = Command::new(&runner);
                        cmd.args(["--mode", "http", "--no-function-logs"])
                            .arg("--addr")
                            .arg(addr.to_string())
                            .arg("--bundle")
                            .arg(&bundle);
                        cmd
                    }
                };
                Ok(Prepared {
                    _dir: dir,
                    compile: Box::new(command(runner.clone(), plain)),
                    precompiled: code.map(|_| {
                        Box::new(command(runner.clone(), with_code))
                            as Box<dyn Fn(SocketAddr) -> Command + Send + Sync>
                    }),
                    detail: runner.display().to_string(),
                })
            }
            Server::Workerd { workerd, wrangler } => {
                let config = write_worker(dir.path(), &bytes, wrangler)?;
                let command = {
                    let workerd = workerd.clone();
                    move |addr: SocketAddr| {
                        let mut cmd = Command::new(&workerd);
                        cmd.arg("serve")
                            .arg(&config)
                            .arg(format!("--socket-addr=http={addr}"));
                        if let Some(dir) = config.parent() {
                            cmd.current_dir(dir);
                        }
                        cmd
                    }
                };
                Ok(Prepared {
                    _dir: dir,
                    compile: Box::new(command),
                    precompiled: None,
                    detail: workerd.display().to_string(),
                })
            }
            Server::Wasmtime { wasmtime } => {
                let artifact = dir.path().join("fn.wasm");
                std::fs::write(&artifact, &bytes)?;
                let cwasm = dir.path().join("fn.cwasm");
                // Builds without the `compile` command exist (a minimal
                // `wasmtime serve`): then there is no precompiled start.
                let compiled = Command::new(wasmtime)
                    .arg("compile")
                    .arg(&artifact)
                    .arg("-o")
                    .arg(&cwasm)
                    .stdin(Stdio::null())
                    .output()
                    .with_context(|| format!("running {} compile", wasmtime.display()))?;
                let command = |wasmtime: PathBuf, file: PathBuf, precompiled: bool| {
                    move |addr: SocketAddr| {
                        let mut cmd = Command::new(&wasmtime);
                        cmd.arg("serve");
                        if precompiled {
                            cmd.arg("--allow-precompiled");
                        } else {
                            // The CLI caches compiled code between runs by
                            // default: a compiling start must not find it.
                            cmd.args(["-C", "cache=n"]);
                        }
                        // std's stdio imports (the proxy world has no
                        // wasi:cli/stdout), as `wasmtime serve` needs for
                        // a Rust function.
                        cmd.args(["-S", "cli"])
                            .arg("--addr")
                            .arg(addr.to_string())
                            .arg(&file);
                        cmd
                    }
                };
                Ok(Prepared {
                    _dir: dir,
                    compile: Box::new(command(wasmtime.clone(), artifact, false)),
                    precompiled: compiled.status.success().then(|| {
                        Box::new(command(wasmtime.clone(), cwasm, true))
                            as Box<dyn Fn(SocketAddr) -> Command + Send + Sync>
                    }),
                    detail: wasmtime.display().to_string(),
                })
            }
        }
    }
}

/// Without the `deploy` feature there is no Worker to write: an error
/// saying so, which the bench reports for the workerd host.
#[cfg(not(feature = "deploy"))]
pub fn write_worker(_dir: &Path, _wasm: &[u8], _wrangler: &Path) -> anyhow::Result<PathBuf> {
    bail!(
        "the workerd host runs the Worker `cargo fn deploy` writes: this cargo-fn was built without its `deploy` feature"
    )
}

/// The Worker of `wasm` as `cargo fn deploy --provider cloudflare` writes
/// it (pinned to a stand-in reference: nothing is pulled), bundled in `dir`
/// by `wrangler deploy --dry-run` as it would be uploaded, and workerd's
/// config for it: returns the config's path.
#[cfg(feature = "deploy")]
pub fn write_worker(dir: &Path, wasm: &[u8], wrangler: &Path) -> anyhow::Result<PathBuf> {
    use crate::deploy::{Deployment, cloudflare, files};
    let digest = bundle::sha256_digest(wasm);
    let deployment = Deployment {
        name: "bench".into(),
        version: "0.0.0".into(),
        metadata: Default::default(),
        image: crate::oci::ImageRef::parse("oci://127.0.0.1:5000/bench:bench")?.pinned(&digest),
        layer_digest: digest.clone(),
        plain_http: true,
        spin_app_digest: None,
        tag: Some("bench".into()),
    };
    let output = cloudflare::package(&deployment, wasm)?;
    files::write_all(dir, &output.files)?;
    // wrangler resolves the Worker's imports from the node_modules next to
    // it, as in a user's project.
    if let Some(modules) = wrangler.parent().and_then(Path::parent)
        && modules.ends_with("node_modules")
        && !dir.join("node_modules").exists()
    {
        std::os::unix::fs::symlink(modules, dir.join("node_modules"))?;
    }
    let bundled = Command::new(wrangler)
        .args(["deploy", "--dry-run", "--outdir", "dist"])
        .current_dir(dir)
        .env("WRANGLER_SEND_METRICS", "false")
        .stdin(Stdio::null())
        .output()
        .with_context(|| format!("running {}", wrangler.display()))?;
    if !bundled.status.success() {
        bail!(
            "wrangler deploy --dry-run failed: {}",
            String::from_utf8_lossy(&bundled.stderr).trim()
        );
    }
    let mut modules = vec![r#"(name = "worker.js", esModule = embed "dist/worker.js")"#.to_owned()];
    let mut wasm_modules: Vec<String> = std::fs::read_dir(dir.join("dist"))?
        .filter_map(|entry| entry.ok()?.file_name().into_string().ok())
        .filter(|name| name.ends_with(".wasm"))
        .collect();
    wasm_modules.sort();
    for name in wasm_modules {
        modules.push(format!(r#"(name = "{name}", wasm = embed "dist/{name}")"#));
    }
    // The socket's address comes from the command line (`--socket-addr`).
    let config = format!(
        r#"using Workerd = import "/workerd/workerd.capnp";
const config :Workerd.Config = (
  services = [(name = "main", worker = .worker)],
  sockets = [(name = "http", address = "127.0.0.1:0", http = (), service = "main")],
);
const worker :Workerd.Worker = (
  modules = [{}],
  compatibilityDate = "{}",
);
"#,
        modules.join(", "),
        cloudflare::COMPATIBILITY_DATE
    );
    let path = dir.join("workerd.capnp");
    std::fs::write(&path, config)?;
    Ok(path)
}

/// A bundle as `cargo fn deploy` writes one for the native runner.
fn write_bundle(dir: &Path, wasm: &[u8], code: Option<&[u8]>) -> anyhow::Result<()> {
    std::fs::create_dir_all(dir)?;
    std::fs::write(dir.join("fn.wasm"), wasm)?;
    if let Some(code) = code {
        std::fs::write(dir.join("fn.cwasm"), code)?;
    }
    let manifest = Manifest {
        name: "bench".into(),
        version: "0.0.0".into(),
        component: BundleFile {
            path: "fn.wasm".into(),
            digest: bundle::sha256_digest(wasm),
        },
        precompiled: code.map(|code| BundleFile {
            path: "fn.cwasm".into(),
            digest: bundle::sha256_digest(code),
        }),
        trusted_keys: Vec::new(),
        config: Default::default(),
        key_value: None,
        outbound_http: true,
        limits: Default::default(),
        events: Vec::new(),
    };
    std::fs::write(
        dir.join(bundle::MANIFEST),
        serde_json::to_vec_pretty(&manifest)?,
    )?;
    Ok(())
}

/// A running server, killed when dropped.
struct Running {
    child: Child,
    addr: SocketAddr,
    log: PathBuf,
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A free loopback port (the listener is closed again: a small race with
/// other programs picking the same port, acceptable for a bench).
fn free_addr() -> anyhow::Result<SocketAddr> {
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))?;
    Ok(listener.local_addr()?)
}

/// Starts a server with `command` and waits for the first answer to
/// `first`: returns it running and the time from spawn to that answer.
async fn start(
    command: &(dyn Fn(SocketAddr) -> Command + Send + Sync),
    first: &http::Request<Bytes>,
    log_dir: &Path,
) -> anyhow::Result<(Running, Duration)> {
    let addr = free_addr()?;
    let mut cmd = command(addr);
    let log = log_dir.join(format!("server-{}.log", addr.port()));
    let log_file = std::fs::File::create(&log)?;
    cmd.stdin(Stdio::null())
        .stdout(log_file.try_clone()?)
        .stderr(log_file);
    let started = Instant::now();
    let child = cmd
        .spawn()
        .with_context(|| format!("starting {:?}", cmd.get_program()))?;
    let mut running = Running { child, addr, log };
    loop {
        if let Ok(mut conn) = Connection::open(addr).await
            && conn.send(first.clone()).await.is_ok()
        {
            return Ok((running, started.elapsed()));
        }
        if let Some(status) = running.child.try_wait()? {
            bail!(
                "the server exited ({status}) before answering:\n{}",
                tail(&running.log)
            );
        }
        if started.elapsed() > START_TIMEOUT {
            bail!(
                "the server did not answer within {START_TIMEOUT:?}:\n{}",
                tail(&running.log)
            );
        }
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
}

fn tail(log: &Path) -> String {
    let text = std::fs::read_to_string(log).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(20)..].join("\n")
}

/// One keep-alive HTTP/1.1 connection.
struct Connection {
    sender: SendRequest<Full<Bytes>>,
    authority: String,
}

impl Connection {
    async fn open(addr: SocketAddr) -> anyhow::Result<Connection> {
        let stream = tokio::net::TcpStream::connect(addr).await?;
        stream.set_nodelay(true)?;
        let (sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
            .await
            .context("HTTP handshake")?;
        tokio::spawn(connection);
        Ok(Connection {
            sender,
            authority: addr.to_string(),
        })
    }

    /// Sends `request`, reads the whole response, returns its status.
    async fn send(&mut self, request: http::Request<Bytes>) -> anyhow::Result<http::StatusCode> {
        let (mut parts, body) = request.into_parts();
        parts.headers.insert(
            http::header::HOST,
            http::HeaderValue::from_str(&self.authority)?,
        );
        let request = http::Request::from_parts(parts, Full::new(body));
        self.sender.ready().await?;
        let response = self.sender.send_request(request).await?;
        let status = response.status();
        response.into_body().collect().await?;
        Ok(status)
    }
}

async fn over_http(
    host: Host,
    server: &Server,
    wasm: &Path,
    requests: &[http::Request<Bytes>],
    opts: &BenchOptions,
) -> anyhow::Result<HostReport> {
    let prepared = server.prepare(wasm)?;
    let logs = tempfile::tempdir()?;
    let first = &requests[0];
    let mut cold = Vec::new();
    for _ in 0..COLD_STARTS {
        let (_running, took) = start(prepared.compile.as_ref(), first, logs.path()).await?;
        cold.push(took);
    }
    let mut cold_cwasm = Vec::new();
    let mut steady_server = None;
    let start_with = prepared
        .precompiled
        .as_deref()
        .unwrap_or(prepared.compile.as_ref());
    // Without precompiled code, one more start serves the steady run.
    let starts = if prepared.precompiled.is_some() {
        COLD_STARTS
    } else {
        1
    };
    for _ in 0..starts {
        let (running, took) = start(start_with, first, logs.path()).await?;
        cold_cwasm.push(took);
        steady_server = Some(running);
    }
    let running = steady_server.expect("COLD_STARTS > 0");
    let addr = running.addr;
    let workers = async || {
        let mut workers = Vec::new();
        for _ in 0..opts.concurrency.max(1) {
            let conn = Connection::open(addr).await?;
            workers.push(HttpWorker { conn, addr });
        }
        Ok(workers)
    };
    let mut steady = warm_and_measure(host.id(), workers, requests, opts).await?;
    let host_rss = resident_memory(&running.child.id().to_string()).map(|(peak, _)| peak);
    drop(running);
    Ok(HostReport {
        host: host.id().into(),
        detail: prepared.detail.clone(),
        cold_start_ms: median_ms(&mut cold).unwrap_or_default(),
        cold_start_cwasm_ms: prepared
            .precompiled
            .as_ref()
            .and_then(|_| median_ms(&mut cold_cwasm)),
        instantiate: None,
        latency: Percentiles::of(&mut steady.latency).context("no requests were measured")?,
        requests_per_second: steady.latency.len() as f64 / steady.wall.as_secs_f64(),
        requests: steady.latency.len(),
        non_2xx: steady.non_2xx,
        peak_guest_memory: None,
        host_rss,
    })
}
