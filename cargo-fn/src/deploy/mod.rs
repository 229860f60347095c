//! Provider bundles: one published artifact, pinned by digest, described
//! for each host from `[package.metadata.fn]`: one file for the hosts that
//! fetch the component themselves (Spin, wasmCloud, SpinKube, wasmtime),
//! a directory of files and zips ([`files::Output`]) for those that run
//! the native runner next to a function bundle (Lambda, Azure Functions;
//! see [`native`]), and for Cloud Run a container image of the same,
//! pushed next to the artifact (see [`cloudrun`]). Every generator serialises data structures (toml,
//! YAML, JSON) rather than filling text templates. [`deploy`] pins the
//! artifact, writes the bundle and checks that the provider's runtime can
//! run it.

pub mod azure;
pub mod cloudflare;
pub mod cloudrun;
pub mod cron;
pub mod files;
pub mod jco;
pub mod js;
pub mod lambda;
pub mod native;
pub mod netlify;
pub mod spin;
pub mod spinkube;
pub mod unit;
pub mod wasmcloud;
pub mod wasmtime;

use std::path::PathBuf;

use anyhow::{Context as _, bail};
use fn_pipeline::hosts::Verdict;

use crate::metadata::FnMetadata;
use crate::oci::{ImageRef, Registry};
use crate::package::FnPackage;
use crate::publish::Record;
use crate::runner::{self, Arch};
use files::Output;

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
    /// AWS Lambda: bootstrap.zip (runner + bundle) and a SAM template.yaml
    Lambda,
    /// Azure Functions: a custom-handler app folder and its zip
    Azure,
    /// Google Cloud Run: a container image (runner + bundle) pushed as
    /// TAG-cloudrun, and a service.yaml pinning it
    Cloudrun,
    /// Cloudflare Workers: a Worker project (wrangler.jsonc) running the
    /// component transpiled to JavaScript
    Cloudflare,
    /// Netlify Functions: a site folder whose function runs the component
    /// transpiled to JavaScript
    Netlify,
    /// NGINX Unit: unit.json for its control API and the component, composed
    /// with the files adapter when it uses key-value or config
    Unit,
    /// jco on Node.js: a server on jco's WASI shim running the component
    /// transpiled, composed with the files adapter when it uses key-value or
    /// config
    Jco,
}

/// A deployment: one published artifact, pinned by digest, and the
/// function's declarations; what every bundle is generated from.
#[derive(Debug, Clone)]
pub struct Deployment {
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
    /// The tag the artifact was published or named under, if any (images
    /// derived from it are tagged after it: `TAG-cloudrun`).
    pub tag: Option<String>,
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

impl Deployment {
    /// The manifest digest the bundle pins.
    pub fn manifest_digest(&self) -> &str {
        self.image
            .digest
            .as_deref()
            .expect("a deployment is pinned to a digest")
    }

    /// A kebab-case id for the component (Spin and wadm want one).
    pub fn component_id(&self) -> String {
        spin::component_id(&self.name)
    }

    /// The configuration the operator must supply, as `(key, variable,
    /// secret)`: secrets, and keys without a default.
    pub(crate) fn config_to_supply(&self) -> Vec<(&str, String, bool)> {
        self.metadata
            .config
            .iter()
            .filter(|(_, decl)| decl.secret || decl.default.is_none())
            .map(|(key, decl)| (key.as_str(), native::config_env(key), decl.secret))
            .collect()
    }

    /// Notes common to all providers about non-HTTP triggers; the schedule
    /// only when the provider does not run it.
    fn trigger_notes(&self, schedule: bool) -> Vec<String> {
        let mut notes = Vec::new();
        let route = self.metadata.route_or_wildcard();
        if !self.metadata.events.is_empty() {
            notes.push(format!(
                "events ({}) arrive as CloudEvents over HTTP: point the event source (Knative, Dapr, Event Grid, ...) at the route {route}",
                self.metadata.events.join(", ")
            ));
        }
        if let Some(cron) = self.metadata.schedule.as_ref().filter(|_| schedule) {
            notes.push(format!(
                "schedule {cron:?}: have a scheduler POST a CloudEvent to the route {route} on that schedule (the component exports only wasi:http)"
            ));
        }
        notes
    }

