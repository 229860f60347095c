//! Kubernetes-style YAML bundles: wasmCloud's `wadm.yaml` and SpinKube's
//! `SpinApp`. Both reference the image by manifest digest.

use serde_json::{Value, json};

use super::{File, Target};

/// The wasmCloud capability providers the manifest wires in.
const HTTP_SERVER: &str = "ghcr.io/wasmcloud/http-server:0.27.0";
const HTTP_CLIENT: &str = "ghcr.io/wasmcloud/http-client:0.12.1";
const KEYVALUE: &str = "ghcr.io/wasmcloud/keyvalue-nats:0.3.1";

fn link(target: Value, package: &str, interfaces: &[&str]) -> Value {
    json!({
        "type": "link",
        "properties": {
            "target": target,
            "namespace": "wasi",
            "package": package,
            "interfaces": interfaces,
        }
    })
}

/// Generates `wadm.yaml` for wasmCloud.
pub fn wadm_yaml(target: &Target) -> anyhow::Result<File> {
    let id = target.component_id();
    let meta = &target.metadata;
    let mut notes = Vec::new();

    let defaults: serde_json::Map<String, Value> = meta
        .config
        .iter()
        .filter(|(_, c)| !c.secret)
        .filter_map(|(k, c)| Some((k.clone(), Value::String(c.default.clone()?))))
        .collect();
    let mut config = Vec::new();
    if !defaults.is_empty() {
        config.push(json!({ "name": format!("{id}-defaults"), "properties": defaults }));
    }
    let supplied: Vec<&String> = meta
        .config
        .iter()
        .filter(|(_, c)| c.secret || c.default.is_none())
        .map(|(k, _)| k)
        .collect();
    if !supplied.is_empty() {
        // A named config without properties is one the operator creates.
        config.push(json!({ "name": format!("{id}-config") }));
        notes.push(format!(
            "create the named config before deploying: `wash config put {id}-config {}` (wasmCloud serves wasi:config from named config; its secrets API is wasmcloud:secrets, which this component does not import)",
            supplied
                .iter()
                .map(|k| format!("{k}=..."))
                .collect::<Vec<_>>()
                .join(" ")
        ));
    }

    let mut traits = vec![json!({ "type": "spreadscaler", "properties": { "instances": 1 } })];
    let mut components = Vec::new();
    for store in &meta.key_value {
        let mut l = link(
            json!({
                "name": "keyvalue",
                "config": [{ "name": format!("{id}-kv-{store}"), "properties": { "bucket": store } }],
            }),
            "keyvalue",
            &["store", "atomics"],
        );
        if store != "default" {
            l["properties"]["name"] = json!(store);
        }
        traits.push(l);
    }
    if !meta.key_value.is_empty() {
        components.push(json!({
            "name": "keyvalue",
            "type": "capability",
            "properties": { "image": KEYVALUE },
        }));
    }
    if !meta.allowed_outbound_hosts.is_empty() {
        traits.push(link(
            json!({ "name": "httpclient" }),
            "http",
            &["outgoing-handler"],
        ));
        components.push(json!({
            "name": "httpclient",
            "type": "capability",
            "properties": { "image": HTTP_CLIENT },
        }));
        notes.push(format!(
            "wasmCloud's http-client provider does not restrict hosts; the function declared {}",
            meta.allowed_outbound_hosts.join(", ")
        ));
    }
    let mut properties = json!({ "image": target.image.without_scheme(), "id": id });
    if !config.is_empty() {
        properties["config"] = Value::Array(config);
    }
    components.insert(
        0,
        json!({ "name": id, "type": "component", "properties": properties, "traits": traits }),
    );
    let mut server_link = link(json!({ "name": id }), "http", &["incoming-handler"]);
    server_link["properties"]["source"] = json!({
        "config": [{ "name": format!("{id}-http"), "properties": { "address": "0.0.0.0:8000" } }]
    });
    components.insert(
        1,
        json!({
            "name": "httpserver",
            "type": "capability",
            "properties": { "image": HTTP_SERVER },
            "traits": [server_link],
        }),
    );
    if meta.route_or_wildcard() != "/..." {
        notes.push(format!(
            "wasmCloud's http-server provider routes by address (0.0.0.0:8000), so every path reaches the function, not only {}",
            meta.route_or_wildcard()
        ));
    }
    if target.plain_http {
        notes.push(format!(
            "the registry is plain HTTP: start the host with WASMCLOUD_OCI_ALLOWED_INSECURE={}",
            target.image.registry
        ));
    }
    let app = json!({
        "apiVersion": "core.oam.dev/v1beta1",
        "kind": "Application",
        "metadata": {
            "name": id,
            "annotations": {
                "version": format!("v{}", target.version),
                "description": format!("{} pinned to {}", target.name, target.manifest_digest()),
            },
        },
        "spec": { "components": components },
    });
    Ok(File {
        name: "wadm.yaml",
        contents: serde_norway::to_string(&app)?,
        executable: false,
        notes,
    })
}

