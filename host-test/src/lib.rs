//! Run cargo-fn functions (WASI 0.2 components exporting
//! `wasi:http/incoming-handler`) on an embedded wasmtime, and test them.
//!
//! Two layers:
//!
//! - the runtime: [`Runtime`] (one engine per process, components compiled
//!   once, an optional on-disk cache of precompiled code) and [`Function`]
//!   (a pre-linked component whose async [`Function::handle`] runs one
//!   request on a fresh instance, under [`Limits`]). `cargo fn serve` and
//!   `cargo fn invoke` use this layer;
//! - the test harness: [`TestFunction`], a blocking wrapper for `#[test]`s
//!   with helpers for requests, CloudEvents, key-value, config and outbound
//!   HTTP mocks.
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

mod cache;
mod call;
mod clock;
mod error;
mod function;
mod harness;
mod invoke;
mod kv;
mod limits;
mod logs;
mod outbound;
mod runtime;
mod state;

pub use call::{CallError, CallResult, Metrics};
pub use error::Error;
pub use function::Function;
pub use harness::TestFunction;
pub use kv::{Bucket, DEFAULT_BUCKET, KeyValue};
pub use limits::Limits;
pub use logs::Logs;
pub use outbound::{HttpMocks, Outcome, RecordedRequest};
pub use runtime::{Runtime, RuntimeConfig};

pub use fn_sign::{PublicKey, VerifyError};
pub use fnsdk::CloudEvent;
