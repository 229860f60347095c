//! jco on Node.js: a Node.js server (`server.mjs`) running the component
//! transpiled by jco's crate (js-component-bindgen) on jco's WASI shim, the
//! Node.js build of @bytecodealliance/preview2-shim, as `jco serve` runs a
//! component, but with a fresh instance per request.
//!
//! The shim has all of WASI 0.2 and wasi:http but no key-value or config.
//! A function that uses either runs composed with the files adapter
//! (`fn_pipeline::hosts::JCO_FILES_ADAPTER`): each store is a folder under
//! `FN_KV_DIR` (`kv/` next to the server by default), which the server
//! preopens for the component, and config comes from `FN_CONFIG_<KEY>`
//! variables, the declared defaults filled in by the server.

use serde_json::Map;

use super::Deployment;
use super::files::{Entry, Output};
use super::js;

/// The files of the server project for the published function `wasm`, or
/// for `composed`, its composition with the files adapter.
pub fn package(
    deployment: &Deployment,
    wasm: &[u8],
    composed: Option<&[u8]>,
) -> anyhow::Result<Output> {
    let transpiled = js::transpile_sync(composed.unwrap_or(wasm))?;
    // The body limit of `cargo fn serve`, checked against Content-Length.
    let limits = fn_runtime::Limits::default();
    let data = js::bundle_data(deployment, limits.max_request_body, Map::new());
    let mut package = js::package_json(deployment, &[])?;
    let mut manifest: serde_json::Value = serde_json::from_slice(&package.contents)?;
    manifest["scripts"] = serde_json::json!({ "start": "node server.mjs" });
    package.contents = serde_json::to_vec_pretty(&manifest)?;
    let mut files = vec![
        Entry::file("server.mjs", js::SERVER_MJS),
        package,
        Entry::json("fn-bundle.json", &data)?,
    ];
    files.extend(transpiled.files);
    let mut notes = vec![format!(
        "install jco's WASI shim, then start the server: `npm install && PORT=8080 node server.mjs` (a fresh instance of {} per request)",
        deployment.name
    )];
    if composed.is_some() {
        notes.push(format!(
            "the component is the published function ({}) composed with the files adapter: jco's shim has no wasi:keyvalue or wasi:config, so key-value lives in files under FN_KV_DIR (default: kv/ next to server.mjs) and config in FN_CONFIG_ variables",
            deployment.layer_digest
        ));
    }
    for (key, variable, secret) in deployment.config_to_supply() {
        notes.push(if secret {
            format!("secret `{key}`: set {variable} in the server's environment")
        } else {
            format!("config `{key}` has no default: set {variable} in the server's environment")
        });
    }
    if !deployment.metadata.allowed_outbound_hosts.is_empty() {
        notes.push(format!(
            "the shim does not restrict outbound HTTP; the function declared {}",
            deployment.metadata.allowed_outbound_hosts.join(", ")
        ));
    }
    Ok(Output {
        files,
        main: "server.mjs".into(),
        notes,
    })
}
