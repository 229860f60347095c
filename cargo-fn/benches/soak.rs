//! Soak test of `cargo fn serve` and of the native runner in `http` mode:
//! minutes of mixed traffic on loopback, and whether the server holds up.
//!
//! The function is `host-test/fixtures/soak`, served with tight limits
//! (`--timeout 0.5 --body-timeout 1 --memory 64 --max-body 65536
//! --max-instances 8`; the runner gets the same from its bundle manifest).
//! `FN_SOAK_SERVER` is `serve`, `runner` or `both` (the default, one after
//! the other); the runner is `$FN_RUNNER`, else the workspace's build. For `FN_SOAK_SECS` seconds (default 600) these run
//! at once, each on its own connections:
//! - good requests (`GET /`), two clients;
//! - key-value increments (`/incr`), two clients; each 200 is counted;
//! - faults, in turn: a trapping guest, a looping guest, a memory hog, an
//!   oversized body, a client that disconnects 1 KB into a 1 MiB response,
//!   and a client that stops sending its body;
//! - slowloris: eight connections that send a header byte a second and
//!   never finish; the server must close each within its 10 s header-read
//!   timeout (plus a margin);
//! - every 20 s a burst of 24 concurrent looping calls against a pool of 8:
//!   the calls that find the pool full must get 503 with `Retry-After`
//!   promptly, and a good request right after the burst must get 200.
//!
//! The server's RSS and open file descriptors are sampled every 2 s; the
//! start values are taken after a warm-up: every pool slot once at its most
//! resident (eight concurrent memory hogs, loops and 1 MiB answers), then a
//! tenth of the run (at least 5 s) of the traffic above. The report gives requests
//! sent and answered, the status mix per kind, p50/p99 of good requests,
//! RSS and descriptors at start and end, and lost increments (the final
//! counter minus the 200 answers to `/incr`). It fails (exit 1) when a
//! status is not one its kind may get, RSS grew more than 10 %, descriptors
//! grew, an increment was lost, or the server stopped answering.
//!
//! Run: `cargo bench -p cargo-fn --bench soak`; `.ci/run` runs a 60 s one
//! on the test build (`FN_SOAK_SECS=60 cargo bench --profile dev --workspace
//! --bench soak`).

mod support;

use std::collections::BTreeMap;
use std::io::{Read as _, Write as _};
use std::net::{Shutdown, SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use fn_runtime::bundle::{self, BundleFile, BundleLimits, Manifest};
use support::{Server, spawn};

const POOL: usize = 8;
const BURST: usize = 24;
const SLOWLORIS: usize = 8;
/// hyper's header-read timeout in `fn_runtime::server`, plus a margin.
const HEADER_DEADLINE: Duration = Duration::from_secs(15);

/// What one kind of traffic got.
#[derive(Default)]
struct Kind {
    sent: u64,
    statuses: BTreeMap<u16, u64>,
    /// Statuses this kind may not get, and connection failures.
    unexpected: Vec<String>,
}

#[derive(Default)]
struct Stats {
    kinds: Mutex<BTreeMap<&'static str, Kind>>,
    good_latency: Mutex<Vec<Duration>>,
    increments: AtomicU64,
    slow_closed: AtomicU64,
    refused_slowly: Mutex<Vec<Duration>>,
}

impl Stats {
    fn sent(&self, kind: &'static str) {
        self.kinds.lock().unwrap().entry(kind).or_default().sent += 1;
    }

    /// Records `status` (or the connection error) for `kind`; `allowed`
    /// says which statuses the kind may get.
    fn got(&self, kind: &'static str, result: &std::io::Result<Response>, allowed: &[u16]) {
        let mut kinds = self.kinds.lock().unwrap();
        let entry = kinds.entry(kind).or_default();
        match result {
            Ok(res) => {
                *entry.statuses.entry(res.status).or_default() += 1;
                if !allowed.contains(&res.status) && entry.unexpected.len() < 10 {
                    entry.unexpected.push(format!(
                        "status {}: {}",
                        res.status,
                        String::from_utf8_lossy(&res.body[..res.body.len().min(200)])
                    ));
                }
            }
            Err(err) if entry.unexpected.len() < 10 => entry.unexpected.push(err.to_string()),
            Err(_) => {}
        }
    }
}

struct Response {
    status: u16,
    headers: String,
    body: Vec<u8>,
}

/// One request on a fresh connection (`Connection: close`), read to EOF.
fn request(addr: SocketAddr, method: &str, path: &str, body: &[u8]) -> std::io::Result<Response> {
    let mut stream = TcpStream::connect(addr)?;
    stream.set_read_timeout(Some(Duration::from_secs(30)))?;
    let head = format!(
        "{method} {path} HTTP/1.1\r\nHost: soak\r\nConnection: close\r\nContent-Length: {}\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes())?;
    stream.write_all(body)?;
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw)?;
    parse(&raw)
}

fn parse(raw: &[u8]) -> std::io::Result<Response> {
    let bad = |what: &str| {
        std::io::Error::other(format!(
            "{what}: {:?}",
            String::from_utf8_lossy(&raw[..raw.len().min(100)])
        ))
    };
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .ok_or_else(|| bad("no end of headers"))?;
    let headers = String::from_utf8_lossy(&raw[..split]).into_owned();
    let status = headers
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| bad("no status"))?;
    Ok(Response {
        status,
        headers: headers.to_ascii_lowercase(),
        body: raw[split + 4..].to_vec(),
    })
}

