//! The providers' published list prices `cargo fn bench` estimates a bill
//! from, in one place, each with where it comes from.
//!
//! **Written 2026-12-04 without network access**, from the providers'
//! pricing pages as their authors last read them (public on-demand prices,
//! USD, the regions below, no free tier, no savings plans). Check each
//! against its URL before relying on it, and update [`AS_OF`] with it.
//!
//! The estimate is per million invocations of one request's measured
//! duration: a request charge plus compute, billed the way each provider
//! rounds (duration granularity, minimum duration, memory steps). Cold
//! starts, network egress and the providers' own overheads are left out.

use serde::Serialize;

/// When the list below was written.
pub const AS_OF: &str = "2026-12-04";

/// How compute time is billed.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Compute {
    /// Memory × billed duration (GB-seconds), with the memory the function
    /// is configured with, rounded up to `memory_step_mb`, at least
    /// `min_memory_mb`.
    GbSeconds {
        /// USD per GB-second.
        per_gb_second: f64,
        /// The memory size is rounded up to a multiple of this.
        memory_step_mb: u32,
        /// The smallest memory size billed.
        min_memory_mb: u32,
    },
    /// Memory (GiB-seconds) and CPU (vCPU-seconds) of the instance while it
    /// serves the request (Cloud Run's request-based billing).
    CpuAndMemory {
        /// USD per vCPU-second.
        per_vcpu_second: f64,
        /// USD per GiB-second.
        per_gib_second: f64,
        /// vCPUs assumed per instance.
        vcpus: f64,
    },
    /// CPU time only, memory not billed (Cloudflare Workers).
    CpuMillis {
        /// USD per million CPU-milliseconds.
        per_million_cpu_ms: f64,
    },
    /// No separate compute charge within the plan's limits.
    None,
}

/// One plan of one provider.
#[derive(Debug, Clone, Copy)]
pub struct Plan {
    /// The provider.
    pub provider: &'static str,
    /// The plan or product.
    pub plan: &'static str,
    /// USD per million requests (invocations, executions).
    pub per_million_requests: f64,
    /// How compute is billed.
    pub compute: Compute,
    /// Billed duration is rounded up to a multiple of this, in ms.
    pub granularity_ms: f64,
    /// The shortest billed duration, in ms.
    pub min_duration_ms: f64,
    /// Region and other assumptions.
    pub assumptions: &'static str,
    /// Where the prices are published.
    pub url: &'static str,
}

/// The price list.
pub const PLANS: &[Plan] = &[
    Plan {
        provider: "AWS Lambda",
        plan: "x86, on demand",
        per_million_requests: 0.20,
        compute: Compute::GbSeconds {
            per_gb_second: 0.000_016_666_7,
            memory_step_mb: 1,
            min_memory_mb: 128,
        },
        granularity_ms: 1.0,
        min_duration_ms: 1.0,
        assumptions: "us-east-1, first duration tier",
        url: "https://aws.amazon.com/lambda/pricing/",
    },
    Plan {
        provider: "Google Cloud Run / Functions",
        plan: "request-based billing",
        per_million_requests: 0.40,
        compute: Compute::CpuAndMemory {
            per_vcpu_second: 0.000_024,
            per_gib_second: 0.000_002_5,
            vcpus: 1.0,
        },
        granularity_ms: 100.0,
        min_duration_ms: 100.0,
        assumptions: "us-central1 (tier 1), 1 vCPU, one request per instance at a time",
        url: "https://cloud.google.com/run/pricing",
    },
    Plan {
        provider: "Azure Functions",
        plan: "Consumption",
        per_million_requests: 0.20,
        compute: Compute::GbSeconds {
            per_gb_second: 0.000_016,
            memory_step_mb: 128,
            min_memory_mb: 128,
        },
        granularity_ms: 1.0,
        min_duration_ms: 100.0,
        assumptions: "East US; memory rounded up to 128 MB steps, at least 100 ms",
        url: "https://azure.microsoft.com/en-us/pricing/details/functions/",
    },
    Plan {
        provider: "Azure Functions",
        plan: "Flex Consumption, on demand",
        per_million_requests: 0.40,
        compute: Compute::GbSeconds {
            per_gb_second: 0.000_026,
            memory_step_mb: 512,
            min_memory_mb: 512,
        },
        granularity_ms: 1.0,
        min_duration_ms: 1.0,
        assumptions: "East US; billed on the instance memory size (512 MB at least)",
        url: "https://azure.microsoft.com/en-us/pricing/details/functions/",
    },
    Plan {
        provider: "Cloudflare Workers",
        plan: "Standard",
        per_million_requests: 0.30,
        compute: Compute::CpuMillis {
            per_million_cpu_ms: 0.02,
        },
        granularity_ms: 1.0,
        min_duration_ms: 0.0,
        assumptions: "beyond the included 10M requests and 30M CPU-ms of the $5/month plan; CPU time taken as the measured duration",
        url: "https://developers.cloudflare.com/workers/platform/pricing/",
    },
    Plan {
        provider: "Netlify Functions",
        plan: "Pro, Functions Level 1 add-on",
        per_million_requests: 12.50,
        compute: Compute::None,
        granularity_ms: 1.0,
        min_duration_ms: 0.0,
        assumptions: "$25/month for 2M invocations, as a per-million rate; Netlify has moved to credit-based plans, check the URL",
        url: "https://www.netlify.com/pricing/",
    },
];

