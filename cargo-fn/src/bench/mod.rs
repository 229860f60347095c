//! `cargo fn bench`: cold start, latency, memory and an estimated bill for
//! one artifact, measured in one run on each host available here, next to
//! the raw anchor (a hello on the `wasi` crate, no SDK).
//!
//! Hosts ([`Host`]):
//! - `in-process`: `cargo fn serve`'s runtime, in this process;
//! - `serve`: `cargo fn serve` as a process, over loopback HTTP;
//! - `native`: the native cloud runner (`fn-runner --mode http`) on a
//!   bundle, as Cloud Run, Lambda and Azure run it;
//! - `wasmtime`: `wasmtime serve`, when installed.
//!
//! Every host gets a fresh instance per request, as `cargo fn serve` does.
//! Cold start is process start (or, in-process, engine creation) to the
//! first response, compiling the component and from precompiled code
//! (`.cwasm`); the median of [`COLD_STARTS`] starts.

mod hosts;
pub mod prices;
pub mod requests;

use std::fmt::Write as _;
use std::time::Duration;

use serde::Serialize;

pub use hosts::{Host, HostSetup, measure, write_worker};
pub use requests::BenchRequest;

/// How many times each cold start is measured (the median is reported).
pub const COLD_STARTS: usize = 3;

/// What to measure.
#[derive(Debug, Clone)]
pub struct BenchOptions {
    /// The requests, sent round robin.
    pub requests: Vec<BenchRequest>,
    /// Requests per host (after a warm-up of a tenth as many).
    pub requests_per_host: usize,
    /// Requests in flight at once.
    pub concurrency: usize,
    /// The memory size the cost estimate assumes, in MB.
    pub memory_mb: u32,
    /// Per-call limits of the in-process host.
    pub limits: fn_runtime::Limits,
    /// Show a progress bar (a terminal is attached).
    pub progress: bool,
}

/// Latency percentiles, in microseconds.
#[derive(Debug, Clone, Copy, Serialize, PartialEq)]
pub struct Percentiles {
    /// Median.
    pub p50_us: f64,
    /// 99th percentile.
    pub p99_us: f64,
}

impl Percentiles {
    /// The percentiles of `samples` (sorted in place); `None` when empty.
    pub fn of(samples: &mut [Duration]) -> Option<Percentiles> {
        if samples.is_empty() {
            return None;
        }
        samples.sort_unstable();
        let at = |p: f64| {
            let index = ((samples.len() - 1) as f64 * p).round() as usize;
            samples[index].as_secs_f64() * 1e6
        };
        Some(Percentiles {
            p50_us: at(0.50),
            p99_us: at(0.99),
        })
    }
}

/// The median of `samples`, in milliseconds.
pub fn median_ms(samples: &mut [Duration]) -> Option<f64> {
    Percentiles::of(samples).map(|p| p.p50_us / 1000.0)
}

/// What one host measured.
#[derive(Debug, Clone, Serialize)]
pub struct HostReport {
    /// The host's id (`in-process`, `serve`, ...).
    pub host: String,
    /// What ran it, for the record (a binary path, a version).
    pub detail: String,
    /// Start to first response, compiling the component, in ms.
    pub cold_start_ms: f64,
    /// Start to first response from precompiled code, in ms.
    pub cold_start_cwasm_ms: Option<f64>,
    /// Instantiation alone, per request (in-process only: other hosts do
    /// not report it).
    pub instantiate: Option<Percentiles>,
    /// Whole request, as the client saw it.
    pub latency: Percentiles,
    /// Requests per second at the bench's concurrency.
    pub requests_per_second: f64,
    /// Requests measured.
    pub requests: usize,
    /// Responses that were not 2xx.
    pub non_2xx: usize,
    /// The most linear memory one instance held, in bytes (in-process).
    pub peak_guest_memory: Option<u64>,
    /// Peak resident memory of the host process, in bytes (`VmHWM`).
    pub host_rss: Option<u64>,
}

/// A host that was asked for or looked for but could not run.
#[derive(Debug, Clone, Serialize)]
pub struct Skipped {
    /// The host's id.
    pub host: String,
    /// Why.
    pub reason: String,
}

/// The whole bench.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    /// The artifact measured.
    pub artifact: String,
    /// Its size in bytes.
    pub size: u64,
    /// The requests, by label.
    pub requests: Vec<String>,
    /// Requests in flight at once.
    pub concurrency: usize,
    /// Each host's figures.
    pub hosts: Vec<HostReport>,
    /// The raw anchor's figures on each host, measured right after the
    /// function's (when the anchor is measured at all).
    pub anchors: Vec<HostReport>,
    /// The anchor's size in bytes.
    pub anchor_size: Option<u64>,
    /// Hosts that could not run, and why.
    pub skipped: Vec<Skipped>,
    /// The memory size the estimates assume, in MB.
    pub memory_mb: u32,
    /// The duration the estimates bill, in ms (the in-process p50).
    pub billed_duration_ms: f64,
    /// Estimated cost per million invocations.
    pub costs: Vec<prices::Estimate>,
    /// When the price list was written.
    pub prices_as_of: &'static str,
}

