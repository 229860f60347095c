//! What `serve` and `invoke` run: a component file, or a package built on
//! the spot (with the build flags of `cargo fn build`); and the runtime
//! settings (limits, key-value, config) both share.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context as _, bail};
use fn_runtime::{Function, Limits, Runtime, RuntimeConfig};

use crate::args::BuildArgs;

/// The config keys the code of `built` declares secret (`fnsdk::config!`).
pub fn secrets(built: &fn_pipeline::Built) -> BTreeSet<String> {
    built
        .declared
        .config
        .iter()
        .filter(|decl| decl.secret)
        .map(|decl| decl.key.clone())
        .collect()
}

/// The function to run (a component file, or a package to build first)
/// and the runtime settings to run it with.
#[derive(Debug, Clone, clap::Args)]
pub struct RunArgs {
    /// A component file (`*.wasm`) or a package name to build first;
    /// default: the package in the current directory
    #[arg(value_name = "PKG|FILE", conflicts_with = "package")]
    pub function: Option<String>,
    #[command(flatten)]
    pub build: BuildArgs,
    /// Build with the dev profile instead of release (`--profile dev`)
    #[arg(long, conflicts_with_all = ["release", "profile"])]
    pub debug: bool,
    /// A configuration value for `wasi:config` (repeatable)
    #[arg(long = "config", value_name = "KEY=VALUE", value_parser = parse_pair)]
    pub config: Vec<(String, String)>,
    /// Configuration values from a JSON object file `{"key": "value"}`
    #[arg(long, value_name = "FILE")]
    pub config_file: Option<PathBuf>,
    /// A key-value entry in the `default` store (repeatable)
    #[arg(long = "kv", value_name = "KEY=VALUE", value_parser = parse_pair)]
    pub kv: Vec<(String, String)>,
    /// Wall-clock limit per call, in seconds
    #[arg(long, value_name = "SECS", default_value_t = 30.0)]
    pub timeout: f64,
    /// Time a request body may take to arrive, in seconds; a slower (or
    /// stalled) client gets 408 without the function running
    #[arg(long, value_name = "SECS", default_value_t = 10.0)]
    pub body_timeout: f64,
    /// Linear-memory limit per call, in MiB
    #[arg(long, value_name = "MIB", default_value_t = 128)]
    pub memory: u64,
    /// Largest request body accepted, in bytes (larger gets 413)
    #[arg(long, value_name = "BYTES", default_value_t = 10 << 20)]
    pub max_body: usize,
    /// Most calls running at once (the instance pool); a request that
    /// finds every instance busy gets 503 with Retry-After at once
    #[arg(long, value_name = "N", default_value_t = RuntimeConfig::default().max_instances)]
    pub max_instances: u32,
    /// Refuse outbound HTTP from the function (default: allowed)
    #[arg(long)]
    pub no_outbound: bool,
    /// Only run the component if signed by this public key (repeatable);
    /// unsigned or tampered artifacts are refused
    #[arg(long = "trusted-key", value_name = "PUB")]
    pub trusted_keys: Vec<PathBuf>,
}

/// A `KEY=VALUE` argument (`--config`, `--kv`).
pub fn parse_pair(s: &str) -> Result<(String, String), String> {
    match s.split_once('=') {
        Some((k, v)) if !k.is_empty() => Ok((k.to_owned(), v.to_owned())),
        _ => Err(format!("expected KEY=VALUE, got {s:?}")),
    }
}

impl RunArgs {
    /// The artifact: the file as given, or the result of building.
    pub fn artifact(&self) -> anyhow::Result<PathBuf> {
        Ok(self.artifact_and_secrets()?.0)
    }

    /// The artifact, and the config keys its code declares secret
    /// (`fnsdk::config!`) when it was built here; none for a file, whose
    /// declarations were stripped by the build.
    pub fn artifact_and_secrets(&self) -> anyhow::Result<(PathBuf, BTreeSet<String>)> {
        let Some(opts) = self.build_options()? else {
            let file = self.function.as_deref().unwrap_or_default();
            return Ok((PathBuf::from(file), BTreeSet::new()));
        };
        let built = fn_pipeline::build(&opts).context("building the function")?;
        let secrets = secrets(&built);
        Ok((built.artifact, secrets))
    }

    /// How to build the function; `None` when it is a component file
    /// (which must exist).
    pub fn build_options(&self) -> anyhow::Result<Option<fn_pipeline::BuildOptions>> {
        if let Some(function) = &self.function {
            let path = Path::new(function);
            if function.ends_with(".wasm") || path.is_file() {
                if !path.is_file() {
                    bail!(
                        "component file {function} not found; run `cargo fn build --release` first"
                    );
                }
                return Ok(None);
            }
        }
        let mut opts = self.build.options(true);
        if self.debug {
            opts.profile = Some("dev".into());
        }
        if let Some(package) = &self.function {
            opts.package = Some(package.clone());
        }
        Ok(Some(opts))
    }

    /// The per-call limits from the flags.
    pub fn limits(&self) -> anyhow::Result<Limits> {
        if !(self.timeout.is_finite() && self.timeout > 0.0) {
            bail!("--timeout must be a positive number of seconds");
        }
        if !(self.body_timeout.is_finite() && self.body_timeout > 0.0) {
            bail!("--body-timeout must be a positive number of seconds");
        }
        Ok(Limits::default()
            .with_timeout(Duration::from_secs_f64(self.timeout))
            .with_body_timeout(Duration::from_secs_f64(self.body_timeout))
            .with_memory(self.memory << 20)
            .with_max_request_body(self.max_body))
    }

    /// Loads the artifact on `runtime` (which verifies its signature when
    /// built with `--trusted-key`s, see [`RunArgs::runtime_for`]) and
    /// applies limits, config and kv.
    pub fn load(&self, runtime: &Runtime, artifact: &Path) -> anyhow::Result<Function> {
        let function = runtime
            .load(artifact)
            .with_context(|| format!("loading {}", artifact.display()))?;
        function.set_limits(self.limits()?)?;
        if let Some(file) = &self.config_file {
            let text = std::fs::read_to_string(file)
                .with_context(|| format!("reading {}", file.display()))?;
            let map: std::collections::BTreeMap<String, String> = serde_json::from_str(&text)
                .with_context(|| {
                    format!("{} must be a JSON object of string values", file.display())
                })?;
            for (k, v) in map {
                function.set_config(k, v);
            }
        }
        for (k, v) in &self.config {
            function.set_config(k.clone(), v.clone());
        }
        for (k, v) in &self.kv {
            function.kv().set(k, v.as_bytes().to_vec());
        }
        function.mocks().allow_network(!self.no_outbound);
        Ok(function)
    }

    /// A runtime for the CLI: precompiled components cached next to the
    /// artifact, so the next `serve` starts without compiling, and trusting
    /// exactly the `--trusted-key`s (none: signatures are not checked).
    pub fn runtime_for(&self, artifact: &Path) -> anyhow::Result<Runtime> {
        let cache_dir = artifact
            .parent()
            .map(|dir| dir.join(".cache"))
            .filter(|dir| std::fs::create_dir_all(dir).is_ok());
        let trusted_keys = crate::keys::load_public_keys(&self.trusted_keys)?;
        if self.max_instances == 0 {
            bail!("--max-instances must be at least 1");
        }
        let runtime = Runtime::new(RuntimeConfig {
            cache_dir,
            trusted_keys,
            max_instances: self.max_instances,
            ..RuntimeConfig::default()
        })?;
        Ok(runtime)
    }
}
