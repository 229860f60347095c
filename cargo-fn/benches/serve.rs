//! Benchmark of `cargo fn serve` against `wasmtime serve` on the same
//! artifact, same machine, same run: requests/second and latency under `wrk`.
//!
//! The artifact is `fixture-hello` built by the `cargo fn build --release`
//! pipeline (`fn_host_test::build_package`), so it imports only what a
//! wasi:http proxy may. Both servers get it on free
//! loopback ports and are loaded with `wrk -t2 -c32 -d10s --latency`
//! (duration: `SERVE_BENCH_SECS`), alternating A, B, A, B.
//!
//! When the JavaScript hosts are installed (`<target>/tools/js-hosts`, as
//! `scripts/test` leaves them, or `$FN_JS_HOSTS`), a third server joins:
//! workerd running the Cloudflare Worker `cargo fn deploy --provider
//! cloudflare` writes for the same artifact, bundled by `wrangler deploy
//! --dry-run` as it would be uploaded.
//!
//! Run with `cargo bench -p cargo-fn --bench serve`. Needs `wrk`, and
//! `wasmtime` on PATH or named by `$FN_WASMTIME` (for example the
//! wasmtime-cli 48 `serve` that `cargo build --release -p fn-conformance
//! --bin wasmtime` builds); says so and exits if either is missing.

use std::io::{Read as _, Write as _};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

mod support;
use support::{Server, spawn};

const ROUNDS: usize = 2;
const CONNECTIONS: &str = "32";
const THREADS: &str = "2";
const TARGET: &str = "/?name=bench";
const EXPECTED: &str = "Hello, bench!";

fn main() {
    let Some(wrk) = find_tool("wrk") else {
        println!(
            "serve bench skipped: `wrk` is not on PATH (install it, e.g. `apt-get install wrk`)"
        );
        return;
    };
    let wasmtime = std::env::var_os("FN_WASMTIME")
        .map(PathBuf::from)
        .or_else(|| find_tool("wasmtime"));
    let Some(wasmtime) = wasmtime else {
        println!(
            "serve bench skipped: `wasmtime` is not on PATH (install the 48.x CLI: `cargo install wasmtime-cli --version 48.0.8`, or build conformance's with `cargo build --release -p fn-conformance --bin wasmtime` and set FN_WASMTIME=target/release/wasmtime)"
        );
        return;
    };
    let secs = std::env::var("SERVE_BENCH_SECS").unwrap_or_else(|_| "10".into());
    let workspace = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
    let artifact = built_hello(workspace);
    eprintln!("artifact: {}", artifact.display());

    let mut cargo_fn = start_cargo_fn(&artifact);
    let (mut wasmtime_serve, wasmtime_flags) = start_wasmtime(&wasmtime, &artifact);
    let mut servers = vec![
        ("cargo fn serve".to_owned(), cargo_fn.addr),
        (
            format!("wasmtime serve {}", wasmtime_flags.join(" "))
                .trim()
                .to_owned(),
            wasmtime_serve.addr,
        ),
    ];
    // SERVE_BENCH_WORKERD_DIR keeps the Worker project and its bundle there
    // (an empty folder), to look at or profile afterwards.
    let workerd_dir = tempfile::tempdir().unwrap();
    let workerd_path = std::env::var_os("SERVE_BENCH_WORKERD_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| workerd_dir.path().to_owned());
    let mut workerd = match js_hosts(workspace) {
        Some(hosts) => {
            let server = start_workerd(&hosts, &artifact, &workerd_path);
            servers.push(("workerd (cloudflare bundle)".to_owned(), server.addr));
            Some(server)
        }
        None => {
            println!(
                "no workerd: the JavaScript hosts are not installed (run scripts/test, or set $FN_JS_HOSTS)"
            );
            None
        }
    };
    for (name, addr) in &servers {
        // wasmtime serve answers chunked, cargo fn serve with a length.
        let body = get(*addr, TARGET);
        assert!(body.contains(EXPECTED), "{name} answered {body:?}");
    }

    let mut rows = Vec::new();
    for round in 1..=ROUNDS {
        for (name, addr) in &servers {
            eprintln!("round {round}: wrk against {name} on {addr} for {secs}s...");
            rows.push((name.clone(), round, run_wrk(&wrk, *addr, &secs)));
        }
    }
    cargo_fn.stop();
    wasmtime_serve.stop();
    if let Some(workerd) = &mut workerd {
        workerd.stop();
    }

    println!();
    println!(
        "hello world, wrk -t{THREADS} -c{CONNECTIONS} -d{secs}s --latency, {} cores",
        std::thread::available_parallelism().map_or(0, |n| n.get())
    );
    println!(
        "{:<28} {:>5} {:>10} {:>9} {:>9} {:>9} {:>8} {:>7}",
        "server", "round", "req/s", "avg", "p50", "p99", "non-2xx", "errors"
    );
    for (name, round, r) in &rows {
        println!(
            "{:<28} {:>5} {:>10.0} {:>9} {:>9} {:>9} {:>8} {:>7}",
            name, round, r.rps, r.avg, r.p50, r.p99, r.non_2xx, r.errors
        );
    }
    let best = |prefix: &str| {
        rows.iter()
            .filter(|(n, _, _)| n.starts_with(prefix))
            .map(|(_, _, r)| r.rps)
            .fold(0.0, f64::max)
    };
    let (ours, theirs) = (best("cargo fn"), best("wasmtime"));
    println!(
        "best req/s: cargo fn serve {ours:.0}, wasmtime serve {theirs:.0} (ratio {:.2}; target >= 1.00)",
        ours / theirs
    );
    if workerd.is_some() {
        let js = best("workerd");
        println!(
            "best req/s: workerd {js:.0} (cargo fn serve / workerd {:.2})",
            ours / js
        );
    }
}

/// The folder with the JavaScript hosts' `node_modules`, if installed.
fn js_hosts(workspace: &Path) -> Option<PathBuf> {
    let dir = std::env::var_os("FN_JS_HOSTS")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            std::env::var_os("CARGO_TARGET_DIR")
                .map(PathBuf::from)
                .unwrap_or_else(|| workspace.join("target"))
                .join("tools/js-hosts")
        });
    dir.join("node_modules/.bin/workerd")
        .exists()
        .then_some(dir)
}

