//! Start-up, the same in every mode: find the bundle, check it, load the
//! function on the runtime and feed it its configuration and key-value store.

use std::path::PathBuf;
use std::time::Instant;

use anyhow::Context as _;
use fn_runtime::bundle::{Bundle, Manifest, PrecompiledUse};
use fn_runtime::recording::{RecordOptions, Recorder};
use fn_runtime::server::FunctionHandler;
use fn_runtime::{Function, KeyValue, RedisConfig, Runtime, RuntimeConfig};

/// The bundle directory: `explicit` (`--bundle`/`$FN_BUNDLE`), else
/// `$LAMBDA_TASK_ROOT`, else the directory of this executable.
pub fn bundle_dir(explicit: Option<&PathBuf>) -> anyhow::Result<PathBuf> {
    if let Some(dir) = explicit {
        return Ok(dir.clone());
    }
    if let Some(root) = std::env::var_os("LAMBDA_TASK_ROOT") {
        return Ok(PathBuf::from(root));
    }
    let exe = std::env::current_exe().context("cannot find this executable's path")?;
    exe.parent()
        .map(|dir| dir.to_owned())
        .context("this executable has no parent directory; pass --bundle DIR")
}

/// A loaded bundle.
pub struct Loaded {
    /// The function, configured.
    pub function: Function,
    /// The bundle's manifest.
    pub manifest: Manifest,
}

/// Opens and loads the bundle: the component checked against its digest
/// (and signature, when the manifest names trusted keys), configuration
/// from the environment, key-value from the URL the manifest names.
/// `max_instances` bounds concurrent calls.
pub fn load(explicit: Option<&PathBuf>, max_instances: u32) -> anyhow::Result<Loaded> {
    let started = Instant::now();
    let dir = bundle_dir(explicit)?;
    let bundle = Bundle::open(&dir).with_context(|| format!("bundle {}", dir.display()))?;
    let config = bundle.runtime_config(RuntimeConfig {
        max_instances,
        ..RuntimeConfig::default()
    })?;
    let runtime = Runtime::new(config)?;
    let (function, precompiled) = bundle.load(&runtime)?;
    let (values, missing) = bundle.config_values(|name| std::env::var(name).ok());
    for (key, value) in values {
        function.set_config(key, value);
    }
    let function = configure_key_value(&bundle, function, |name| std::env::var(name).ok())?;
    let manifest = &bundle.manifest;
    let code = match precompiled {
        PrecompiledUse::Used => "precompiled code".to_owned(),
        PrecompiledUse::Absent => "compiled at start-up (no fn.cwasm)".to_owned(),
        PrecompiledUse::Rejected(why) => {
            format!("compiled at start-up: fn.cwasm not usable here ({why})")
        }
    };
    eprintln!(
        "fn-runner: {} {} ({}) loaded in {:.1?}, {code}",
        manifest.name,
        manifest.version,
        manifest.component.digest,
        started.elapsed()
    );
    if !missing.is_empty() {
        eprintln!(
            "fn-runner: warning: no value for config {}; the function gets an error reading them",
            missing.join(", ")
        );
    }
    Ok(Loaded {
        function,
        manifest: bundle.manifest,
    })
}

/// The server-side handler of `function`: with `--record`, its calls are
/// recorded into the directory as `--record-when` says, the manifest's
/// secret config values withheld.
pub fn handler(
    function: Function,
    manifest: &Manifest,
    args: &crate::Args,
) -> anyhow::Result<FunctionHandler> {
    let handler = FunctionHandler::new(function, !args.no_function_logs);
    let Some(dir) = &args.record else {
        return Ok(handler);
    };
    let options = RecordOptions {
        secrets: manifest
            .config
            .iter()
            .filter(|(_, var)| var.secret)
            .map(|(key, _)| key.clone())
            .collect(),
    };
    let recorder = Recorder::new(dir, args.record_when, options)
        .with_context(|| format!("cannot create the recording directory {}", dir.display()))?;
    eprintln!(
        "fn-runner: recording calls ({:?}) into {}",
        args.record_when,
        dir.display()
    );
    Ok(handler.with_recorder(recorder))
}

/// Gives `function` the key-value store the manifest asks for: the URL in
/// the variable it names, `redis://` or `memory:`.
fn configure_key_value(
    bundle: &Bundle,
    function: Function,
    env: impl Fn(&str) -> Option<String>,
) -> anyhow::Result<Function> {
    let Some(spec) = &bundle.manifest.key_value else {
        return Ok(function);
    };
    let Some(url) = env(&spec.url_env) else {
        anyhow::bail!(
            "the function uses key-value stores ({}) and ${} is not set: set it to redis://HOST:PORT (or `memory:` for a store private to each instance, lost when it stops)",
            spec.stores.join(", "),
            spec.url_env
        );
    };
    if url == "memory:" {
        let kv: &KeyValue = function.kv();
        for store in &spec.stores {
            kv.store(store);
        }
        eprintln!(
            "fn-runner: key-value in memory (per instance, lost when it stops): {}",
            spec.stores.join(", ")
        );
        return Ok(function);
    }
    if !url.starts_with("redis://") {
        anyhow::bail!(
            "${} does not hold a supported key-value URL; use redis://[USER:PASSWORD@]HOST:PORT[/DB] or memory:",
            spec.url_env
        );
    }
    // Keys live under fn:<function name>:<store>:, so functions can share a
    // Redis without seeing each other's data.
    let config = RedisConfig::new(url, bundle.manifest.name.clone()).stores(spec.stores.clone());
    let kv = KeyValue::redis(config)
        .with_context(|| format!("the key-value URL in ${}", spec.url_env))?;
    eprintln!(
        "fn-runner: key-value on Redis (stores {}; keys fn:{}:<store>:<key>)",
        spec.stores.join(", "),
        bundle.manifest.name
    );
    Ok(function.with_key_value(kv))
}
