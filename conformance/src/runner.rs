//! The native runner (`fn-runner`, what `cargo fn deploy --provider
//! lambda|azure|cloudrun` ships) as a host under test: the artifact in a
//! bundle (`fn-bundle.json` pinning `fn.wasm` by digest), config from
//! environment variables as on the clouds, key-value on a real Redis
//! (`fn_host_test::redis::RedisServer`), served in `http` mode (Cloud Run),
//! `azure` mode (a custom handler: HTTP triggers are forwarded as they
//! came) or `lambda` mode, polling the Runtime API of `cargo lambda watch
//! --only-lambda-apis` (the `cargo-lambda` wheel, `$FN_CARGO_LAMBDA` or on
//! `PATH`), requests going through the emulator's Function URL (payload
//! format 2.0).
//!
//! Before every step the function's keys are wiped and the preset written
//! again, so each request starts from the same state as on the other hosts.

use anyhow::Context as _;
use fn_host_test::RedisConfig;
use fn_host_test::redis::RedisServer;
use fn_runtime::bundle::{
    BundleFile, BundleLimits, ConfigVar, KeyValueSpec, MANIFEST, Manifest, sha256_digest,
};
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;
use std::time::Duration;

use crate::child::ChildHost;

/// The function name in bundles, and so the Redis namespace.
const NAME: &str = "conformance";

/// The environment variable with the key-value URL.
const KV_URL_ENV: &str = "FN_KV_URL";

/// How the runner is spoken to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RunnerMode {
    /// `http`: Cloud Run, Cloud Functions, containers.
    Http,
    /// `azure`: the Azure Functions custom handler, HTTP forwarded.
    Azure,
    /// `lambda`: the Runtime API loop, behind the emulator's Function URL.
    Lambda,
}

impl RunnerMode {
    /// The mode's name on the runner's command line.
    pub fn name(self) -> &'static str {
        match self {
            RunnerMode::Http => "http",
            RunnerMode::Azure => "azure",
            RunnerMode::Lambda => "lambda",
        }
    }
}

/// The function name the Lambda emulator gives a runtime started by hand.
const LAMBDA_FUNCTION: &str = "_";

/// The `cargo-lambda` binary: `$FN_CARGO_LAMBDA`, else on `PATH`.
fn cargo_lambda() -> anyhow::Result<PathBuf> {
    if let Some(path) = std::env::var_os("FN_CARGO_LAMBDA") {
        return Ok(PathBuf::from(path));
    }
    std::env::var_os("PATH")
        .and_then(|paths| {
            std::env::split_paths(&paths)
                .map(|dir| dir.join("cargo-lambda"))
                .find(|candidate| candidate.is_file())
        })
        .context("cargo-lambda is not installed: the runner's lambda mode is compared under its Runtime API emulator; `pip install cargo-lambda==1.9.2` (.ci/run does) or point $FN_CARGO_LAMBDA at it")
}

/// Starts `cargo lambda watch --only-lambda-apis` on a free loopback port
/// in `dir` (it wants a package there, even though it builds nothing).
fn start_emulator(dir: &Path) -> anyhow::Result<ChildHost> {
    std::fs::create_dir_all(dir.join("src"))?;
    std::fs::write(
        dir.join("Cargo.toml"),
        "[package]\nname = \"emulated\"\nversion = \"0.0.0\"\nedition = \"2021\"\n",
    )?;
    std::fs::write(dir.join("src/main.rs"), "fn main() {}\n")?;
    let addr = std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?;
    let mut cmd = Command::new(cargo_lambda()?);
    cmd.args(["lambda", "watch", "--only-lambda-apis", "--invoke-address"])
        .arg("127.0.0.1")
        .arg("--invoke-port")
        .arg(addr.port().to_string())
        .current_dir(dir);
    ChildHost::spawn_listening(cmd, "cargo lambda watch", addr, Duration::from_secs(60))
}

/// The `fn-runner` binary of this workspace (dev profile), as the
/// workspace's own test run (`cargo test --workspace`, what `scripts/test`
/// runs) builds it; built once per process; `$FN_RUNNER_BIN` names another.
///
/// `cargo build -p fn-runner` would resolve features for that one package
/// and build wasmtime and everything under it a second time (ten minutes
/// on a fresh 2-core machine); `cargo test --workspace --no-run` selecting
/// only the runner's own integration test resolves them for the whole
/// workspace with dev-dependencies, exactly as the outer test run did, so
/// it finds everything built and costs a second.
pub fn runner_binary() -> anyhow::Result<PathBuf> {
    static BUILT: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    BUILT
        .get_or_init(|| {
            if let Some(path) = std::env::var_os("FN_RUNNER_BIN") {
                return Ok(PathBuf::from(path));
            }
            let workspace = Path::new(env!("CARGO_MANIFEST_DIR"))
                .parent()
                .expect("conformance/ lives in the workspace");
            let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
            let status = Command::new(cargo)
                .args(["test", "--workspace", "--locked", "--no-run", "--quiet"])
                .args(["--test", RUNNER_TEST])
                .current_dir(workspace)
                .status()
                .map_err(|e| format!("running cargo: {e}"))?;
            if !status.success() {
                return Err(format!(
                    "`cargo test --workspace --no-run --test {RUNNER_TEST}` (which builds fn-runner) failed: {status}"
                ));
            }
            let target = std::env::var_os("CARGO_TARGET_DIR")
                .map(PathBuf::from)
                .unwrap_or_else(|| workspace.join("target"));
            let path = target.join("debug").join("fn-runner");
            if !path.is_file() {
                return Err(format!("cargo built no {}", path.display()));
            }
            Ok(path)
        })
        .clone()
        .map_err(anyhow::Error::msg)
}

