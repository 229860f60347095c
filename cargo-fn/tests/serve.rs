//! `cargo fn serve` end to end: the real binary on a free loopback port, real
//! HTTP/1.1 bytes over `TcpStream`, malformed requests included. Every answer
//! must be right and the server must stay up (a fresh connection after each
//! bad one still gets a 200); Ctrl-C (SIGINT) must stop it cleanly.

mod common;

use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// How long a server may take to load (a cold compile of the component).
const STARTUP: Duration = Duration::from_secs(120);
/// Read/write timeout per exchange: a hung server fails the test, never hangs it.
const IO_TIMEOUT: Duration = Duration::from_secs(10);
/// The `--max-body` every server here runs with.
const MAX_BODY: usize = 1024;

// ---------------------------------------------------------------- fixtures

/// The artifact of fixture `package` (e.g. `fixture-hello`), built once per
/// test binary by [`fn_host_test::build_package`]: the `cargo fn build`
/// pipeline (release), the artifact `cargo fn serve` users run.
fn fixture(package: &str) -> PathBuf {
    let dir = package
        .strip_prefix("fixture-")
        .unwrap_or_else(|| panic!("{package} is not a fixture package"));
    let manifest = common::workspace()
        .join("host-test/fixtures")
        .join(dir)
        .join("Cargo.toml");
    fn_host_test::build_package(manifest).unwrap_or_else(|e| panic!("{e:#}"))
}

// ------------------------------------------------------------------ server

/// A running `cargo-fn fn serve`; killed on drop.
struct Server {
    child: Child,
    addr: SocketAddr,
    log: Arc<Mutex<String>>,
}

impl Server {
    /// Starts `cargo-fn fn serve <wasm> --addr 127.0.0.1:0 --max-body 1024
    /// --timeout 1 --body-timeout 0.5` and waits for its `Serving ... on
    /// http://ADDR` line.
    fn start(wasm: &Path) -> Server {
        Server::start_with(wasm, &[])
    }

    /// [`Server::start`] with `extra` arguments.
    fn start_with(wasm: &Path, extra: &[&str]) -> Server {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_cargo-fn"));
        cmd.arg("fn").arg("serve").arg(wasm);
        Server::spawn(cmd, extra, STARTUP)
    }

