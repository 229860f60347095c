//! `fn-runner`: runs a cargo-fn function bundle natively, on the same
//! embedded wasmtime runtime as `cargo fn serve`, in the shape each cloud
//! expects of a Linux program:
//!
//! - `lambda`: an AWS Lambda custom runtime (`bootstrap`), the Runtime API
//!   loop; HTTP events become requests, other events CloudEvents;
//! - `azure`: an Azure Functions custom handler on
//!   `FUNCTIONS_CUSTOMHANDLER_PORT`; timer and queue invocations become
//!   CloudEvents;
//! - `http`: a plain HTTP server on `0.0.0.0:$PORT` (Google Cloud Run and
//!   Cloud Functions 2nd gen, any container platform).
//!
//! The bundle (`fn-bundle.json`, `fn.wasm`, optional `fn.cwasm`) is read
//! from `--bundle`, `$FN_BUNDLE`, `$LAMBDA_TASK_ROOT`, or the directory of
//! the executable, in that order. A component whose digest is not the
//! manifest's, or whose signature does not check out against the manifest's
//! trusted keys, is refused before anything is served.

/// The static (musl) runner allocates with mimalloc: with musl's own
/// allocator, requests on code loaded from `fn.cwasm` took 107-120 µs p50
/// against 70-75 µs with mimalloc and 66-72 µs for `cargo fn serve`
/// (`cargo bench -p fn-runner --bench runner`, `RUNNER_BENCH_RUNNER` set to
/// each build).
#[cfg(target_env = "musl")]
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

mod azure;
mod cloudevent;
mod http_mode;
mod lambda;
mod precompile;
mod start;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;

/// Run a cargo-fn function bundle as a Lambda custom runtime, an Azure
/// Functions custom handler or an HTTP server
#[derive(Debug, Parser)]
#[command(name = "fn-runner", version)]
struct Args {
    /// How the host talks to the function (default: `lambda` when
    /// AWS_LAMBDA_RUNTIME_API is set, `azure` when FUNCTIONS_CUSTOMHANDLER_PORT
    /// is set, `http` otherwise)
    #[arg(long, value_enum, env = "FN_RUNNER_MODE")]
    mode: Option<Mode>,
    /// The bundle directory (default: $LAMBDA_TASK_ROOT, else the directory
    /// of this executable)
    #[arg(long, value_name = "DIR", env = "FN_BUNDLE")]
    bundle: Option<PathBuf>,
    /// Address to listen on in `http` mode (default: 0.0.0.0:$PORT, PORT
    /// defaulting to 8080) and `azure` mode (default:
    /// 127.0.0.1:$FUNCTIONS_CUSTOMHANDLER_PORT)
    #[arg(long, value_name = "ADDR")]
    addr: Option<SocketAddr>,
    /// Don't print what the function writes to stdout/stderr
    #[arg(long)]
    no_function_logs: bool,
    /// Most calls running at once in `http` and `azure` mode (the instance
    /// pool); a request that finds every instance busy gets 503 with
    /// Retry-After at once. (Lambda sends one event at a time.)
    #[arg(long, value_name = "N", env = "FN_MAX_INSTANCES", default_value_t = 1000,
          value_parser = clap::value_parser!(u32).range(1..))]
    max_instances: u32,
    /// Record calls into DIR, one file per call, for `cargo fn replay`
    /// (config secrets are withheld)
    #[arg(long, value_name = "DIR", env = "FN_RECORD_DIR")]
    record: Option<PathBuf>,
    /// Which calls --record keeps: `all`, `errors` (5xx and failed calls)
    /// or a sampling rate such as 0.01
    #[arg(
        long,
        value_name = "WHEN",
        env = "FN_RECORD_WHEN",
        default_value = "errors"
    )]
    record_when: fn_runtime::recording::RecordWhen,
    /// Precompile the component WASM for this runner's engine into OUT (a
    /// bundle's fn.cwasm; `cargo fn deploy` runs this), then exit
    #[arg(long, num_args = 2, value_names = ["WASM", "OUT"])]
    precompile: Option<Vec<PathBuf>>,
}

/// The host protocol.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum Mode {
    /// AWS Lambda custom runtime
    Lambda,
    /// Azure Functions custom handler
    Azure,
    /// HTTP server on $PORT (Cloud Run, Cloud Functions, containers)
    Http,
}

impl Mode {
    fn detect(env: impl Fn(&str) -> Option<String>) -> Mode {
        if env("AWS_LAMBDA_RUNTIME_API").is_some() {
            Mode::Lambda
        } else if env("FUNCTIONS_CUSTOMHANDLER_PORT").is_some() {
            Mode::Azure
        } else {
            Mode::Http
        }
    }
}

fn main() -> ExitCode {
    let args = Args::parse();
    if let Some([wasm, out]) = args.precompile.as_deref() {
        return match precompile::run(wasm, out) {
            Ok(()) => ExitCode::SUCCESS,
            Err(err) => {
                eprintln!("fn-runner: {err:#}");
                ExitCode::FAILURE
            }
        };
    }
    let mode = args
        .mode
        .unwrap_or_else(|| Mode::detect(|name| std::env::var(name).ok()));
    let tokio = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(tokio) => tokio,
        Err(err) => {
            eprintln!("fn-runner: cannot start the async runtime: {err}");
            return ExitCode::FAILURE;
        }
    };
    let result = tokio.block_on(async {
        match mode {
            Mode::Http => http_mode::run(&args).await,
            Mode::Azure => azure::run(&args).await,
            Mode::Lambda => lambda::run(&args).await,
        }
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("fn-runner: {err:#}");
            ExitCode::FAILURE
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_mode_follows_the_host_environment() {
        let env = |set: &'static str| move |name: &str| (name == set).then(|| "x".to_owned());
        assert_eq!(Mode::detect(env("AWS_LAMBDA_RUNTIME_API")), Mode::Lambda);
        assert_eq!(
            Mode::detect(env("FUNCTIONS_CUSTOMHANDLER_PORT")),
            Mode::Azure
        );
        assert_eq!(Mode::detect(env("PORT")), Mode::Http);
    }
}
