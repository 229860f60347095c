//! Drives the harness against the guest fixtures in `host-test/fixtures/`.
//! One test binary, so the fixtures are built and compiled once.

mod common;

mod config;
mod events;
mod failures;
mod http;
mod kv;
mod kv_redis;
mod outbound;
mod replay;
mod runtime;
mod signing;