/// The estimate for one plan.
#[derive(Debug, Clone, Serialize)]
pub struct Estimate {
    /// The provider.
    pub provider: &'static str,
    /// The plan.
    pub plan: &'static str,
    /// The duration billed per invocation, in ms.
    pub billed_ms: f64,
    /// The memory billed, in MB, when memory is billed.
    pub billed_memory_mb: Option<u32>,
    /// USD per million invocations: requests plus compute.
    pub usd_per_million: f64,
    /// The plan's assumptions.
    pub assumptions: &'static str,
    /// Where the prices are published.
    pub url: &'static str,
}

impl Plan {
    /// The billed duration for a request that took `duration_ms`.
    pub fn billed_ms(&self, duration_ms: f64) -> f64 {
        let rounded = if self.granularity_ms > 0.0 {
            (duration_ms / self.granularity_ms).ceil() * self.granularity_ms
        } else {
            duration_ms
        };
        rounded.max(self.min_duration_ms)
    }

    /// USD per million invocations of `duration_ms` with `memory_mb`.
    pub fn estimate(&self, duration_ms: f64, memory_mb: u32) -> Estimate {
        let billed_ms = self.billed_ms(duration_ms);
        let seconds = billed_ms / 1000.0;
        let (compute, billed_memory_mb) = match self.compute {
            Compute::GbSeconds {
                per_gb_second,
                memory_step_mb,
                min_memory_mb,
            } => {
                let memory = memory_mb.max(min_memory_mb).div_ceil(memory_step_mb) * memory_step_mb;
                let gb = f64::from(memory) / 1024.0;
                (gb * seconds * per_gb_second, Some(memory))
            }
            Compute::CpuAndMemory {
                per_vcpu_second,
                per_gib_second,
                vcpus,
            } => {
                let gib = f64::from(memory_mb) / 1024.0;
                (
                    seconds * (vcpus * per_vcpu_second + gib * per_gib_second),
                    Some(memory_mb),
                )
            }
            Compute::CpuMillis { per_million_cpu_ms } => {
                (billed_ms * per_million_cpu_ms / 1e6, None)
            }
            Compute::None => (0.0, None),
        };
        Estimate {
            provider: self.provider,
            plan: self.plan,
            billed_ms,
            billed_memory_mb,
            usd_per_million: self.per_million_requests + compute * 1e6,
            assumptions: self.assumptions,
            url: self.url,
        }
    }
}

/// Every plan's estimate for a request of `duration_ms` with `memory_mb`.
pub fn estimate(duration_ms: f64, memory_mb: u32) -> Vec<Estimate> {
    PLANS
        .iter()
        .map(|plan| plan.estimate(duration_ms, memory_mb))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan(provider: &str, name: &str) -> Plan {
        *PLANS
            .iter()
            .find(|p| p.provider == provider && p.plan == name)
            .unwrap()
    }

    #[test]
    fn lambda_bills_each_started_millisecond_of_the_configured_memory() {
        let lambda = plan("AWS Lambda", "x86, on demand");
        let e = lambda.estimate(0.04, 128);
        assert_eq!(e.billed_ms, 1.0);
        // $0.20 + 1e6 × 0.125 GB × 0.001 s × $0.0000166667
        assert!((e.usd_per_million - (0.20 + 0.125 * 0.001 * 16.6667)).abs() < 1e-9);
        assert_eq!(lambda.estimate(2.3, 128).billed_ms, 3.0);
    }

    #[test]
    fn minimums_and_steps_apply() {
        let azure = plan("Azure Functions", "Consumption");
        let e = azure.estimate(0.5, 200);
        assert_eq!(e.billed_ms, 100.0);
        assert_eq!(e.billed_memory_mb, Some(256));
        let flex = plan("Azure Functions", "Flex Consumption, on demand");
        assert_eq!(flex.estimate(0.5, 128).billed_memory_mb, Some(512));
        let run = plan("Google Cloud Run / Functions", "request-based billing");
        assert_eq!(run.estimate(101.0, 128).billed_ms, 200.0);
    }

    #[test]
    fn cost_grows_with_memory_where_memory_is_billed_and_never_shrinks() {
        for (small, large) in estimate(3.0, 128).iter().zip(estimate(3.0, 2048)) {
            assert!(
                large.usd_per_million >= small.usd_per_million,
                "{}",
                small.provider
            );
            if small.billed_memory_mb.is_some() {
                assert!(
                    large.usd_per_million > small.usd_per_million,
                    "{}",
                    small.provider
                );
            }
        }
        for e in estimate(3.0, 128) {
            assert!(e.usd_per_million > 0.0, "{}", e.provider);
            assert!(e.url.starts_with("https://"), "{}", e.provider);
        }
    }
}
