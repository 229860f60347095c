//! `fn-runner --mode lambda` against a real Lambda Runtime API: the emulator
//! of `cargo lambda watch --only-lambda-apis` (the `cargo-lambda` wheel on
//! PyPI, pinned in `.ci/run`). The runner polls the emulator's Runtime API
//! as it would Lambda's; requests reach it through the emulator's Function
//! URL (`/lambda-url/_/...`, payload format 2.0) and raw events through
//! `cargo lambda invoke`.
//!
//! The emulator is found at `$FN_CARGO_LAMBDA` (`.ci/run` sets it) or as
//! `cargo-lambda` on PATH; without it these tests fail, saying how to
//! install it.

mod common;

use std::io::{Read as _, Write as _};
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

/// The pinned emulator release (keep in step with `.ci/run`).
const CARGO_LAMBDA_VERSION: &str = "1.9.2";

/// The function name the emulator gives a runtime started by hand.
const FUNCTION: &str = "_";

fn cargo_lambda() -> PathBuf {
    if let Some(path) = std::env::var_os("FN_CARGO_LAMBDA") {
        return PathBuf::from(path);
    }
    let on_path = std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|dir| dir.join("cargo-lambda"))
            .find(|candidate| candidate.is_file())
    });
    on_path.unwrap_or_else(|| {
        panic!(
            "cargo-lambda is not installed: the lambda-mode tests run the runner against its Runtime API emulator; install it with `pip install cargo-lambda=={CARGO_LAMBDA_VERSION}` (.ci/run does) or point $FN_CARGO_LAMBDA at it"
        )
    })
}