/// The Cloudflare Worker of `artifact` as `cargo fn bench` runs it
/// ([`cargo_fn::bench::write_worker`]: `cargo fn deploy`'s Worker, bundled
/// by `wrangler deploy --dry-run`), served by workerd on a free port.
fn start_workerd(hosts: &Path, artifact: &Path, dir: &Path) -> Server {
    let wasm = std::fs::read(artifact).unwrap();
    let wrangler = hosts.join("node_modules/.bin/wrangler");
    let config = cargo_fn::bench::write_worker(dir, &wasm, &wrangler).unwrap();
    let addr = free_port();
    let child = Command::new(hosts.join("node_modules/.bin/workerd"))
        .arg("serve")
        .arg(&config)
        .arg(format!("--socket-addr=http={addr}"))
        .current_dir(dir)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("workerd starts");
    wait_until_accepting(addr);
    Server { child, addr }
}

/// `name` in a PATH directory, or in `~/.cargo/bin`.
fn find_tool(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    let home = std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cargo/bin"));
    std::env::split_paths(&path)
        .chain(home)
        .map(|dir| dir.join(name))
        .find(|p| p.is_file())
}

/// `fixture-hello` built by the `cargo fn build --release` pipeline, the
/// way every test gets a guest ([`fn_host_test::build_package`]).
fn built_hello(workspace: &Path) -> PathBuf {
    fn_host_test::build_package(workspace.join("host-test/fixtures/hello/Cargo.toml"))
        .unwrap_or_else(|e| panic!("building fixture-hello: {e:#}"))
}

