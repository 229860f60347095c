//! Google Cloud Run's `service.yaml`: a Knative Serving `Service`, as
//! `gcloud run services replace service.yaml` takes it, running the
//! container image of the runner and the component
//! ([`crate::oci::image::runner_image`]) pinned by its manifest digest.

use anyhow::{Context as _, bail};
use serde_json::{Value, json};

use super::File;
use crate::oci::ImageRef;
use crate::oci::image::PORT;

mod provider;
pub use provider::{
    LAYOUT_DIR, Packaged, TAG_SUFFIX, bundle, check, environment, image, image_ref, image_tag,
    package,
};

/// Cloud Run's longest service name.
const MAX_NAME: usize = 49;

/// One environment variable of the container.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnvVar {
    /// Its name.
    pub name: String,
    /// Where its value comes from.
    pub source: EnvSource,
}

/// Where an environment variable's value comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EnvSource {
    /// This literal value.
    Value(String),
    /// A version (`latest`, `3`) of a Secret Manager secret of the
    /// service's project.
    Secret {
        /// The secret's name.
        secret: String,
        /// Its version.
        version: String,
    },
}

impl EnvVar {
    /// `name` = `value`.
    pub fn value(name: &str, value: &str) -> Self {
        EnvVar {
            name: name.to_owned(),
            source: EnvSource::Value(value.to_owned()),
        }
    }

    /// `name` = the `latest` version of the Secret Manager secret `secret`.
    pub fn secret(name: &str, secret: &str) -> Self {
        EnvVar {
            name: name.to_owned(),
            source: EnvSource::Secret {
                secret: secret.to_owned(),
                version: "latest".to_owned(),
            },
        }
    }

    fn to_json(&self) -> Value {
        match &self.source {
            EnvSource::Value(value) => json!({ "name": self.name, "value": value }),
            EnvSource::Secret { secret, version } => json!({
                "name": self.name,
                "valueFrom": { "secretKeyRef": { "name": secret, "key": version } },
            }),
        }
    }
}

/// What `service.yaml` describes.
#[derive(Debug, Clone)]
pub struct Service {
    /// The function's name (made a valid service name by
    /// [`service_name`]).
    pub name: String,
    /// The container image; must be pinned to a manifest digest.
    pub image: ImageRef,
    /// The container's environment (not `PORT` nor `K_*`: Cloud Run sets
    /// those).
    pub env: Vec<EnvVar>,
    /// At most this many instances (`autoscaling.knative.dev/maxScale`).
    pub max_scale: Option<u32>,
}

impl Service {
    /// A service `name` running `image`, without environment or limits.
    pub fn new(name: &str, image: ImageRef) -> Self {
        Service {
            name: name.to_owned(),
            image,
            env: Vec::new(),
            max_scale: None,
        }
    }
}

/// `name` as a Cloud Run service name: lowercase letters, digits and
/// single dashes, starting with a letter, at most 49 characters.
pub fn service_name(name: &str) -> anyhow::Result<String> {
    let mut out = String::new();
    for c in name.chars() {
        let c = match c {
            'A'..='Z' | 'a'..='z' | '0'..='9' => c.to_ascii_lowercase(),
            _ => '-',
        };
        if !(c == '-' && (out.is_empty() || out.ends_with('-'))) {
            out.push(c);
        }
    }
    if out.starts_with(|c: char| c.is_ascii_digit()) {
        out.insert_str(0, "fn-");
    }
    out.truncate(MAX_NAME);
    let out = out.trim_end_matches('-').to_owned();
    if out.is_empty() {
        bail!(
            "{name:?} has no letter or digit to make a Cloud Run service name of; rename the package"
        );
    }
    Ok(out)
}

