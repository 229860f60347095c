//! What the packages for native hosts (Lambda, Azure Functions, Cloud Run)
//! share: the function bundle `fn-runner` runs (`fn-bundle.json`, the
//! published `fn.wasm`, optionally `fn.cwasm`, see
//! [`fn_runtime::bundle`]), and the environment variables configuration and
//! key-value reach the function through.

use fn_runtime::bundle::{
    self, BundleFile, BundleLimits, ConfigVar, EventTrigger, KeyValueSpec, Manifest,
};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use anyhow::Context as _;

use super::Deployment;
use super::files::Entry;

/// The component's file name in a bundle.
pub const WASM: &str = "fn.wasm";
/// The precompiled code's file name in a bundle.
pub const CWASM: &str = "fn.cwasm";
/// The variable holding the key-value store's URL (`redis://...`, or
/// `memory:` for a store private to each instance).
pub const KEY_VALUE_URL_ENV: &str = "FN_KEY_VALUE_URL";

/// The environment variable a configuration key's value comes from:
/// `payment_api_key` → `FN_CONFIG_PAYMENT_API_KEY` (the prefix keeps keys
/// such as `port` or `aws_region` off the hosts' own variables).
pub fn config_env(key: &str) -> String {
    format!("FN_CONFIG_{}", key.to_ascii_uppercase())
}

/// The published component, and its precompiled code when wanted.
#[derive(Debug, Clone)]
pub struct Component {
    /// The published bytes (their digest is the deployment's layer digest).
    pub wasm: Vec<u8>,
    /// Code precompiled by the runner ([`Component::precompile_with`]).
    pub precompiled: Option<Vec<u8>>,
    /// Public keys (SPKI PEM) the runner trusts: it refuses to start unless
    /// the component is signed by one ([`Component::trusting`]).
    pub trusted_keys: Vec<String>,
}

impl Component {
    /// The component `wasm` of `deployment`, refused unless it is the
    /// published layer.
    pub fn new(deployment: &Deployment, wasm: Vec<u8>) -> anyhow::Result<Component> {
        let digest = bundle::sha256_digest(&wasm);
        if digest != deployment.layer_digest {
            anyhow::bail!(
                "the component to bundle has digest {digest}, but {} publishes {}; pass the published bytes",
                deployment.image,
                deployment.layer_digest
            );
        }
        Ok(Component {
            wasm,
            precompiled: None,
            trusted_keys: Vec::new(),
        })
    }

    /// Checks that the component is signed by one of the public keys in
    /// `key_files` and has the runner trust them: it checks the signature
    /// again at every start.
    pub fn trusting(mut self, key_files: &[PathBuf]) -> anyhow::Result<Component> {
        let keys = crate::keys::load_public_keys(key_files)?;
        let verified = fn_sign::verify(&self.wasm, &keys).context(
            "the published component does not carry a signature by a trusted key, so its runner would refuse to start; publish it with `--sign KEY`",
        )?;
        eprintln!(
            "signature: {verified} (key file {})",
            key_files[verified.trusted_index].display()
        );
        self.trusted_keys = keys.iter().map(|key| key.to_pem()).collect();
        Ok(self)
    }

    /// Adds code precompiled by `runner` (`fn-runner --precompile`): the
    /// engine that will load it makes it, since code from any other build
    /// of wasmtime (other cargo features, another default collector) may be
    /// refused. The runner must be able to run here (same OS and CPU).
    pub fn precompile_with(mut self, runner: &Path) -> anyhow::Result<Component> {
        let dir = tempfile::tempdir().context("cannot create a temporary directory")?;
        let (wasm, out) = (dir.path().join(WASM), dir.path().join(CWASM));
        std::fs::write(&wasm, &self.wasm)?;
        let output = Command::new(runner)
            .arg("--precompile")
            .args([&wasm, &out])
            .stdin(Stdio::null())
            .output()
            .with_context(|| format!("cannot run {}", runner.display()))?;
        if !output.status.success() {
            anyhow::bail!(
                "`{} --precompile` failed ({}): {}",
                runner.display(),
                output.status,
                String::from_utf8_lossy(&output.stderr).trim()
            );
        }
        self.precompiled =
            Some(std::fs::read(&out).with_context(|| format!("cannot read {}", out.display()))?);
        Ok(self)
    }
}

/// The schedule of `deployment` as the trigger `name`, delivered as
/// CloudEvents to the function's route.
pub fn schedule_trigger(deployment: &Deployment, name: &str) -> Option<EventTrigger> {
    let meta = &deployment.metadata;
    meta.schedule.as_ref().map(|cron| EventTrigger {
        name: name.to_owned(),
        kind: "schedule".to_owned(),
        source: cron.clone(),
        route: meta.route_or_wildcard().to_owned(),
    })
}

