//! `cargo fn`: build, inspect, test, serve and ship Rust serverless functions
//! as WASI 0.2 components. The binary (`src/main.rs`, with one file per
//! command in `src/commands/`) only parses arguments and calls the functions
//! here; the build pipeline itself is `fn-pipeline`.
//!
//! - [`publish::publish`]: push a function to an OCI registry, recording it
//!   ([`publish::Record`]) for [`deploy::deploy`], which writes a
//!   provider's bundle pinned to the published digest.
//! - [`package::FnPackage`]: the package a command works on, selected as
//!   `cargo fn build` selects it, with its `[package.metadata.fn]`.
//! - [`args`]: the package and build flags commands share.
//! - [`run::RunArgs`]: what `serve` and `invoke` run, and how.
//! - [`keys`], [`sign`], [`fs`]: key files, signing files, atomic writes.
//! - [`watch`]: the file watching of `cargo fn serve --watch`.

pub mod args;
pub mod bench;
#[cfg(feature = "deploy")]
pub mod deploy;
pub mod fs;
pub mod keys;
pub mod metadata;
pub mod new;
#[cfg(feature = "deploy")]
pub mod oci;
pub mod otlp;
pub mod package;
#[cfg(feature = "deploy")]
pub mod publish;
pub mod run;
pub mod runner;
pub mod schedule;
pub mod sign;
pub mod watch;