    /// Generates the one-file bundle for `provider`; the native providers
    /// ([`Provider::is_native`]) need the runner and the component: see
    /// [`Deployment::native_bundle`].
    pub fn bundle(&self, provider: Provider) -> anyhow::Result<File> {
        let mut file = match provider {
            Provider::Spin => spin::spin_toml(self)?,
            Provider::Wasmcloud => wasmcloud::wadm_yaml(self)?,
            Provider::Spinkube => spinkube::spin_app_yaml(self)?,
            Provider::Wasmtime => wasmtime::run_script(self),
            Provider::Lambda | Provider::Azure | Provider::Cloudrun => {
                bail!(
                    "{} bundles carry the runner: use Deployment::native_bundle",
                    provider.name()
                )
            }
            Provider::Cloudflare | Provider::Netlify | Provider::Unit | Provider::Jco => {
                bail!(
                    "{} bundles carry the component: use `deploy`",
                    provider.name()
                )
            }
        };
        file.notes.extend(self.trigger_notes(true));
        Ok(file)
    }

    /// Refuses what the native `provider` cannot run on `arch` (a schedule
    /// its scheduler cannot express, say), before anything is built.
    pub fn check_native(&self, provider: Provider, arch: Arch) -> anyhow::Result<()> {
        match provider {
            Provider::Lambda => lambda::sam_template(self, arch).map(drop),
            Provider::Azure => azure::check(self, arch),
            Provider::Cloudrun => cloudrun::check(arch),
            _ => Ok(()),
        }
    }

    /// The files for the native `provider`: the `runner` executable for
    /// `arch` and the `component` in a bundle, plus the provider's
    /// templates.
    pub fn native_bundle(
        &self,
        provider: Provider,
        arch: Arch,
        runner: &[u8],
        component: &native::Component,
    ) -> anyhow::Result<Output> {
        let mut output = match provider {
            Provider::Lambda => lambda::package(self, arch, runner, component)?,
            Provider::Azure => azure::package(self, arch, runner, component)?,
            _ => return Ok(Output::from(self.bundle(provider)?)),
        };
        output.notes.extend(self.trigger_notes(false));
        Ok(output)
    }
}

impl Deployment {
    /// The files for the JavaScript `provider`, which runs the published
    /// component `wasm` transpiled.
    pub fn js_bundle(&self, provider: Provider, wasm: &[u8]) -> anyhow::Result<Output> {
        let mut output = match provider {
            Provider::Cloudflare => cloudflare::package(self, wasm)?,
            Provider::Netlify => netlify::package(self, wasm)?,
            _ => bail!("{} is not a JavaScript provider", provider.name()),
        };
        output.notes.extend(self.trigger_notes(false));
        Ok(output)
    }
}

impl File {
    /// A YAML file of `doc`, not executable.
    fn yaml(
        name: &'static str,
        doc: &serde_json::Value,
        notes: Vec<String>,
    ) -> anyhow::Result<File> {
        Ok(File {
            name,
            contents: serde_norway::to_string(doc)?,
            executable: false,
            notes,
        })
    }
}

impl Provider {
    /// The provider's name on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Provider::Spin => "spin",
            Provider::Wasmcloud => "wasmcloud",
            Provider::Spinkube => "spinkube",
            Provider::Wasmtime => "wasmtime",
            Provider::Lambda => "lambda",
            Provider::Azure => "azure",
            Provider::Cloudrun => "cloudrun",
            Provider::Cloudflare => "cloudflare",
            Provider::Netlify => "netlify",
            Provider::Unit => "unit",
            Provider::Jco => "jco",
        }
    }

    /// Whether the provider runs the component transpiled to JavaScript.
    pub fn is_js(self) -> bool {
        matches!(self, Provider::Cloudflare | Provider::Netlify)
    }

    /// Whether the provider runs the component on `fn-runner`, packed with
    /// it.
    pub fn is_native(self) -> bool {
        matches!(
            self,
            Provider::Lambda | Provider::Azure | Provider::Cloudrun
        )
    }

    /// The id of the runtime behind the provider in the portability report
    /// (`fn-runner` runs the runtime of `cargo fn serve`).
    fn host_id(self) -> &'static str {
        match self {
            Provider::Spin | Provider::Spinkube => "spin",
            Provider::Wasmcloud => "wasmcloud",
            Provider::Wasmtime => "wasmtime",
            Provider::Lambda | Provider::Azure | Provider::Cloudrun => "cargo-fn",
            Provider::Cloudflare => "cloudflare",
            Provider::Netlify => "netlify",
            Provider::Unit => "nginx-unit",
            Provider::Jco => "jco",
        }
    }
}

