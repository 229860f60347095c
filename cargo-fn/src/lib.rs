//! `cargo fn`: build, inspect, test, serve and ship Rust serverless functions
//! as WASI 0.2 components. The binary (`src/main.rs`) only parses arguments;
//! each subcommand lives in [`commands`], the build pipeline in `fn-pipeline`.

pub mod commands;
pub mod deploy;
pub mod metadata;
pub mod oci;
pub mod target;
