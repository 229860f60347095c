//! `cargo fn deploy --provider cloudrun`: the runner and the function
//! bundle in a container image ([`runner_image`]), pushed next to the
//! published artifact as `TAG-cloudrun`, and a `service.yaml` running it by
//! the digest the registry acknowledged, with the function's configuration,
//! secrets and key-value URL as the container's environment.

use anyhow::{Context as _, bail};

use super::{EnvVar, Service, service_name, service_yaml};
use crate::deploy::Deployment;
use crate::deploy::files::Output;
use crate::deploy::native::{self, Component, KEY_VALUE_URL_ENV, config_env};
use crate::oci::image::{Image, ImageFile, WORKING_DIR, runner_image};
use crate::oci::{ImageRef, Registry};
use crate::runner::Arch;

/// What the image's tag adds to the artifact's (`v1` → `v1-cloudrun`), as
/// `publish --spin-app` adds `-spin`.
pub const TAG_SUFFIX: &str = "-cloudrun";
/// The directory next to `service.yaml` holding the image as an OCI image
/// layout, under its tag.
pub const LAYOUT_DIR: &str = "image";

/// Refuses what Cloud Run cannot run: it runs linux/amd64 containers only.
pub fn check(arch: Arch) -> anyhow::Result<()> {
    if arch != Arch::X86_64 {
        bail!(
            "Cloud Run runs linux/amd64 containers only; drop `--arch {}` (the image carries the x86_64 runner)",
            arch.name()
        );
    }
    Ok(())
}

/// The tag of the image: the artifact's (or `latest`) plus [`TAG_SUFFIX`].
pub fn image_tag(deployment: &Deployment) -> String {
    format!(
        "{}{TAG_SUFFIX}",
        deployment.tag.as_deref().unwrap_or("latest")
    )
}

/// Where the image is pushed: the artifact's repository, under
/// [`image_tag`].
pub fn image_ref(deployment: &Deployment) -> ImageRef {
    ImageRef {
        tag: Some(image_tag(deployment)),
        digest: None,
        ..deployment.image.clone()
    }
}

/// The image: `runner` as the entrypoint, next to the function bundle of
/// `component` (`fn.wasm`, `fn.cwasm` when precompiled, `fn-bundle.json`)
/// in `/fn`, where the runner looks for it by default.
pub fn image(
    deployment: &Deployment,
    runner: &[u8],
    component: &Component,
) -> anyhow::Result<Image> {
    // No event triggers: a schedule is Cloud Scheduler's, posting
    // CloudEvents to the route like any other event source.
    let files = native::bundle_files(deployment, component, Vec::new())?;
    let others = files
        .into_iter()
        .filter(|entry| entry.path != native::WASM)
        .map(|entry| ImageFile {
            path: format!("{WORKING_DIR}/{}", entry.path),
            bytes: entry.contents,
            mode: entry.mode,
        });
    Ok(runner_image(runner.to_vec(), component.wasm.clone())
        .files(others)
        .build()?)
}

/// The name of the Secret Manager secret behind the variable of `what`
/// (a configuration key, `key-value-url`) of the service `service`.
fn secret_name(service: &str, what: &str) -> String {
    format!("{service}-{}", what.to_ascii_lowercase().replace('_', "-"))
}

/// The container's environment: configuration with a value (its default)
/// as values, secrets and the key-value URL from Secret Manager. Returns
/// also the required configuration nobody gave a value, one line each.
pub fn environment(deployment: &Deployment) -> anyhow::Result<(Vec<EnvVar>, Vec<String>)> {
    let service = service_name(&deployment.name)?;
    let meta = &deployment.metadata;
    let mut env = Vec::new();
    let mut missing = Vec::new();
    for (key, c) in &meta.config {
        let var = config_env(key);
        match (&c.default, c.secret) {
            (_, true) => env.push(EnvVar::secret(&var, &secret_name(&service, key))),
            (Some(value), false) => env.push(EnvVar::value(&var, value)),
            (None, false) => missing.push(format!("{var} (required config `{key}`)")),
        }
    }
    if !meta.key_value.is_empty() {
        // The URL may carry a password: a secret too.
        env.push(EnvVar::secret(
            KEY_VALUE_URL_ENV,
            &secret_name(&service, "key-value-url"),
        ));
    }
    Ok((env, missing))
}

