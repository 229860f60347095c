//! Publishing: push a function (built from its package, or a component
//! file) to an OCI registry as a CNCF wasm artifact, optionally with the
//! Spin application layout, and record what was pushed for `deploy`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::Context as _;
use fn_pipeline::BuildOptions;
use fn_sign::SecretKey;

use crate::oci::{self, Annotations, ImageRef, Registry};
use crate::package::FnPackage;

/// What to publish and where.
#[derive(Debug, Clone)]
pub struct Options {
    /// Where to push (the tag defaults to `latest`).
    pub reference: ImageRef,
    /// Push this component file instead of building the package.
    pub wasm: Option<PathBuf>,
    /// Sign with this key before pushing (a built artifact on disk, a
    /// given file only in memory).
    pub key: Option<SecretKey>,
    /// Also push the Spin application layout as `TAG-spin`.
    pub spin_app: bool,
    /// Use plain HTTP even for a registry that is not on loopback.
    pub insecure: bool,
}

/// What `publish` leaves in `target/fn/<package>.published.json`, so that
/// `deploy` can pin the last published artifact without a flag.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Record {
    /// The reference pushed to (with its tag).
    pub reference: String,
    /// The manifest digest.
    pub manifest_digest: String,
    /// The wasm layer digest.
    pub layer_digest: String,
    /// Whether the registry was reached over plain HTTP.
    pub plain_http: bool,
    /// The manifest digest of the Spin application layout, when pushed.
    #[serde(default)]
    pub spin_app_digest: Option<String>,
}

impl Record {
    /// Where the record of `package` lives.
    pub fn path(package: &FnPackage) -> PathBuf {
        package
            .target_dir()
            .join("fn")
            .join(format!("{}.published.json", package.name()))
    }

    /// The record at `path`, if there is a readable one.
    pub fn read(path: &Path) -> Option<Record> {
        let bytes = std::fs::read(path).ok()?;
        serde_json::from_slice(&bytes).ok()
    }

    /// Writes the record to `path` (creating its folder), atomically.
    pub fn write(&self, path: &Path) -> anyhow::Result<()> {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)
                .with_context(|| format!("cannot create {}", dir.display()))?;
        }
        crate::fs::write_atomic(path, &serde_json::to_vec_pretty(self)?)
            .with_context(|| format!("cannot write {}", path.display()))
    }
}

/// A finished publish.
#[derive(Debug, Clone)]
pub struct Published {
    /// What was pushed (also written next to the package's artifact).
    pub record: Record,
    /// The reference pinned to the manifest digest.
    pub pinned: ImageRef,
    /// The config blob's digest.
    pub config_digest: String,
    /// The component's size in bytes.
    pub size: usize,
    /// Whether the pushed component carries a signature.
    pub signed: bool,
    /// The Spin application layout's reference (`TAG-spin`), when pushed;
    /// its digest is the record's `spin_app_digest`.
    pub spin_app: Option<ImageRef>,
}

/// Publishes the component of `package` (built with `build`) or the file
/// `opts.wasm`; records the result for the package, when there is one.
/// `package` may be `None` only with `opts.wasm`.
pub fn publish(
    package: Option<&FnPackage>,
    build: &BuildOptions,
    opts: &Options,
) -> anyhow::Result<Published> {
    if opts.spin_app && package.is_none() {
        anyhow::bail!(
            "--spin-app needs the package (its [package.metadata.fn] becomes the Spin app); run in the package's directory or pass --manifest-path"
        );
    }
    let wasm = component(package, build, opts)?;
    let annotations = annotations(package, opts.wasm.as_deref(), &opts.reference);
    let artifact = oci::artifact::build(wasm, &annotations, &oci::artifact::now_rfc3339())
        .context("only a WebAssembly component can be published")?;
    let registry = Registry::new(&opts.reference, opts.insecure)?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    runtime
        .block_on(registry.push(&artifact))
        .with_context(|| format!("cannot publish to {}", opts.reference))?;
    let spin_app = match package.filter(|_| opts.spin_app) {
        Some(package) => Some(runtime.block_on(push_spin_app(
            &registry,
            package,
            &artifact,
            &opts.reference,
        ))?),
        None => None,
    };
    let record = Record {
        reference: opts.reference.to_string(),
        manifest_digest: artifact.manifest_digest.clone(),
        layer_digest: artifact.layer_digest.clone(),
        plain_http: registry.plain_http(),
        spin_app_digest: spin_app.as_ref().map(|(_, digest)| digest.clone()),
    };
    if let Some(package) = package {
        record.write(&Record::path(package))?;
    }
    Ok(Published {
        pinned: opts.reference.pinned(&artifact.manifest_digest),
        config_digest: artifact.config_digest.clone(),
        size: artifact.layer.len(),
        signed: fn_sign::is_signed(&artifact.layer),
        spin_app: spin_app.map(|(reference, _)| reference),
        record,
    })
}

