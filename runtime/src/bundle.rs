//! A function bundle: a directory holding the component exactly as it was
//! published (`fn.wasm`), optionally its precompiled code (`fn.cwasm`), and
//! the manifest `fn-bundle.json` that pins both by digest and says where the
//! function's configuration and key-value store come from on the host.
//!
//! `cargo fn deploy --provider lambda|azure|cloudrun` writes bundles; the
//! runner (`fn-runner`) opens them with [`Bundle::open`], which refuses a
//! component whose bytes are not the recorded ones, and loads them with
//! [`Bundle::load`], which checks the signature when the manifest names
//! trusted keys and uses `fn.cwasm` only when this engine can run it.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha256};

use crate::engine::{Precompiled, Runtime, RuntimeConfig};
use crate::error::Error;
use crate::function::Function;
use crate::limits::Limits;

/// The manifest's file name inside a bundle.
pub const MANIFEST: &str = "fn-bundle.json";

/// `fn-bundle.json`: what a bundle holds and how the host feeds the function.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct Manifest {
    /// The function's (package's) name.
    pub name: String,
    /// The package version.
    pub version: String,
    /// The component: the published bytes, `sha256:` digest of the file.
    pub component: BundleFile,
    /// Code precompiled from the component for this runtime's engine, when
    /// the bundle carries it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub precompiled: Option<BundleFile>,
    /// Public keys (SPKI PEM or wasmsign2 hex... any form `fn_sign` reads,
    /// as text); when not empty the component must be signed by one.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub trusted_keys: Vec<String>,
    /// Configuration keys (`wasi:config/store`) and the environment
    /// variables their values come from.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub config: BTreeMap<String, ConfigVar>,
    /// The key-value stores the function declares, and where they live.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key_value: Option<KeyValueSpec>,
    /// Whether the function may make outbound HTTP requests.
    #[serde(default = "yes")]
    pub outbound_http: bool,
    /// Per-call limits.
    #[serde(default)]
    pub limits: BundleLimits,
    /// Event triggers (schedules, queues) that reach the function as
    /// CloudEvents; how each host delivers them is the host's business.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub events: Vec<EventTrigger>,
}

fn yes() -> bool {
    true
}

/// One file of a bundle, pinned by digest.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct BundleFile {
    /// Path relative to the bundle directory.
    pub path: String,
    /// `sha256:<hex>` of the file's bytes.
    pub digest: String,
}

/// Where one configuration value comes from.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct ConfigVar {
    /// The environment variable holding the value.
    pub env: String,
    /// A secret (the provider should keep it in its secret store).
    #[serde(default)]
    pub secret: bool,
    /// The value when the variable is not set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default: Option<String>,
}

/// The function's key-value stores and the environment variable with the
/// store's URL (`redis://...`, or `memory:` for a per-instance store).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct KeyValueSpec {
    /// Store names the function opens (the default store included).
    pub stores: Vec<String>,
    /// The environment variable holding the URL.
    pub url_env: String,
}

/// Per-call limits of a bundle (absent: the runtime's defaults).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct BundleLimits {
    /// Wall-clock limit per call, in milliseconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout_ms: Option<u64>,
    /// Linear-memory limit per call, in bytes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub memory: Option<u64>,
    /// Largest request body or event, in bytes (larger gets 413).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_body: Option<usize>,
    /// Time a request body may take to arrive, in milliseconds (slower
    /// gets 408 before the function runs).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body_timeout_ms: Option<u64>,
}

/// A non-HTTP trigger of the function.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct EventTrigger {
    /// The trigger's name (an Azure function name, say).
    pub name: String,
    /// `schedule` or `queue`.
    pub kind: String,
    /// The cron expression of a schedule, the queue's name of a queue.
    pub source: String,
    /// The route events are POSTed to as CloudEvents.
    pub route: String,
}