/// `fn-bundle.json` for `component` of `deployment` with the event
/// triggers `events`.
pub fn manifest(
    deployment: &Deployment,
    component: &Component,
    events: Vec<EventTrigger>,
) -> Manifest {
    let meta = &deployment.metadata;
    Manifest {
        name: deployment.name.clone(),
        version: deployment.version.clone(),
        component: BundleFile {
            path: WASM.to_owned(),
            digest: deployment.layer_digest.clone(),
        },
        precompiled: component.precompiled.as_ref().map(|code| BundleFile {
            path: CWASM.to_owned(),
            digest: bundle::sha256_digest(code),
        }),
        trusted_keys: component.trusted_keys.clone(),
        config: meta
            .config
            .iter()
            .map(|(key, c)| {
                let var = ConfigVar {
                    env: config_env(key),
                    secret: c.secret,
                    default: c.default.clone(),
                };
                (key.clone(), var)
            })
            .collect(),
        key_value: (!meta.key_value.is_empty()).then(|| KeyValueSpec {
            stores: meta.key_value.clone(),
            url_env: KEY_VALUE_URL_ENV.to_owned(),
        }),
        outbound_http: !meta.allowed_outbound_hosts.is_empty(),
        limits: BundleLimits::default(),
        events,
    }
}

/// The bundle's files: `fn.wasm`, `fn.cwasm` when precompiled, and
/// `fn-bundle.json` pinning them.
pub fn bundle_files(
    deployment: &Deployment,
    component: &Component,
    events: Vec<EventTrigger>,
) -> anyhow::Result<Vec<Entry>> {
    let manifest = manifest(deployment, component, events);
    let mut files = vec![Entry::file(WASM, component.wasm.clone())];
    if let Some(code) = &component.precompiled {
        files.push(Entry::file(CWASM, code.clone()));
    }
    files.push(Entry::json(bundle::MANIFEST, &manifest)?);
    Ok(files)
}

/// The files the runner needs: the bundle, with the schedule (if any) as
/// the event trigger `schedule`, and the runner itself, executable, at
/// `runner_path`.
pub fn runner_files(
    deployment: &Deployment,
    component: &Component,
    schedule: &str,
    runner_path: &str,
    runner: &[u8],
) -> anyhow::Result<Vec<Entry>> {
    let events = schedule_trigger(deployment, schedule).into_iter().collect();
    let mut files = bundle_files(deployment, component, events)?;
    files.push(Entry::executable(runner_path, runner.to_vec()));
    Ok(files)
}

/// The settings (environment variables) the host must provide, one line
/// each: required configuration, secrets and the key-value URL.
pub fn settings_to_set(deployment: &Deployment) -> Vec<String> {
    let meta = &deployment.metadata;
    let mut lines: Vec<String> = meta
        .config
        .iter()
        .filter(|(_, c)| c.secret || c.default.is_none())
        .map(|(key, c)| {
            let what = if c.secret { "secret" } else { "required" };
            format!("{} ({what} config `{key}`)", config_env(key))
        })
        .collect();
    if !meta.key_value.is_empty() {
        lines.push(format!(
            "{KEY_VALUE_URL_ENV} (key-value stores {}: redis://HOST:PORT, or memory: for a store private to each instance)",
            meta.key_value.join(", ")
        ));
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_manifest_pins_the_layer_and_maps_config_to_variables() {
        let mut deployment = super::super::sample();
        let wasm = b"\0asm\x0d\0\x01\0".to_vec();
        let err = Component::new(&deployment, wasm.clone()).unwrap_err();
        assert!(err.to_string().contains("publishes sha256:bbbb"), "{err}");
        deployment.layer_digest = bundle::sha256_digest(&wasm);
        let component = Component::new(&deployment, wasm.clone()).unwrap();
        let events = schedule_trigger(&deployment, "tick").into_iter().collect();
        let files = bundle_files(&deployment, &component, events).unwrap();
        let names: Vec<&str> = files.iter().map(|f| f.path.as_str()).collect();
        assert_eq!(names, ["fn.wasm", "fn-bundle.json"]);
        let manifest: Manifest = serde_json::from_slice(&files[1].contents).unwrap();
        assert_eq!(manifest.component.digest, deployment.layer_digest);
        assert_eq!(manifest.precompiled, None);
        assert_eq!(
            manifest.config["payment_api_key"].env,
            "FN_CONFIG_PAYMENT_API_KEY"
        );
        assert!(manifest.config["payment_api_key"].secret);
        assert_eq!(
            manifest.config["payment_api_url"].default.as_deref(),
            Some("https://api.stripe.com")
        );
        let kv = manifest.key_value.unwrap();
        assert_eq!(kv.stores, ["default", "cache"]);
        assert_eq!(kv.url_env, KEY_VALUE_URL_ENV);
        assert!(manifest.outbound_http);
        assert!(manifest.events.is_empty(), "the sample has no schedule");

        let settings = settings_to_set(&deployment).join("\n");
        assert!(
            settings.contains("FN_CONFIG_PAYMENT_API_KEY (secret"),
            "{settings}"
        );
        assert!(
            settings.contains("FN_CONFIG_REGION (required"),
            "{settings}"
        );
        assert!(!settings.contains("PAYMENT_API_URL"), "{settings}");
        assert!(settings.contains("FN_KEY_VALUE_URL"), "{settings}");
    }
}