/// `service.yaml` running the pushed image `pinned` (pinned to the digest
/// the registry acknowledged), with what the user must still do.
pub fn bundle(deployment: &Deployment, pinned: ImageRef) -> anyhow::Result<Output> {
    let (env, missing) = environment(deployment)?;
    let service = Service {
        env,
        ..Service::new(&deployment.name, pinned)
    };
    let mut output = Output::from(service_yaml(&service)?);
    if !missing.is_empty() {
        output.notes.push(format!(
            "no value for {}: add each to the container's `env` in service.yaml (`- name: VAR` / `value: ...`) before deploying",
            missing.join(", ")
        ));
    }
    if !deployment.metadata.key_value.is_empty() {
        output.notes.push(format!(
            "the secret behind {KEY_VALUE_URL_ENV} holds the key-value stores' URL ({}): redis://HOST:PORT (Memorystore), or memory: for a store private to each instance",
            deployment.metadata.key_value.join(", ")
        ));
    }
    Ok(output)
}

/// The image of `component` on `runner` pushed to [`image_ref`], and the
/// bundle running it.
#[derive(Debug)]
pub struct Packaged {
    /// `service.yaml` and the notes.
    pub output: Output,
    /// The image pushed.
    pub image: Image,
    /// Its tag.
    pub tag: String,
}

