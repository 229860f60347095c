//! Per-call limits and the resource limiter that enforces the memory cap.

use std::time::Duration;

/// Limits applied to every call of a function. Cheap to copy; change them
/// between calls with [`Function::set_limits`](crate::Function::set_limits).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Total linear memory (all memories of the component) a call may use, in
    /// bytes. Growing past it traps the call (500). Cannot exceed
    /// [`RuntimeConfig::max_memory`](crate::RuntimeConfig::max_memory).
    pub memory: u64,
    /// Wall-clock time a call may take, instantiation included. Past it the
    /// call is stopped and answered with 504.
    pub timeout: Duration,
    /// Largest request body accepted, in bytes. Larger bodies are answered
    /// with 413 before the guest runs.
    pub max_request_body: usize,
    /// Wall-clock time a streaming request body may take to arrive (a slow
    /// or stalled client). Past it the request is answered with 408; the
    /// guest never runs, so no instance is held while the body trickles in.
    pub body_timeout: Duration,
    /// Fuel a call may burn, when the runtime was built with
    /// [`RuntimeConfig::fuel`](crate::RuntimeConfig::fuel). `None` means no
    /// cap (the consumed fuel is still measured).
    pub fuel: Option<u64>,
    /// Bytes of stdout, and separately of stderr, kept per call. Output past
    /// it is dropped (and counted), it does not fail the call.
    pub max_log_bytes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            memory: 128 << 20,
            timeout: Duration::from_secs(10),
            max_request_body: 10 << 20,
            body_timeout: Duration::from_secs(10),
            fuel: None,
            max_log_bytes: 1 << 20,
        }
    }
}

impl Limits {
    /// Returns these limits with another memory cap, in bytes.
    pub fn with_memory(mut self, bytes: u64) -> Self {
        self.memory = bytes;
        self
    }

    /// Returns these limits with another wall-clock timeout.
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Returns these limits with another request body cap, in bytes.
    pub fn with_max_request_body(mut self, bytes: usize) -> Self {
        self.max_request_body = bytes;
        self
    }

    /// Returns these limits with another body-read timeout.
    pub fn with_body_timeout(mut self, timeout: Duration) -> Self {
        self.body_timeout = timeout;
        self
    }

    /// Returns these limits with a fuel cap.
    pub fn with_fuel(mut self, fuel: u64) -> Self {
        self.fuel = Some(fuel);
        self
    }
}

/// The trap raised when a call grows its memory past [`Limits::memory`].
#[derive(Debug, thiserror::Error)]
#[error(
    "memory limit exceeded: the call asked for {requested} bytes of linear memory, the cap is {cap} bytes"
)]
pub(crate) struct MemoryLimitExceeded {
    pub(crate) cap: u64,
    pub(crate) requested: u64,
}

/// The trap raised by the epoch callback when a call runs past its deadline.
#[derive(Debug, thiserror::Error)]
#[error("the call ran longer than its timeout of {0:?}")]
pub(crate) struct TimeoutExceeded(pub(crate) Duration);

/// Tracks the linear memory of one store: enforces the cap, remembers the peak.
#[derive(Debug)]
pub(crate) struct MemoryLimiter {
    cap: u64,
    total: u64,
    peak: u64,
    exceeded: bool,
}

/// Tables are small; this only stops runaway growth.
const MAX_TABLE_ELEMENTS: usize = 1_000_000;

impl MemoryLimiter {
    pub(crate) fn new(cap: u64) -> Self {
        MemoryLimiter {
            cap,
            total: 0,
            peak: 0,
            exceeded: false,
        }
    }

    /// The most linear memory the store ever held, in bytes.
    pub(crate) fn peak(&self) -> u64 {
        self.peak
    }

    /// Whether a growth was refused because of the cap.
    pub(crate) fn exceeded(&self) -> bool {
        self.exceeded
    }
}

impl wasmtime::ResourceLimiter for MemoryLimiter {
    fn memory_growing(
        &mut self,
        current: usize,
        desired: usize,
        maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        if maximum.is_some_and(|max| desired > max) {
            // The memory's own maximum refuses it; memory.grow returns -1.
            return Ok(false);
        }
        let delta = desired.saturating_sub(current) as u64;
        let requested = self.total.saturating_add(delta);
        if requested > self.cap {
            self.exceeded = true;
            return Err(MemoryLimitExceeded {
                cap: self.cap,
                requested,
            }
            .into());
        }
        self.total = requested;
        self.peak = self.peak.max(requested);
        Ok(true)
    }

    fn table_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        Ok(desired <= MAX_TABLE_ELEMENTS)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use wasmtime::ResourceLimiter;

    #[test]
    fn limiter_tracks_peak_across_memories_and_refuses_past_cap() {
        let mut limiter = MemoryLimiter::new(10 * 65536);
        assert!(limiter.memory_growing(0, 4 * 65536, None).unwrap());
        assert!(limiter.memory_growing(0, 2 * 65536, None).unwrap());
        assert!(limiter.memory_growing(4 * 65536, 8 * 65536, None).unwrap());
        assert_eq!(limiter.peak(), 10 * 65536);
        assert!(!limiter.exceeded());

        let err = limiter
            .memory_growing(8 * 65536, 9 * 65536, None)
            .unwrap_err();
        assert!(err.to_string().contains("memory limit exceeded"), "{err}");
        assert!(limiter.exceeded());
        assert_eq!(limiter.peak(), 10 * 65536);
    }

    #[test]
    fn limiter_leaves_growth_past_the_memory_maximum_to_wasm() {
        let mut limiter = MemoryLimiter::new(u64::MAX);
        assert!(!limiter.memory_growing(0, 3 * 65536, Some(65536)).unwrap());
        assert_eq!(limiter.peak(), 0);
    }
}
