//! Benchmarks of the runner against the targets, on this machine:
//!
//! 1. cold start: process start to the first response, in `http` mode, for
//!    `fixture-hello` with and without the bundle's `fn.cwasm`
//!    (target: <= 20 ms with it);
//! 2. per-request latency: sequential GETs on one keep-alive connection,
//!    the runner against `cargo fn serve` on the same artifact
//!    (target: runner p50 within 1.2x of `cargo fn serve`).
//!
//! Run with `cargo bench -p fn-runner --bench runner` (release builds of
//! the runner, and of `cargo-fn`, which this builds when missing).
//! `RUNNER_BENCH_STARTS` and `RUNNER_BENCH_REQUESTS` set the sample sizes;
//! `RUNNER_BENCH_RUNNER` benchmarks another build of the runner, such as the
//! static musl one `cargo fn deploy` packs
//! (`target/x86_64-unknown-linux-musl/release/fn-runner`). The bundle's
//! `fn.cwasm` is made by the runner benchmarked (`--precompile`), as
//! `cargo fn deploy` makes it.

use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fn_runtime::bundle::{BundleFile, BundleLimits, MANIFEST, Manifest, sha256_digest};

const TARGET: &str = "/?name=bench";
const EXPECTED: &str = "Hello, bench!";

fn main() {
    let starts = env_usize("RUNNER_BENCH_STARTS", 30);
    let requests = env_usize("RUNNER_BENCH_REQUESTS", 5000);
    let workspace = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
    let artifact =
        fn_host_test::build_package(workspace.join("host-test/fixtures/hello/Cargo.toml"))
            .unwrap_or_else(|e| panic!("building fixture-hello: {e:#}"));
    let wasm = std::fs::read(&artifact).unwrap();
    let runner = std::env::var_os("RUNNER_BENCH_RUNNER")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_BIN_EXE_fn-runner")));
    let dir = tempfile::tempdir().unwrap();
    let with_cwasm = dir.path().join("with-cwasm");
    let without = dir.path().join("without-cwasm");
    write_bundle(&with_cwasm, &wasm, Some(&runner));
    write_bundle(&without, &wasm, None);
    println!(
        "runner: {} ({} bytes); component: {} bytes",
        runner.display(),
        std::fs::metadata(&runner).unwrap().len(),
        wasm.len()
    );

    println!("\ncold start, process start to first response ({starts} starts each):");
    for (name, bundle) in [
        ("with fn.cwasm", &with_cwasm),
        ("without fn.cwasm", &without),
    ] {
        let mut samples: Vec<Duration> = (0..starts).map(|_| cold_start(&runner, bundle)).collect();
        samples.sort();
        println!(
            "  {name:<18} min {:>7.2?}  p50 {:>7.2?}  p90 {:>7.2?}  max {:>7.2?}",
            samples[0],
            samples[samples.len() / 2],
            samples[samples.len() * 9 / 10],
            samples[samples.len() - 1]
        );
    }

    println!("\nper-request latency, {requests} sequential GETs on one connection:");
    let cargo_fn = cargo_fn_binary(workspace);
    let mut results = Vec::new();
    for round in 0..env_usize("RUNNER_BENCH_ROUNDS", 3) {
        let runner_server = start_runner(&runner, &with_cwasm);
        let compiled = start_runner(&runner, &without);
        let serve = start_cargo_fn(&cargo_fn, &artifact);
        let mut servers = [
            ("fn-runner (http)", &runner_server),
            ("fn-runner, no cwasm", &compiled),
            ("cargo fn serve", &serve),
        ];
        // The first server measured in a round came out up to 1.5x slower
        // whichever it was: each round starts with another one.
        servers.rotate_left(round % 3);
        for (name, server) in servers {
            let mut samples = sequential(server.addr, requests);
            samples.sort();
            let p50 = samples[samples.len() / 2];
            println!(
                "  round {round} {name:<20} p50 {:>8.2?}  p90 {:>8.2?}  p99 {:>8.2?}",
                p50,
                samples[samples.len() * 9 / 10],
                samples[samples.len() * 99 / 100]
            );
            results.push((name, p50));
        }
    }
    let best = |want: &str| {
        results
            .iter()
            .filter(|(name, _)| *name == want)
            .map(|(_, p50)| *p50)
            .min()
            .unwrap()
    };
    let (ours, serve) = (best("fn-runner (http)"), best("cargo fn serve"));
    println!(
        "best p50: fn-runner {ours:.2?}, cargo fn serve {serve:.2?} (ratio {:.2}; target <= 1.20)",
        ours.as_secs_f64() / serve.as_secs_f64()
    );
}

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// A bundle of `wasm` in `dir`, with `fn.cwasm` made by `precompiler`
/// (a runner) when given.
fn write_bundle(dir: &Path, wasm: &[u8], precompiler: Option<&Path>) {
    std::fs::create_dir_all(dir).unwrap();
    std::fs::write(dir.join("fn.wasm"), wasm).unwrap();
    let precompiled = precompiler.map(|runner| {
        let status = Command::new(runner)
            .arg("--precompile")
            .args([dir.join("fn.wasm"), dir.join("fn.cwasm")])
            .status()
            .unwrap();
        assert!(
            status.success(),
            "{} --precompile: {status}",
            runner.display()
        );
        let cwasm = std::fs::read(dir.join("fn.cwasm")).unwrap();
        BundleFile {
            path: "fn.cwasm".into(),
            digest: sha256_digest(&cwasm),
        }
    });
    let manifest = Manifest {
        name: "hello".into(),
        version: "0.1.0".into(),
        component: BundleFile {
            path: "fn.wasm".into(),
            digest: sha256_digest(wasm),
        },
        precompiled,
        trusted_keys: vec![],
        config: Default::default(),
        key_value: None,
        outbound_http: false,
        limits: BundleLimits::default(),
        events: vec![],
    };
    std::fs::write(
        dir.join(MANIFEST),
        serde_json::to_vec_pretty(&manifest).unwrap(),
    )
    .unwrap();
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Spawns the runner and polls until the first response: the time from
/// spawn to the end of that response.
fn cold_start(runner: &Path, bundle: &Path) -> Duration {
    let port = free_port();
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    let started = Instant::now();
    let mut child = Command::new(runner)
        .args(["--mode", "http", "--bundle"])
        .arg(bundle)
        .args(["--addr", &addr.to_string()])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let deadline = started + Duration::from_secs(60);
    let elapsed = loop {
        if let Ok(mut stream) = TcpStream::connect(addr) {
            let _ = stream.set_nodelay(true);
            let body = request(&mut stream);
            assert!(body.contains(EXPECTED), "answered {body:?}");
            break started.elapsed();
        }
        assert!(
            Instant::now() < deadline,
            "the runner did not answer in 60 s"
        );
        std::thread::sleep(Duration::from_micros(200));
    };
    let _ = child.kill();
    let _ = child.wait();
    elapsed
}

/// One GET over a keep-alive connection; returns the body.
fn request(stream: &mut TcpStream) -> String {
    write!(
        stream,
        "GET {TARGET} HTTP/1.1\r\nhost: bench\r\nconnection: keep-alive\r\n\r\n"
    )
    .unwrap();
    let mut reader = BufReader::new(&mut *stream);
    let mut length = 0usize;
    let mut line = String::new();
    loop {
        line.clear();
        reader.read_line(&mut line).unwrap();
        if line == "\r\n" || line.is_empty() {
            break;
        }
        if let Some((name, value)) = line.split_once(':')
            && name.eq_ignore_ascii_case("content-length")
        {
            length = value.trim().parse().unwrap();
        }
    }
    let mut body = vec![0; length];
    reader.read_exact(&mut body).unwrap();
    String::from_utf8_lossy(&body).into_owned()
}

fn sequential(addr: SocketAddr, n: usize) -> Vec<Duration> {
    let mut stream = TcpStream::connect(addr).unwrap();
    stream.set_nodelay(true).unwrap();
    // Warm up the instance pool and the connection.
    for _ in 0..200 {
        request(&mut stream);
    }
    (0..n)
        .map(|_| {
            let t = Instant::now();
            let body = request(&mut stream);
            let elapsed = t.elapsed();
            assert!(body.contains(EXPECTED), "answered {body:?}");
            elapsed
        })
        .collect()
}

struct Server {
    child: Child,
    addr: SocketAddr,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn wait_for(child: Child, addr: SocketAddr, what: &str) -> Server {
    let deadline = Instant::now() + Duration::from_secs(120);
    while TcpStream::connect(addr).is_err() {
        assert!(Instant::now() < deadline, "{what} did not listen in 120 s");
        std::thread::sleep(Duration::from_millis(20));
    }
    Server { child, addr }
}

fn start_runner(runner: &Path, bundle: &Path) -> Server {
    let addr = SocketAddr::from(([127, 0, 0, 1], free_port()));
    let child = Command::new(runner)
        .args(["--mode", "http", "--no-function-logs", "--bundle"])
        .arg(bundle)
        .args(["--addr", &addr.to_string()])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    wait_for(child, addr, "fn-runner")
}

fn start_cargo_fn(cargo_fn: &Path, artifact: &Path) -> Server {
    let addr = SocketAddr::from(([127, 0, 0, 1], free_port()));
    let child = Command::new(cargo_fn)
        .args([
            "fn",
            "serve",
            "--no-function-logs",
            "--addr",
            &addr.to_string(),
        ])
        .arg(artifact)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    wait_for(child, addr, "cargo fn serve")
}

/// The release `cargo-fn` binary of this workspace, built if missing.
fn cargo_fn_binary(workspace: &Path) -> PathBuf {
    let status = Command::new(env!("CARGO"))
        .args(["build", "--release", "-p", "cargo-fn", "--bin", "cargo-fn"])
        .current_dir(workspace)
        .status()
        .unwrap();
    assert!(status.success(), "building cargo-fn (release) failed");
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace.join("target"));
    target.join("release").join("cargo-fn")
}