/// The integration test of the runner package (`runner/tests/lambda.rs`):
/// building it builds the `fn-runner` binary.
const RUNNER_TEST: &str = "lambda";

/// A running runner of one bundle, with its Redis. Killed on drop.
pub struct Runner {
    host: ChildHost,
    /// The Lambda emulator, in lambda mode: requests go to it.
    emulator: Option<ChildHost>,
    redis: RedisServer,
    _bundle: tempfile::TempDir,
}

impl Runner {
    /// Bundles `artifact` with `config` (each key read from its own
    /// environment variable) and serves it in `mode` on a free loopback port.
    pub fn start(
        artifact: &Path,
        config: &[(String, String)],
        mode: RunnerMode,
    ) -> anyhow::Result<Self> {
        let bundle = tempfile::tempdir()?;
        let wasm =
            std::fs::read(artifact).with_context(|| format!("reading {}", artifact.display()))?;
        std::fs::write(bundle.path().join("fn.wasm"), &wasm)?;
        let mut vars = BTreeMap::new();
        let mut cmd = Command::new(runner_binary()?);
        for (i, (key, value)) in config.iter().enumerate() {
            let env = format!("FN_CONFIG_{i}");
            cmd.env(&env, value);
            vars.insert(
                key.clone(),
                ConfigVar {
                    env,
                    secret: false,
                    default: None,
                },
            );
        }
        let manifest = Manifest {
            name: NAME.into(),
            version: "0.0.0".into(),
            component: BundleFile {
                path: "fn.wasm".into(),
                digest: sha256_digest(&wasm),
            },
            precompiled: None,
            trusted_keys: vec![],
            config: vars,
            key_value: Some(KeyValueSpec {
                stores: vec![fn_host_test::DEFAULT_STORE.into()],
                url_env: KV_URL_ENV.into(),
            }),
            outbound_http: true,
            limits: BundleLimits::default(),
            events: vec![],
        };
        std::fs::write(
            bundle.path().join(MANIFEST),
            serde_json::to_vec_pretty(&manifest)?,
        )?;
        let redis = RedisServer::start()?;
        cmd.env(KV_URL_ENV, redis.url())
            .args(["--mode", mode.name(), "--addr", "127.0.0.1:0", "--bundle"])
            .arg(bundle.path());
        let what = format!("fn-runner --mode {}", mode.name());
        let (host, emulator) = match mode {
            RunnerMode::Http | RunnerMode::Azure => {
                let marker = if mode == RunnerMode::Http {
                    "serving on http://"
                } else {
                    "custom handler on http://"
                };
                let host = ChildHost::spawn(cmd, &what, marker, Duration::from_secs(120))?;
                (host, None)
            }
            RunnerMode::Lambda => {
                let emulator = start_emulator(&bundle.path().join("emulator"))?;
                let api = emulator.addr();
                cmd.env("AWS_LAMBDA_RUNTIME_API", format!("http://{api}/.rt"))
                    .env("AWS_LAMBDA_FUNCTION_NAME", LAMBDA_FUNCTION)
                    .env("AWS_LAMBDA_FUNCTION_VERSION", "1")
                    .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128");
                // It listens on nothing: it polls the emulator, which holds
                // requests until it does.
                let host = ChildHost::spawn_listening(cmd, &what, api, Duration::from_secs(5))?;
                (host, Some(emulator))
            }
        };
        Ok(Runner {
            host,
            emulator,
            redis,
            _bundle: bundle,
        })
    }

    /// The address requests go to.
    pub fn addr(&self) -> SocketAddr {
        self.emulator.as_ref().unwrap_or(&self.host).addr()
    }

    /// What requests' paths are prefixed with: the Function URL's in lambda
    /// mode.
    pub fn path_prefix(&self) -> String {
        match self.emulator {
            Some(_) => format!("/lambda-url/{LAMBDA_FUNCTION}"),
            None => String::new(),
        }
    }

    /// What it (and the emulator) printed so far.
    pub fn output(&self) -> String {
        match &self.emulator {
            Some(emulator) => format!(
                "{}--- cargo lambda watch:\n{}",
                self.host.output(),
                emulator.output()
            ),
            None => self.host.output(),
        }
    }

    /// Empties Redis and writes `preset` into the default store.
    pub fn reset_kv(&self, preset: &[(String, String)]) -> anyhow::Result<()> {
        let mut redis = redis::Client::open(self.redis.url())?
            .get_connection()
            .context("connecting to the runner's Redis")?;
        let () = redis::cmd("FLUSHDB").query(&mut redis)?;
        let config = RedisConfig::new(self.redis.url(), NAME);
        for (key, value) in preset {
            let () = redis::cmd("SET")
                .arg(config.key(fn_host_test::DEFAULT_STORE, key))
                .arg(value)
                .query(&mut redis)?;
        }
        Ok(())
    }
}
