//! Per-request latency of hello world on the embedded runtime, in-process.
//!
//! `cargo bench -p fn-host-test --bench latency` prints p50/p90/p99 of whole
//! calls (fresh instance, request in, response body out), of their
//! instantiate and handler parts, and the same for a few values of
//! `RuntimeConfig::keep_resident`, and of a call that increments an
//! in-memory key-value counter (kv-counter), and hello recorded
//! (`Function::handle_recorded`) and replayed (`Function::replay`). Variants
//! are measured in interleaved
//! rounds so that load from other processes affects them alike.

#[path = "../tests/it/common.rs"]
#[allow(dead_code)]
mod common;

use bytes::Bytes;
use fn_host_test::{Function, RecordOptions, Recording, Runtime, RuntimeConfig, TestFunction};
use std::time::{Duration, Instant};

const WARMUP: usize = 2_000;
const ROUNDS: usize = 10;
const PER_ROUND: usize = 2_000;

#[derive(Default)]
struct Samples {
    total: Vec<Duration>,
    instantiate: Vec<Duration>,
    handler: Vec<Duration>,
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let index = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[index]
}

fn row(label: &str, samples: &mut [Duration]) {
    samples.sort();
    let us = |d: Duration| d.as_secs_f64() * 1e6;
    println!(
        "| {label:<44} | {:>7.1} | {:>7.1} | {:>7.1} |",
        us(percentile(samples, 0.50)),
        us(percentile(samples, 0.90)),
        us(percentile(samples, 0.99)),
    );
}

fn request() -> http::Request<Bytes> {
    http::Request::get("/?name=bench")
        .body(Bytes::new())
        .unwrap()
}

/// How a variant is called.
enum Caller {
    /// `Function::handle` on the bench's current-thread tokio runtime.
    Async(Function),
    /// `TestFunction::call`, which blocks on its own tokio runtime.
    Blocking(TestFunction),
    /// `Function::handle_recorded`, the recording built and dropped.
    Recorded(Function),
    /// `Function::replay` of one recording of the same request.
    Replayed(Function, Recording),
}

/// `count` back-to-back calls.
fn measure(tokio: &tokio::runtime::Runtime, caller: &Caller, count: usize, samples: &mut Samples) {
    for _ in 0..count {
        let started = Instant::now();
        let res = match caller {
            Caller::Async(function) => tokio.block_on(function.handle(request())),
            Caller::Blocking(harness) => harness.call(request()),
            Caller::Recorded(function) => {
                let options = RecordOptions::default();
                tokio
                    .block_on(function.handle_recorded(request(), &options))
                    .0
            }
            Caller::Replayed(function, recording) => {
                let replay = tokio.block_on(function.replay(recording)).expect("replay");
                assert!(replay.is_identical(), "{:?}", replay.divergences);
                replay.result
            }
        };
        samples.total.push(started.elapsed());
        assert_eq!(res.status(), 200, "{}", res.describe());
        samples.instantiate.push(res.metrics.instantiate);
        samples.handler.push(res.metrics.handler);
    }
}

fn runtime(keep_resident: usize) -> Runtime {
    Runtime::new(RuntimeConfig {
        keep_resident,
        ..RuntimeConfig::default()
    })
    .expect("runtime")
}

fn main() {
    let loadavg = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    let hello_path = common::artifact("hello");
    // The same greeting without the SDK (best effort).
    let raw_path = match fn_host_test::build_package(common::manifest("raw-hello")) {
        Ok(artifact) => Some(artifact),
        Err(err) => {
            eprintln!("skipping raw-hello: {err:#}");
            None
        }
    };

    let default = RuntimeConfig::default().keep_resident;
    let mut variants: Vec<(String, Caller, Samples)> = Vec::new();
    for keep in [default, 0, 1 << 20] {
        let function = runtime(keep).load(&hello_path).expect("load hello");
        let label = format!("hello, keep_resident {} KiB", keep >> 10);
        variants.push((label, Caller::Async(function), Samples::default()));
    }
    let Caller::Async(hello) = &variants[0].1 else {
        unreachable!()
    };
    let hello = hello.clone();
    let harness = TestFunction::new(hello.clone()).expect("harness");
    let recording = harness.record(request(), &RecordOptions::default()).1;
    let label = "  via TestFunction::call (blocking)".to_owned();
    variants.push((label, Caller::Blocking(harness), Samples::default()));
    if let Some(raw) = &raw_path {
        let function = runtime(default).load(raw).expect("load raw-hello");
        let label = format!("raw-hello (no SDK), keep_resident {} KiB", default >> 10);
        variants.push((label, Caller::Async(function), Samples::default()));
    }
    // The in-memory key-value path: `/` opens the default store and
    // increments a counter (two async host calls that never wait).
    let kv_path = common::artifact("kv-counter");
    let function = runtime(default).load(&kv_path).expect("load kv-counter");
    let label = "kv-counter (open + increment, in memory)".to_owned();
    variants.push((label, Caller::Async(function), Samples::default()));
    // Recording every import and feeding them back.
    let label = "hello, recorded (handle_recorded)".to_owned();
    variants.push((label, Caller::Recorded(hello.clone()), Samples::default()));
    let label = "hello, replayed (replay)".to_owned();
    variants.push((
        label,
        Caller::Replayed(hello, recording),
        Samples::default(),
    ));

    let tokio = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    for (_, caller, _) in &variants {
        measure(&tokio, caller, WARMUP, &mut Samples::default());
    }
    for round in 0..ROUNDS {
        // Rotate who goes first, so no variant always follows another.
        let n = variants.len();
        for i in 0..n {
            let (_, caller, samples) = &mut variants[(round + i) % n];
            measure(&tokio, caller, PER_ROUND, samples);
        }
    }

    println!(
        "hello world: {} sequential requests per row on one thread, fresh instance each; load average {}",
        ROUNDS * PER_ROUND,
        loadavg
            .split_whitespace()
            .take(3)
            .collect::<Vec<_>>()
            .join(" ")
    );
    println!();
    println!(
        "| {:<44} | {:>7} | {:>7} | {:>7} |",
        "µs per request", "p50", "p90", "p99"
    );
    println!("|{:-<46}|{:->9}|{:->9}|{:->9}|", "", "", "", "");
    let (first, rest) = variants.split_first_mut().unwrap();
    row(&format!("{} (default)", first.0), &mut first.2.total);
    row("  instantiate", &mut first.2.instantiate);
    row("  handler (call + response body)", &mut first.2.handler);
    for (label, _, samples) in rest {
        row(label, &mut samples.total);
        if label.starts_with("raw-hello") {
            row("  instantiate", &mut samples.instantiate);
            row("  handler (call + response body)", &mut samples.handler);
        }
    }

    // Instructions, roughly: the same call with fuel metering on. Exact and
    // repeatable, unlike time, so SDK changes show here first.
    println!();
    let fuel = |path: &std::path::Path| {
        let harness = TestFunction::load_with_fuel(path).expect("load with fuel");
        harness
            .call(request())
            .metrics
            .fuel
            .expect("fuel is metered")
    };
    let hello = fuel(&hello_path);
    print!("fuel per request: hello {hello}");
    if let Some(raw) = &raw_path {
        let raw = fuel(raw);
        print!(", raw-hello {raw} ({:.1}x)", hello as f64 / raw as f64);
    }
    println!();
}