/// Generates `service.yaml` for `gcloud run services replace`.
pub fn service_yaml(service: &Service) -> anyhow::Result<File> {
    let name = service_name(&service.name)?;
    let digest = service.image.digest.as_deref().with_context(|| {
        format!(
            "{} is not pinned to a digest: Cloud Run must run the exact image pushed; push it and pass the manifest digest it printed",
            service.image
        )
    })?;
    let image = service.image.pinned(digest).without_scheme();
    let mut seen = std::collections::BTreeSet::new();
    for var in &service.env {
        if var.name == "PORT" || var.name.starts_with("K_") {
            bail!(
                "the environment variable {} is set by Cloud Run itself; rename it",
                var.name
            );
        }
        if !seen.insert(var.name.as_str()) {
            bail!(
                "the environment variable {} is given twice; give it once",
                var.name
            );
        }
    }
    let mut container = json!({
        "image": image,
        "ports": [{ "name": "http1", "containerPort": PORT }],
    });
    if !service.env.is_empty() {
        container["env"] = service.env.iter().map(EnvVar::to_json).collect();
    }
    let mut annotations = serde_json::Map::new();
    // The second generation runs the container on a Linux kernel (the
    // first, on gVisor), as the runner is tested here (runc).
    annotations.insert(
        "run.googleapis.com/execution-environment".into(),
        "gen2".into(),
    );
    if let Some(max) = service.max_scale {
        // Knative annotation values are strings.
        annotations.insert(
            "autoscaling.knative.dev/maxScale".into(),
            max.to_string().into(),
        );
    }
    let doc = json!({
        "apiVersion": "serving.knative.dev/v1",
        "kind": "Service",
        "metadata": { "name": name },
        "spec": {
            "template": {
                "metadata": { "annotations": annotations },
                "spec": { "containers": [container] },
            },
        },
    });
    let mut notes = vec![format!(
        "deploy with `gcloud run services replace service.yaml --region REGION`; to let anyone call it: `gcloud run services add-iam-policy-binding {name} --region REGION --member=allUsers --role=roles/run.invoker`"
    )];
    let host = service.image.host();
    if !(host.ends_with("docker.pkg.dev") || host.ends_with("gcr.io") || host == "docker.io") {
        notes.push(format!(
            "Cloud Run pulls images from Artifact Registry (REGION-docker.pkg.dev), gcr.io or Docker Hub, not from {host}: copy the image there (`crane copy {image} REGION-docker.pkg.dev/PROJECT/REPO/{name}`, the digest stays the same) and change the image in service.yaml, or put an Artifact Registry remote repository in front of {host}"
        ));
    }
    let secrets: Vec<&str> = service
        .env
        .iter()
        .filter_map(|v| match &v.source {
            EnvSource::Secret { secret, .. } => Some(secret.as_str()),
            EnvSource::Value(_) => None,
        })
        .collect();
    if !secrets.is_empty() {
        notes.push(format!(
            "create the Secret Manager secrets {} and let the service's account read them (roles/secretmanager.secretAccessor)",
            secrets.join(", ")
        ));
    }
    File::yaml("service.yaml", &doc, notes)
}

#[cfg(test)]
mod tests {
    use super::super::parse_yaml as parse;
    use super::*;

    fn pinned() -> (ImageRef, String) {
        let digest = format!("sha256:{}", "e".repeat(64));
        let image = ImageRef::parse("oci://europe-west1-docker.pkg.dev/proj/fns/checkout:v1")
            .unwrap()
            .pinned(&digest);
        (image, digest)
    }