/// Resident memory (KiB) and open descriptors of process `pid`.
fn sample(pid: u32) -> (u64, usize) {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let rss = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
        .unwrap_or(0);
    let fds = std::fs::read_dir(format!("/proc/{pid}/fd"))
        .map(|d| d.count())
        .unwrap_or(0);
    (rss, fds)
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

/// Runs `body` in a loop on a new thread until `stop`.
fn looping(
    stop: &Arc<AtomicBool>,
    mut body: impl FnMut() + Send + 'static,
) -> thread::JoinHandle<()> {
    let stop = stop.clone();
    thread::spawn(move || {
        while !stop.load(Ordering::Relaxed) {
            body();
        }
    })
}

fn main() {
    let secs: u64 = std::env::var("FN_SOAK_SECS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(600);
    let which = std::env::var("FN_SOAK_SERVER").unwrap_or_else(|_| "both".into());
    let (serve, runner) = match which.as_str() {
        "both" => (true, true),
        "serve" => (true, false),
        "runner" => (false, true),
        other => panic!("FN_SOAK_SERVER is serve, runner or both, not {other:?}"),
    };
    let workspace = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
    let artifact =
        fn_host_test::build_package(workspace.join("host-test/fixtures/soak/Cargo.toml"))
            .unwrap_or_else(|e| panic!("building fixture-soak: {e:#}"));

    let mut failures = Vec::new();
    if serve {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_cargo-fn"));
        cmd.args(["fn", "serve"])
            .arg(&artifact)
            .args(["--addr", "127.0.0.1:0", "--no-function-logs"])
            .args(["--timeout", "0.5", "--body-timeout", "1", "--memory", "64"])
            .args(["--max-body", "65536", "--max-instances", &POOL.to_string()]);
        let on_line = |line: &str| {
            let (_, after) = line.strip_prefix("Serving ")?.split_once(" on http://")?;
            after.split_whitespace().next()?.parse::<SocketAddr>().ok()
        };
        let (child, addr) =
            spawn(cmd, on_line).unwrap_or_else(|e| panic!("cargo fn serve did not start:\n{e}"));
        let found = soak("cargo fn serve", Server { child, addr }, secs);
        failures.extend(found.into_iter().map(|f| format!("cargo fn serve: {f}")));
    }
    if runner {
        // The native runner in http mode (as on Cloud Run), on a bundle with
        // the same limits in its manifest.
        let runner = match std::env::var_os("FN_RUNNER") {
            Some(path) => PathBuf::from(path),
            None => fn_conformance::runner::runner_binary()
                .unwrap_or_else(|e| panic!("building fn-runner: {e:#}")),
        };
        let bundle = tempfile::tempdir().unwrap();
        write_bundle(bundle.path(), &std::fs::read(&artifact).unwrap());
        let addr = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .unwrap();
        let mut cmd = Command::new(&runner);
        cmd.args(["--mode", "http", "--no-function-logs"])
            .arg("--addr")
            .arg(addr.to_string())
            .arg("--bundle")
            .arg(bundle.path())
            .args(["--max-instances", &POOL.to_string()]);
        let on_line = move |line: &str| line.contains(&addr.to_string()).then_some(());
        let (child, ()) = spawn(cmd, on_line)
            .unwrap_or_else(|e| panic!("{} did not start:\n{e}", runner.display()));
        let found = soak("fn-runner --mode http", Server { child, addr }, secs);
        failures.extend(found.into_iter().map(|f| format!("fn-runner: {f}")));
    }
    if failures.is_empty() {
        println!("soak: passed");
    } else {
        println!("soak: FAILED");
        for f in &failures {
            println!("  - {f}");
        }
        std::process::exit(1);
    }
}

/// A bundle of `wasm` as `cargo fn deploy` writes one, with the soak's
/// limits in its manifest.
fn write_bundle(dir: &Path, wasm: &[u8]) {
    let manifest = Manifest {
        name: "soak".into(),
        version: "0.0.0".into(),
        component: BundleFile {
            path: "fn.wasm".into(),
            digest: bundle::sha256_digest(wasm),
        },
        precompiled: None,
        trusted_keys: Vec::new(),
        config: Default::default(),
        key_value: None,
        outbound_http: false,
        limits: BundleLimits {
            timeout_ms: Some(500),
            memory: Some(64 << 20),
            max_body: Some(65536),
            body_timeout_ms: Some(1000),
        },
        events: Vec::new(),
    };
    std::fs::write(dir.join("fn.wasm"), wasm).unwrap();
    std::fs::write(
        dir.join(bundle::MANIFEST),
        serde_json::to_vec_pretty(&manifest).unwrap(),
    )
    .unwrap();
}

/// Soaks `server` for `secs` seconds and prints the report; returns what
/// failed.
fn soak(name: &str, server: Server, secs: u64) -> Vec<String> {
    let warmup = Duration::from_secs((secs / 10).max(5));
    let addr = server.addr;
    let pid = server.child.id();
    println!(
        "soak: {name} (pid {pid}) on {addr}, {secs} s, warm-up {} s",
        warmup.as_secs()
    );

    // Warm-up: every pool slot once at its most resident (a memory hog
    // fills its linear memory, a loop holds its stack, a big answer), so
    // the start sample is the steady state and growth after it is a leak.
    for path in ["/hog", "/spin", "/big", "/incr"] {
        let calls: Vec<_> = (0..POOL)
            .map(|_| thread::spawn(move || request(addr, "GET", path, b"")))
            .collect();
        for call in calls {
            let _ = call.join();
        }
    }
    let warmed =
        request(addr, "GET", "/count", b"").map(|r| String::from_utf8_lossy(&r.body).into_owned());
    let warm_increments: u64 = warmed.ok().and_then(|c| c.parse().ok()).unwrap_or(0);

    let stats = Arc::new(Stats::default());
    stats.increments.store(warm_increments, Ordering::Relaxed);
    let stop = Arc::new(AtomicBool::new(false));
    let mut threads = Vec::new();

    for _ in 0..2 {
        let good = stats.clone();
        threads.push(looping(&stop, move || {
            let stats = &good;
            stats.sent("good");
            let started = Instant::now();
            let res = request(addr, "GET", "/", b"");
            if res.as_ref().is_ok_and(|r| r.status == 200) {
                stats.good_latency.lock().unwrap().push(started.elapsed());
            }
            // 503: a burst holds the pool.
            stats.got("good", &res, &[200, 503]);
        }));
        let increments = stats.clone();
        threads.push(looping(&stop, move || {
            let stats = &increments;
            stats.sent("increment");
            let res = request(addr, "POST", "/incr", b"");
            if res.as_ref().is_ok_and(|r| r.status == 200) {
                stats.increments.fetch_add(1, Ordering::Relaxed);
            }
            stats.got("increment", &res, &[200, 503]);
        }));
    }

    let mut turn = 0usize;
    let faults = stats.clone();
    threads.push(looping(&stop, move || {
        turn += 1;
        let stats = &faults;
        match turn % 6 {
            0 => {
                stats.sent("trap");
                stats.got("trap", &request(addr, "GET", "/trap", b""), &[500, 503]);
            }
            1 => {
                stats.sent("loop");
                stats.got("loop", &request(addr, "GET", "/spin", b""), &[504, 503]);
            }
            2 => {
                stats.sent("memory hog");
                stats.got("memory hog", &request(addr, "GET", "/hog", b""), &[500, 503]);
            }
            3 => {
                stats.sent("oversized body");
                let body = vec![b'x'; 100 << 10];
                stats.got("oversized body", &request(addr, "POST", "/echo", &body), &[413]);
            }
            4 => {
                // Reads 1 KB of a 1 MiB answer, then hangs up.
                stats.sent("disconnect");
                let result = TcpStream::connect(addr).and_then(|mut s| {
                    s.write_all(b"GET /big HTTP/1.1\r\nHost: soak\r\n\r\n")?;
                    // Up to 1 KB: a 503 is shorter.
                    let mut first = Vec::new();
                    (&mut s).take(1024).read_to_end(&mut first)?;
                    s.shutdown(Shutdown::Both)?;
                    parse(&first)
                        .or_else(|_| Ok(Response { status: 200, headers: String::new(), body: Vec::new() }))
                });
                stats.got("disconnect", &result, &[200, 503]);
            }
            _ => {
                // Announces 100 bytes, sends 3, and waits for the answer.
                stats.sent("stalled body");
                let result = TcpStream::connect(addr).and_then(|mut s| {
                    s.set_read_timeout(Some(Duration::from_secs(30)))?;
                    s.write_all(b"POST /echo HTTP/1.1\r\nHost: soak\r\nConnection: close\r\nContent-Length: 100\r\n\r\nabc")?;
                    let mut raw = Vec::new();
                    s.read_to_end(&mut raw)?;
                    parse(&raw)
                });
                stats.got("stalled body", &result, &[408]);
            }
        }
    }));

    for _ in 0..SLOWLORIS {
        let slow = stats.clone();
        let stop_flag = stop.clone();
        threads.push(looping(&stop, move || {
            let stats = &slow;
            stats.sent("slowloris");
            let Ok(mut s) = TcpStream::connect(addr) else {
                return;
            };
            let started = Instant::now();
            let _ = s.write_all(b"GET / HTTP/1.1\r\nHost: soak\r\nX-Slow: ");
            let _ = s.set_read_timeout(Some(Duration::from_millis(1000)));
            loop {
                let mut buf = [0u8; 512];
                match s.read(&mut buf) {
                    // Closed (or answered and closed): what the server should do.
                    Ok(_) => break,
                    Err(e)
                        if matches!(
                            e.kind(),
                            std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                        ) => {}
                    Err(_) => break,
                }
                if stop_flag.load(Ordering::Relaxed) {
                    return;
                }
                if started.elapsed() > HEADER_DEADLINE {
                    stats.refused_slowly.lock().unwrap().push(started.elapsed());
                    return;
                }
                if s.write_all(b"a").is_err() {
                    break;
                }
            }
            stats.slow_closed.fetch_add(1, Ordering::Relaxed);
        }));
    }

    let burst_stats = stats.clone();
    let burst_stop = stop.clone();
    threads.push(thread::spawn(move || {
        let stats = burst_stats;
        let mut next = Instant::now() + Duration::from_secs(3);
        while !burst_stop.load(Ordering::Relaxed) {
            if Instant::now() < next {
                thread::sleep(Duration::from_millis(100));
                continue;
            }
            next += Duration::from_secs(20);
            let calls: Vec<_> = (0..BURST)
                .map(|_| {
                    thread::spawn(move || {
                        let started = Instant::now();
                        (request(addr, "GET", "/spin", b""), started.elapsed())
                    })
                })
                .collect();
            for call in calls {
                let (res, took) = call.join().unwrap();
                stats.sent("burst");
                stats.got("burst", &res, &[503, 504]);
                if let Ok(res) = &res
                    && res.status == 503
                {
                    let mut kinds = stats.kinds.lock().unwrap();
                    let kind = kinds.entry("burst").or_default();
                    if !res.headers.contains("retry-after:") {
                        kind.unexpected.push("503 without Retry-After".into());
                    }
                    // Refused at once, not after the call's 0.5 s timeout.
                    if took > Duration::from_millis(400) {
                        kind.unexpected.push(format!("503 after {took:?}"));
                    }
                }
            }
            // Recovered: the pool is free again.
            stats.sent("after burst");
            let res = request(addr, "GET", "/", b"");
            stats.got("after burst", &res, &[200]);
        }
    }));

    let started = Instant::now();
    let mut samples: Vec<(Duration, u64, usize)> = Vec::new();
    let mut start_sample = None;
    while started.elapsed() < Duration::from_secs(secs) {
        thread::sleep(Duration::from_secs(2));
        let (rss, fds) = sample(pid);
        samples.push((started.elapsed(), rss, fds));
        if start_sample.is_none() && started.elapsed() >= warmup {
            start_sample = Some((rss, fds));
        }
        if samples.len().is_multiple_of(5) {
            let sent: u64 = stats.kinds.lock().unwrap().values().map(|k| k.sent).sum();
            println!(
                "  {:>4} s: {sent} requests, RSS {} KiB, {fds} descriptors",
                started.elapsed().as_secs(),
                rss
            );
        }
    }
    stop.store(true, Ordering::Relaxed);
    for t in threads {
        t.join().unwrap();
    }
    thread::sleep(Duration::from_secs(1));
    let (end_rss, end_fds) = sample(pid);
    let (start_rss, start_fds) = start_sample.unwrap_or((end_rss, end_fds));
    let count = request(addr, "GET", "/count", b"");
    let alive = request(addr, "GET", "/", b"");
    drop(server);

    let mut failures = Vec::new();
    let kinds = stats.kinds.lock().unwrap();
    println!();
    println!("| kind | sent | answered | statuses |");
    println!("|---|---|---|---|");
    let mut sent_all = 0;
    let mut answered_all = 0;
    for (name, kind) in kinds.iter() {
        let answered: u64 = kind.statuses.values().sum();
        sent_all += kind.sent;
        answered_all += answered;
        let mix: Vec<String> = kind
            .statuses
            .iter()
            .map(|(s, n)| format!("{s}: {n}"))
            .collect();
        println!(
            "| {name} | {} | {answered} | {} |",
            kind.sent,
            mix.join(", ")
        );
        for problem in &kind.unexpected {
            failures.push(format!("{name}: {problem}"));
        }
    }
    println!("| all | {sent_all} | {answered_all} | |");
    let mut latency = stats.good_latency.lock().unwrap().clone();
    latency.sort();
    println!();
    println!(
        "good requests: p50 {:.2} ms, p99 {:.2} ms (a fresh connection each)",
        percentile(&latency, 0.5).as_secs_f64() * 1e3,
        percentile(&latency, 0.99).as_secs_f64() * 1e3
    );
    println!(
        "slowloris: {} connections closed by the server, {} still open after {HEADER_DEADLINE:?}",
        stats.slow_closed.load(Ordering::Relaxed),
        stats.refused_slowly.lock().unwrap().len()
    );
    if !stats.refused_slowly.lock().unwrap().is_empty() {
        failures.push("a slowloris connection stayed open past the header-read timeout".into());
    }
    println!(
        "server RSS: {start_rss} KiB after warm-up, {end_rss} KiB at the end ({:+.1} %)",
        (end_rss as f64 / start_rss.max(1) as f64 - 1.0) * 100.0
    );
    if end_rss as f64 > start_rss as f64 * 1.10 {
        failures.push(format!("RSS grew from {start_rss} to {end_rss} KiB"));
    }
    println!("server descriptors: {start_fds} after warm-up, {end_fds} at the end");
    if end_fds > start_fds {
        failures.push(format!("descriptors grew from {start_fds} to {end_fds}"));
    }
    let increments = stats.increments.load(Ordering::Relaxed);
    match count {
        Ok(res) if res.status == 200 => {
            let counter: u64 = String::from_utf8_lossy(&res.body)
                .trim()
                .parse()
                .unwrap_or(0);
            let lost = increments as i64 - counter as i64;
            println!("increments: {increments} answered 200, counter {counter}, lost {lost}");
            if lost != 0 {
                failures.push(format!(
                    "{lost} increments lost ({increments} answered 200, counter {counter})"
                ));
            }
        }
        other => failures.push(format!(
            "reading the counter failed: {:?}",
            other.map(|r| r.status)
        )),
    }
    if !alive.as_ref().is_ok_and(|r| r.status == 200) {
        failures.push("the server did not answer 200 at the end".into());
    }
    println!();
    failures
}
