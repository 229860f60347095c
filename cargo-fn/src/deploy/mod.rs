//! Provider bundles: one published artifact, pinned by digest, described
//! for each host from `[package.metadata.fn]`. Every generator serialises
//! data structures (toml, YAML) rather than filling text templates.

pub mod spin;
pub mod wasmcloud;
pub mod wasmtime;

use crate::metadata::FnMetadata;
use crate::oci::ImageRef;

/// The providers `cargo fn deploy` writes bundles for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Provider {
    /// spin.toml (manifest v2), component fetched from the registry by digest
    Spin,
    /// wadm.yaml for wasmCloud
    Wasmcloud,
    /// a SpinApp resource for SpinKube
    Spinkube,
    /// a shell script: `cargo fn pull` by digest, then `wasmtime serve`
    Wasmtime,
}

/// What every bundle is generated from.
#[derive(Debug, Clone)]
pub struct Target {
    /// Application and component name (the package name).
    pub name: String,
    /// The package version.
    pub version: String,
    /// The function's declared triggers and capabilities.
    pub metadata: FnMetadata,
    /// The artifact, pinned to its manifest digest.
    pub image: ImageRef,
    /// The wasm layer's digest (what Spin fetches as a blob).
    pub layer_digest: String,
    /// Whether the registry speaks plain HTTP.
    pub plain_http: bool,
    /// The manifest digest of the Spin application layout of the same
    /// component (`publish --spin-app`), if pushed.
    pub spin_app_digest: Option<String>,
}

/// One generated file.
#[derive(Debug, Clone)]
pub struct File {
    /// Its name in the output directory.
    pub name: &'static str,
    /// Its contents.
    pub contents: String,
    /// Whether to mark it executable.
    pub executable: bool,
    /// What the user must know or still do (printed after writing).
    pub notes: Vec<String>,
}

impl Target {
    /// The manifest digest the bundle pins.
    pub fn manifest_digest(&self) -> &str {
        self.image
            .digest
            .as_deref()
            .expect("a deploy target is pinned to a digest")
    }

    /// A kebab-case id for the component (Spin and wadm want one).
    pub fn component_id(&self) -> String {
        spin::component_id(&self.name)
    }

    /// Notes common to all providers about non-HTTP triggers.
    fn trigger_notes(&self) -> Vec<String> {
        let mut notes = Vec::new();
        let route = self.metadata.route_or_wildcard();
        if !self.metadata.events.is_empty() {
            notes.push(format!(
                "events ({}) arrive as CloudEvents over HTTP: point the event source (Knative, Dapr, Event Grid, ...) at the route {route}",
                self.metadata.events.join(", ")
            ));
        }
        if let Some(cron) = &self.metadata.schedule {
            notes.push(format!(
                "schedule {cron:?}: have a scheduler POST a CloudEvent to the route {route} on that schedule (the component exports only wasi:http)"
            ));
        }
        notes
    }

    /// Generates the bundle for `provider`.
    pub fn bundle(&self, provider: Provider) -> anyhow::Result<File> {
        let mut file = match provider {
            Provider::Spin => spin::spin_toml(self)?,
            Provider::Wasmcloud => wasmcloud::wadm_yaml(self)?,
            Provider::Spinkube => wasmcloud::spin_app_yaml(self)?,
            Provider::Wasmtime => wasmtime::run_script(self),
        };
        file.notes.extend(self.trigger_notes());
        Ok(file)
    }
}

#[cfg(test)]
pub(crate) fn sample() -> Target {
    let meta: toml::Value = toml::from_str(
        r#"
        route = "/orders/..."
        events = ["user.registered"]
        key-value = ["default", "cache"]
        allowed-outbound-hosts = ["https://api.stripe.com"]
        [config]
        payment_api_key = { secret = true }
        payment_api_url = { default = "https://api.stripe.com" }
        region = {}
        "#,
    )
    .unwrap();
    let digest = format!("sha256:{}", "a".repeat(64));
    Target {
        name: "checkout_fn".into(),
        version: "1.2.0".into(),
        metadata: FnMetadata::from_json(&serde_json::to_value(meta).unwrap()).unwrap(),
        image: ImageRef::parse("oci://127.0.0.1:5000/shop/checkout:v1")
            .unwrap()
            .pinned(&digest),
        layer_digest: format!("sha256:{}", "b".repeat(64)),
        plain_http: true,
        spin_app_digest: None,
    }
}
