//! `cargo fn bench`: cold start, latency, memory and cost, side by side.

use std::io::IsTerminal as _;
use std::path::{Path, PathBuf};

use anyhow::Context as _;

use cargo_fn::bench::{self, BenchOptions, BenchRequest, Host, HostSetup, Report, Skipped, prices};
use cargo_fn::run::RunArgs;

/// Measure the function's cold start, latency, memory and estimated bill
/// on each host available here
///
/// Runs the function's own requests (--requests FILE; default: GET /) on
/// each host, one after the other, and prints one table: cold start
/// (start to first response, compiling and from precompiled code),
/// instantiation, latency p50/p99 and requests per second with a fresh
/// instance per request, peak guest memory and host RSS. Next to it, the
/// raw anchor (a hello on the `wasi` crate, no SDK) measured the same way,
/// and an estimate of the bill per million invocations on AWS Lambda,
/// Google Cloud Run / Functions, Azure Functions, Cloudflare Workers and
/// Netlify at --memory-size MB.
///
/// Hosts: in-process (`cargo fn serve`'s runtime, in this process), serve
/// (`cargo fn serve` as a process), native (the cloud runner, when
/// $FN_RUNNER names one or one was built before; `--host native` builds
/// it), wasmtime (`wasmtime serve`, when on PATH or named by
/// $FN_WASMTIME) and workerd (the Cloudflare Worker `cargo fn deploy`
/// writes, when workerd and wrangler are in $FN_JS_HOSTS/node_modules/.bin
/// or on PATH). Builds the package first when given a package (or
/// nothing) instead of a .wasm file.
///
/// Requests file (JSON: one object, an array, or one per line):
///   {"method": "POST", "path": "/orders", "json": {"sku": "A-1"}}
///   {"event": {"type": "com.example.order.placed", "data": {"id": 7}}}
///
/// Examples:
///   cargo fn bench
///   cargo fn bench target/fn/hello.wasm -n 5000 --host in-process --host wasmtime
///   cargo fn bench --requests requests.json --memory-size 256 --json
#[derive(Debug, clap::Args)]
#[command(verbatim_doc_comment)]
pub struct Args {
    #[command(flatten)]
    pub run: RunArgs,
    /// The requests to send, in turn (default: GET /)
    #[arg(long, value_name = "FILE")]
    pub requests: Option<PathBuf>,
    /// Requests measured per host (after a warm-up of a tenth as many)
    #[arg(short = 'n', long = "count", value_name = "N", default_value_t = 2000)]
    pub count: usize,
    /// Requests in flight at once
    #[arg(long, short = 'c', value_name = "N", default_value_t = 1)]
    pub concurrency: usize,
    /// Only these hosts (repeatable; default: every one available here)
    #[arg(long = "host", value_enum, value_name = "HOST")]
    pub hosts: Vec<Host>,
    /// Leave out the raw anchor (which is built on first use)
    #[arg(long)]
    pub no_anchor: bool,
    /// The memory size the cost estimate assumes, in MB
    #[arg(long, value_name = "MB", default_value_t = 128)]
    pub memory_size: u32,
    /// Print the report as JSON on stdout
    #[arg(long)]
    pub json: bool,
}

impl Args {
    /// Runs `cargo fn bench`.
    pub fn run(self) -> anyhow::Result<()> {
        if self.count == 0 {
            anyhow::bail!("-n must be at least 1");
        }
        if self.memory_size < 128 {
            anyhow::bail!("--memory-size must be at least 128 (MB)");
        }
        let requests = match &self.requests {
            Some(file) => bench::requests::read(file)?,
            None => vec![BenchRequest::default()],
        };
        let artifact = self.run.artifact()?;
        let name = artifact
            .file_stem()
            .map_or("function".into(), |s| s.to_string_lossy().into_owned());
        let opts = BenchOptions {
            requests: requests.clone(),
            requests_per_host: self.count,
            concurrency: self.concurrency.max(1),
            memory_mb: self.memory_size,
            limits: self.run.limits()?,
            progress: std::io::stderr().is_terminal(),
        };
        let (setup, mut skipped) = self.setup();
        let hosts: Vec<Host> = if self.hosts.is_empty() {
            Host::ALL
                .into_iter()
                .filter(|host| available(*host, &setup))
                .collect()
        } else {
            self.hosts.clone()
        };
        let anchor = if self.no_anchor {
            None
        } else {
            match self.anchor() {
                Ok(path) => Some(path),
                Err(err) => {
                    skipped.push(Skipped {
                        host: "raw anchor".into(),
                        reason: format!("{err:#}"),
                    });
                    None
                }
            }
        };

        let tokio = tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()?;
        let mut reports = Vec::new();
        let mut anchors = Vec::new();
        let anchor_opts = BenchOptions {
            requests: vec![BenchRequest::default()],
            ..opts.clone()
        };
        for host in &hosts {
            fn_pipeline::status_line("Measuring", &format!("{} on {}", name, host.id()));
            match tokio.block_on(bench::measure(*host, &name, &artifact, &opts, &setup)) {
                Ok(report) => reports.push(report),
                Err(err) if self.hosts.is_empty() => {
                    skipped.push(Skipped {
                        host: host.id().into(),
                        reason: format!("{err:#}"),
                    });
                    continue;
                }
                Err(err) => {
                    return Err(err.context(format!("measuring on {}", host.id())));
                }
            }
            // Right after the function, on the same host, so that load from
            // other processes affects both alike.
            if let Some(path) = &anchor {
                fn_pipeline::status_line("Measuring", &format!("the raw anchor on {}", host.id()));
                let report = tokio
                    .block_on(bench::measure(
                        *host,
                        "raw-anchor",
                        path,
                        &anchor_opts,
                        &setup,
                    ))
                    .with_context(|| format!("measuring the raw anchor on {}", host.id()))?;
                anchors.push(report);
            }
        }
        let billed = reports
            .iter()
            .find(|r| r.host == Host::InProcess.id())
            .or(reports.first())
            .map_or(0.0, |r| r.latency.p50_us / 1000.0);
        let report = Report {
            artifact: artifact.display().to_string(),
            size: std::fs::metadata(&artifact)?.len(),
            requests: requests.iter().map(BenchRequest::label).collect(),
            concurrency: opts.concurrency,
            hosts: reports,
            anchor_size: anchor
                .as_ref()
                .and_then(|path| std::fs::metadata(path).ok())
                .map(|m| m.len()),
            anchors,
            skipped,
            memory_mb: self.memory_size,
            billed_duration_ms: billed,
            costs: prices::estimate(billed, self.memory_size),
            prices_as_of: prices::AS_OF,
        };
        if self.json {
            println!("{}", serde_json::to_string_pretty(&report)?);
        } else {
            print!("{}", report.render());
        }
        if report.hosts.is_empty() {
            anyhow::bail!("no host could run the function");
        }
        Ok(())
    }

