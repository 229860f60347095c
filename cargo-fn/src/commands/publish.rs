//! `cargo fn publish oci://HOST[:PORT]/REPO:TAG`: push the built (optionally
//! signed) component as a CNCF wasm OCI artifact and print its digest.

use std::path::{Path, PathBuf};

use anyhow::Context as _;
use fn_pipeline::BuildOptions;

use crate::metadata::FnPackage;
use crate::oci::{self, Annotations, ImageRef, Registry};

/// Push the function to an OCI registry as a wasm component artifact
///
/// Builds the package (release profile) unless --wasm names a component,
/// optionally signs it, and pushes it in the CNCF wasm OCI artifact layout:
/// one application/wasm layer and an application/vnd.wasm.config.v0+json
/// config listing the component's imports and exports. Prints the manifest
/// digest, which `cargo fn pull` and `cargo fn deploy` pin.
///
/// Credentials: CARGO_FN_REGISTRY_USERNAME and CARGO_FN_REGISTRY_PASSWORD,
/// else the docker config file ($DOCKER_CONFIG/config.json or
/// ~/.docker/config.json). Loopback registries and --insecure use plain HTTP.
///
/// Example:
///   cargo fn publish oci://127.0.0.1:5000/hello:v1 --sign release.key
#[derive(Debug, clap::Args)]
#[command(verbatim_doc_comment)]
pub struct Args {
    /// Where to push: oci://HOST[:PORT]/REPO[:TAG] (tag defaults to latest)
    #[arg(value_name = "REF")]
    pub reference: ImageRef,
    /// Push this component file instead of building the package
    #[arg(long, value_name = "FILE")]
    pub wasm: Option<PathBuf>,
    #[command(flatten)]
    pub pkg: super::PackageArgs,
    /// Cargo's target directory
    #[arg(long, value_name = "DIR")]
    pub target_dir: Option<PathBuf>,
    /// Sign the artifact with this secret key before pushing
    #[arg(long, value_name = "KEY")]
    pub sign: Option<PathBuf>,
    /// Also push the Spin application layout (for SpinKube) as TAG-spin,
    /// reusing the same component blob; needs [package.metadata.fn]
    #[arg(long)]
    pub spin_app: bool,
    /// Use plain HTTP (always the case for loopback registries)
    #[arg(long)]
    pub insecure: bool,
    /// Print the result as JSON on stdout
    #[arg(long)]
    pub json: bool,
}

/// What `publish` leaves in `target/fn/<package>.published.json`, so that
/// `deploy` can pin the last published artifact without a flag.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
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
            .target_dir
            .join("fn")
            .join(format!("{}.published.json", package.name))
    }
}

