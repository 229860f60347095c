//! Per-request latency of hello world on the embedded runtime, in-process.
//!
//! `cargo bench -p fn-host-test --bench latency` prints p50/p90/p99 of whole
//! calls (fresh instance, request in, response body out) and of their
//! instantiate and handler parts.

#[path = "../tests/it/common.rs"]
#[allow(dead_code)]
mod common;

use bytes::Bytes;
use fn_host_test::{Function, Runtime, TestFunction};
use std::time::{Duration, Instant};

const WARMUP: usize = 2_000;
const SAMPLES: usize = 20_000;

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
        "| {label:<40} | {:>8.1} | {:>8.1} | {:>8.1} |",
        us(percentile(samples, 0.50)),
        us(percentile(samples, 0.90)),
        us(percentile(samples, 0.99)),
    );
}

fn request() -> http::Request<Bytes> {
    http::Request::get("/?name=bench").body(Bytes::new()).unwrap()
}

/// Calls `function.handle` back to back on a current-thread runtime.
fn measure_async(function: &Function) -> Samples {
    let tokio = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    tokio.block_on(async {
        for _ in 0..WARMUP {
            assert_eq!(function.handle(request()).await.status(), 200);
        }
        let mut samples = Samples {
            total: Vec::with_capacity(SAMPLES),
            instantiate: Vec::with_capacity(SAMPLES),
            handler: Vec::with_capacity(SAMPLES),
        };
        for _ in 0..SAMPLES {
            let started = Instant::now();
            let res = function.handle(request()).await;
            samples.total.push(started.elapsed());
            assert_eq!(res.status(), 200);
            samples.instantiate.push(res.metrics.instantiate);
            samples.handler.push(res.metrics.handler);
        }
        samples
    })
}

fn measure_sync(function: &TestFunction) -> Vec<Duration> {
    for _ in 0..WARMUP {
        assert_eq!(function.call(request()).status(), 200);
    }
    (0..SAMPLES)
        .map(|_| {
            let started = Instant::now();
            let res = function.call(request());
            let elapsed = started.elapsed();
            assert_eq!(res.status(), 200);
            elapsed
        })
        .collect()
}

fn main() {
    // `cargo bench` passes `--bench`; ignore arguments.
    let runtime = Runtime::shared().expect("runtime");
    let hello = runtime.load(common::artifact("hello")).expect("load hello");

    println!("hello world, {SAMPLES} sequential requests after {WARMUP} warm-up, one thread");
    println!();
    println!("| {:<40} | {:>8} | {:>8} | {:>8} |", "µs", "p50", "p90", "p99");
    println!("|{:-<42}|{:->10}|{:->10}|{:->10}|", "", "", "", "");
    let mut samples = measure_async(&hello);
    row("fixture-hello: Function::handle (total)", &mut samples.total);
    row("  instantiate", &mut samples.instantiate);
    row("  handler (call + body)", &mut samples.handler);
    let mut sync = measure_sync(&TestFunction::new(hello).expect("harness"));
    row("fixture-hello: TestFunction::call", &mut sync);

    // The same greeting without the SDK, for comparison (best effort: the
    // fixture belongs to another crate owner).
    match common::build_all(&["raw-hello"]) {
        Ok(artifacts) => {
            let raw = runtime
                .load(&artifacts["fixture-raw-hello"])
                .expect("load raw-hello");
            let mut samples = measure_async(&raw);
            row("fixture-raw-hello: Function::handle", &mut samples.total);
        }
        Err(err) => eprintln!("skipping raw-hello: {err}"),
    }
}
