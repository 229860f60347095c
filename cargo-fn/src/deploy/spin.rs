//! `spin.toml`, Spin manifest v2. The component source is the registry
//! blob URL plus its digest, so Spin downloads and checks the exact layer
//! bytes that were published.
//!
//! A function that imports key-value or config at versions Spin lacks is
//! composed with the Spin adapter (`fn_pipeline::adapter`), and `spin.toml`
//! runs that composition, written next to it: the published bytes are
//! inside it unchanged (`cargo fn inspect` shows their digest). Composing
//! here rather than letting Spin compose at load time
//! (`[component.x.dependencies]`, Spin 3+) gives one composition, the one
//! SpinKube needs too (its shim does not compose) and the one tested here.

use std::collections::BTreeMap;

use serde::Serialize;

use super::files::{Entry, Output};
use super::{Deployment, File};

#[derive(Serialize)]
struct Manifest {
    spin_manifest_version: u32,
    application: Application,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    variables: BTreeMap<String, Variable>,
    trigger: Triggers,
    component: BTreeMap<String, Component>,
}

#[derive(Serialize)]
struct Application {
    name: String,
    version: String,
    description: String,
}

#[derive(Serialize, Default)]
struct Variable {
    #[serde(skip_serializing_if = "Option::is_none")]
    default: Option<String>,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    required: bool,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    secret: bool,
}

#[derive(Serialize)]
struct Triggers {
    http: Vec<HttpTrigger>,
}

#[derive(Serialize)]
struct HttpTrigger {
    route: String,
    component: String,
}

#[derive(Serialize)]
struct Component {
    source: Source,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    key_value_stores: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    allowed_outbound_hosts: Vec<String>,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    variables: BTreeMap<String, String>,
}

/// Where Spin gets the component.
#[derive(Serialize)]
#[serde(untagged)]
enum Source {
    /// The published layer, fetched and checked by digest.
    Remote { url: String, digest: String },
    /// A file next to `spin.toml`.
    Local(String),
}

/// The file name of the composed component next to `spin.toml`.
pub fn composed_file_name(deployment: &Deployment) -> String {
    format!("{}.spin.wasm", deployment.component_id())
}

/// `spin.toml`, plus the function composed with the Spin adapter when it
/// needs it (`composed`).
pub fn package(deployment: &Deployment, composed: Option<&[u8]>) -> anyhow::Result<Output> {
    let mut file = spin_toml_with(deployment, composed.is_some())?;
    let mut output = Output::from({
        file.notes.extend(deployment.trigger_notes(true));
        file
    });
    if let Some(composed) = composed {
        let name = composed_file_name(deployment);
        output.notes.insert(
            0,
            format!(
                "{name} is the published component {} composed with the Spin adapter (it turns the function's wasi:keyvalue@0.2.0-draft and wasi:config@0.2.0-rc.1 into Spin's versions); `cargo fn inspect {name}` shows the function inside and its digest",
                deployment.layer_digest
            ),
        );
        output.files.push(Entry::file(name, composed.to_vec()));
    }
    Ok(output)
}

/// Generates `spin.toml` for the published component as it is.
pub fn spin_toml(deployment: &Deployment) -> anyhow::Result<File> {
    spin_toml_with(deployment, false)
}