fn start_cargo_fn(artifact: &Path) -> Server {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_cargo-fn"));
    cmd.arg("fn")
        .arg("serve")
        .arg(artifact)
        .args(["--addr", "127.0.0.1:0"]);
    let on_line = |line: &str| {
        let (_, after) = line.strip_prefix("Serving ")?.split_once(" on http://")?;
        after.split_whitespace().next()?.parse::<SocketAddr>().ok()
    };
    match spawn(cmd, on_line) {
        Ok((child, addr)) => Server { child, addr },
        Err(stderr) => panic!("cargo fn serve did not start:\n{stderr}"),
    }
}

/// Starts `wasmtime serve` on a free port: first with no extra flags, and
/// if the component is refused, with `-S cli` (reported in the table).
fn start_wasmtime(wasmtime: &Path, artifact: &Path) -> (Server, Vec<&'static str>) {
    let mut refusals = String::new();
    for flags in [vec![], vec!["-S", "cli"]] {
        let addr = free_port();
        let mut cmd = Command::new(wasmtime);
        cmd.arg("serve")
            .args(&flags)
            .arg("--addr")
            .arg(addr.to_string())
            .arg(artifact);
        match spawn(cmd, |line| line.contains("Serving HTTP on").then_some(())) {
            Ok((child, ())) => {
                wait_until_accepting(addr);
                return (Server { child, addr }, flags);
            }
            Err(stderr) => {
                eprintln!("wasmtime serve {flags:?} refused the component:\n{stderr}");
                refusals.push_str(&stderr);
            }
        }
    }
    panic!("wasmtime serve could not run the artifact:\n{refusals}");
}

/// A loopback port free right now (bound, read, released).
fn free_port() -> SocketAddr {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("bind a free loopback port")
}

fn wait_until_accepting(addr: SocketAddr) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while TcpStream::connect(addr).is_err() {
        assert!(
            Instant::now() < deadline,
            "{addr} does not accept connections"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// The body of `GET target` (`Connection: close`, read to the end).
fn get(addr: SocketAddr, target: &str) -> String {
    let mut stream = TcpStream::connect(addr).expect("connect");
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    write!(
        stream,
        "GET {target} HTTP/1.1\r\nHost: bench\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).expect("read response");
    assert!(
        response.starts_with("HTTP/1.1 200"),
        "not a 200: {response:?}"
    );
    response
        .split_once("\r\n\r\n")
        .map(|(_, body)| body.to_owned())
        .unwrap_or_default()
}

#[derive(Debug, Default)]
struct WrkResult {
    rps: f64,
    avg: String,
    p50: String,
    p99: String,
    non_2xx: u64,
    errors: u64,
}

fn run_wrk(wrk: &Path, addr: SocketAddr, secs: &str) -> WrkResult {
    let output = Command::new(wrk)
        .args(["-t", THREADS, "-c", CONNECTIONS, "-d"])
        .arg(format!("{secs}s"))
        .arg("--latency")
        .arg(format!("http://{addr}{TARGET}"))
        .output()
        .expect("run wrk");
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "wrk failed:\n{text}");
    parse_wrk(&text)
}

/// Reads the lines of wrk's report this table needs.
fn parse_wrk(text: &str) -> WrkResult {
    let mut result = WrkResult::default();
    for line in text.lines() {
        let words: Vec<&str> = line.split_whitespace().collect();
        match words.as_slice() {
            ["Requests/sec:", n, ..] => result.rps = n.parse().unwrap_or(0.0),
            ["Latency", avg, ..] if *avg != "Distribution" => result.avg = (*avg).to_owned(),
            ["50%", v] => result.p50 = (*v).to_owned(),
            ["99%", v] => result.p99 = (*v).to_owned(),
            ["Non-2xx", "or", "3xx", "responses:", n] => result.non_2xx = n.parse().unwrap_or(0),
            ["Socket", "errors:", rest @ ..] => {
                // connect 0, read 0, write 0, timeout 0
                result.errors = rest
                    .iter()
                    .filter_map(|w| w.trim_end_matches(',').parse::<u64>().ok())
                    .sum();
            }
            _ => {}
        }
    }
    assert!(result.rps > 0.0, "no Requests/sec in wrk's output:\n{text}");
    result
}
