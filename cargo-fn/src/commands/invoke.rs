//! `cargo fn invoke`: one call on the embedded runtime, printed in full.

use std::io::Write as _;

use anyhow::{Context as _, bail};
use bytes::Bytes;
use fn_runtime::CallResult;
use fnsdk::CloudEvent;

use cargo_fn::package::FnPackage;
use cargo_fn::run::RunArgs;
use cargo_fn::schedule::Schedule;

/// Call the function once on the embedded runtime and print the result
///
/// Prints the status, headers and body of the response, then what the
/// function wrote to stdout and stderr, and the call's metrics. Builds the
/// package first when given a package (or nothing) instead of a .wasm file.
///
/// Examples:
///   cargo fn invoke target/fn/hello.wasm --path '/?name=Ferris'
///   cargo fn invoke -X POST --data '{"sku":"A-1"}' -H 'content-type: application/json'
///   cargo fn invoke --event com.example.user.registered --data '{"email":"a@b.c"}'
///   cargo fn invoke --schedule
#[derive(Debug, clap::Args)]
#[command(verbatim_doc_comment)]
pub struct Args {
    #[command(flatten)]
    pub run: RunArgs,
    /// HTTP method (default: GET, or POST with --data or --event)
    #[arg(long, short = 'X', value_name = "METHOD")]
    pub method: Option<String>,
    /// Path and query of the request
    #[arg(long, default_value = "/", value_name = "PATH")]
    pub path: String,
    /// A request header, `Name: value` (repeatable)
    #[arg(long = "header", short = 'H', value_name = "HEADER", value_parser = parse_header)]
    pub headers: Vec<(String, String)>,
    /// The request body; `@FILE` reads it from a file
    #[arg(long, short, value_name = "DATA")]
    pub data: Option<String>,
    /// Send --data (JSON) as a CloudEvent of this type
    #[arg(long, value_name = "TYPE")]
    pub event: Option<String>,
    /// The CloudEvent's source attribute
    #[arg(long, default_value = "/cargo-fn/invoke", requires = "event")]
    pub source: String,
    /// Send the CloudEvent in structured mode instead of binary mode
    #[arg(long, requires = "event")]
    pub structured: bool,
    /// Send one tick of the package's `schedule` now, as `cargo fn serve`
    /// and the clouds deliver it (a `dev.cargo-fn.schedule` CloudEvent
    /// POSTed to the function's route)
    #[arg(long, conflicts_with_all = ["event", "data", "method", "path", "headers"])]
    pub schedule: bool,
}

fn parse_header(s: &str) -> Result<(String, String), String> {
    match s.split_once(':') {
        Some((name, value)) if !name.trim().is_empty() => {
            Ok((name.trim().to_owned(), value.trim().to_owned()))
        }
        _ => Err(format!("expected `Name: value`, got {s:?}")),
    }
}

impl Args {
    fn body(&self) -> anyhow::Result<Bytes> {
        Ok(match self.data.as_deref() {
            None => Bytes::new(),
            Some(file) if file.starts_with('@') => Bytes::from(
                std::fs::read(&file[1..]).with_context(|| format!("reading {}", &file[1..]))?,
            ),
            Some(text) => Bytes::from(text.to_owned()),
        })
    }

    fn request(&self) -> anyhow::Result<http::Request<Bytes>> {
        let body = self.body()?;
        let mut request = if let Some(ty) = &self.event {
            let data: serde_json::Value = if body.is_empty() {
                serde_json::Value::Null
            } else {
                serde_json::from_slice(&body).context("--data of an --event must be JSON")?
            };
            let event = CloudEvent::new(ty.clone(), self.source.clone(), data);
            let mut req = if self.structured {
                event.to_structured_request()?
            } else {
                event.to_binary_request()?
            }
            .into_http();
            *req.uri_mut() = self.path.parse().context("invalid --path")?;
            req
        } else {
            let method = match &self.method {
                Some(m) => m.to_ascii_uppercase(),
                None if self.data.is_some() => "POST".into(),
                None => "GET".into(),
            };
            http::Request::builder()
                .method(method.as_str())
                .uri(&self.path)
                .body(body)
                .with_context(|| format!("invalid request {method} {}", self.path))?
        };
        if let Some(m) = &self.method {
            *request.method_mut() = m.to_ascii_uppercase().parse().context("invalid --method")?;
        }
        for (name, value) in &self.headers {
            request.headers_mut().append(
                http::HeaderName::from_bytes(name.as_bytes())
                    .with_context(|| format!("invalid header name {name:?}"))?,
                http::HeaderValue::from_str(value)
                    .with_context(|| format!("invalid value for header {name}"))?,
            );
        }
        Ok(request)
    }

    /// A tick of the package's schedule, at the current time.
    fn schedule_tick(&self) -> anyhow::Result<http::Request<Bytes>> {
        let Some(opts) = self.run.build_options()? else {
            bail!(
                "--schedule sends a tick of the schedule in the package's [package.metadata.fn]: \
                 give the package (or run in its folder), not a .wasm file"
            );
        };
        let package = FnPackage::load(&opts)?;
        let Some(schedule) = Schedule::of(package.name(), &package.metadata)? else {
            bail!(
                "{} declares no schedule; add `schedule = \"*/5 * * * *\"` (or @daily, ...) to its \
                 [package.metadata.fn]",
                package.name()
            );
        };
        Ok(schedule.tick(chrono::Utc::now()))
    }

    /// Runs `cargo fn invoke`.
    pub fn run(self) -> anyhow::Result<()> {
        let request = if self.schedule {
            self.schedule_tick()?
        } else {
            self.request()?
        };
        let artifact = self.run.artifact()?;
        let tokio = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        let result = tokio.block_on(async {
            let runtime = self.run.runtime_for(&artifact)?;
            let function = self.run.load(&runtime, &artifact)?;
            anyhow::Ok(function.handle(request).await)
        })?;
        print_result(&result)?;
        if let Some(error) = &result.error {
            bail!("the call failed: {error}");
        }
        Ok(())
    }
}

fn print_result(result: &CallResult) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    let response = &result.response;
    writeln!(out, "HTTP {}", response.status())?;
    for (name, value) in response.headers() {
        writeln!(out, "{name}: {}", String::from_utf8_lossy(value.as_bytes()))?;
    }
    writeln!(out)?;
    match std::str::from_utf8(response.body()) {
        Ok(text) => {
            write!(out, "{text}")?;
            if !text.is_empty() && !text.ends_with('\n') {
                writeln!(out)?;
            }
        }
        Err(_) => writeln!(out, "<{} bytes of binary data>", response.body().len())?,
    }
    out.flush()?;
    drop(out);

    let mut err = std::io::stderr().lock();
    for (label, bytes) in [
        ("stdout", &result.logs.stdout),
        ("stderr", &result.logs.stderr),
    ] {
        if !bytes.is_empty() {
            writeln!(err, "\n--- function {label} ---")?;
            write!(err, "{}", String::from_utf8_lossy(bytes))?;
        }
    }
    for line in &result.host_log {
        writeln!(err, "host: {line}")?;
    }
    let m = &result.metrics;
    write!(
        err,
        "\n--- metrics ---\ninstantiate {:?}, handler {:?}, total {:?}, peak memory {} KiB",
        m.instantiate,
        m.handler,
        m.total,
        m.peak_memory / 1024
    )?;
    if let Some(fuel) = m.fuel {
        write!(err, ", fuel {fuel}")?;
    }
    writeln!(err)?;
    Ok(())
}
