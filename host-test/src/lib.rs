//! Test cargo-fn functions: build the package with the `cargo fn build`
//! pipeline, run the artifact on [`fn_runtime`] (the runtime behind
//! `cargo fn serve`), and assert on what it answered.
//!
//! - [`build_package`]: the one way a test gets a guest artifact, built once
//!   per package per test process;
//! - [`TestFunction`]: a blocking wrapper for `#[test]`s with helpers for
//!   requests, CloudEvents, key-value, config, outbound HTTP mocks, the
//!   clock and limits;
//! - [`redis::RedisServer`]: a throwaway `redis-server` for tests of the
//!   Redis key-value backend ([`KeyValue::redis`]).
//!
//! The runtime's types a test needs ([`CallResult`], [`KeyValue`],
//! [`Limits`], ...) are re-exported here, so a function's tests depend on
//! this crate alone.

#![warn(missing_docs)]

mod build;
pub mod redis;
mod test_function;

pub use build::{build_package, build_package_for};
pub use test_function::{IntoRequest, TestFunction};

pub use fn_runtime::recording;
pub use fn_runtime::{
    CallError, CallResult, DEFAULT_STORE, Divergence, Error, Function, HttpMocks, KeyValue, Limits,
    Logs, Metrics, Outcome, PublicKey, RecordOptions, RecordedRequest, Recording, RecordingError,
    RedisConfig, Replay, Runtime, RuntimeConfig, Store, VerifyError,
};
pub use fnsdk::CloudEvent;