impl Report {
    /// The table `cargo fn bench` prints.
    pub fn render(&self) -> String {
        let mut out = String::new();
        let kb = |bytes: u64| format!("{:.1} KB", bytes as f64 / 1024.0);
        let mb = |bytes: Option<u64>| {
            bytes.map_or("-".to_owned(), |b| {
                format!("{:.1} MB", b as f64 / 1048576.0)
            })
        };
        let us = |p: Option<Percentiles>| p.map_or("-".to_owned(), |p| format!("{:.1}", p.p50_us));
        let ms = |v: Option<f64>| v.map_or("-".to_owned(), |v| format!("{v:.1}"));
        let _ = writeln!(
            out,
            "{} ({}); requests: {}; concurrency {}",
            self.artifact,
            kb(self.size),
            self.requests.join(", "),
            self.concurrency
        );
        let _ = writeln!(out);
        let _ = writeln!(
            out,
            "| host | cold start ms | cold .cwasm ms | instantiate µs p50 | p50 µs | p99 µs | req/s | non-2xx | peak guest mem | host RSS |"
        );
        let _ = writeln!(out, "|---|---|---|---|---|---|---|---|---|---|");
        let mut row = |label: &str, h: &HostReport| {
            let _ = writeln!(
                out,
                "| {label} | {:.1} | {} | {} | {:.1} | {:.1} | {:.0} | {} | {} | {} |",
                h.cold_start_ms,
                ms(h.cold_start_cwasm_ms),
                us(h.instantiate),
                h.latency.p50_us,
                h.latency.p99_us,
                h.requests_per_second,
                h.non_2xx,
                mb(h.peak_guest_memory),
                mb(h.host_rss),
            );
        };
        for host in &self.hosts {
            row(&host.host, host);
        }
        for anchor in &self.anchors {
            row(&format!("raw anchor on {}", anchor.host), anchor);
        }
        if !self.anchors.is_empty() {
            let ratio = |a: f64, b: f64| if b > 0.0 { a / b } else { f64::NAN };
            let anchor_size = self.anchor_size.unwrap_or(0);
            let _ = writeln!(out);
            let _ = writeln!(
                out,
                "Against the raw anchor (a hello on the `wasi` crate, no SDK; {}): size {:.2}×",
                kb(anchor_size),
                ratio(self.size as f64, anchor_size as f64),
            );
            for anchor in &self.anchors {
                let Some(ours) = self.hosts.iter().find(|h| h.host == anchor.host) else {
                    continue;
                };
                let cwasm = match (ours.cold_start_cwasm_ms, anchor.cold_start_cwasm_ms) {
                    (Some(a), Some(b)) => format!(", cold .cwasm {:.2}×", ratio(a, b)),
                    _ => String::new(),
                };
                let instantiate = match (ours.instantiate, anchor.instantiate) {
                    (Some(a), Some(b)) => {
                        format!(", instantiate {:.2}×", ratio(a.p50_us, b.p50_us))
                    }
                    _ => String::new(),
                };
                let _ = writeln!(
                    out,
                    "  {}: cold start {:.2}×{cwasm}{instantiate}, p50 {:.2}×, p99 {:.2}×, req/s {:.2}×",
                    anchor.host,
                    ratio(ours.cold_start_ms, anchor.cold_start_ms),
                    ratio(ours.latency.p50_us, anchor.latency.p50_us),
                    ratio(ours.latency.p99_us, anchor.latency.p99_us),
                    ratio(ours.requests_per_second, anchor.requests_per_second),
                );
            }
        }
        for skipped in &self.skipped {
            let _ = writeln!(out, "skipped {}: {}", skipped.host, skipped.reason);
        }
        let _ = writeln!(out);
        let _ = writeln!(
            out,
            "Estimated cost per million invocations, each billed as {:.3} ms (the in-process p50) at {} MB:",
            self.billed_duration_ms, self.memory_mb
        );
        let _ = writeln!(out);
        let _ = writeln!(out, "| provider | plan | billed per call | USD per 1M |");
        let _ = writeln!(out, "|---|---|---|---|");
        for cost in &self.costs {
            let memory = cost
                .billed_memory_mb
                .map_or(String::new(), |m| format!(" × {m} MB"));
            let _ = writeln!(
                out,
                "| {} | {} | {} ms{memory} | {:.2} |",
                cost.provider, cost.plan, cost.billed_ms, cost.usd_per_million
            );
        }
        let _ = writeln!(out);
        let _ = writeln!(
            out,
            "Assumptions: list prices as of {} (cargo-fn's bench/prices.rs; check them at the URLs), on demand, no free tier; cold starts, egress and the providers' own overheads not included.",
            self.prices_as_of
        );
        for cost in &self.costs {
            let _ = writeln!(
                out,
                "  {} {}: {} ({})",
                cost.provider, cost.plan, cost.assumptions, cost.url
            );
        }
        out
    }
}

/// Peak and current resident memory of process `pid` (`self` for this
/// one), from `/proc/<pid>/status`, in bytes: `(VmHWM, VmRSS)`.
pub fn resident_memory(pid: &str) -> Option<(u64, u64)> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let field = |name: &str| {
        status
            .lines()
            .find_map(|line| line.strip_prefix(name))
            .and_then(|rest| rest.trim().strip_suffix("kB"))
            .and_then(|kb| kb.trim().parse::<u64>().ok())
            .map(|kb| kb * 1024)
    };
    Some((field("VmHWM:")?, field("VmRSS:")?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_are_ordered_and_in_microseconds() {
        let mut samples: Vec<Duration> = (1..=100).map(Duration::from_micros).collect();
        samples.reverse();
        let p = Percentiles::of(&mut samples).unwrap();
        assert_eq!(p.p50_us, 51.0);
        assert_eq!(p.p99_us, 99.0);
        assert!(Percentiles::of(&mut []).is_none());
        assert_eq!(
            median_ms(&mut [
                Duration::from_millis(3),
                Duration::from_millis(1),
                Duration::from_millis(2)
            ]),
            Some(2.0)
        );
    }

    #[test]
    fn this_process_has_a_resident_size() {
        let (peak, now) = resident_memory("self").unwrap();
        assert!(peak >= now && now > 0);
    }
}
