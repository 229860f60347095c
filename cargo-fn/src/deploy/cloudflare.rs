//! Cloudflare Workers: a Worker project that `wrangler deploy` takes as it
//! is. The published component, transpiled ([`super::js`]), runs under
//! `worker.js`:
//!
//! - `wrangler.jsonc`: `main`, a fixed `compatibility_date`, the rule that
//!   makes `.wasm` imports compiled modules, `vars` for configuration with
//!   a default, a KV namespace per key-value store (`FN_KV_<STORE>`, no id:
//!   wrangler provisions one on the first deploy), the `FnAtomics` Durable
//!   Object when the component increments counters, and the schedule as a
//!   cron trigger;
//! - `worker.js`, `glue.js`, `wasi.js`: the project's glue; `fn-bundle.js`: the pinned
//!   component and its declarations; `component/`: the transpiled
//!   component; `package.json`: the WASI shim, pinned.
//!
//! Secrets are never written: `wrangler secret put FN_CONFIG_<KEY>`.

use anyhow::bail;
use serde_json::{Map, Value, json};

use super::files::{Entry, Output};
use super::{Deployment, cron, js, native};

/// The Worker's entry module.
const WORKER_JS: &str = include_str!("js/worker.js");

/// The date the glue is written against: fixed, so that the same component
/// gives the same project.
pub const COMPATIBILITY_DATE: &str = "2025-09-01";

/// The binding of the Durable Object that serialises increments.
pub const ATOMICS_BINDING: &str = "FN_ATOMICS";
/// Its class, exported by `worker.js`.
const ATOMICS_CLASS: &str = "FnAtomics";

/// The KV namespace binding of a key-value store: `default` → `FN_KV_DEFAULT`.
pub fn kv_binding(store: &str) -> String {
    format!("FN_KV_{}", store.to_ascii_uppercase().replace('-', "_"))
}

/// Whether the component imports `wasi:keyvalue/atomics`.
fn imports_atomics(wasm: &[u8]) -> anyhow::Result<bool> {
    let report = fn_pipeline::report::inspect(wasm)?;
    Ok(report
        .imports
        .iter()
        .any(|i| i.name.starts_with("wasi:keyvalue/atomics@")))
}

/// Refuses what Workers cannot run, before anything is written: a schedule
/// their cron triggers cannot express.
pub fn check(deployment: &Deployment) -> anyhow::Result<()> {
    if let Some(schedule) = &deployment.metadata.schedule
        && let Err(why) = cron::cloudflare(schedule)
    {
        bail!("schedule {schedule:?} cannot be a Workers cron trigger: {why}");
    }
    Ok(())
}

/// `wrangler.jsonc` (plain JSON, which JSONC includes).
pub fn wrangler_config(deployment: &Deployment, atomics: bool) -> anyhow::Result<Value> {
    let meta = &deployment.metadata;
    let vars: Map<String, Value> = meta
        .config
        .iter()
        .filter(|(_, decl)| !decl.secret)
        .filter_map(|(key, decl)| {
            decl.default
                .as_ref()
                .map(|value| (native::config_env(key), json!(value)))
        })
        .collect();
    let mut config = json!({
        "$schema": "node_modules/wrangler/config-schema.json",
        "name": deployment.component_id(),
        "main": "worker.js",
        "compatibility_date": COMPATIBILITY_DATE,
        "rules": [{ "type": "CompiledWasm", "globs": ["**/*.wasm"], "fallthrough": true }],
        "vars": vars,
    });
    if !meta.key_value.is_empty() {
        config["kv_namespaces"] = meta
            .key_value
            .iter()
            .map(|store| json!({ "binding": kv_binding(store) }))
            .collect();
    }
    if atomics {
        config["durable_objects"] =
            json!({ "bindings": [{ "name": ATOMICS_BINDING, "class_name": ATOMICS_CLASS }] });
        config["migrations"] = json!([{ "tag": "v1", "new_sqlite_classes": [ATOMICS_CLASS] }]);
    }
    if let Some(schedule) = &meta.schedule {
        let cron = cron::cloudflare(schedule)
            .map_err(|why| anyhow::anyhow!("schedule {schedule:?}: {why}"))?;
        config["triggers"] = json!({ "crons": [cron] });
    }
    Ok(config)
}

