//! Rows per second through the analytics function, in-process.
//!
//! `cargo bench -p analytics --bench rows` builds the component (release,
//! the `cargo fn build` pipeline), generates 100,000 sales rows and uploads
//! them as CSV and as JSON lines, again and again, each call on a fresh
//! instance as in production. Prints the median of the runs: whole calls
//! (body in, parse, aggregate, report stored in key-value, response out) and
//! the handler part alone. Formats alternate, so load from other processes
//! affects them alike.

#[path = "../tests/common/mod.rs"]
#[allow(dead_code)]
mod common;

use std::time::{Duration, Instant};

use fn_host_test::{Limits, TestFunction};

const ROWS: usize = 100_000;
const RUNS: usize = 15;

fn median(samples: &mut [Duration]) -> Duration {
    samples.sort();
    samples[samples.len() / 2]
}

fn main() {
    let loadavg = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    let f = TestFunction::from_package(concat!(env!("CARGO_MANIFEST_DIR"), "/Cargo.toml"))
        .expect("load analytics");
    f.set_limits(Limits::default().with_max_request_body(256 << 20));

    let data = common::sales(ROWS);
    let formats = [
        ("CSV", "text/csv", bytes::Bytes::from(common::to_csv(&data))),
        (
            "NDJSON",
            "application/x-ndjson",
            bytes::Bytes::from(common::to_ndjson(&data)),
        ),
    ];
    let call = |content_type: &str, body: &bytes::Bytes| {
        let req = http::Request::post("/datasets/bench")
            .header("content-type", content_type)
            .body(body.clone())
            .unwrap();
        let res = f.call(req);
        assert_eq!(res.status(), 200, "{}", res.describe());
        res
    };

    let mut samples = vec![(Vec::new(), Vec::new(), 0); formats.len()];
    for (_, content_type, body) in &formats {
        call(content_type, body); // warm-up
    }
    for _ in 0..RUNS {
        for (i, (_, content_type, body)) in formats.iter().enumerate() {
            let started = Instant::now();
            let res = call(content_type, body);
            samples[i].0.push(started.elapsed());
            samples[i].1.push(res.metrics.handler);
            samples[i].2 = samples[i].2.max(res.metrics.peak_memory);
        }
    }

    println!(
        "{ROWS} rows per upload, median of {RUNS} runs; load average {}",
        loadavg
            .split_whitespace()
            .take(3)
            .collect::<Vec<_>>()
            .join(" ")
    );
    println!();
    println!(
        "| {:<7} | {:>8} | {:>10} | {:>12} | {:>12} | {:>10} |",
        "format", "body MiB", "call ms", "rows/s", "handler r/s", "peak MiB"
    );
    println!(
        "|{:-<9}|{:->10}|{:->12}|{:->14}|{:->14}|{:->12}|",
        "", "", "", "", "", ""
    );
    let mib = |b: u64| b as f64 / (1 << 20) as f64;
    for ((label, _, body), (total, handler, peak)) in formats.iter().zip(&mut samples) {
        let total = median(total);
        let handler = median(handler);
        println!(
            "| {label:<7} | {:>8.1} | {:>10.1} | {:>12.0} | {:>12.0} | {:>10.1} |",
            mib(body.len() as u64),
            total.as_secs_f64() * 1e3,
            ROWS as f64 / total.as_secs_f64(),
            ROWS as f64 / handler.as_secs_f64(),
            mib(*peak),
        );
    }
}
