//! NGINX Unit: `unit.json`, the configuration its control API takes
//! (`PUT /config`), running the component as a `wasm-wasi-component`
//! application, and the component next to it.
//!
//! Unit links all of WASI 0.2 and wasi:http but no key-value or config.
//! A function that uses either runs there composed with the files adapter
//! (`fn_pipeline::hosts::UNIT_FILES_ADAPTER`), written as `<id>.unit.wasm`:
//!
//! - key-value lives in `kv/` next to `unit.json`, a folder per declared
//!   store, which the application's `access.filesystem` preopens (Unit
//!   preopens each directory at its own path) and `FN_KV_DIR` names;
//! - config comes from `FN_CONFIG_<KEY>` in the application's
//!   `environment` (Unit's components inherit it): defaults are written,
//!   secrets and required values are the operator's to add.
//!
//! Any other function runs as published (`<id>.wasm`). Unit runs a
//! component from a local path, so the bytes are written next to
//! `unit.json`, the same bytes as the published layer or the composition
//! that embeds them.

use std::path::Path;

use serde_json::{Map, Value, json};

use super::files::{Entry, Output};
use super::{Deployment, native};
use fn_wit::keyvalue::files as kv_files;

/// The folder of the key-value stores, next to `unit.json`.
pub const KV_DIR: &str = "kv";
/// The listener `unit.json` passes to the application.
pub const LISTENER: &str = "*:8080";
/// An empty file that keeps a store's folder in archives and copies (a
/// name starting with a dot is never a key).
const KEEP: &str = ".keep";

/// The files for Unit, to be written to `out` (absolute: Unit takes the
/// component and the preopened directory by absolute path). `composed` is
/// the function composed with the files adapter, when it needs it; else
/// `wasm`, the published function, runs as it is.
pub fn package(
    deployment: &Deployment,
    out: &Path,
    wasm: &[u8],
    composed: Option<&[u8]>,
) -> anyhow::Result<Output> {
    let id = deployment.component_id();
    let meta = &deployment.metadata;
    let (component, bytes) = match composed {
        Some(bytes) => (format!("{id}.unit.wasm"), bytes),
        None => (format!("{id}.wasm"), wasm),
    };
    let mut environment = Map::new();
    let mut application = json!({
        "type": "wasm-wasi-component",
        "component": out.join(&component).display().to_string(),
    });
    let mut files = vec![Entry::file(component.clone(), bytes.to_vec())];
    let mut notes = Vec::new();
    if composed.is_some() {
        let kv = out.join(KV_DIR).display().to_string();
        if !meta.key_value.is_empty() {
            application["access"] = json!({ "filesystem": [kv] });
            environment.insert(kv_files::DIR_ENV.into(), json!(kv));
            for store in &meta.key_value {
                files.push(Entry::file(format!("{KV_DIR}/{store}/{KEEP}"), Vec::new()));
            }
            notes.push(format!(
                "key-value is kept in {kv} (a folder per store: {}); Unit's application user must be able to write there, so give it that folder or move it and change `access` and {} in unit.json",
                meta.key_value.join(", "),
                kv_files::DIR_ENV
            ));
        }
        for (key, decl) in &meta.config {
            if let (Some(value), false) = (&decl.default, decl.secret) {
                environment.insert(native::config_env(key), json!(value));
            }
        }
        for (key, variable, secret) in deployment.config_to_supply() {
            notes.push(if secret {
                format!("secret `{key}`: add {variable} to the application's environment in Unit's configuration (never written here)")
            } else {
                format!("config `{key}` has no default: add {variable} to the application's environment")
            });
        }
        notes.insert(
            0,
            format!(
                "{component} is the published function ({}) composed with the files adapter: Unit has no wasi:keyvalue or wasi:config, so key-value lives in files and config in FN_CONFIG_ variables",
                deployment.layer_digest
            ),
        );
    }
    if !environment.is_empty() {
        application["environment"] = Value::Object(environment);
    }
    if !meta.allowed_outbound_hosts.is_empty() {
        notes.push(format!(
            "Unit does not restrict outbound HTTP; the function declared {}",
            meta.allowed_outbound_hosts.join(", ")
        ));
    }
    if meta.route_or_wildcard() != "/..." {
        notes.push(format!(
            "the listener {LISTENER} passes every path to the function, not only {}: add a route in front to narrow it",
            meta.route_or_wildcard()
        ));
    }
    notes.insert(
        0,
        "load it into Unit: `curl -X PUT --data-binary @unit.json --unix-socket /var/run/control.unit.sock http://localhost/config` (Unit 1.32+, built with the wasm-wasi-component module)".to_owned(),
    );
    let config = json!({
        "listeners": { LISTENER: { "pass": format!("applications/{id}") } },
        "applications": { id: application },
    });
    files.insert(0, Entry::json("unit.json", &config)?);
    Ok(Output {
        files,
        main: "unit.json".into(),
        notes,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_composed_function_gets_its_stores_and_config_defaults() {
        let deployment = super::super::sample();
        let out = Path::new("/srv/checkout");
        let output = package(&deployment, out, b"function", Some(b"composed")).unwrap();
        let paths: Vec<&str> = output.files.iter().map(|f| f.path.as_str()).collect();
        assert_eq!(
            paths,
            [
                "unit.json",
                "checkout-fn.unit.wasm",
                "kv/default/.keep",
                "kv/cache/.keep"
            ]
        );
        assert_eq!(output.files[1].contents, b"composed");
        let config: Value = serde_json::from_slice(&output.files[0].contents).unwrap();
        assert_eq!(
            config["listeners"]["*:8080"]["pass"],
            "applications/checkout-fn"
        );
        let app = &config["applications"]["checkout-fn"];
        assert_eq!(app["type"], "wasm-wasi-component");
        assert_eq!(app["component"], "/srv/checkout/checkout-fn.unit.wasm");
        assert_eq!(app["access"]["filesystem"][0], "/srv/checkout/kv");
        assert_eq!(app["environment"]["FN_KV_DIR"], "/srv/checkout/kv");
        assert_eq!(
            app["environment"]["FN_CONFIG_PAYMENT_API_URL"],
            "https://api.stripe.com"
        );
        assert!(
            app["environment"]
                .get("FN_CONFIG_PAYMENT_API_KEY")
                .is_none(),
            "secrets never in the bundle"
        );
        assert!(
            output
                .notes
                .iter()
                .any(|n| n.contains("FN_CONFIG_PAYMENT_API_KEY"))
        );
    }

    #[test]
    fn a_function_without_capabilities_runs_as_published() {
        let mut deployment = super::super::sample();
        deployment.metadata.key_value.clear();
        deployment.metadata.config.clear();
        let output = package(&deployment, Path::new("/srv/x"), b"function", None).unwrap();
        assert_eq!(output.files.len(), 2);
        assert_eq!(output.files[1].path, "checkout-fn.wasm");
        assert_eq!(output.files[1].contents, b"function");
        let config: Value = serde_json::from_slice(&output.files[0].contents).unwrap();
        let app = &config["applications"]["checkout-fn"];
        assert!(app.get("access").is_none() && app.get("environment").is_none());
    }
}
