//! wasmCloud's `wadm.yaml`: the component by manifest digest, linked to the
//! capability providers its declarations need.
//!
//! wasmCloud 1.x links `wasi:config/store` only at `0.2.0-draft`: a function
//! that reads config runs there composed with the wasmCloud 1.x adapter
//! (`fn_pipeline::hosts::WASMCLOUD_ADAPTER`). wadm pulls components from a
//! registry, so [`package`] pushes the composition next to the published
//! artifact as `TAG-wasmcloud`, annotated with the function's digest, and
//! the manifest runs that.

use anyhow::Context as _;
use serde_json::{Value, json};

use super::files::Output;
use super::{Deployment, File};
use crate::oci::{self, ImageRef, Registry};

/// What the composition's tag adds to the artifact's (`v1` →
/// `v1-wasmcloud`), as Cloud Run's image adds `-cloudrun`.
pub const TAG_SUFFIX: &str = "-wasmcloud";

/// The composition's creation time in its OCI config: fixed, so that the
/// same function composes to the same manifest digest on every deploy.
const COMPOSED_AT: &str = "1970-01-01T00:00:00Z";

/// Where the composition is pushed: the artifact's repository, under its
/// tag (or `latest`) plus [`TAG_SUFFIX`].
pub fn composed_ref(deployment: &Deployment) -> ImageRef {
    ImageRef {
        tag: Some(format!(
            "{}{TAG_SUFFIX}",
            deployment.tag.as_deref().unwrap_or("latest")
        )),
        digest: None,
        ..deployment.image.clone()
    }
}

/// The bundle: `wadm.yaml` for the published artifact, or, when the
/// function needs the adapter (`composed`), for its composition pushed to
/// [`composed_ref`] (plain HTTP when `insecure`).
pub fn package(
    deployment: &Deployment,
    composed: Option<Vec<u8>>,
    insecure: bool,
) -> anyhow::Result<Output> {
    let Some(composed) = composed else {
        return Ok(Output::from(wadm_yaml(deployment)?));
    };
    let annotations = oci::artifact::Annotations {
        title: Some(deployment.name.clone()),
        version: Some(deployment.version.clone()),
        function_digest: Some(deployment.layer_digest.clone()),
        ..Default::default()
    };
    let artifact = oci::artifact::build(composed, &annotations, COMPOSED_AT)
        .context("the composition is not a component")?;
    let tagged = composed_ref(deployment);
    let registry = Registry::new(&tagged, insecure || deployment.plain_http)?;
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?
        .block_on(registry.push(&artifact))
        .with_context(|| format!("cannot push the wasmCloud composition to {tagged}"))?;
    let running = Deployment {
        image: tagged.pinned(&artifact.manifest_digest),
        layer_digest: artifact.layer_digest.clone(),
        ..deployment.clone()
    };
    let mut output = Output::from(wadm_yaml(&running)?);
    output.notes.insert(
        0,
        format!(
            "wasmCloud 1.x has wasi:config only at 0.2.0-draft: pushed the function composed with the wasmCloud 1.x adapter as {tagged} ({}, {} bytes), the published function ({}) inside it byte for byte (`cargo fn inspect` shows it)",
            artifact.manifest_digest,
            artifact.layer.len(),
            deployment.layer_digest
        ),
    );
    Ok(output)
}

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
pub fn wadm_yaml(deployment: &Deployment) -> anyhow::Result<File> {
    let id = deployment.component_id();
    let meta = &deployment.metadata;
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
    let mut properties = json!({ "image": deployment.image.without_scheme(), "id": id });
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
    if deployment.plain_http {
        notes.push(format!(
            "the registry is plain HTTP: start the host with WASMCLOUD_OCI_ALLOWED_INSECURE={}",
            deployment.image.registry
        ));
    }
    let app = json!({
        "apiVersion": "core.oam.dev/v1beta1",
        "kind": "Application",
        "metadata": {
            "name": id,
            "annotations": {
                "version": format!("v{}", deployment.version),
                "description": format!("{} pinned to {}", deployment.name, deployment.manifest_digest()),
            },
        },
        "spec": { "components": components },
    });
    File::yaml("wadm.yaml", &app, notes)
}

#[cfg(test)]
mod tests {
    use super::super::parse_yaml as parse;
    use super::*;

    #[test]
    fn wadm_pins_the_digest_and_links_capabilities() {
        let deployment = super::super::sample();
        let file = wadm_yaml(&deployment).unwrap();
        let doc = parse(&file.contents);
        let components = doc["spec"]["components"].as_array().unwrap();
        let component = &components[0];
        assert_eq!(
            component["properties"]["image"].as_str().unwrap(),
            format!(
                "127.0.0.1:5000/shop/checkout@{}",
                deployment.manifest_digest()
            )
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
}