/// The Worker project for the published component `wasm`.
pub fn package(deployment: &Deployment, wasm: &[u8]) -> anyhow::Result<Output> {
    check(deployment)?;
    let atomics = imports_atomics(wasm)?;
    let transpiled = js::transpile(wasm, true)?;
    let meta = &deployment.metadata;
    let mut extra = Map::new();
    extra.insert(
        "kvBindings".into(),
        meta.key_value
            .iter()
            .map(|store| (store.clone(), json!(kv_binding(store))))
            .collect::<Map<_, _>>()
            .into(),
    );
    extra.insert(
        "atomicsBinding".into(),
        if atomics {
            json!(ATOMICS_BINDING)
        } else {
            Value::Null
        },
    );
    let limits = fn_runtime::Limits::default();
    let data = js::bundle_data(deployment, limits.max_request_body, extra);
    let bundle = js::bundle_module(&data, &transpiled, |binding, file| {
        format!(
            "import {binding} from {};",
            json!(format!("./{}", file.path))
        )
    })?;
    let mut files = vec![
        Entry::json("wrangler.jsonc", &wrangler_config(deployment, atomics)?)?,
        Entry::file("worker.js", WORKER_JS),
        Entry::file("glue.js", js::GLUE_JS),
        // workerd resolves the package to its browser build.
        js::wasi_module(js::PREVIEW2_SHIM.0)?,
        Entry::file("fn-bundle.js", bundle),
        js::package_json(deployment, &[])?,
    ];
    let (raw, gzip) = transpiled.sizes();
    files.extend(transpiled.files);
    let mut notes = vec![format!(
        "install the WASI shim, then deploy: `npm install && npx wrangler deploy` (the component is {raw} bytes transpiled, {gzip} gzipped)"
    )];
    for (key, env, secret) in deployment.config_to_supply() {
        notes.push(if secret {
            format!("secret `{key}`: `npx wrangler secret put {env}` before the first request")
        } else {
            format!("config `{key}` has no default: add {env} to \"vars\" in wrangler.jsonc")
        });
    }
    if !meta.key_value.is_empty() {
        notes.push(format!(
            "key-value stores are KV namespaces ({}); wrangler creates them on the first deploy",
            meta.key_value
                .iter()
                .map(|s| kv_binding(s))
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    Ok(Output {
        files,
        main: "wrangler.jsonc".into(),
        notes,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wrangler_config_binds_what_the_function_declares() {
        let mut deployment = super::super::sample();
        deployment.metadata.schedule = Some("0 9 * * 1-5".into());
        let config = wrangler_config(&deployment, true).unwrap();
        assert_eq!(config["name"], "checkout-fn");
        assert_eq!(config["main"], "worker.js");
        assert_eq!(
            config["vars"],
            json!({ "FN_CONFIG_PAYMENT_API_URL": "https://api.stripe.com" }),
            "secrets and keys without a default are not vars"
        );
        assert_eq!(
            config["kv_namespaces"],
            json!([{ "binding": "FN_KV_DEFAULT" }, { "binding": "FN_KV_CACHE" }])
        );
        assert_eq!(
            config["durable_objects"]["bindings"][0]["class_name"],
            "FnAtomics"
        );
        assert_eq!(config["triggers"]["crons"], json!(["0 9 * * MON-FRI"]));

        let config = wrangler_config(&deployment, false).unwrap();
        assert!(config.get("durable_objects").is_none());
    }

    #[test]
    fn a_schedule_workers_cannot_run_is_refused_first() {
        let mut deployment = super::super::sample();
        deployment.metadata.schedule = Some("0 0 * * 5L".into());
        let err = check(&deployment).unwrap_err().to_string();
        assert!(err.contains("cannot be a Workers cron trigger"), "{err}");
    }
}
