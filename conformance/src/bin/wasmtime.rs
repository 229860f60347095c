//! `wasmtime serve`, the wasmtime project's own: the `serve` command of the
//! wasmtime-cli crate (the same release as the embedded runtime), built
//! with the workspace so the conformance tests need no separate install of
//! the CLI. Only `serve` is here; its flags are the CLI's.

use clap::Parser;

/// The serve command of the wasmtime CLI (for the conformance tests).
#[derive(Parser)]
#[command(name = "wasmtime", version = fn_conformance::wasmtime_serve::WASMTIME_VERSION)]
enum Wasmtime {
    /// Serves requests from a wasi-http proxy component.
    Serve(wasmtime_cli::commands::ServeCommand),
}

fn main() -> anyhow::Result<()> {
    match Wasmtime::parse() {
        Wasmtime::Serve(command) => command.execute().map_err(anyhow::Error::from),
    }
}