/// The path events are POSTed to for a function's route: a trailing
/// wildcard (`/orders/...`) cut to its prefix, `/...` to `/`. What every
/// runner, and `cargo fn serve`'s schedule, deliver events to.
pub fn event_route(route: &str) -> String {
    let trimmed = route.trim_end_matches("...").trim_end_matches('/');
    if trimmed.is_empty() {
        "/".to_owned()
    } else {
        trimmed.to_owned()
    }
}

/// Why a bundle cannot be opened or loaded.
#[derive(Debug, thiserror::Error)]
pub enum BundleError {
    /// A file of the bundle could not be read.
    #[error("cannot read {}: {source}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The manifest is not valid.
    #[error("{} is not a valid bundle manifest: {reason}", path.display())]
    Manifest {
        /// The manifest file.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// A file's bytes are not the ones the manifest pins.
    #[error(
        "{} does not match the bundle: its digest is {actual}, the manifest pins {expected}; the file is corrupt or was replaced (redeploy the bundle from `cargo fn deploy`)",
        path.display()
    )]
    Digest {
        /// The file.
        path: PathBuf,
        /// The digest in the manifest.
        expected: String,
        /// The file's digest.
        actual: String,
    },
    /// A trusted key of the manifest could not be read.
    #[error("trusted key #{index} of the manifest: {reason}")]
    Key {
        /// Its position (from 1).
        index: usize,
        /// Why it could not be read.
        reason: String,
    },
    /// The runtime refused the component.
    #[error(transparent)]
    Runtime(#[from] Error),
}

/// `sha256:<hex>` of `bytes`, the digest form of bundles and OCI.
pub fn sha256_digest(bytes: &[u8]) -> String {
    let hash = Sha256::digest(bytes);
    let mut out = String::with_capacity(71);
    out.push_str("sha256:");
    for b in hash {
        out.push_str(&format!("{b:02x}"));
    }
    out
}

/// An opened bundle: the manifest and the verified component bytes.
#[derive(Debug)]
pub struct Bundle {
    dir: PathBuf,
    /// The manifest.
    pub manifest: Manifest,
    wasm: Vec<u8>,
}

/// What became of the bundle's precompiled code at load time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PrecompiledUse {
    /// The bundle has none: the component was compiled at start-up.
    Absent,
    /// It was used.
    Used,
    /// It was not usable (another engine or wasmtime version, or altered);
    /// the component was compiled at start-up instead. The reason says why.
    Rejected(String),
}

impl Bundle {
    /// Reads the bundle in `dir` and checks the component against the
    /// digest its manifest pins.
    pub fn open(dir: impl AsRef<Path>) -> Result<Bundle, BundleError> {
        let dir = dir.as_ref().to_owned();
        let manifest_path = dir.join(MANIFEST);
        let text = read(&manifest_path)?;
        let manifest: Manifest =
            serde_json::from_slice(&text).map_err(|e| BundleError::Manifest {
                path: manifest_path.clone(),
                reason: e.to_string(),
            })?;
        let wasm_path = dir.join(&manifest.component.path);
        let wasm = read(&wasm_path)?;
        check_digest(&wasm_path, &manifest.component.digest, &wasm)?;
        Ok(Bundle {
            dir,
            manifest,
            wasm,
        })
    }

    /// The directory of the bundle.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The component's bytes (verified against the manifest).
    pub fn wasm(&self) -> &[u8] {
        &self.wasm
    }

    /// The trusted keys of the manifest, parsed.
    pub fn trusted_keys(&self) -> Result<Vec<fn_sign::PublicKey>, BundleError> {
        self.manifest
            .trusted_keys
            .iter()
            .enumerate()
            .map(|(i, text)| {
                fn_sign::PublicKey::from_bytes(text.trim().as_bytes()).map_err(|e| {
                    BundleError::Key {
                        index: i + 1,
                        reason: e.to_string(),
                    }
                })
            })
            .collect()
    }

    /// The runtime configuration for this bundle: `base` trusting the
    /// manifest's keys.
    pub fn runtime_config(&self, base: RuntimeConfig) -> Result<RuntimeConfig, BundleError> {
        Ok(RuntimeConfig {
            trusted_keys: self.trusted_keys()?,
            ..base
        })
    }