    /// The programs of the process hosts, and why missing ones are missing.
    fn setup(&self) -> (HostSetup, Vec<Skipped>) {
        let mut skipped = Vec::new();
        let wanted = |host: Host| self.hosts.is_empty() || self.hosts.contains(&host);
        let cargo_fn = std::env::current_exe().ok();
        let wasmtime = std::env::var_os("FN_WASMTIME")
            .map(PathBuf::from)
            .or_else(|| find_on_path("wasmtime"));
        if wasmtime.is_none() && wanted(Host::Wasmtime) {
            skipped.push(Skipped {
                host: Host::Wasmtime.id().into(),
                reason: "no wasmtime on PATH (set $FN_WASMTIME to use one elsewhere)".into(),
            });
        }
        let runner = if self.hosts.contains(&Host::Native) {
            match cargo_fn::runner::runner(cargo_fn::runner::Arch::X86_64) {
                Ok(runner) => Some(runner.path),
                Err(err) => {
                    skipped.push(Skipped {
                        host: Host::Native.id().into(),
                        reason: format!("{err:#}"),
                    });
                    None
                }
            }
        } else {
            let runner = cargo_fn::runner::existing(cargo_fn::runner::Arch::X86_64);
            if runner.is_none() && wanted(Host::Native) {
                skipped.push(Skipped {
                    host: Host::Native.id().into(),
                    reason:
                        "no fn-runner built yet (`--host native` builds one, or set $FN_RUNNER)"
                            .into(),
                });
            }
            runner
        };
        let workerd = js_hosts();
        if workerd.is_none() && wanted(Host::Workerd) {
            skipped.push(Skipped {
                host: Host::Workerd.id().into(),
                reason: "no workerd and wrangler ($FN_JS_HOSTS/node_modules/.bin, or on PATH)"
                    .into(),
            });
        }
        (
            HostSetup {
                cargo_fn,
                runner,
                wasmtime,
                workerd,
            },
            skipped,
        )
    }

    /// Builds the raw anchor (once: later runs are no-ops for cargo) in the
    /// function's target directory, or cargo-fn's cache outside a project.
    fn anchor(&self) -> anyhow::Result<PathBuf> {
        let opts = self.run.build.options(true);
        let target_dir = match &opts.target_dir {
            Some(dir) => dir.clone(),
            None => match fn_pipeline::cargo::metadata(&opts) {
                Ok(meta) => meta.target_directory.into_std_path_buf(),
                Err(_) => cargo_fn::runner::cache_dir(|name| std::env::var_os(name))?
                    .parent()
                    .map_or_else(|| PathBuf::from("target"), Path::to_path_buf),
            },
        };
        let component = fn_pipeline::adapter::build_anchor(
            "raw-hello",
            &fn_pipeline::adapter::AdapterOptions {
                target_dir: target_dir.clone(),
                wit: fn_pipeline::adapter::WitSource::Registry,
                offline: opts.offline,
                quiet: false,
            },
        )
        .context("building the raw anchor (pass --no-anchor to leave it out)")?;
        let path = target_dir.join("fn").join("anchors").join("raw-hello.wasm");
        cargo_fn::fs::write_atomic(&path, &component)
            .with_context(|| format!("writing {}", path.display()))?;
        Ok(path)
    }
}

/// Whether `host` can run without building anything.
fn available(host: Host, setup: &HostSetup) -> bool {
    match host {
        Host::InProcess => true,
        Host::Serve => setup.cargo_fn.is_some(),
        Host::Native => setup.runner.is_some(),
        Host::Wasmtime => setup.wasmtime.is_some(),
        Host::Workerd => setup.workerd.is_some(),
    }
}

/// `workerd` and `wrangler`: from `$FN_JS_HOSTS/node_modules/.bin` (the
/// folder `scripts/test` installs them in), else from PATH.
fn js_hosts() -> Option<(PathBuf, PathBuf)> {
    if let Some(dir) = std::env::var_os("FN_JS_HOSTS") {
        let bin = PathBuf::from(dir).join("node_modules/.bin");
        let (workerd, wrangler) = (bin.join("workerd"), bin.join("wrangler"));
        return (workerd.is_file() && wrangler.is_file()).then_some((workerd, wrangler));
    }
    Some((find_on_path("workerd")?, find_on_path("wrangler")?))
}

fn find_on_path(program: &str) -> Option<PathBuf> {
    std::env::split_paths(&std::env::var_os("PATH")?)
        .map(|dir| dir.join(program))
        .find(|path| path.is_file())
}