/// What to deploy, for which provider, and where to write the bundle.
#[derive(Debug, Clone)]
pub struct Options {
    /// Which host to write a bundle for.
    pub provider: Provider,
    /// Output directory (default: `<target>/fn/deploy/<provider>`).
    pub out: Option<PathBuf>,
    /// The published artifact (default: the package's last publish).
    pub image: Option<ImageRef>,
    /// Pin this manifest digest of the image's repository.
    pub digest: Option<String>,
    /// The registry speaks plain HTTP (always assumed for loopback).
    pub insecure: bool,
    /// The CPU of native providers' runner.
    pub arch: Arch,
    /// Whether native bundles carry precompiled code (`fn.cwasm`).
    pub precompile: bool,
    /// Public key files: the published component must be signed by one of
    /// them, and a native bundle's runner checks that again at start-up.
    pub trusted_keys: Vec<PathBuf>,
}

/// A written bundle.
#[derive(Debug)]
pub struct Deployed {
    /// The file to deploy (the only one, or the main one).
    pub path: PathBuf,
    /// Every file written.
    pub files: Vec<PathBuf>,
    /// What it was generated from.
    pub deployment: Deployment,
    /// What the user must know or still do.
    pub notes: Vec<String>,
    /// Whether the provider's runtime can run the artifact, by its imports;
    /// an error when that could not be checked.
    pub verdict: anyhow::Result<Verdict>,
}