    /// The per-call limits of the manifest over the defaults.
    pub fn limits(&self) -> Limits {
        let l = &self.manifest.limits;
        let mut limits = Limits::default();
        if let Some(ms) = l.timeout_ms {
            limits = limits.with_timeout(std::time::Duration::from_millis(ms));
        }
        if let Some(bytes) = l.memory {
            limits = limits.with_memory(bytes);
        }
        if let Some(bytes) = l.max_body {
            limits = limits.with_max_request_body(bytes);
        }
        if let Some(ms) = l.body_timeout_ms {
            limits = limits.with_body_timeout(std::time::Duration::from_millis(ms));
        }
        limits
    }

    /// Configuration values from the environment (`env` looks a variable
    /// up), defaults where unset; also the keys that have neither, which
    /// the function will find missing.
    pub fn config_values(
        &self,
        env: impl Fn(&str) -> Option<String>,
    ) -> (BTreeMap<String, String>, Vec<String>) {
        let mut values = BTreeMap::new();
        let mut missing = Vec::new();
        for (key, var) in &self.manifest.config {
            match env(&var.env).or_else(|| var.default.clone()) {
                Some(value) => {
                    values.insert(key.clone(), value);
                }
                None => missing.push(format!("{key} (from ${})", var.env)),
            }
        }
        (values, missing)
    }

    /// Loads the component on `runtime` (whose trusted keys should come from
    /// [`Bundle::runtime_config`]), using the precompiled code when the
    /// engine accepts it, with the manifest's limits applied.
    pub fn load(&self, runtime: &Runtime) -> Result<(Function, PrecompiledUse), BundleError> {
        let name = &self.manifest.name;
        let (function, used) = match &self.manifest.precompiled {
            None => (
                runtime.load_bytes(name, &self.wasm)?,
                PrecompiledUse::Absent,
            ),
            Some(file) => {
                let path = self.dir.join(&file.path);
                let checked =
                    read(&path).and_then(|bytes| check_digest(&path, &file.digest, &bytes));
                match checked {
                    // SAFETY: the file holds the bytes the manifest pins,
                    // which `cargo fn deploy` produced with
                    // `Runtime::precompile` from this very component, in a
                    // bundle that is not written to while it runs (Lambda's
                    // and Azure's packages are read-only, an image's layer
                    // too); wasmtime checks that a compatible engine made
                    // them before using them.
                    Ok(()) => match unsafe { runtime.load_precompiled(name, &self.wasm, &path) }? {
                        (function, Precompiled::Used) => (function, PrecompiledUse::Used),
                        (function, Precompiled::Rejected(why)) => {
                            (function, PrecompiledUse::Rejected(why))
                        }
                    },
                    Err(err) => (
                        runtime.load_bytes(name, &self.wasm)?,
                        PrecompiledUse::Rejected(err.to_string()),
                    ),
                }
            }
        };
        function.set_limits(self.limits())?;
        function.mocks().allow_network(self.manifest.outbound_http);
        Ok((function, used))
    }
}

fn read(path: &Path) -> Result<Vec<u8>, BundleError> {
    std::fs::read(path).map_err(|source| BundleError::Read {
        path: path.to_owned(),
        source,
    })
}