/// Builds the image, pushes it next to the artifact (plain HTTP when
/// `insecure`) and writes the service running it by digest.
pub fn package(
    deployment: &Deployment,
    runner: &[u8],
    component: &Component,
    insecure: bool,
) -> anyhow::Result<Packaged> {
    let image = image(deployment, runner, component)?;
    let tagged = image_ref(deployment);
    let registry = Registry::new(&tagged, insecure || deployment.plain_http)?;
    let digest = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?
        .block_on(registry.push_image(&image))
        .with_context(|| format!("cannot push the Cloud Run image to {tagged}"))?;
    let mut output = bundle(deployment, tagged.pinned(&digest))?;
    let tag = image_tag(deployment);
    output.notes.insert(
        0,
        format!(
            "pushed the image {tagged} ({digest}, layer {} bytes); {LAYOUT_DIR}/ holds it as an OCI image layout (`umoci unpack --image {LAYOUT_DIR}:{tag}`, `skopeo copy oci:{LAYOUT_DIR}:{tag} ...`)",
            image.layer.len()
        ),
    );
    Ok(Packaged { output, image, tag })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::deploy::parse_yaml;
    use crate::oci::image::{BUNDLE_PATH, COMPONENT_DIGEST_LABEL, PRECOMPILED_PATH, RUNNER_PATH};
    use fn_runtime::bundle::Manifest;

    fn component(deployment: &mut Deployment) -> Component {
        let wasm = b"\0asm\x0d\0\x01\0".to_vec();
        deployment.layer_digest = fn_runtime::bundle::sha256_digest(&wasm);
        Component {
            precompiled: Some(b"precompiled".to_vec()),
            ..Component::new(deployment, wasm).unwrap()
        }
    }

    /// The files of the image's layer: path → (mode, bytes).
    fn layer(image: &Image) -> std::collections::BTreeMap<String, (u32, Vec<u8>)> {
        use std::io::Read as _;
        let tar = flate2::read::GzDecoder::new(image.layer.as_slice());
        let mut archive = tar::Archive::new(tar);
        let mut files = std::collections::BTreeMap::new();
        for entry in archive.entries().unwrap() {
            let mut entry = entry.unwrap();
            if entry.header().entry_type() != tar::EntryType::Regular {
                continue;
            }
            let path = format!("/{}", entry.path().unwrap().display());
            let mode = entry.header().mode().unwrap();
            let mut bytes = Vec::new();
            entry.read_to_end(&mut bytes).unwrap();
            files.insert(path, (mode, bytes));
        }
        files
    }

    #[test]
    fn the_image_holds_the_runner_and_the_bundle_where_the_runner_looks() {
        let mut deployment = crate::deploy::sample();
        let component = component(&mut deployment);
        let image = image(&deployment, b"\x7fELF runner", &component).unwrap();
        let files = layer(&image);
        let paths: Vec<&str> = files.keys().map(String::as_str).collect();
        assert_eq!(
            paths,
            [BUNDLE_PATH, RUNNER_PATH, PRECOMPILED_PATH, "/fn/fn.wasm"]
        );
        assert_eq!(files[RUNNER_PATH], (0o755, b"\x7fELF runner".to_vec()));
        assert_eq!(files["/fn/fn.wasm"].1, component.wasm);
        let manifest: Manifest = serde_json::from_slice(&files[BUNDLE_PATH].1).unwrap();
        assert_eq!(manifest.component.digest, deployment.layer_digest);
        assert_eq!(manifest.component.path, "fn.wasm");
        assert_eq!(manifest.precompiled.unwrap().path, "fn.cwasm");
        assert!(manifest.events.is_empty());
        let config: serde_json::Value = serde_json::from_slice(&image.config).unwrap();
        assert_eq!(
            config["config"]["Labels"][COMPONENT_DIGEST_LABEL],
            deployment.layer_digest.as_str()
        );
        // The same inputs, the same digest.
        let again = super::image(&deployment, b"\x7fELF runner", &component).unwrap();
        assert_eq!(again.manifest_digest, image.manifest_digest);
    }

    #[test]
    fn the_image_is_tagged_after_the_artifact_in_its_repository() {
        let mut deployment = crate::deploy::sample();
        let tagged = image_ref(&deployment);
        assert_eq!(
            tagged.without_scheme(),
            "127.0.0.1:5000/shop/checkout:v1-cloudrun"
        );
        deployment.tag = None;
        assert_eq!(image_tag(&deployment), "latest-cloudrun");
        assert!(check(Arch::X86_64).is_ok());
        let err = check(Arch::Arm64).unwrap_err().to_string();
        assert!(
            err.contains("linux/amd64") && err.contains("--arch arm64"),
            "{err}"
        );
    }

    #[test]
    fn the_service_gets_config_values_and_secrets_and_the_key_value_url() {
        let deployment = crate::deploy::sample();
        let digest = format!("sha256:{}", "d".repeat(64));
        let output = bundle(&deployment, image_ref(&deployment).pinned(&digest)).unwrap();
        assert_eq!(output.main, "service.yaml");
        let doc = parse_yaml(&output.files[0].text());
        let container = &doc["spec"]["template"]["spec"]["containers"][0];
        assert_eq!(
            container["image"],
            format!("127.0.0.1:5000/shop/checkout@{digest}")
        );
        assert_eq!(
            container["env"],
            serde_json::json!([
                { "name": "FN_CONFIG_PAYMENT_API_KEY", "valueFrom": { "secretKeyRef": {
                    "name": "checkout-fn-payment-api-key", "key": "latest" } } },
                { "name": "FN_CONFIG_PAYMENT_API_URL", "value": "https://api.stripe.com" },
                { "name": "FN_KEY_VALUE_URL", "valueFrom": { "secretKeyRef": {
                    "name": "checkout-fn-key-value-url", "key": "latest" } } },
            ])
        );
        let notes = output.notes.join("\n");
        for wanted in [
            "gcloud run services replace service.yaml",
            "checkout-fn-payment-api-key, checkout-fn-key-value-url",
            "FN_CONFIG_REGION (required config `region`)",
            "crane copy",
            "redis://",
        ] {
            assert!(notes.contains(wanted), "{wanted:?} not in\n{notes}");
        }
    }
}