/// Pins the published artifact of `package`, writes the provider's bundle
/// and checks whether the provider can run the artifact.
pub fn deploy(package: &FnPackage, opts: &Options) -> anyhow::Result<Deployed> {
    if !opts.trusted_keys.is_empty() && !opts.provider.is_native() {
        bail!(
            "--trusted-key applies to lambda, azure and cloudrun, whose runner checks the signature at start-up; {} does not check signatures (verify with `cargo fn pull --trusted-key` before deploying)",
            opts.provider.name()
        );
    }
    let deployment = pin(package, opts)?;
    let out = opts.out.clone().unwrap_or_else(|| {
        package
            .target_dir()
            .join("fn")
            .join("deploy")
            .join(opts.provider.name())
    });
    // Cloud Run's image, pushed, and its tag: written as a layout too.
    let mut image = None;
    let (output, verdict) = if opts.provider.is_native() {
        deployment.check_native(opts.provider, opts.arch)?;
        let wasm = published_wasm(package, &deployment, opts)?;
        let verdict = verdict(opts.provider, &wasm);
        let mut component = native::Component::new(&deployment, wasm)?;
        if !opts.trusted_keys.is_empty() {
            component = component.trusting(&opts.trusted_keys)?;
        }
        let runner = runner::runner(opts.arch)?;
        let bytes = std::fs::read(&runner.path)
            .with_context(|| format!("cannot read {}", runner.path.display()))?;
        let mut notes = Vec::new();
        if let Err(err) = runner::check_static(&bytes, opts.arch) {
            if opts.provider == Provider::Cloudrun {
                return Err(err.context(format!(
                    "the runner {} cannot start in the Cloud Run image, which holds nothing else; unset ${} or point it at a static musl build",
                    runner.path.display(),
                    runner::RUNNER_ENV
                )));
            }
            notes.push(format!(
                "the runner {} is packed as it is, but {err:#}: it may not start on {}",
                runner.path.display(),
                opts.provider.name()
            ));
        }
        if opts.precompile && opts.arch.is_host() && cfg!(target_os = "linux") {
            match component.clone().precompile_with(&runner.path) {
                Ok(precompiled) => component = precompiled,
                Err(err) => notes.push(format!(
                    "no fn.cwasm: {err:#}; the runner compiles the component at start-up"
                )),
            }
        } else if opts.precompile {
            notes.push(format!(
                "no fn.cwasm: the {} runner cannot run here to precompile; it compiles the component at start-up",
                opts.arch.name()
            ));
        }
        let mut output = if opts.provider == Provider::Cloudrun {
            let packaged = cloudrun::package(&deployment, &bytes, &component, opts.insecure)?;
            image = Some((packaged.image, packaged.tag));
            let mut output = packaged.output;
            output.notes.extend(deployment.trigger_notes(true));
            output
        } else {
            deployment.native_bundle(opts.provider, opts.arch, &bytes, &component)?
        };
        output.notes.extend(notes);
        (output, verdict)
    } else if opts.provider.is_js() {
        let wasm = published_wasm(package, &deployment, opts)?;
        let verdict =
            js_verdict(opts.provider, &deployment.name, &wasm)?.map_err(anyhow::Error::msg)?;
        let output = deployment.js_bundle(opts.provider, &wasm)?;
        (output, Ok(verdict))
    } else if opts.provider == Provider::Spin {
        let a = adapted(package, &deployment, opts)?;
        (
            spin::package(&deployment, a.composed.as_deref())?,
            a.verdict,
        )
    } else if opts.provider == Provider::Unit {
        let a = adapted(package, &deployment, opts)?;
        let absolute = std::path::absolute(&out)
            .with_context(|| format!("cannot resolve {}", out.display()))?;
        let mut output = unit::package(&deployment, &absolute, &a.wasm, a.composed.as_deref())?;
        output.notes.extend(deployment.trigger_notes(true));
        (output, a.verdict)
    } else if opts.provider == Provider::Jco {
        let a = adapted(package, &deployment, opts)?;
        let mut output = jco::package(&deployment, &a.wasm, a.composed.as_deref())?;
        output.notes.extend(deployment.trigger_notes(true));
        (output, a.verdict)
    } else if opts.provider == Provider::Wasmcloud {
        let a = adapted(package, &deployment, opts)?;
        (
            wasmcloud::package(&deployment, a.composed, opts.insecure)?,
            a.verdict,
        )
    } else {
        let output = Output::from(deployment.bundle(opts.provider)?);
        (output, host_verdict(package, &deployment, opts))
    };
    std::fs::create_dir_all(&out).with_context(|| format!("cannot create {}", out.display()))?;
    let mut files = files::write_all(&out, &output.files)?;
    if let Some((image, tag)) = image {
        let layout = out.join(cloudrun::LAYOUT_DIR);
        // A fresh layout: no blobs of earlier images.
        if layout.exists() {
            std::fs::remove_dir_all(&layout)
                .with_context(|| format!("cannot replace {}", layout.display()))?;
        }
        image.write_layout(&layout, &tag)?;
        files.push(layout);
    }
    Ok(Deployed {
        path: out.join(&output.main),
        files,
        deployment,
        notes: output.notes,
        verdict,
    })
}

