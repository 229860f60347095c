//! SpinKube's `SpinApp` resource: the Spin application layout of the
//! published component (`publish --spin-app`), by manifest digest.

use serde_json::{Value, json};

use super::{Deployment, File};

/// Generates a `SpinApp` for SpinKube.
pub fn spin_app_yaml(deployment: &Deployment) -> anyhow::Result<File> {
    let id = deployment.component_id();
    let meta = &deployment.metadata;
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
    let image = match &deployment.spin_app_digest {
        Some(digest) => deployment.image.pinned(digest).without_scheme(),
        None => deployment.image.without_scheme(),
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
    let mut notes = match &deployment.spin_app_digest {
        Some(digest) => vec![format!(
            "spec.image is the Spin application layout {digest} pushed by `publish --spin-app`: the same component blob {} plus its locked app",
            deployment.layer_digest
        )],
        None => vec![format!(
            "MISSING: SpinKube pulls a Spin application artifact (a locked app layer plus the component layer); {} is a plain wasm component artifact, which the shim does not run. Publish with `cargo fn publish --spin-app` (same component blob) and deploy again",
            deployment.image
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
    File::yaml("spinapp.yaml", &app, notes)
}

#[cfg(test)]
mod tests {
    use super::super::parse_yaml as parse;
    use super::*;

    #[test]
    fn spin_app_references_the_digest_and_secrets() {
        let deployment = super::super::sample();
        let file = spin_app_yaml(&deployment).unwrap();
        let doc = parse(&file.contents);
        assert_eq!(doc["kind"], "SpinApp");
        assert_eq!(
            doc["spec"]["image"].as_str().unwrap(),
            deployment.image.without_scheme()
        );
        let vars = doc["spec"]["variables"].as_array().unwrap();
        let key = vars
            .iter()
            .find(|v| v["name"] == "payment_api_key")
            .unwrap();
        assert_eq!(key["valueFrom"]["secretKeyRef"]["key"], "payment_api_key");
        assert!(file.notes[0].starts_with("MISSING: SpinKube"));

        let spin_app = format!("sha256:{}", "d".repeat(64));
        let with_layout = Deployment {
            spin_app_digest: Some(spin_app.clone()),
            ..deployment.clone()
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