    #[test]
    fn the_service_runs_the_image_by_digest_on_port_8080_with_its_env() {
        let (image, digest) = pinned();
        let service = Service {
            env: vec![
                EnvVar::value("payment_api_url", "https://api.stripe.com"),
                EnvVar::secret("payment_api_key", "checkout-payment-key"),
            ],
            max_scale: Some(5),
            ..Service::new("checkout_fn", image)
        };
        let file = service_yaml(&service).unwrap();
        assert_eq!(file.name, "service.yaml");
        let doc = parse(&file.contents);
        assert_eq!(doc["apiVersion"], "serving.knative.dev/v1");
        assert_eq!(doc["kind"], "Service");
        assert_eq!(doc["metadata"]["name"], "checkout-fn");
        let template = &doc["spec"]["template"];
        let annotations = &template["metadata"]["annotations"];
        assert_eq!(
            annotations["run.googleapis.com/execution-environment"],
            "gen2"
        );
        assert_eq!(annotations["autoscaling.knative.dev/maxScale"], "5");
        let container = &template["spec"]["containers"][0];
        assert_eq!(
            container["image"],
            format!("europe-west1-docker.pkg.dev/proj/fns/checkout@{digest}")
        );
        assert_eq!(container["ports"][0]["containerPort"], 8080);
        assert_eq!(
            container["env"],
            json!([
                { "name": "payment_api_url", "value": "https://api.stripe.com" },
                { "name": "payment_api_key", "valueFrom": { "secretKeyRef": {
                    "name": "checkout-payment-key", "key": "latest" } } },
            ])
        );
        assert!(file.notes[0].contains("gcloud run services replace"));
        assert!(
            file.notes
                .iter()
                .any(|n| n.contains("checkout-payment-key")),
            "{:?}",
            file.notes
        );
        assert!(!file.notes.iter().any(|n| n.contains("Artifact Registry (")));
    }

    #[test]
    fn without_env_or_limits_only_the_execution_environment_is_annotated() {
        let (image, _) = pinned();
        let doc = parse(
            &service_yaml(&Service::new("hello", image))
                .unwrap()
                .contents,
        );
        let template = &doc["spec"]["template"];
        assert!(template["spec"]["containers"][0].get("env").is_none());
        assert_eq!(
            template["metadata"]["annotations"]
                .as_object()
                .unwrap()
                .len(),
            1
        );
    }

    #[test]
    fn an_unpinned_image_or_reserved_env_is_refused() {
        let (image, _) = pinned();
        let tagged = ImageRef::parse("oci://gcr.io/proj/checkout:v1").unwrap();
        let e = service_yaml(&Service::new("a", tagged)).unwrap_err();
        assert!(e.to_string().contains("not pinned to a digest"), "{e}");
        for (name, reason) in [
            ("PORT", "set by Cloud Run"),
            ("K_SERVICE", "set by Cloud Run"),
        ] {
            let service = Service {
                env: vec![EnvVar::value(name, "1")],
                ..Service::new("a", image.clone())
            };
            let e = service_yaml(&service).unwrap_err().to_string();
            assert!(e.contains(reason) && e.contains(name), "{e}");
        }
        let service = Service {
            env: vec![EnvVar::value("A", "1"), EnvVar::secret("A", "s")],
            ..Service::new("a", image)
        };
        let e = service_yaml(&service).unwrap_err().to_string();
        assert!(e.contains("given twice"), "{e}");
    }

    #[test]
    fn a_registry_cloud_run_cannot_pull_from_is_named() {
        let digest = format!("sha256:{}", "e".repeat(64));
        let image = ImageRef::parse("oci://127.0.0.1:5000/fns/a")
            .unwrap()
            .pinned(&digest);
        let file = service_yaml(&Service::new("a", image)).unwrap();
        assert!(
            file.notes.iter().any(|n| n.contains("not from 127.0.0.1")),
            "{:?}",
            file.notes
        );
    }

    #[test]
    fn service_names_are_dns_labels_starting_with_a_letter() {
        for (name, want) in [
            ("checkout_fn", "checkout-fn"),
            ("Orders.API", "orders-api"),
            ("__a__b__", "a-b"),
            ("2fa-codes", "fn-2fa-codes"),
        ] {
            assert_eq!(service_name(name).unwrap(), want, "{name}");
        }
        let long = service_name(&format!("{}_{}", "a".repeat(48), "b".repeat(10))).unwrap();
        assert_eq!(long, "a".repeat(48));
        assert!(service_name("___").is_err());
    }
}