fn free_port() -> u16 {
    TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A child process killed on drop, its output in a file.
struct Process {
    child: Child,
    log: PathBuf,
}

impl Process {
    fn spawn(mut command: Command, log: PathBuf) -> Process {
        let file = std::fs::File::create(&log).unwrap();
        let child = command
            .stdout(file.try_clone().unwrap())
            .stderr(file)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {command:?}: {e}"));
        Process { child, log }
    }

    fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Waits up to `limit` for the process to exit.
    fn wait_exit(&mut self, limit: Duration) -> Option<std::process::ExitStatus> {
        let deadline = Instant::now() + limit;
        while Instant::now() < deadline {
            if let Some(status) = self.child.try_wait().unwrap() {
                return Some(status);
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        None
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A Runtime API emulator on a free loopback port, with the runner on a
/// bundle polling it.
struct Lambda {
    emulator: Process,
    runner: Process,
    port: u16,
    dir: tempfile::TempDir,
}

impl Lambda {
    fn start(bundle: &Path) -> Lambda {
        let dir = tempfile::tempdir().unwrap();
        // `cargo lambda watch` reads the package it would build, even with
        // --only-lambda-apis.
        std::fs::write(
            dir.path().join("Cargo.toml"),
            "[package]\nname = \"emulated\"\nversion = \"0.0.0\"\nedition = \"2021\"\n",
        )
        .unwrap();
        std::fs::create_dir(dir.path().join("src")).unwrap();
        std::fs::write(dir.path().join("src/main.rs"), "fn main() {}\n").unwrap();
        let port = free_port();
        let mut watch = Command::new(cargo_lambda());
        watch
            .args(["lambda", "watch", "--only-lambda-apis", "--invoke-address"])
            .arg("127.0.0.1")
            .arg("--invoke-port")
            .arg(port.to_string())
            .current_dir(dir.path());
        let emulator = Process::spawn(watch, dir.path().join("emulator.log"));
        let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
        let deadline = Instant::now() + Duration::from_secs(30);
        while TcpStream::connect(addr).is_err() {
            assert!(
                Instant::now() < deadline,
                "the emulator did not listen on {addr}:\n{}",
                emulator.log()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        let mut command = common::runner();
        command
            .args(["--mode", "lambda", "--bundle"])
            .arg(bundle)
            .env("AWS_LAMBDA_RUNTIME_API", format!("http://{addr}/.rt"))
            .env("AWS_LAMBDA_FUNCTION_NAME", FUNCTION)
            .env("AWS_LAMBDA_FUNCTION_VERSION", "1")
            .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128")
            .env_remove("FN_BUNDLE")
            .env_remove("LAMBDA_TASK_ROOT");
        let runner = Process::spawn(command, dir.path().join("runner.log"));
        Lambda {
            emulator,
            runner,
            port,
            dir,
        }
    }

    /// One request to the Function URL: `(status, head, body)`.
    fn url(&self, method: &str, target: &str, headers: &[&str], body: &str) -> Response {
        let mut raw = format!(
            "{method} /lambda-url/{FUNCTION}{target} HTTP/1.1\r\nhost: 127.0.0.1:{}\r\nconnection: close\r\ncontent-length: {}\r\n",
            self.port,
            body.len()
        );
        for header in headers {
            raw.push_str(header);
            raw.push_str("\r\n");
        }
        raw.push_str("\r\n");
        raw.push_str(body);
        let mut stream = TcpStream::connect((Ipv4Addr::LOCALHOST, self.port)).unwrap();
        stream
            .set_read_timeout(Some(Duration::from_secs(60)))
            .unwrap();
        stream.write_all(raw.as_bytes()).unwrap();
        let mut received = Vec::new();
        stream
            .read_to_end(&mut received)
            .unwrap_or_else(|e| panic!("no answer to {method} {target}: {e}\n{}", self.logs()));
        Response::parse(&received)
    }

    /// Invokes the function with `event` through `cargo lambda invoke`.
    fn invoke(&self, event: &Value) -> Output {
        let file = self.dir.path().join("event.json");
        std::fs::write(&file, event.to_string()).unwrap();
        Command::new(cargo_lambda())
            .args(["lambda", "invoke", "--invoke-address", "127.0.0.1"])
            .arg("--invoke-port")
            .arg(self.port.to_string())
            .arg("--data-file")
            .arg(&file)
            .args(["--output-format", "json", FUNCTION])
            .current_dir(self.dir.path())
            .output()
            .unwrap()
    }

    fn logs(&self) -> String {
        format!(
            "--- runner:\n{}\n--- emulator:\n{}",
            self.runner.log(),
            self.emulator.log()
        )
    }
}

/// A parsed HTTP/1.1 response.
struct Response {
    status: u16,
    head: String,
    body: String,
}

impl Response {
    fn parse(bytes: &[u8]) -> Response {
        let text = String::from_utf8_lossy(bytes);
        let (head, body) = text.split_once("\r\n\r\n").expect("a response head");
        let status = head[9..12].parse().expect("a status code");
        let body = if head
            .to_ascii_lowercase()
            .contains("transfer-encoding: chunked")
        {
            unchunk(body)
        } else {
            body.to_owned()
        };
        Response {
            status,
            head: head.to_ascii_lowercase(),
            body,
        }
    }

    fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("{e}: {}", self.body))
    }
}

fn unchunk(mut body: &str) -> String {
    let mut out = String::new();
    while let Some((size, rest)) = body.split_once("\r\n") {
        let size = usize::from_str_radix(size.trim(), 16).unwrap_or(0);
        if size == 0 {
            break;
        }
        out.push_str(&rest[..size]);
        body = &rest[size + 2..];
    }
    out
}

fn sqs_record(id: &str, body: &str) -> Value {
    json!({
        "eventSource": "aws:sqs",
        "eventSourceARN": "arn:aws:sqs:eu-west-1:123456789012:orders",
        "messageId": id,
        "body": body,
        "attributes": {"SentTimestamp": "1796292000123"},
    })
}

fn scheduled_event(detail: Value) -> Value {
    json!({
        "version": "0", "id": "53dc4d37", "detail-type": "Scheduled Event", "source": "aws.events",
        "account": "123456789012", "time": "2026-12-03T10:00:00Z", "region": "eu-west-1",
        "resources": ["arn:aws:events:eu-west-1:123456789012:rule/every-5-minutes"], "detail": detail
    })
}

#[test]
fn requests_and_events_go_through_the_runtime_api() {
    let bundle = common::fixture_bundle("request-echo");
    let lambda = Lambda::start(bundle.path());

    let get = lambda.url(
        "GET",
        "/items/7?tag=a&tag=b",
        &["x-test: one", "accept: application/json"],
        "",
    );
    assert_eq!(get.status, 200, "{}\n{}", get.body, lambda.logs());
    assert!(get.head.contains("x-echo: yes"), "{}", get.head);
    assert!(get.head.contains("set-cookie: seen=1"), "{}", get.head);
    assert!(get.head.contains("set-cookie: flavour=oat"), "{}", get.head);
    let echo = get.json();
    assert_eq!(echo["method"], "GET");
    assert_eq!(echo["path"], "/items/7");
    assert_eq!(echo["query"], "tag=a&tag=b");
    assert_eq!(echo["headers"]["x-test"], json!(["one"]));

    let post = lambda.url(
        "POST",
        "/orders",
        &["content-type: application/json"],
        r#"{"n": 1}"#,
    );
    assert_eq!(post.status, 201, "{}\n{}", post.body, lambda.logs());
    let echo = post.json();
    assert_eq!(echo["method"], "POST");
    assert_eq!(echo["path"], "/orders");
    assert_eq!(echo["body"], r#"{"n": 1}"#);

    let trap = lambda.url("GET", "/panic", &[], "");
    assert_eq!(trap.status, 500, "{}\n{}", trap.body, lambda.logs());
    let after = lambda.url("GET", "/after", &[], "");
    assert_eq!(after.status, 200, "{}\n{}", after.body, lambda.logs());

    // One good message, one the function refuses: only that one fails.
    let batch = json!({"Records": [
        sqs_record("m1", r#"{"order": 7}"#),
        sqs_record("m2", r#"{"fail": true}"#),
    ]});
    let out = lambda.invoke(&batch);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}\n{}",
        String::from_utf8_lossy(&out.stderr),
        lambda.logs()
    );
    let answer: Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(
        answer,
        json!({"batchItemFailures": [{"itemIdentifier": "m2"}]})
    );

    let out = lambda.invoke(&scheduled_event(json!({})));
    assert!(
        out.status.success(),
        "{}\n{}",
        String::from_utf8_lossy(&out.stderr),
        lambda.logs()
    );
    let log = lambda.runner.log();
    assert!(
        log.contains("dev.cargo-fn.schedule 53dc4d37"),
        "the schedule tick is not in the runner's log:\n{log}"
    );

    // A refused event fails the invocation, so Lambda would retry it.
    let out = lambda.invoke(&scheduled_event(json!({"fail": true})));
    assert!(!out.status.success(), "{}", lambda.logs());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("500"), "{stderr}");

    let out = lambda.invoke(&json!({"hello": "world"}));
    assert!(!out.status.success(), "{}", lambda.logs());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("cannot deliver this event"), "{stderr}");
}

#[test]
fn a_tampered_component_is_reported_as_an_init_error() {
    let bundle = common::fixture_bundle("request-echo");
    let wasm = bundle.path().join("fn.wasm");
    let mut bytes = std::fs::read(&wasm).unwrap();
    let last = bytes.len() - 1;
    bytes[last] ^= 0xff;
    std::fs::write(&wasm, bytes).unwrap();

    let mut lambda = Lambda::start(bundle.path());
    let status = lambda
        .runner
        .wait_exit(Duration::from_secs(60))
        .unwrap_or_else(|| panic!("the runner did not exit:\n{}", lambda.logs()));
    assert!(!status.success(), "{}", lambda.logs());
    let log = lambda.runner.log();
    assert!(log.contains("does not match the bundle"), "{log}");
    assert!(
        !log.contains("cannot report the start-up error")
            && !log.contains("answered")
            && !log.contains("/init/error"),
        "the Runtime API did not take the init error:\n{log}"
    );
}

/// Reads one request from `listener` (waiting up to `limit`), answers it
/// 202 and returns it.
fn take_one_request(listener: TcpListener, limit: Duration) -> Option<String> {
    listener.set_nonblocking(true).unwrap();
    let deadline = Instant::now() + limit;
    let mut stream = loop {
        match listener.accept() {
            Ok((stream, _)) => break stream,
            Err(_) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(20)),
            Err(_) => return None,
        }
    };
    stream.set_nonblocking(false).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let mut received = Vec::new();
    let mut chunk = [0; 4096];
    loop {
        let n = stream.read(&mut chunk).ok()?;
        received.extend_from_slice(&chunk[..n]);
        let text = String::from_utf8_lossy(&received).into_owned();
        if let Some((head, body)) = text.split_once("\r\n\r\n") {
            let length = head
                .lines()
                .find_map(|l| {
                    l.to_ascii_lowercase()
                        .strip_prefix("content-length:")
                        .map(|v| v.trim().parse::<usize>().unwrap())
                })
                .unwrap_or(0);
            if body.len() >= length || n == 0 {
                stream
                    .write_all(b"HTTP/1.1 202 Accepted\r\ncontent-length: 0\r\n\r\n")
                    .unwrap();
                return Some(text);
            }
        }
        if n == 0 {
            return None;
        }
    }
}

/// What the runner tells the Runtime API when it cannot start, seen by a
/// listener standing in for it (the emulator takes init errors without
/// showing them), addressed as Lambda does: `host:port`, no scheme.
#[test]
fn a_missing_bundle_is_posted_to_init_error() {
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).unwrap();
    let api = listener.local_addr().unwrap();
    let empty = tempfile::tempdir().unwrap();
    let runner = common::runner()
        .args(["--mode", "lambda", "--bundle"])
        .arg(empty.path())
        .env("AWS_LAMBDA_RUNTIME_API", api.to_string())
        .env("AWS_LAMBDA_FUNCTION_NAME", "orders")
        .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
        .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128")
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let request = take_one_request(listener, Duration::from_secs(60));
    let output = runner.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success(), "{stderr}");
    assert!(stderr.contains("fn-bundle.json"), "{stderr}");
    let request = request.unwrap_or_else(|| panic!("nothing reached the Runtime API:\n{stderr}"));
    let (head, body) = request.split_once("\r\n\r\n").unwrap();
    assert!(
        head.starts_with("POST /2018-06-01/runtime/init/error HTTP/1.1"),
        "{head}"
    );
    assert!(
        head.to_ascii_lowercase()
            .contains("lambda-runtime-function-error-type: runtime.initerror"),
        "{head}"
    );
    let report: Value = serde_json::from_str(body).unwrap();
    assert_eq!(report["errorType"], "Runtime.InitError");
    let message = report["errorMessage"].as_str().unwrap();
    assert!(message.contains("fn-bundle.json"), "{message}");
}