/// The deployment of `package`: `--image` (and `--digest`) or the record of
/// its last publish, resolved to a manifest and layer digest (from the
/// record when it pushed that very manifest, else from the registry).
fn pin(package: &FnPackage, opts: &Options) -> anyhow::Result<Deployment> {
    let record_path = Record::path(package);
    let record = Record::read(&record_path);
    let image = match (&opts.image, &record) {
        (Some(image), _) => image.clone(),
        (None, Some(record)) => ImageRef::parse(&record.reference)
            .with_context(|| format!("in {}", record_path.display()))?,
        (None, None) => bail!(
            "no published artifact for {}: run `cargo fn publish oci://HOST/REPO:TAG` first, or pass --image",
            package.name()
        ),
    };
    let wanted = opts
        .digest
        .clone()
        .or_else(|| image.digest.clone())
        .or_else(|| {
            // The record pins the tag it pushed, unless --image says otherwise.
            record
                .as_ref()
                .filter(|_| opts.image.is_none())
                .map(|r| r.manifest_digest.clone())
        });
    let plain_http =
        opts.insecure || image.is_loopback() || record.as_ref().is_some_and(|r| r.plain_http);
    // The record knows the layer digest of what it pushed; anything else is
    // looked up on the registry.
    let known = record.as_ref().filter(|r| {
        wanted.as_deref() == Some(r.manifest_digest.as_str())
            && ImageRef::parse(&r.reference)
                .is_ok_and(|r| r.registry == image.registry && r.repository == image.repository)
    });
    let (manifest_digest, layer_digest) = match (known, &wanted) {
        (Some(r), _) => (r.manifest_digest.clone(), r.layer_digest.clone()),
        (None, wanted) => {
            let lookup = match wanted {
                Some(d) => image.pinned(d),
                None => image.clone(),
            };
            let registry = Registry::new(&lookup, opts.insecure)?;
            let resolved = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()?
                .block_on(registry.resolve())
                .with_context(|| format!("cannot resolve {lookup} to a digest"))?;
            (resolved.manifest_digest, resolved.layer_digest)
        }
    };
    Ok(Deployment {
        name: package.name().to_owned(),
        version: package.cargo.version.clone(),
        metadata: package.metadata.clone(),
        image: image.pinned(&manifest_digest),
        layer_digest,
        plain_http,
        // The Spin layout pushed along with this very artifact.
        spin_app_digest: known.and_then(|r| r.spin_app_digest.clone()),
        tag: image.tag.clone(),
    })
}

/// Whether the provider's runtime can run the published component, by its
/// imports (see `cargo fn inspect`). The component is the local build when
/// its digest is the published layer's, else it is pulled.
fn host_verdict(
    package: &FnPackage,
    deployment: &Deployment,
    opts: &Options,
) -> anyhow::Result<Verdict> {
    verdict(opts.provider, &published_wasm(package, deployment, opts)?)
}

/// The published component's bytes: the local release build when its
/// digest is the published layer's, else pulled from the registry (which
/// checks every digest).
pub fn published_wasm(
    package: &FnPackage,
    deployment: &Deployment,
    opts: &Options,
) -> anyhow::Result<Vec<u8>> {
    let local = fn_pipeline::artifact_path(package.target_dir(), "release", package.name());
    match std::fs::read(&local) {
        Ok(bytes) if crate::oci::artifact::sha256_digest(&bytes) == deployment.layer_digest => {
            Ok(bytes)
        }
        _ => {
            let registry = Registry::new(&deployment.image, opts.insecure)?;
            Ok(tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()?
                .block_on(registry.pull())
                .with_context(|| format!("cannot pull {}", deployment.image))?
                .wasm)
        }
    }
}

/// The published function for a provider whose runtime may need an
/// adapter composed in front of it.
struct Adapted {
    /// The published function.
    wasm: Vec<u8>,
    /// Its composition with the adapter, when the runtime needs one
    /// ([`adapt`]).
    composed: Option<Vec<u8>>,
    /// Whether the runtime runs what it is given (the composition, else
    /// the function).
    verdict: anyhow::Result<Verdict>,
}

fn adapted(
    package: &FnPackage,
    deployment: &Deployment,
    opts: &Options,
) -> anyhow::Result<Adapted> {
    let wasm = published_wasm(package, deployment, opts)?;
    let composed = adapt(package, opts.provider, &wasm)?;
    let verdict = verdict(opts.provider, composed.as_deref().unwrap_or(&wasm));
    Ok(Adapted {
        wasm,
        composed,
        verdict,
    })
}

/// The function `wasm` composed with the adapter the runtime behind
/// `provider` needs (see `fn_pipeline::hosts::Adapter`), built from
/// fn-templates in the package's target directory; `None` when it runs
/// `wasm` as it is.
pub fn adapt(
    package: &FnPackage,
    provider: Provider,
    wasm: &[u8],
) -> anyhow::Result<Option<Vec<u8>>> {
    let host = fn_pipeline::hosts::find(provider.host_id())
        .with_context(|| format!("no host {} in the portability report", provider.host_id()))?;
    let opts = fn_pipeline::adapter::AdapterOptions {
        target_dir: package.target_dir().to_path_buf(),
        wit: fn_pipeline::adapter::wit_source(&package.cargo.manifest_path, false)?,
        offline: false,
        quiet: false,
    };
    fn_pipeline::adapter::adapt_for(host, wasm, &opts)
        .with_context(|| format!("cannot compose the function with {}'s adapter", host.name))
}

