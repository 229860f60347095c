//! The wall clock calls see: the host's, moved forward by what a test asked
//! for, so expiry logic is tested without sleeping.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use wasmtime_wasi::HostWallClock;

/// How far a function's `wasi:clocks/wall-clock` runs ahead of the host's.
/// Clones share the offset.
#[derive(Clone, Debug, Default)]
pub(crate) struct ClockOffset(Arc<AtomicU64>);

impl ClockOffset {
    /// Moves the clock forward by `by` (saturating at `u64::MAX` nanoseconds).
    pub(crate) fn advance(&self, by: Duration) {
        let by = u64::try_from(by.as_nanos()).unwrap_or(u64::MAX);
        let mut current = self.0.load(Ordering::Relaxed);
        loop {
            let next = current.saturating_add(by);
            match self
                .0
                .compare_exchange_weak(current, next, Ordering::Relaxed, Ordering::Relaxed)
            {
                Ok(_) => return,
                Err(actual) => current = actual,
            }
        }
    }

    /// The offset now.
    pub(crate) fn get(&self) -> Duration {
        Duration::from_nanos(self.0.load(Ordering::Relaxed))
    }

    /// Puts the clock back in step with the host's.
    pub(crate) fn reset(&self) {
        self.0.store(0, Ordering::Relaxed);
    }

    /// The clock a call's store is given, fixed at the offset when the call
    /// started (a call sees one consistent clock).
    pub(crate) fn wall_clock(&self) -> OffsetWallClock {
        OffsetWallClock(self.get())
    }
}

/// The host's wall clock plus a fixed offset.
pub(crate) struct OffsetWallClock(Duration);

impl HostWallClock for OffsetWallClock {
    fn resolution(&self) -> Duration {
        Duration::from_nanos(1)
    }

    fn now(&self) -> Duration {
        let host = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default();
        host.saturating_add(self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn advancing_moves_the_guest_clock_ahead_of_the_host() {
        let offset = ClockOffset::default();
        offset.advance(Duration::from_secs(3600));
        offset.advance(Duration::from_secs(60));
        assert_eq!(offset.get(), Duration::from_secs(3660));
        let host = SystemTime::now().duration_since(UNIX_EPOCH).unwrap();
        let guest = offset.wall_clock().now();
        assert!(guest >= host + Duration::from_secs(3660));
        assert!(guest < host + Duration::from_secs(3670));
        offset.reset();
        assert_eq!(offset.get(), Duration::ZERO);
    }

    #[test]
    fn advancing_saturates_instead_of_wrapping() {
        let offset = ClockOffset::default();
        offset.advance(Duration::MAX);
        offset.advance(Duration::from_secs(1));
        assert_eq!(offset.get(), Duration::from_nanos(u64::MAX));
    }
}