fn check_digest(path: &Path, expected: &str, bytes: &[u8]) -> Result<(), BundleError> {
    let actual = sha256_digest(bytes);
    if actual == expected {
        Ok(())
    } else {
        Err(BundleError::Digest {
            path: path.to_owned(),
            expected: expected.to_owned(),
            actual,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HELLO: &str = r#"(component)"#;

    fn write_bundle(dir: &Path, wasm: &[u8], manifest: &Manifest) {
        std::fs::write(dir.join("fn.wasm"), wasm).unwrap();
        std::fs::write(
            dir.join(MANIFEST),
            serde_json::to_vec_pretty(manifest).unwrap(),
        )
        .unwrap();
    }

    fn manifest(digest: String) -> Manifest {
        Manifest {
            name: "hello".into(),
            version: "0.1.0".into(),
            component: BundleFile {
                path: "fn.wasm".into(),
                digest,
            },
            precompiled: None,
            trusted_keys: vec![],
            config: BTreeMap::from([
                (
                    "greeting".into(),
                    ConfigVar {
                        env: "GREETING".into(),
                        secret: false,
                        default: Some("hi".into()),
                    },
                ),
                (
                    "api_key".into(),
                    ConfigVar {
                        env: "API_KEY".into(),
                        secret: true,
                        default: None,
                    },
                ),
            ]),
            key_value: None,
            outbound_http: true,
            limits: BundleLimits::default(),
            events: vec![],
        }
    }

    #[test]
    fn open_checks_the_component_digest() {
        let dir = tempfile::tempdir().unwrap();
        let wasm = HELLO.as_bytes().to_vec();
        write_bundle(dir.path(), &wasm, &manifest(sha256_digest(&wasm)));
        let bundle = Bundle::open(dir.path()).unwrap();
        assert_eq!(bundle.wasm(), wasm.as_slice());

        // One byte changed: refused, naming both digests.
        let mut tampered = wasm.clone();
        tampered.push(0);
        std::fs::write(dir.path().join("fn.wasm"), &tampered).unwrap();
        let err = Bundle::open(dir.path()).unwrap_err().to_string();
        assert!(err.contains("does not match the bundle"), "{err}");
        assert!(err.contains(&sha256_digest(&wasm)), "{err}");
    }

    #[test]
    fn limits_come_from_the_manifest_over_the_defaults() {
        let json =
            r#"{"timeout-ms": 1500, "memory": 1048576, "max-body": 10, "body-timeout-ms": 250}"#;
        let limits: BundleLimits = serde_json::from_str(json).unwrap();
        let dir = tempfile::tempdir().unwrap();
        let wasm = HELLO.as_bytes().to_vec();
        let limited = Manifest {
            limits,
            ..manifest(sha256_digest(&wasm))
        };
        write_bundle(dir.path(), &wasm, &limited);
        let limits = Bundle::open(dir.path()).unwrap().limits();
        assert_eq!(limits.timeout, std::time::Duration::from_millis(1500));
        assert_eq!(limits.memory, 1 << 20);
        assert_eq!(limits.max_request_body, 10);
        assert_eq!(limits.body_timeout, std::time::Duration::from_millis(250));
        let unset = Manifest {
            limits: BundleLimits::default(),
            ..manifest(sha256_digest(&wasm))
        };
        write_bundle(dir.path(), &wasm, &unset);
        let limits = Bundle::open(dir.path()).unwrap().limits();
        assert_eq!(limits.body_timeout, Limits::default().body_timeout);
    }

    #[test]
    fn bad_manifests_are_named() {
        let dir = tempfile::tempdir().unwrap();
        let err = Bundle::open(dir.path()).unwrap_err().to_string();
        assert!(err.contains("fn-bundle.json"), "{err}");
        std::fs::write(dir.path().join(MANIFEST), r#"{"name": 1}"#).unwrap();
        let err = Bundle::open(dir.path()).unwrap_err().to_string();
        assert!(err.contains("not a valid bundle manifest"), "{err}");
    }

    #[test]
    fn config_comes_from_the_environment_then_defaults() {
        let dir = tempfile::tempdir().unwrap();
        let wasm = HELLO.as_bytes().to_vec();
        write_bundle(dir.path(), &wasm, &manifest(sha256_digest(&wasm)));
        let bundle = Bundle::open(dir.path()).unwrap();
        let (values, missing) = bundle.config_values(|_| None);
        assert_eq!(values.get("greeting").map(String::as_str), Some("hi"));
        assert_eq!(missing, vec!["api_key (from $API_KEY)".to_owned()]);
        let (values, missing) =
            bundle.config_values(|var| (var == "API_KEY").then(|| "k".to_owned()));
        assert_eq!(values.get("api_key").map(String::as_str), Some("k"));
        assert!(missing.is_empty());
    }
}
