//! Recordings of calls: everything that crossed a component's boundary
//! during one call, written by [`Function::handle_recorded`] and fed back by
//! [`Function::replay`].
//!
//! A component's only windows on the world are its imports, so a call is
//! fully described by its incoming request and what each import answered:
//! outbound HTTP, key-value, config, the clocks and the random sources.
//! Replaying feeds those answers back instead of touching the network, the
//! store or the clock, so the same artifact gives the same response byte for
//! byte, and a changed artifact shows where it first behaves differently.
//!
//! # The file format
//!
//! JSON lines, one self-describing file per call:
//!
//! 1. a header: `{"format":"cargo-fn-recording","version":1,"function":..,
//!    "artifact":"sha256:..","recorded-at":..,"redacted":[..]}`;
//! 2. the events in the order they happened, each an object with a `kind`:
//!    `request`, `config`, `random`, `wall-clock`, `monotonic-clock`,
//!    `outbound`, `kv`, `log` and finally `response`;
//! 3. a trailer `{"kind":"end","events":N}`: a file without it, or whose
//!    count disagrees, was cut short and is refused.
//!
//! Bodies are `{"text":".."}` when they are UTF-8 and `{"base64":".."}`
//! otherwise. Config values named secret are written as `null` and listed in
//! the header's `redacted`, and wherever such a value appears in what the
//! function sent or wrote (an `authorization` header, a log line, the
//! response) the file holds `<redacted:KEY>`; a replay takes the secrets
//! from the function's own config and scrubs its run the same way before
//! comparing.
//!
//! [`Function::handle_recorded`]: crate::Function::handle_recorded
//! [`Function::replay`]: crate::Function::replay

pub(crate) mod format;
mod function;
mod recorder;
mod replay;
mod scrub;
pub(crate) mod tape;

pub use format::{
    Body, Event, Header, Headers, KvCall, KvResult, RecordedResponse, Recording, RecordingError,
};
pub use recorder::{RecordWhen, Recorder};
pub use replay::{Divergence, Replay};

/// The `format` of every recording's header.
pub const FORMAT: &str = "cargo-fn-recording";

/// The version this runtime writes and the newest it reads.
pub const VERSION: u32 = 1;

/// How [`Function::handle_recorded`](crate::Function::handle_recorded)
/// records a call.
#[derive(Clone, Debug, Default)]
pub struct RecordOptions {
    /// Config keys whose values are secrets: written as `null`, never in
    /// clear.
    pub secrets: std::collections::BTreeSet<String>,
}