/// Generates a `SpinApp` for SpinKube.
pub fn spin_app_yaml(target: &Target) -> anyhow::Result<File> {
    let id = target.component_id();
    let meta = &target.metadata;
    let variables: Vec<Value> = meta
        .config
        .iter()
        .map(|(key, c)| match (&c.default, c.secret) {
            (Some(default), false) => json!({ "name": key, "value": default }),
            (_, true) => json!({
                "name": key,
                "valueFrom": { "secretKeyRef": { "name": format!("{id}-secrets"), "key": key } },
            }),
            (None, false) => json!({
                "name": key,
                "valueFrom": { "configMapKeyRef": { "name": format!("{id}-config"), "key": key } },
            }),
        })
        .collect();
    let image = match &target.spin_app_digest {
        Some(digest) => target.image.pinned(digest).without_scheme(),
        None => target.image.without_scheme(),
    };
    let mut spec = json!({
        "image": image,
        "executor": "containerd-shim-spin",
        "replicas": 1,
    });
    if !variables.is_empty() {
        spec["variables"] = Value::Array(variables);
    }
    let app = json!({
        "apiVersion": "core.spinkube.dev/v1alpha1",
        "kind": "SpinApp",
        "metadata": { "name": id },
        "spec": spec,
    });
    let mut notes = match &target.spin_app_digest {
        Some(digest) => vec![format!(
            "spec.image is the Spin application layout {digest} pushed by `publish --spin-app`: the same component blob {} plus its locked app",
            target.layer_digest
        )],
        None => vec![format!(
            "MISSING: SpinKube pulls a Spin application artifact (a locked app layer plus the component layer); {} is a plain wasm component artifact, which the shim does not run. Publish with `cargo fn publish --spin-app` (same component blob) and deploy again",
            target.image
        )],
    };
    if meta.config.values().any(|c| c.secret) {
        notes.push(format!(
            "create the Secret {id}-secrets holding the secret config keys"
        ));
    }
    if meta
        .config
        .values()
        .any(|c| !c.secret && c.default.is_none())
    {
        notes.push(format!(
            "create the ConfigMap {id}-config holding the required config keys"
        ));
    }
    Ok(File {
        name: "spinapp.yaml",
        contents: serde_norway::to_string(&app)?,
        executable: false,
        notes,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Value {
        serde_norway::from_str(text).unwrap()
    }

    #[test]
    fn wadm_pins_the_digest_and_links_capabilities() {
        let target = super::super::sample();
        let file = wadm_yaml(&target).unwrap();
        let doc = parse(&file.contents);
        let components = doc["spec"]["components"].as_array().unwrap();
        let component = &components[0];
        assert_eq!(
            component["properties"]["image"].as_str().unwrap(),
            format!("127.0.0.1:5000/shop/checkout@{}", target.manifest_digest())
        );
        let traits = component["traits"].as_array().unwrap();
        let kv: Vec<_> = traits
            .iter()
            .filter(|t| t["properties"]["package"] == "keyvalue")
            .collect();
        assert_eq!(kv.len(), 2);
        assert_eq!(
            kv[1]["properties"]["target"]["config"][0]["properties"]["bucket"],
            "cache"
        );
        let config = component["properties"]["config"].as_array().unwrap();
        assert_eq!(
            config[0]["properties"]["payment_api_url"],
            "https://api.stripe.com"
        );
        assert!(
            config[0]["properties"].get("payment_api_key").is_none(),
            "secrets never in the bundle"
        );
        let server = &components[1];
        assert_eq!(
            server["traits"][0]["properties"]["interfaces"][0],
            "incoming-handler"
        );
        assert!(file.notes.iter().any(|n| n.contains("payment_api_key=...")));
        assert!(
            file.notes
                .iter()
                .any(|n| n.contains("WASMCLOUD_OCI_ALLOWED_INSECURE"))
        );
    }

    #[test]
    fn spin_app_references_the_digest_and_secrets() {
        let target = super::super::sample();
        let file = spin_app_yaml(&target).unwrap();
        let doc = parse(&file.contents);
        assert_eq!(doc["kind"], "SpinApp");
        assert_eq!(
            doc["spec"]["image"].as_str().unwrap(),
            target.image.without_scheme()
        );
        let vars = doc["spec"]["variables"].as_array().unwrap();
        let key = vars
            .iter()
            .find(|v| v["name"] == "payment_api_key")
            .unwrap();
        assert_eq!(key["valueFrom"]["secretKeyRef"]["key"], "payment_api_key");
        assert!(file.notes[0].starts_with("MISSING: SpinKube"));

        let spin_app = format!("sha256:{}", "d".repeat(64));
        let with_layout = Target {
            spin_app_digest: Some(spin_app.clone()),
            ..target.clone()
        };
        let file = spin_app_yaml(&with_layout).unwrap();
        let doc = parse(&file.contents);
        assert_eq!(
            doc["spec"]["image"].as_str().unwrap(),
            format!("127.0.0.1:5000/shop/checkout@{spin_app}")
        );
        assert!(!file.notes[0].contains("MISSING"), "{:?}", file.notes);
    }
}
