//! `fn-runner --mode http` with `FN_RECORD_DIR` and `FN_RECORD_WHEN=errors`:
//! a failed call is written down, a good one is not, and the file replays
//! on the same component with the same answer.

mod common;

use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::net::{SocketAddr, TcpStream};
use std::process::Stdio;
use std::sync::mpsc;
use std::time::Duration;

/// One request on a new connection; the status code and the whole answer.
fn get(addr: SocketAddr, path: &str) -> (u16, String) {
    let mut stream = TcpStream::connect(addr).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).unwrap();
    let status = answer[9..12].parse().unwrap();
    (status, answer)
}

#[test]
fn failed_calls_are_recorded_and_replay_with_the_same_answer() {
    let wasm = common::fixture("soak");
    let bytes = std::fs::read(&wasm).unwrap();
    let bundle = tempfile::tempdir().unwrap();
    let name = wasm.file_stem().unwrap().to_str().unwrap();
    common::write_bundle(bundle.path(), &bytes, &common::manifest(name, &bytes));
    let record = tempfile::tempdir().unwrap();

    let mut child = common::runner()
        .args(["--mode", "http", "--addr", "127.0.0.1:0", "--bundle"])
        .arg(bundle.path())
        .env("FN_RECORD_DIR", record.path())
        .env("FN_RECORD_WHEN", "errors")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = child.stderr.take().unwrap();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    let mut log = String::new();
    let addr: SocketAddr = loop {
        let line = rx
            .recv_timeout(Duration::from_secs(120))
            .unwrap_or_else(|_| panic!("the runner did not start:\n{log}"));
        log.push_str(&line);
        log.push('\n');
        if let Some(addr) = line.strip_prefix("fn-runner: serving on http://") {
            break addr.parse().unwrap();
        }
    };
    assert!(log.contains("recording calls (Errors)"), "{log}");

    assert_eq!(get(addr, "/").0, 200);
    let (status, _) = get(addr, "/trap");
    assert_eq!(status, 500);
    let _ = child.kill();
    let _ = child.wait();

    let files: Vec<_> = std::fs::read_dir(record.path())
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(files.len(), 1, "only the failed call: {files:?}");
    let file_name = files[0].file_name().unwrap().to_string_lossy().into_owned();
    assert!(file_name.ends_with("-GET-500.jsonl"), "{file_name}");

    let f = fn_host_test::TestFunction::load(&wasm).unwrap();
    let replay = f.replay(&files[0]).unwrap();
    assert!(replay.is_identical(), "{:?}", replay.divergences);
    assert_eq!(replay.result.status(), 500);
    assert!(
        replay
            .result
            .logs
            .stderr_str()
            .contains("the soak test's trap"),
        "{}",
        replay.result.describe()
    );
}
