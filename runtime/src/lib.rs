//! The embedded wasmtime host of cargo-fn functions (WASI 0.2 components
//! exporting `wasi:http/incoming-handler`): what `cargo fn serve`,
//! `cargo fn invoke`, the cloud runners and the test harness
//! (`fn-host-test`) run functions on.
//!
//! - [`Runtime`]: one engine per process, components compiled once, an
//!   optional on-disk cache of precompiled code, and the signature trust
//!   ([`RuntimeConfig::trusted_keys`], checked by every load);
//! - [`Function`]: a pre-linked component with its own key-value stores
//!   ([`KeyValue`]: in memory, or in Redis with [`RedisConfig`]), config values, outbound HTTP mocks ([`HttpMocks`]),
//!   wall clock and [`Limits`];
//! - the call path ([`Function::handle`], module `call`): a fresh instance
//!   per request, under the limits, returning a [`CallResult`].
//!
//! Every call returns a [`CallResult`]: the response (the guest's, or the
//! runtime's 4xx/5xx when the call failed), the guest's stdout and stderr,
//! host log lines, [`Metrics`], the outbound requests, and a [`CallError`]
//! when something went wrong. Failures map to statuses as follows: a body
//! over the cap is 413 (the guest never runs), a timeout is 504, a trap
//! (panic), memory cap, fuel exhaustion or missing response is 500. The next
//! call gets a fresh instance and works normally.
//!
//! What a function can import: all of WASI 0.2 (`wasi:http/proxy` and the
//! CLI interfaces that plain Rust builds pull in, with no environment,
//! arguments, files or sockets), `wasi:keyvalue/{store,atomics}@0.2.0-draft`
//! (see [`KeyValue`]) and `wasi:config/store@0.2.0-rc.1`. Outbound HTTP only
//! reaches [`HttpMocks`] unless the network is explicitly allowed.

#![warn(missing_docs)]

pub mod bundle;
mod cache;
mod call;
mod clock;
mod engine;
mod error;
mod function;
mod kv;
mod limits;
mod logs;
mod outbound;
pub mod recording;
pub mod server;

pub use call::{CallError, CallResult, Metrics};
pub use engine::{Precompiled, Runtime, RuntimeConfig};
pub use error::Error;
pub use function::Function;
pub use kv::{DEFAULT_STORE, KeyValue, RedisConfig, Store};
pub use limits::Limits;
pub use logs::Logs;
pub use outbound::{HttpMocks, Outcome, RecordedRequest};
pub use recording::{Divergence, RecordOptions, Recording, RecordingError, Replay};

pub use fn_sign::{PublicKey, VerifyError};
