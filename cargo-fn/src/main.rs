//! `cargo fn <command>`: parses the command line and dispatches to the
//! command's module in `commands/`, which calls the `cargo_fn` library.
//! Errors are printed once, with their causes.

mod commands;

use std::process::ExitCode;

use clap::Parser;

use commands::{bench, build, inspect, invoke, keygen, new, replay, serve, sign, verify};
#[cfg(feature = "deploy")]
use commands::{deploy, publish, pull};

/// cargo's view of us: `cargo fn ...` runs `cargo-fn fn ...`.
#[derive(Debug, Parser)]
#[command(name = "cargo", bin_name = "cargo")]
enum Cargo {
    Fn(FnArgs),
}

/// Build, inspect and ship Rust serverless functions as portable WASI 0.2 components
#[derive(Debug, clap::Args)]
#[command(version)]
struct FnArgs {
    #[command(subcommand)]
    command: Command,
}

/// The subcommands of `cargo fn`; each one's help is the doc comment of
/// its `Args`.
#[derive(Debug, clap::Subcommand)]
enum Command {
    New(new::Args),
    Build(build::Args),
    Inspect(inspect::Args),
    Invoke(invoke::Args),
    Serve(serve::Args),
    Replay(replay::Args),
    Bench(bench::Args),
    Keygen(keygen::Args),
    Sign(sign::Args),
    Verify(verify::Args),
    #[cfg(feature = "deploy")]
    Publish(publish::Args),
    #[cfg(feature = "deploy")]
    Pull(pull::Args),
    #[cfg(feature = "deploy")]
    Deploy(deploy::Args),
    /// What this build leaves out (`publish`, `pull` and `deploy` without
    /// the `deploy` feature), answered with how to get it.
    #[cfg(not(feature = "deploy"))]
    #[command(external_subcommand)]
    Other(Vec<String>),
}

impl Command {
    fn run(self) -> anyhow::Result<()> {
        match self {
            Command::New(args) => args.run(),
            Command::Build(args) => args.run(),
            Command::Inspect(args) => args.run(),
            Command::Invoke(args) => args.run(),
            Command::Serve(args) => args.run(),
            Command::Replay(args) => args.run(),
            Command::Bench(args) => args.run(),
            Command::Keygen(args) => args.run(),
            Command::Sign(args) => args.run(),
            Command::Verify(args) => args.run(),
            #[cfg(feature = "deploy")]
            Command::Publish(args) => args.run(),
            #[cfg(feature = "deploy")]
            Command::Pull(args) => args.run(),
            #[cfg(feature = "deploy")]
            Command::Deploy(args) => args.run(),
            #[cfg(not(feature = "deploy"))]
            Command::Other(args) => {
                let name = args.first().map(String::as_str).unwrap_or_default();
                if matches!(name, "publish" | "pull" | "deploy") {
                    anyhow::bail!(
                        "`cargo fn {name}` is not in this build of cargo-fn: it was built \
                         without its `deploy` feature (the quick start does that to build \
                         faster); `cargo install --path cargo-fn` (or `cargo build -p \
                         cargo-fn`) includes it"
                    )
                }
                anyhow::bail!("unknown command `cargo fn {name}`; see `cargo fn --help`")
            }
        }
    }
}

fn main() -> ExitCode {
    let Cargo::Fn(args) = Cargo::parse();
    match args.command.run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {}", indent(&error.to_string()));
            let mut causes = error.chain().skip(1).peekable();
            if causes.peek().is_some() {
                eprintln!("\nCaused by:");
                for cause in causes {
                    eprintln!("    {}", indent(&cause.to_string()));
                }
            }
            ExitCode::FAILURE
        }
    }
}

/// Indents the continuation lines of a multi-line message under its first line.
fn indent(message: &str) -> String {
    message.replace('\n', "\n    ")
}