    /// `cmd` (a `cargo-fn fn serve ...`) with the common flags and
    /// `extra`, waiting up to `startup` for its `Serving` line.
    fn spawn(mut cmd: Command, extra: &[&str], startup: Duration) -> Server {
        let mut child = cmd
            .args(["--addr", "127.0.0.1:0", "--timeout", "1"])
            .args(["--body-timeout", "0.5"])
            .args(["--max-body", &MAX_BODY.to_string()])
            .args(extra)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start cargo-fn fn serve");
        let stderr = child.stderr.take().expect("piped stderr");
        let log = Arc::new(Mutex::new(String::new()));
        let (tx, rx) = mpsc::channel();
        let sink = log.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines() {
                let Ok(line) = line else { break };
                if let Some(addr) = serving_addr(&line) {
                    let _ = tx.send(addr);
                }
                let mut log = sink.lock().unwrap();
                log.push_str(&line);
                log.push('\n');
            }
        });
        let mut server = Server {
            child,
            addr: SocketAddr::from(([127, 0, 0, 1], 0)),
            log,
        };
        match rx.recv_timeout(startup) {
            Ok(addr) => server.addr = addr,
            Err(_) => panic!(
                "no `Serving ... on http://ADDR` line within {startup:?}; stderr:\n{}",
                server.log()
            ),
        }
        server
    }

    /// Everything the server wrote to stderr so far.
    fn log(&self) -> String {
        self.log.lock().unwrap().clone()
    }

    /// Waits (up to 5 s) for a stderr line containing all of `parts`; the
    /// access log is written by the server, read by a thread, so it may lag
    /// the response a little.
    fn log_line_with(&self, parts: &[&str]) -> Option<String> {
        let deadline = Instant::now() + Duration::from_secs(5);
        loop {
            let log = self.log();
            let found = log.lines().find(|l| parts.iter().all(|p| l.contains(p)));
            if let Some(line) = found {
                return Some(line.to_owned());
            }
            if Instant::now() > deadline {
                return None;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Sends SIGINT (what Ctrl-C sends) and waits up to 15 s for the exit.
    fn interrupt(&mut self) -> ExitStatus {
        let pid = self.child.id().to_string();
        let kill = Command::new("kill")
            .args(["-INT", &pid])
            .status()
            .expect("run kill");
        assert!(kill.success(), "kill -INT {pid} failed");
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            if let Some(status) = self.child.try_wait().expect("wait for the server") {
                return status;
            }
            assert!(
                Instant::now() < deadline,
                "server still running 15 s after SIGINT; stderr:\n{}",
                self.log()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn get(&self, target: &str) -> Response {
        self.send(
            format!("GET {target} HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n").as_bytes(),
        )
    }

    /// Writes `raw` on a new connection and reads the answer.
    fn send(&self, raw: &[u8]) -> Response {
        exchange(self.addr, raw).unwrap_or_else(|e| {
            panic!(
                "exchange with {} failed: {e}\nrequest: {:?}\nserver stderr:\n{}",
                self.addr,
                String::from_utf8_lossy(raw),
                self.log()
            )
        })
    }

    /// A fresh connection still gets a well-formed 200 greeting.
    fn assert_still_up(&self, after: &str) {
        let response = self.get("/?name=again");
        assert_eq!(
            (response.status, response.body.as_slice()),
            (200, &b"Hello, again!"[..]),
            "after {after}, a new connection did not get the greeting: {response:?}"
        );
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The address of a `Serving <file> on http://ADDR (...)` line.
fn serving_addr(line: &str) -> Option<SocketAddr> {
    let rest = line.strip_prefix("Serving ")?;
    let (_, after) = rest.split_once(" on http://")?;
    after.split_whitespace().next()?.parse().ok()
}

// ------------------------------------------------------------- raw client

#[derive(Debug)]
struct Response {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Response {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// One request on a new connection. Reads until the response is complete
/// (by `content-length`) or the server closes; a reset after a complete
/// head is tolerated (the server may close with part of a body unread).
fn exchange(addr: SocketAddr, raw: &[u8]) -> Result<Response, String> {
    let mut stream = TcpStream::connect(addr).map_err(|e| format!("connect: {e}"))?;
    stream.set_read_timeout(Some(IO_TIMEOUT)).unwrap();
    stream.set_write_timeout(Some(IO_TIMEOUT)).unwrap();
    // The server may answer (and close) before taking the whole request.
    let write_error = stream.write_all(raw).err();
    let mut received = Vec::new();
    let mut chunk = [0; 8192];
    let error = loop {
        match stream.read(&mut chunk) {
            Ok(0) => break None,
            Ok(n) => received.extend_from_slice(&chunk[..n]),
            Err(e) => break Some(e),
        }
        if let Some(response) = parse(&received)
            && response
                .header("content-length")
                .and_then(|v| v.parse().ok())
                == Some(response.body.len())
        {
            return Ok(response);
        }
    };
    parse(&received).ok_or_else(|| {
        format!(
            "no complete response (write error: {write_error:?}, read error: {error:?}); got {:?}",
            String::from_utf8_lossy(&received)
        )
    })
}

/// Parses a complete response head, and the body received so far.
fn parse(bytes: &[u8]) -> Option<Response> {
    let end = bytes.windows(4).position(|w| w == b"\r\n\r\n")?;
    let head = std::str::from_utf8(&bytes[..end]).ok()?;
    let mut lines = head.split("\r\n");
    let status_line = lines.next()?;
    let rest = status_line.strip_prefix("HTTP/1.1 ")?;
    let status = rest.get(..3)?.parse().ok()?;
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_owned(), v.trim().to_owned()))
        .collect();
    Some(Response {
        status,
        headers,
        body: bytes[end + 4..].to_vec(),
    })
}

// ------------------------------------------------------------------- tests

#[test]
fn answers_good_and_malformed_requests_and_stays_up() {
    let mut server = Server::start(&fixture("fixture-hello"));

    let ok = server.get("/?name=x");
    assert_eq!(ok.status, 200, "{ok:?}");
    assert_eq!(ok.body, b"Hello, x!");
    let line = server.log_line_with(&["GET", "/?name=x", "200"]);
    assert!(
        line.is_some(),
        "no access-log line with method, path and status; stderr:\n{}",
        server.log()
    );

    let over = MAX_BODY + 1024;
    let big = vec![b'a'; over];
    let mut declared =
        format!("POST /big HTTP/1.1\r\nHost: test\r\nContent-Length: {over}\r\n\r\n").into_bytes();
    declared.extend_from_slice(&big);
    // Two chunks of MAX_BODY bytes each: no length declared, the cap must
    // trip while streaming.
    let mut chunked =
        b"POST /chunked HTTP/1.1\r\nHost: test\r\nTransfer-Encoding: chunked\r\n\r\n".to_vec();
    for _ in 0..2 {
        chunked.extend_from_slice(format!("{MAX_BODY:x}\r\n").as_bytes());
        chunked.extend_from_slice(&big[..MAX_BODY]);
        chunked.extend_from_slice(b"\r\n");
    }
    chunked.extend_from_slice(b"0\r\n\r\n");

    let cases: Vec<(&str, Vec<u8>, u16)> = vec![
        (
            "a non-numeric Content-Length",
            b"POST / HTTP/1.1\r\nHost: test\r\nContent-Length: abc\r\n\r\n".to_vec(),
            400,
        ),
        (
            "a header name with a space",
            b"GET / HTTP/1.1\r\nHost: test\r\nBad Name: x\r\n\r\n".to_vec(),
            400,
        ),
        (
            "a 0x01 byte in a header value",
            b"GET / HTTP/1.1\r\nHost: test\r\nX-Ctl: a\x01b\r\n\r\n".to_vec(),
            400,
        ),
        (
            "a 0x01 byte in a header name",
            b"GET / HTTP/1.1\r\nHost: test\r\nX\x01Y: z\r\n\r\n".to_vec(),
            400,
        ),
        ("a declared body over the cap", declared, 413),
        ("a chunked body over the cap", chunked, 413),
        ("a garbage request line", b"GARBAGE\r\n\r\n".to_vec(), 400),
        (
            "a request line with an extra word",
            b"GET / HTTP/1.1 extra\r\nHost: test\r\n\r\n".to_vec(),
            400,
        ),
    ];
    for (what, raw, expected) in &cases {
        let response = server.send(raw);
        assert_eq!(
            response.status,
            *expected,
            "{what}: {response:?}\nserver stderr:\n{}",
            server.log()
        );
        server.assert_still_up(what);
    }
    for path in ["/big", "/chunked"] {
        let line = server.log_line_with(&["POST", path, "413"]);
        assert!(
            line.is_some(),
            "no access-log line for the 413 on {path}; stderr:\n{}",
            server.log()
        );
    }

    let status = server.interrupt();
    assert!(
        status.success(),
        "exit after SIGINT: {status}; stderr:\n{}",
        server.log()
    );
}

#[test]
fn parallel_requests_all_succeed() {
    let mut server = Server::start(&fixture("fixture-hello"));
    let server_ref = &server;
    let answers: Vec<(usize, Response)> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..16)
            .map(|i| s.spawn(move || (i, server_ref.get(&format!("/?name=n{i}")))))
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    for (i, response) in &answers {
        assert_eq!(response.status, 200, "request {i}: {response:?}");
        assert_eq!(response.body, format!("Hello, n{i}!").as_bytes());
    }
    let status = server.interrupt();
    assert!(status.success(), "exit after SIGINT: {status}");
}

#[test]
fn timeout_is_504_and_the_server_stays_up() {
    let mut server = Server::start(&fixture("fixture-spin"));
    for attempt in 1..=2 {
        let started = Instant::now();
        let response = server.get("/spin");
        assert_eq!(
            response.status,
            504,
            "attempt {attempt}: {response:?}\nstderr:\n{}",
            server.log()
        );
        // Bounded by IO_TIMEOUT inside `exchange`; this says how it went.
        eprintln!("attempt {attempt}: 504 after {:?}", started.elapsed());
    }
    let ok = server.get("/");
    assert_eq!((ok.status, ok.body.as_slice()), (200, &b"ok"[..]), "{ok:?}");
    let line = server.log_line_with(&["GET", "/spin", "504"]);
    assert!(
        line.is_some(),
        "no access-log line for the 504; stderr:\n{}",
        server.log()
    );
    let status = server.interrupt();
    assert!(
        status.success(),
        "exit after SIGINT: {status}; stderr:\n{}",
        server.log()
    );
}

#[test]
fn a_client_that_stops_sending_its_body_gets_408_and_the_server_stays_up() {
    let mut server = Server::start(&fixture("fixture-json-echo"));
    // 100 bytes announced, 3 sent, then nothing: the connection stays open.
    let stalled = exchange(
        server.addr,
        b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n[1,",
    )
    .unwrap_or_else(|e| panic!("{e}; stderr:\n{}", server.log()));
    assert_eq!(
        stalled.status,
        408,
        "{stalled:?}\nstderr:\n{}",
        server.log()
    );
    assert!(
        server.log_line_with(&["POST", "/", "408"]).is_some(),
        "no access-log line for the 408; stderr:\n{}",
        server.log()
    );
    let ok = exchange(
        server.addr,
        b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nConnection: close\r\n\r\n[1,2]",
    )
    .unwrap();
    assert_eq!(ok.status, 200, "{ok:?}");
    let status = server.interrupt();
    assert!(status.success(), "exit after SIGINT: {status}");
}

/// A loopback upstream that answers every request with `response` (raw
/// HTTP/1.1 bytes) until dropped.
struct Upstream {
    addr: SocketAddr,
    stop: Arc<std::sync::atomic::AtomicBool>,
    /// Every request received, raw.
    received: Arc<Mutex<Vec<Vec<u8>>>>,
}

impl Upstream {
    fn start(response: &'static [u8]) -> Upstream {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let stopped = stop.clone();
        let received = Arc::new(Mutex::new(Vec::new()));
        let log = received.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                if stopped.load(std::sync::atomic::Ordering::SeqCst) {
                    break;
                }
                let Ok(mut stream) = stream else { continue };
                let _ = stream.set_read_timeout(Some(IO_TIMEOUT));
                // Read the head and the declared body, then answer.
                let mut seen = Vec::new();
                let mut chunk = [0; 4096];
                while let Ok(n) = stream.read(&mut chunk) {
                    if n == 0 {
                        break;
                    }
                    seen.extend_from_slice(&chunk[..n]);
                    if let Some(request) = parse_request(&seen)
                        && request.1 <= seen.len()
                    {
                        break;
                    }
                }
                log.lock().unwrap().push(seen);
                let _ = stream.write_all(response);
            }
        });
        Upstream {
            addr,
            stop,
            received,
        }
    }

    /// Waits up to `within` for a request; returns its text.
    fn wait_for_request(&self, within: Duration) -> Option<String> {
        let deadline = Instant::now() + within;
        loop {
            if let Some(first) = self.received.lock().unwrap().first() {
                return Some(String::from_utf8_lossy(first).into_owned());
            }
            if Instant::now() > deadline {
                return None;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Upstream {
    fn drop(&mut self) {
        self.stop.store(true, std::sync::atomic::Ordering::SeqCst);
        // Wake the accept loop so it sees the flag and closes the listener.
        let _ = TcpStream::connect(self.addr);
    }
}

/// The head's end and the request's full length (by content-length).
fn parse_request(bytes: &[u8]) -> Option<(usize, usize)> {
    let end = bytes.windows(4).position(|w| w == b"\r\n\r\n")? + 4;
    let head = String::from_utf8_lossy(&bytes[..end]).to_ascii_lowercase();
    let length = head
        .lines()
        .find_map(|l| l.strip_prefix("content-length:"))
        .and_then(|v| v.trim().parse::<usize>().ok())
        .unwrap_or(0);
    Some((end, end + length))
}

#[test]
fn recorded_calls_replay_identically_with_the_upstream_gone() {
    let wasm = fixture("fixture-outbound");
    let dir = tempfile::tempdir().unwrap();
    let record = dir.path().join("recordings");
    let upstream = Upstream::start(
        b"HTTP/1.1 201 Created\r\ncontent-type: text/plain\r\ncontent-length: 7\r\nconnection: close\r\n\r\ncharged",
    );
    let server = Server::start_with(&wasm, &["--record", record.to_str().unwrap()]);
    assert!(
        server.log().contains("Recording all calls into"),
        "{}",
        server.log()
    );
    let url = format!("http://{}/charge", upstream.addr);
    let response = server.send(
        format!(
            "POST /?url={url} HTTP/1.1\r\nHost: test\r\nContent-Length: 8\r\nConnection: close\r\n\r\namount=3"
        )
        .as_bytes(),
    );
    assert_eq!(
        (response.status, response.body.as_slice()),
        (200, &b"201 charged"[..]),
        "{}",
        server.log()
    );
    let line = server.log_line_with(&["recorded to"]);
    assert!(line.is_some(), "no `recorded to` line:\n{}", server.log());
    drop(server);
    drop(upstream);

    let files: Vec<PathBuf> = std::fs::read_dir(&record)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(files.len(), 1, "{files:?}");
    let name = files[0].file_name().unwrap().to_string_lossy().into_owned();
    assert!(name.ends_with("-000001-POST-200.jsonl"), "{name}");

    // The upstream is gone: only the recording can answer.
    let out = common::cargo_fn(
        dir.path(),
        &[
            "replay",
            files[0].to_str().unwrap(),
            "--wasm",
            wasm.to_str().unwrap(),
        ],
    );
    let stdout = common::success(&out);
    assert!(stdout.contains("Identical"), "{stdout}");
    assert!(stdout.contains("1 outbound request"), "{stdout}");
    assert!(stdout.contains("(the recorded artifact)"), "{stdout}");
}

#[test]
fn watch_swaps_in_each_good_build_without_failing_a_request() {
    let (_tmp, project) = common::scaffold("watched", "http");
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_cargo-fn"));
    cmd.args(["fn", "serve", "--watch"]).current_dir(&project);
    common::offline(&mut cmd);
    // The first build of a scaffold may compile the SDK.
    let server = Server::spawn(cmd, &[], Duration::from_secs(600));
    assert!(server.log().contains("Watching"), "{}", server.log());
    assert!(!server.log().contains("Rebuilt"), "{}", server.log());

    // A client asking all along; every answer is kept.
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let answers = Arc::new(Mutex::new(Vec::new()));
    let client = {
        let (stop, answers, addr) = (stop.clone(), answers.clone(), server.addr);
        std::thread::spawn(move || {
            let raw = b"GET /?name=w HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n";
            while !stop.load(std::sync::atomic::Ordering::SeqCst) {
                let answer = exchange(addr, raw)
                    .map(|r| (r.status, String::from_utf8_lossy(&r.body).into_owned()));
                answers.lock().unwrap().push(answer);
                std::thread::sleep(Duration::from_millis(20));
            }
        })
    };
    let wait_for = |what: &str, done: &dyn Fn() -> bool| {
        let deadline = Instant::now() + Duration::from_secs(300);
        while !done() {
            assert!(
                Instant::now() < deadline,
                "no {what} within 300 s; stderr:\n{}",
                server.log()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    };
    let lib = project.join("src/lib.rs");
    let said = |text: &'static str| {
        let answers = answers.clone();
        move || {
            answers
                .lock()
                .unwrap()
                .iter()
                .any(|a| matches!(a, Ok((200, body)) if body == text))
        }
    };
    wait_for("first answer", &said("Hello, w!"));

    common::edit(&lib, "\"Hello, {name}!\"", "\"Howdy, {name}!\"");
    wait_for("answer from the rebuilt function", &said("Howdy, w!"));
    assert!(server.log().contains("Rebuilt in"), "{}", server.log());

    // A change that does not compile: reported, and the last good build
    // keeps answering.
    common::edit(&lib, "\"Howdy, {name}!\")", "\"Howdy, {name}!\") +");
    wait_for("a failed build", &|| server.log().contains("Build failed"));
    let before = answers.lock().unwrap().len();
    wait_for("answers after the failed build", &|| {
        answers.lock().unwrap().len() > before + 5
    });
    stop.store(true, std::sync::atomic::Ordering::SeqCst);
    client.join().unwrap();

    let answers = answers.lock().unwrap();
    let mut swapped = false;
    for answer in answers.iter() {
        match answer {
            Ok((200, body)) if body == "Hello, w!" => {
                assert!(
                    !swapped,
                    "an old answer after the new build served: {answers:?}"
                )
            }
            Ok((200, body)) if body == "Howdy, w!" => swapped = true,
            other => panic!(
                "a request failed during the rebuilds: {other:?}\n{}",
                server.log()
            ),
        }
    }
    assert_eq!(
        answers.last().unwrap().as_ref().unwrap().1,
        "Howdy, w!",
        "the failed build was never served"
    );
}

#[test]
fn schedules_fire_locally_as_the_clouds_fire_them() {
    let (_tmp, project) = common::scaffold("ticking", "http");
    // A function that answers with the body it got, on a schedule of one
    // tick a minute.
    common::edit(
        &project.join("src/lib.rs"),
        "format!(\"Hello, {name}!\")",
        "format!(\"{name}: {}\", String::from_utf8_lossy(req.body()))",
    );
    let manifest = project.join("Cargo.toml");
    let mut toml = std::fs::read_to_string(&manifest).unwrap();
    toml.push_str("\n[package.metadata.fn]\nroute = \"/jobs/...\"\nschedule = \"* * * * *\"\n");
    std::fs::write(&manifest, toml).unwrap();

    // One tick now.
    let out = common::cargo_fn(&project, &["invoke", "--schedule"]);
    let stdout = common::success(&out);
    assert!(stdout.starts_with("HTTP 200"), "{stdout}");
    let event: serde_json::Value =
        serde_json::from_str(stdout.split_once("world: ").unwrap().1.trim()).unwrap();
    assert_eq!(event["type"], "dev.cargo-fn.schedule", "{event}");
    assert_eq!(event["specversion"], "1.0");
    assert_eq!(event["source"], "/cargo-fn/serve/ticking");
    assert_eq!(event["data"]["cron"], "* * * * *");
    assert!(event["time"].as_str().unwrap().ends_with('Z'), "{event}");

    // The server delivers the next minute's tick to the route.
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_cargo-fn"));
    cmd.args(["fn", "serve"]).current_dir(&project);
    common::offline(&mut cmd);
    let server = Server::spawn(cmd, &[], Duration::from_secs(600));
    assert!(
        server.log().contains("Schedule \"* * * * *\" (UTC)"),
        "{}",
        server.log()
    );
    let deadline = Instant::now() + Duration::from_secs(90);
    let tick = loop {
        if let Some(line) = server.log_line_with(&["POST /jobs (schedule tick", ":00Z) 200"]) {
            break line;
        }
        assert!(
            Instant::now() < deadline,
            "no tick within 90 s:\n{}",
            server.log()
        );
    };
    assert!(tick.starts_with("POST /jobs"), "{tick}");
}

#[test]
fn otlp_export_shows_a_call_and_its_outbound_request_as_one_trace() {
    const TRACE: &str = "4bf92f3577b34da6a3ce929d0e0e4736";
    const CALLER: &str = "00f067aa0ba902b7";
    let wasm = fixture("fixture-outbound");
    let upstream = Upstream::start(
        b"HTTP/1.1 201 Created\r\ncontent-length: 7\r\nconnection: close\r\n\r\ncharged",
    );
    let collector = Upstream::start(
        b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 2\r\nconnection: close\r\n\r\n{}",
    );
    let otlp = format!("http://{}", collector.addr);
    let server = Server::start_with(&wasm, &["--otlp", &otlp]);
    let url = format!("http://{}/charge", upstream.addr);
    let response = server.send(
        format!(
            "POST /?url={url} HTTP/1.1\r\nHost: test\r\ntraceparent: 00-{TRACE}-{CALLER}-01\r\nContent-Length: 1\r\nConnection: close\r\n\r\nx"
        )
        .as_bytes(),
    );
    assert_eq!(response.status, 200, "{}", server.log());

    // The upstream was called within the trace, from a span of its own.
    let sent = upstream.wait_for_request(Duration::from_secs(5)).unwrap();
    let traceparent = sent
        .lines()
        .find_map(|l| l.strip_prefix("traceparent: "))
        .unwrap_or_else(|| panic!("no traceparent sent upstream:\n{sent}"));
    let fields: Vec<&str> = traceparent.trim().split('-').collect();
    assert_eq!(fields[1], TRACE, "{traceparent}");
    let client_span = fields[2];

    // The collector got the call's span and the outbound request's.
    let export = collector
        .wait_for_request(Duration::from_secs(10))
        .unwrap_or_else(|| panic!("nothing exported:\n{}", server.log()));
    assert!(export.starts_with("POST /v1/traces "), "{export}");
    let body = export.split_once("\r\n\r\n").unwrap().1;
    let json: serde_json::Value = serde_json::from_str(body).unwrap();
    let spans = json["resourceSpans"][0]["scopeSpans"][0]["spans"]
        .as_array()
        .unwrap();
    let kind = |k: i64| spans.iter().find(|s| s["kind"] == k).unwrap();
    let (call, outbound) = (kind(2), kind(3));
    assert_eq!(call["traceId"], TRACE);
    assert_eq!(call["parentSpanId"], CALLER);
    assert_ne!(call["spanId"], CALLER);
    assert_eq!(outbound["traceId"], TRACE);
    assert_eq!(outbound["parentSpanId"], call["spanId"]);
    assert_eq!(outbound["spanId"], client_span);
    assert_eq!(call["name"], "POST /");
    let attribute = |span: &serde_json::Value, key: &str| {
        span["attributes"]
            .as_array()
            .unwrap()
            .iter()
            .find(|a| a["key"] == key)
            .map(|a| a["value"].clone())
    };
    assert_eq!(
        attribute(call, "url.path"),
        Some(serde_json::json!({"stringValue": "/"}))
    );
    assert_eq!(
        attribute(call, "url.query"),
        Some(serde_json::json!({"stringValue": format!("url={url}")}))
    );
    assert_eq!(
        attribute(call, "http.response.status_code"),
        Some(serde_json::json!({"intValue": "200"}))
    );
    assert_eq!(
        attribute(outbound, "url.full"),
        Some(serde_json::json!({"stringValue": url}))
    );
    assert_eq!(
        json["resourceSpans"][0]["resource"]["attributes"][0]["value"]["stringValue"],
        "fixture-outbound"
    );
}

#[test]
fn serving_line_is_parsed() {
    let line = "Serving /x/y.wasm on http://127.0.0.1:4321 (loaded in 3ms; Ctrl-C to stop)";
    assert_eq!(
        serving_addr(line),
        Some(SocketAddr::from(([127, 0, 0, 1], 4321)))
    );
    assert_eq!(serving_addr("GET / 200 1ms"), None);
}