/// The component bytes to push: the given file (checked to be a function,
/// signed in memory), or the package built (and signed) by the pipeline.
fn component(
    package: Option<&FnPackage>,
    build: &BuildOptions,
    opts: &Options,
) -> anyhow::Result<Vec<u8>> {
    if let Some(file) = &opts.wasm {
        let wasm =
            std::fs::read(file).with_context(|| format!("cannot read {}", file.display()))?;
        refuse_non_function(&wasm)
            .with_context(|| format!("{} cannot be published", file.display()))?;
        return match &opts.key {
            // A given file is signed in memory; the file is left alone.
            Some(key) => {
                fn_sign::sign(&wasm, key).with_context(|| format!("cannot sign {}", file.display()))
            }
            None => Ok(wasm),
        };
    }
    let package = package.context("nothing to publish: pass --wasm FILE or run in a package")?;
    // Signed by the pipeline before the artifact's one write: a publish
    // killed at any moment leaves the old artifact or the new signed one.
    let build = BuildOptions {
        sign: opts.key.clone(),
        ..build.clone()
    };
    let built =
        fn_pipeline::build_package(&package.cargo, &build).context("the function was not built")?;
    std::fs::read(&built.artifact)
        .with_context(|| format!("cannot read {}", built.artifact.display()))
}

/// The annotation of a manifest whose component is a composition (the Spin
/// application layout, wasmCloud's `TAG-wasmcloud`): the layer digest of
/// the published function inside it.
pub const FUNCTION_DIGEST_ANNOTATION: &str = "dev.cargo-fn.function.digest";

/// Pushes the Spin application layout of `package` (the same component
/// blob plus a locked app) as `TAG-spin`; returns its reference and
/// manifest digest.
async fn push_spin_app(
    registry: &Registry,
    package: &FnPackage,
    artifact: &oci::Artifact,
    reference: &ImageRef,
) -> anyhow::Result<(ImageRef, String)> {
    // SpinKube's shim runs the locked app's components as they are (it does
    // not compose dependencies): a function that needs the Spin adapter gets
    // its composition as the app's component, the published function inside
    // it byte for byte, and the manifest says which function that is.
    let composed =
        crate::deploy::adapt(package, crate::deploy::Provider::Spinkube, &artifact.layer)?;
    let (component, component_digest) = match &composed {
        Some(bytes) => (bytes.as_slice(), oci::artifact::sha256_digest(bytes)),
        None => (artifact.layer.as_slice(), artifact.layer_digest.clone()),
    };
    let locked = crate::deploy::spin::locked_app(
        package.name(),
        &package.cargo.version,
        &package.metadata,
        &component_digest,
    );
    let mut annotations = manifest_annotations(artifact);
    if composed.is_some() {
        annotations.insert(
            FUNCTION_DIGEST_ANNOTATION.to_owned(),
            artifact.layer_digest.clone(),
        );
    }
    let app = oci::spin_app::build(
        &locked,
        &component_digest,
        component.len() as u64,
        annotations,
    );
    let tag = format!("{}-spin", reference.tag_or_latest());
    let mut blobs: Vec<(&[u8], &str)> = vec![
        (&app.locked, &app.locked_digest),
        (&app.config, &app.config_digest),
    ];
    if composed.is_some() {
        blobs.push((component, &component_digest));
    }
    registry
        .push_parts(&blobs, &app.manifest, &tag)
        .await
        .with_context(|| format!("cannot publish the Spin application layout to {tag}"))?;
    let tagged = ImageRef {
        tag: Some(tag),
        ..reference.clone()
    };
    Ok((tagged, app.manifest_digest))
}

