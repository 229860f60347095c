//! What a replay found.

use crate::call::CallResult;

/// Where a replayed call did something other than the recorded one.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Divergence {
    /// Where: `outbound request 2 (POST https://...)`, `key-value call 3`,
    /// `response status`, ...
    pub at: String,
    /// What the recording has there.
    pub recorded: String,
    /// What this run did instead.
    pub replayed: String,
}

impl std::fmt::Display for Divergence {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}: recorded {}, this run {}",
            self.at, self.recorded, self.replayed
        )
    }
}

/// A replayed call: its result and how it compares with the recording.
#[derive(Debug)]
pub struct Replay {
    /// The call's result, as [`Function::handle`](crate::Function::handle)
    /// gives it.
    pub result: CallResult,
    /// Every divergence, in the order the run met them; empty when the run
    /// made the recorded calls and gave the recorded response byte for byte.
    pub divergences: Vec<Divergence>,
    /// Other observations (recorded calls this run never made, secrets
    /// taken from the local config, ...).
    pub notes: Vec<String>,
}

impl Replay {
    /// Whether the run matched the recording exactly.
    pub fn is_identical(&self) -> bool {
        self.divergences.is_empty()
    }

    /// The first divergence, if any.
    pub fn first_divergence(&self) -> Option<&Divergence> {
        self.divergences.first()
    }
}
