//! `cargo fn <command>`: parses the command line and dispatches to
//! `cargo_fn::commands`. Errors are printed once, with their causes.

use std::process::ExitCode;

use clap::Parser;

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
    command: cargo_fn::commands::Command,
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