/// Generates `spin.toml`; with `composed`, its component is the composed
/// file next to it rather than the published layer.
fn spin_toml_with(deployment: &Deployment, composed: bool) -> anyhow::Result<File> {
    let id = deployment.component_id();
    let meta = &deployment.metadata;
    let variables = meta
        .config
        .iter()
        .map(|(key, c)| {
            let var = Variable {
                default: c.default.clone(),
                required: c.default.is_none(),
                secret: c.secret,
            };
            (key.clone(), var)
        })
        .collect();
    let component_vars = meta
        .config
        .keys()
        .map(|key| (key.clone(), format!("{{{{ {key} }}}}")))
        .collect();
    let manifest = Manifest {
        spin_manifest_version: 2,
        application: Application {
            name: deployment.name.clone(),
            version: deployment.version.clone(),
            description: format!("{} as published to {}", deployment.name, deployment.image),
        },
        variables,
        trigger: Triggers {
            http: vec![HttpTrigger {
                route: meta.route_or_wildcard().to_owned(),
                component: id.clone(),
            }],
        },
        component: BTreeMap::from([(
            id,
            Component {
                source: if composed {
                    Source::Local(composed_file_name(deployment))
                } else {
                    Source::Remote {
                        url: deployment
                            .image
                            .blob_url(&deployment.layer_digest, deployment.plain_http),
                        digest: deployment.layer_digest.clone(),
                    }
                },
                key_value_stores: meta.key_value.clone(),
                allowed_outbound_hosts: meta.allowed_outbound_hosts.clone(),
                variables: component_vars,
            },
        )]),
    };
    let mut notes = Vec::new();
    let required: Vec<String> = meta
        .config
        .iter()
        .filter(|(_, c)| c.default.is_none())
        .map(|(k, _)| format!("SPIN_VARIABLE_{}", k.to_uppercase()))
        .collect();
    if !required.is_empty() {
        notes.push(format!(
            "set {} before `spin up` (or use a Spin variables provider)",
            required.join(", ")
        ));
    }
    if meta.key_value.iter().any(|s| s != "default") {
        notes.push(
            "key-value stores other than \"default\" need a runtime config (spin up --runtime-config-file)".into(),
        );
    }
    Ok(File {
        name: "spin.toml",
        contents: toml::to_string(&manifest)?,
        executable: false,
        notes,
    })
}

/// The locked application (Spin's `spin.lock` JSON) of a one-component
/// app whose component is the layer `layer_digest`: what a Spin
/// application OCI artifact carries for `spin up --from` and SpinKube.
pub fn locked_app(
    name: &str,
    version: &str,
    meta: &crate::metadata::FnMetadata,
    layer_digest: &str,
) -> serde_json::Value {
    use serde_json::json;
    let id = component_id(name);
    let variables: serde_json::Map<String, serde_json::Value> = meta
        .config
        .iter()
        .map(|(key, c)| {
            let mut var = serde_json::Map::new();
            if let Some(default) = &c.default {
                var.insert("default".into(), json!(default));
            }
            if c.secret {
                var.insert("secret".into(), json!(true));
            }
            (key.clone(), serde_json::Value::Object(var))
        })
        .collect();
    let config: serde_json::Map<String, serde_json::Value> = meta
        .config
        .keys()
        .map(|key| (key.clone(), json!(format!("{{{{ {key} }}}}"))))
        .collect();
    let mut component = json!({
        "id": id,
        "source": { "content_type": "application/wasm", "digest": layer_digest },
    });
    let mut component_meta = serde_json::Map::new();
    if !meta.allowed_outbound_hosts.is_empty() {
        component_meta.insert(
            "allowed_outbound_hosts".into(),
            json!(meta.allowed_outbound_hosts),
        );
    }
    if !meta.key_value.is_empty() {
        component_meta.insert("key_value_stores".into(), json!(meta.key_value));
    }
    if !component_meta.is_empty() {
        component["metadata"] = serde_json::Value::Object(component_meta);
    }
    if !config.is_empty() {
        component["config"] = serde_json::Value::Object(config);
    }
    let mut app = json!({
        "spin_lock_version": 0,
        "metadata": {
            "name": name,
            "version": version,
            "triggers": { "http": {} },
            "trigger": { "type": "http" },
        },
        "triggers": [{
            "id": format!("trigger--{id}"),
            "trigger_type": "http",
            "trigger_config": { "component": id, "route": meta.route_or_wildcard() },
        }],
        "components": [component],
    });
    if !variables.is_empty() {
        app["variables"] = serde_json::Value::Object(variables);
    }
    app
}