/// Whether the runtime behind `provider` can run the component `wasm`.
pub fn verdict(provider: Provider, wasm: &[u8]) -> anyhow::Result<Verdict> {
    let host_id = provider.host_id();
    let report = fn_pipeline::report::inspect(wasm)?;
    report
        .hosts
        .into_iter()
        .find(|v| v.id == host_id)
        .with_context(|| format!("no host {host_id} in the portability report"))
}

/// Whether the JavaScript `provider` can run the component `wasm` of the
/// function `name`: its verdict, or why not, as `deploy` refuses it
/// (before writing anything).
pub fn js_verdict(
    provider: Provider,
    name: &str,
    wasm: &[u8],
) -> anyhow::Result<Result<Verdict, String>> {
    let verdict = verdict(provider, wasm)?;
    if verdict.runs {
        return Ok(Ok(verdict));
    }
    Ok(Err(format!(
        "{} cannot run {name}:\n  {}",
        verdict.name,
        verdict.reasons.join("\n  ")
    )))
}

/// A parsed YAML bundle, for tests.
#[cfg(test)]
pub(crate) fn parse_yaml(text: &str) -> serde_json::Value {
    serde_norway::from_str(text).unwrap()
}

#[cfg(test)]
pub(crate) fn sample() -> Deployment {
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
    Deployment {
        name: "checkout_fn".into(),
        version: "1.2.0".into(),
        metadata: FnMetadata::from_json(&serde_json::to_value(meta).unwrap()).unwrap(),
        image: ImageRef::parse("oci://127.0.0.1:5000/shop/checkout:v1")
            .unwrap()
            .pinned(&digest),
        layer_digest: format!("sha256:{}", "b".repeat(64)),
        plain_http: true,
        spin_app_digest: None,
        tag: Some("v1".into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A component importing what a key-value function imports.
    fn kv_component() -> Vec<u8> {
        wat::parse_str(
            r#"(component
                (import "wasi:keyvalue/store@0.2.0-draft" (instance))
                (import "wasi:config/store@0.2.0-rc.1" (instance))
            )"#,
        )
        .unwrap()
    }

    #[test]
    fn providers_that_lack_an_import_are_named_with_the_reason_or_adapted() {
        let wasm = kv_component();
        // Spin runs it with its adapter composed in front, which deploy does.
        let spin = verdict(Provider::Spin, &wasm).unwrap();
        assert!(spin.runs, "{:?}", spin.reasons);
        assert!(
            spin.notes.iter().any(|n| n.contains("Spin adapter")),
            "{:?}",
            spin.notes
        );
        // SpinKube runs the Spin runtime: the same verdict.
        assert!(verdict(Provider::Spinkube, &wasm).unwrap().runs);
        // wasmCloud 1.x too, with its own adapter (config at 0.2.0-draft).
        let wasmcloud = verdict(Provider::Wasmcloud, &wasm).unwrap();
        assert!(wasmcloud.runs, "{:?}", wasmcloud.reasons);
        assert!(
            wasmcloud
                .notes
                .iter()
                .any(|n| n.contains("wasmCloud 1.x adapter")),
            "{:?}",
            wasmcloud.notes
        );
        // A function of neither capability at those versions still fails,
        // naming the import.
        let unknown =
            wat::parse_str(r#"(component (import "wasi:config/store@0.2.0-draft3" (instance)))"#)
                .unwrap();
        let wasmcloud = verdict(Provider::Wasmcloud, &unknown).unwrap();
        assert!(!wasmcloud.runs);
        assert!(
            wasmcloud
                .reasons
                .iter()
                .any(|r| r.contains("wasi:config/store")),
            "{:?}",
            wasmcloud.reasons
        );
        assert!(verdict(Provider::Wasmtime, &wasm).unwrap().runs);
        // The runner runs the runtime of `cargo fn serve`: it has both.
        for native in [Provider::Lambda, Provider::Azure, Provider::Cloudrun] {
            assert!(verdict(native, &wasm).unwrap().runs);
        }
    }
}