impl Args {
    /// Runs `cargo fn publish`.
    pub fn run(self) -> anyhow::Result<()> {
        let key = self
            .sign
            .as_deref()
            .map(super::sign::load_secret_key)
            .transpose()?;
        // The package is needed to build; with --wasm it only names things.
        let package = match &self.wasm {
            Some(_) => self.pkg.load().ok(),
            None => Some(self.pkg.load()?),
        };
        if self.spin_app && package.is_none() {
            anyhow::bail!(
                "--spin-app needs the package (its [package.metadata.fn] becomes the Spin app); run in the package's directory or pass --manifest-path"
            );
        }
        let wasm = match &self.wasm {
            Some(file) => {
                std::fs::read(file).with_context(|| format!("cannot read {}", file.display()))?
            }
            None => {
                let built = fn_pipeline::build(&BuildOptions {
                    manifest_path: self.pkg.manifest_path.clone(),
                    package: self.pkg.package.clone(),
                    release: true,
                    target_dir: self.target_dir.clone(),
                    quiet: true,
                    ..BuildOptions::default()
                })
                .context("the function was not built")?;
                if let Some(key) = &key {
                    super::sign::sign_file(&built.artifact, &built.artifact, key)
                        .context("the function was built but not signed")?;
                }
                std::fs::read(&built.artifact)
                    .with_context(|| format!("cannot read {}", built.artifact.display()))?
            }
        };
        if let Some(file) = &self.wasm {
            refuse_non_function(&wasm)
                .with_context(|| format!("{} cannot be published", file.display()))?;
        }
        let wasm = match (&self.wasm, &key) {
            // A given file is signed in memory; the file is left alone.
            (Some(file), Some(key)) => fn_sign::sign(&wasm, key)
                .with_context(|| format!("cannot sign {}", file.display()))?,
            _ => wasm,
        };
        let annotations = annotations(package.as_ref(), self.wasm.as_deref(), &self.reference);
        let artifact = oci::artifact::build(wasm, &annotations, &oci::artifact::now_rfc3339())
            .context("only a WebAssembly component can be published")?;
        let registry = Registry::new(&self.reference, self.insecure)?;
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        runtime
            .block_on(registry.push(&artifact))
            .with_context(|| format!("cannot publish to {}", self.reference))?;
        let spin_app = match (&package, self.spin_app) {
            (Some(package), true) => {
                let locked = crate::deploy::spin::locked_app(
                    &package.name,
                    &package.version,
                    &package.metadata,
                    &artifact.layer_digest,
                );
                let app = oci::spin_app::build(
                    &locked,
                    &artifact.layer_digest,
                    artifact.layer.len() as u64,
                    manifest_annotations(&artifact),
                );
                let tag = format!("{}-spin", self.reference.tag_or_latest());
                runtime
                    .block_on(registry.push_parts(
                        &[
                            (&app.locked, &app.locked_digest),
                            (&app.config, &app.config_digest),
                        ],
                        &app.manifest,
                        &tag,
                    ))
                    .with_context(|| {
                        format!("cannot publish the Spin application layout to {tag}")
                    })?;
                Some((tag, app.manifest_digest))
            }
            _ => None,
        };
        let pinned = self.reference.pinned(&artifact.manifest_digest);
        let record = Record {
            reference: self.reference.to_string(),
            manifest_digest: artifact.manifest_digest.clone(),
            layer_digest: artifact.layer_digest.clone(),
            plain_http: registry.plain_http(),
            spin_app_digest: spin_app.as_ref().map(|(_, digest)| digest.clone()),
        };
        if let Some(package) = &package {
            let path = Record::path(package);
            if let Some(dir) = path.parent() {
                let _ = std::fs::create_dir_all(dir);
            }
            std::fs::write(&path, serde_json::to_vec_pretty(&record)?)
                .with_context(|| format!("cannot write {}", path.display()))?;
        }
        if self.json {
            let json = serde_json::json!({
                "reference": record.reference,
                "pinned": pinned.to_string(),
                "manifest_digest": record.manifest_digest,
                "layer_digest": record.layer_digest,
                "config_digest": artifact.config_digest,
                "size": artifact.layer.len(),
                "signed": fn_sign::is_signed(&artifact.layer),
                "spin_app_digest": record.spin_app_digest,
            });
            println!("{}", serde_json::to_string_pretty(&json)?);
        } else {
            println!(
                "Published {} ({} bytes)",
                self.reference,
                artifact.layer.len()
            );
            println!("digest: {}", artifact.manifest_digest);
            println!("pinned: {pinned}");
            if let Some((tag, digest)) = &spin_app {
                let spin_ref = ImageRef {
                    tag: Some(tag.clone()),
                    ..self.reference.clone()
                };
                println!("spin app: {spin_ref} ({digest}), same component blob");
            }
        }
        Ok(())
    }
}

/// The annotations of the pushed manifest, for the Spin layout too.
fn manifest_annotations(artifact: &oci::Artifact) -> std::collections::BTreeMap<String, String> {
    serde_json::from_slice::<serde_json::Value>(&artifact.manifest)
        .ok()
        .and_then(|m| serde_json::from_value(m["annotations"].clone()).ok())
        .unwrap_or_default()
}

/// The OCI annotations: source, version, revision, title (created is added
/// with the timestamp).
/// Refuses a component that is not a function: every provider bundle
/// routes HTTP to `wasi:http/incoming-handler`, so without that export
/// nothing could ever call it.
fn refuse_non_function(wasm: &[u8]) -> anyhow::Result<()> {
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

fn annotations(package: Option<&FnPackage>, wasm: Option<&Path>, image: &ImageRef) -> Annotations {
    let title = package.map(|p| p.name.clone()).or_else(|| {
        wasm.and_then(|w| w.file_stem())
            .map(|s| s.to_string_lossy().into_owned())
    });
    Annotations {
        source: package.and_then(|p| {
            p.repository
                .clone()
                .or_else(|| git(&p.dir, &["config", "--get", "remote.origin.url"]))
        }),
        version: package
            .map(|p| p.version.clone())
            .or_else(|| image.tag.clone()),
        revision: package
            .and_then(|p| git(&p.dir, &["rev-parse", "HEAD"]))
            .filter(|head| head.len() >= 40),
        title,
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