/// Spin's component ids are kebab-case.
pub fn component_id(name: &str) -> String {
    let id: String = name
        .chars()
        .map(|c| match c {
            'A'..='Z' => c.to_ascii_lowercase(),
            'a'..='z' | '0'..='9' => c,
            _ => '-',
        })
        .collect();
    id.trim_matches('-').to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spin_toml_pins_the_layer_and_declares_everything() {
        let deployment = super::super::sample();
        let file = spin_toml(&deployment).unwrap();
        let doc: toml::Table = toml::from_str(&file.contents).unwrap();
        assert_eq!(doc["spin_manifest_version"].as_integer(), Some(2));
        let trigger = &doc["trigger"]["http"][0];
        assert_eq!(trigger["route"].as_str(), Some("/orders/..."));
        assert_eq!(trigger["component"].as_str(), Some("checkout-fn"));
        let component = &doc["component"]["checkout-fn"];
        assert_eq!(
            component["source"]["digest"].as_str(),
            Some(deployment.layer_digest.as_str())
        );
        assert_eq!(
            component["source"]["url"].as_str().unwrap(),
            format!(
                "http://127.0.0.1:5000/v2/shop/checkout/blobs/{}",
                deployment.layer_digest
            )
        );
        assert_eq!(component["key_value_stores"].as_array().unwrap().len(), 2);
        assert_eq!(
            component["variables"]["payment_api_key"].as_str(),
            Some("{{ payment_api_key }}")
        );
        let vars = &doc["variables"];
        assert_eq!(vars["payment_api_key"]["secret"].as_bool(), Some(true));
        assert_eq!(vars["payment_api_key"]["required"].as_bool(), Some(true));
        assert_eq!(
            vars["payment_api_url"]["default"].as_str(),
            Some("https://api.stripe.com")
        );
        assert!(vars["payment_api_url"].get("required").is_none());
        assert!(
            file.notes
                .iter()
                .any(|n| n.contains("SPIN_VARIABLE_PAYMENT_API_KEY"))
        );

        let app = locked_app(
            "checkout_fn",
            "1.2.0",
            &deployment.metadata,
            &deployment.layer_digest,
        );
        let c = &app["components"][0];
        assert_eq!(c["id"], "checkout-fn");
        assert_eq!(c["source"]["digest"], deployment.layer_digest.as_str());
        assert_eq!(c["metadata"]["key_value_stores"][1], "cache");
        assert_eq!(c["config"]["payment_api_key"], "{{ payment_api_key }}");
        assert_eq!(app["triggers"][0]["trigger_config"]["route"], "/orders/...");
        assert_eq!(app["variables"]["payment_api_key"]["secret"], true);
        assert_eq!(app["variables"]["region"], serde_json::json!({}));
    }

    #[test]
    fn a_composed_function_is_written_next_to_spin_toml_and_run_from_there() {
        let deployment = super::super::sample();
        let output = package(&deployment, Some(b"\0asm composed")).unwrap();
        let paths: Vec<_> = output.files.iter().map(|f| f.path.as_str()).collect();
        assert_eq!(paths, ["spin.toml", "checkout-fn.spin.wasm"]);
        assert_eq!(output.files[1].contents, b"\0asm composed");
        let doc: toml::Table = toml::from_str(&output.files[0].text()).unwrap();
        assert_eq!(
            doc["component"]["checkout-fn"]["source"].as_str(),
            Some("checkout-fn.spin.wasm")
        );
        assert!(
            output.notes[0].contains(&deployment.layer_digest)
                && output.notes[0].contains("inspect"),
            "{:?}",
            output.notes
        );
        // Without a composition, the published layer by URL and digest.
        let plain = package(&deployment, None).unwrap();
        assert_eq!(plain.files.len(), 1);
        let doc: toml::Table = toml::from_str(&plain.files[0].text()).unwrap();
        assert!(doc["component"]["checkout-fn"]["source"]["digest"].is_str());
    }
}