/// The annotations of the pushed manifest, for the Spin layout too.
fn manifest_annotations(artifact: &oci::Artifact) -> BTreeMap<String, String> {
    serde_json::from_slice::<serde_json::Value>(&artifact.manifest)
        .ok()
        .and_then(|m| serde_json::from_value(m["annotations"].clone()).ok())
        .unwrap_or_default()
}

/// Refuses a component that is not a function: every provider bundle
/// routes HTTP to `wasi:http/incoming-handler`, so without that export
/// nothing could ever call it.
pub fn refuse_non_function(wasm: &[u8]) -> anyhow::Result<()> {
    let (_, exports) = fn_pipeline::contract::imports_and_exports(wasm)
        .context("only a WebAssembly component can be published")?;
    if !exports
        .iter()
        .any(|e| e.starts_with("wasi:http/incoming-handler@"))
    {
        anyhow::bail!(
            "it does not export wasi:http/incoming-handler (it exports: {}); \
             build functions with `cargo fn build`",
            if exports.is_empty() {
                "nothing".to_owned()
            } else {
                exports.join(", ")
            }
        );
    }
    Ok(())
}

/// The OCI annotations: source, version, revision, title (created is added
/// with the timestamp).
fn annotations(package: Option<&FnPackage>, wasm: Option<&Path>, image: &ImageRef) -> Annotations {
    let title = package.map(|p| p.name().to_owned()).or_else(|| {
        wasm.and_then(|w| w.file_stem())
            .map(|s| s.to_string_lossy().into_owned())
    });
    Annotations {
        source: package.and_then(|p| {
            p.cargo
                .repository
                .clone()
                .or_else(|| git(p.dir(), &["config", "--get", "remote.origin.url"]))
        }),
        version: package
            .map(|p| p.cargo.version.clone())
            .or_else(|| image.tag.clone()),
        revision: package
            .and_then(|p| git(p.dir(), &["rev-parse", "HEAD"]))
            .filter(|head| head.len() >= 40),
        title,
        function_digest: None,
    }
}

/// The trimmed output of `git <args>` in `dir`, if it succeeds.
fn git(dir: &Path, args: &[&str]) -> Option<String> {
    let out = std::process::Command::new("git")
        .args(args)
        .current_dir(dir)
        .stderr(std::process::Stdio::null())
        .output()
        .ok()?;
    let text = String::from_utf8(out.stdout).ok()?.trim().to_owned();
    (out.status.success() && !text.is_empty()).then_some(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_record_round_trips_through_its_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("fn/orders.published.json");
        assert_eq!(Record::read(&path), None);
        let record = Record {
            reference: "oci://127.0.0.1:5000/orders:v1".into(),
            manifest_digest: format!("sha256:{}", "a".repeat(64)),
            layer_digest: format!("sha256:{}", "b".repeat(64)),
            plain_http: true,
            spin_app_digest: None,
        };
        record.write(&path).unwrap();
        assert_eq!(Record::read(&path), Some(record));
        std::fs::write(&path, b"{").unwrap();
        assert_eq!(Record::read(&path), None, "a damaged record is no record");
    }

    #[test]
    fn a_component_without_a_handler_is_refused_with_its_exports() {
        let plain = wat::parse_str("(component)").unwrap();
        let err = refuse_non_function(&plain).unwrap_err().to_string();
        assert!(err.contains("exports: nothing"), "{err}");
        let err = refuse_non_function(b"not wasm").unwrap_err().to_string();
        assert!(err.contains("only a WebAssembly component"), "{err}");
    }

    #[test]
    fn a_file_without_a_package_is_titled_by_its_name_and_tag() {
        let image = ImageRef::parse("oci://127.0.0.1:5000/shop/orders:v7").unwrap();
        let a = annotations(None, Some(Path::new("out/orders-fn.wasm")), &image);
        assert_eq!(a.title.as_deref(), Some("orders-fn"));
        assert_eq!(a.version.as_deref(), Some("v7"));
        assert_eq!((a.source, a.revision), (None, None));
    }
}
