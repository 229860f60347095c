//! The JavaScript hosts: the bundle `cargo fn deploy --provider
//! cloudflare|netlify` writes for an artifact, served by the provider's own
//! local runtime on loopback (`wrangler dev`, which runs workerd with local
//! KV and Durable Objects; `netlify functions:serve --offline`).
//!
//! A host that cannot run the artifact is not started: [`JsHost::start`]
//! answers with the reason `cargo fn deploy` refuses it with (the same
//! function decides both).
//!
//! These hosts keep their key-value state between requests, as the
//! providers do; the preset is written once, before the first request
//! (with `wrangler kv bulk put --local`; into the files of the local Netlify
//! Blobs server).
//!
//! wrangler and netlify-cli come from `<target>/tools/js-hosts` (where
//! `scripts/test` installs scripts/js-hosts/package-lock.json) or
//! `$FN_JS_HOSTS`.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use anyhow::{Context as _, bail};
use cargo_fn::deploy::{Deployment, Provider, files, js_verdict};
use cargo_fn::oci::ImageRef;
use cargo_fn::oci::artifact::sha256_digest;
use cargo_fn::package::FnPackage;

use crate::child::ChildHost;

/// A JavaScript provider's local runtime.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JsProvider {
    /// Cloudflare Workers under `wrangler dev` (workerd).
    Workerd,
    /// Netlify Functions under `netlify functions:serve` (Node.js).
    Netlify,
}

impl JsProvider {
    /// Both.
    pub const ALL: [JsProvider; 2] = [JsProvider::Workerd, JsProvider::Netlify];

    /// The host's name in reports.
    pub fn name(self) -> &'static str {
        match self {
            JsProvider::Workerd => "workerd (wrangler dev)",
            JsProvider::Netlify => "netlify functions:serve",
        }
    }

    fn provider(self) -> Provider {
        match self {
            JsProvider::Workerd => Provider::Cloudflare,
            JsProvider::Netlify => Provider::Netlify,
        }
    }
}

/// Where wrangler, netlify-cli and the WASI shim are installed.
pub fn js_hosts() -> anyhow::Result<PathBuf> {
    let dir = match std::env::var_os("FN_JS_HOSTS") {
        Some(dir) => PathBuf::from(dir),
        None => std::env::var_os("CARGO_TARGET_DIR")
            .map(PathBuf::from)
            .unwrap_or_else(|| crate::workspace().join("target"))
            .join("tools/js-hosts"),
    };
    anyhow::ensure!(
        dir.join("node_modules/.bin/wrangler").exists(),
        "no wrangler in {}: run scripts/test (it installs scripts/js-hosts there), or set $FN_JS_HOSTS",
        dir.display()
    );
    Ok(dir)
}

/// A running JavaScript host serving one deployed bundle. Killed on drop.
pub struct JsHost {
    host: ChildHost,
    _site: tempfile::TempDir,
}

impl JsHost {
    /// Deploys `artifact` (built from the package whose manifest is
    /// `manifest`) for `provider` with `config` (key → value, each set as
    /// the variable the bundle reads it from) and `kv` (written into the
    /// default store first), and serves it on a free loopback port. `Err`
    /// inside: why `cargo fn deploy` refuses the artifact for this provider.
    pub fn start(
        provider: JsProvider,
        manifest: &Path,
        artifact: &Path,
        config: &[(String, String)],
        kv: &[(String, String)],
    ) -> anyhow::Result<Result<JsHost, String>> {
        let wasm =
            std::fs::read(artifact).with_context(|| format!("reading {}", artifact.display()))?;
        let package = FnPackage::load(&fn_pipeline::BuildOptions {
            manifest_path: Some(manifest.to_owned()),
            offline: true,
            ..Default::default()
        })?;
        if let Err(why) = js_verdict(provider.provider(), package.name(), &wasm)? {
            return Ok(Err(why));
        }
        let digest = sha256_digest(&wasm);
        let image = ImageRef::parse(&format!(
            "oci://127.0.0.1:1/conformance/{}:v1",
            package.name()
        ))
        .map_err(|e| anyhow::anyhow!("{e}"))?
        .pinned(&digest);
        let deployment = Deployment {
            name: package.name().to_owned(),
            version: package.cargo.version.clone(),
            metadata: package.metadata.clone(),
            image,
            layer_digest: digest,
            plain_http: true,
            spin_app_digest: None,
            tag: Some("v1".into()),
        };
        let output = deployment.js_bundle(provider.provider(), &wasm)?;
        let site = tempfile::tempdir()?;
        files::write_all(site.path(), &output.files)?;
        let hosts = js_hosts()?;
        // The shim the bundle imports, as `npm install` would put it.
        std::os::unix::fs::symlink(hosts.join("node_modules"), site.path().join("node_modules"))?;
        let vars: Vec<(String, String)> = config
            .iter()
            .map(|(key, value)| (cargo_fn::deploy::native::config_env(key), value.clone()))
            .collect();
        let port = free_port()?;
        let addr: SocketAddr = format!("127.0.0.1:{port}").parse()?;
        let host = match provider {
            JsProvider::Workerd => {
                if !kv.is_empty() {
                    preset_workers_kv(&hosts, site.path(), kv)?;
                }
                let mut cmd = wrangler(&hosts, site.path());
                cmd.args(["dev", "--ip", "127.0.0.1", "--port", &port.to_string()])
                    .args(["--inspector-port", &free_port()?.to_string()]);
                for (name, value) in &vars {
                    cmd.args(["--var", &format!("{name}:{value}")]);
                }
                ChildHost::spawn_listening(cmd, "wrangler dev", addr, Duration::from_secs(120))?
            }
            JsProvider::Netlify => {
                preset_netlify_blobs(site.path(), &deployment.name, kv)?;
                serve_netlify(&hosts, site.path(), &vars, port)?
            }
        };
        Ok(Ok(JsHost { host, _site: site }))
    }

    /// The address requests go to.
    pub fn addr(&self) -> SocketAddr {
        self.host.addr()
    }

    /// What it printed so far.
    pub fn output(&self) -> String {
        self.host.output()
    }
}

fn wrangler(hosts: &Path, project: &Path) -> Command {
    let mut cmd = Command::new(hosts.join("node_modules/.bin/wrangler"));
    cmd.current_dir(project)
        .env("WRANGLER_SEND_METRICS", "false")
        .env("CI", "1")
        .env("NO_UPDATE_NOTIFIER", "1");
    cmd
}

/// Writes `kv` into the local KV namespace of the default store (the one
/// `wrangler dev` then serves from `.wrangler/state`).
fn preset_workers_kv(hosts: &Path, project: &Path, kv: &[(String, String)]) -> anyhow::Result<()> {
    let entries: Vec<serde_json::Value> = kv
        .iter()
        .map(|(key, value)| serde_json::json!({ "key": key, "value": value }))
        .collect();
    let file = project.join("kv-preset.json");
    std::fs::write(&file, serde_json::to_vec(&entries)?)?;
    let binding = cargo_fn::deploy::cloudflare::kv_binding(fn_host_test::DEFAULT_STORE);
    let output = wrangler(hosts, project)
        .args(["kv", "bulk", "put", "--local", "--binding", &binding])
        .arg(&file)
        .output()
        .context("running wrangler kv bulk put")?;
    anyhow::ensure!(
        output.status.success(),
        "wrangler kv bulk put failed ({}):\n{}{}",
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    Ok(())
}

/// Writes `kv` into the default store's Netlify Blobs as the local Blobs
/// server of `netlify functions:serve` keeps them (files under
/// `.netlify/blobs-serve`, @netlify/blobs 10's sandbox layout: `entries/`
/// and `metadata/` of the unlinked site, the store `site:<name>`, the key
/// split at `/` into folders). The server has no offline API a test could
/// reach: it takes a token `functions:serve` draws at random.
fn preset_netlify_blobs(
    site: &Path,
    function: &str,
    kv: &[(String, String)],
) -> anyhow::Result<()> {
    let store = format!("site:{function}-{}", fn_host_test::DEFAULT_STORE);
    let root = site.join(".netlify/blobs-serve");
    for (key, value) in kv {
        for (kind, contents) in [("entries", value.as_str()), ("metadata", "{}")] {
            let mut path = root.join(kind).join("unlinked").join(&store);
            path.extend(key.split('/'));
            std::fs::create_dir_all(path.parent().expect("a key has a parent folder"))?;
            std::fs::write(&path, contents)
                .with_context(|| format!("writing {}", path.display()))?;
        }
    }
    Ok(())
}

/// `netlify functions:serve` on `port`, or on another free port when it does
/// not get that one.
///
/// A port from [`free_port`] is only free until someone binds it, and
/// netlify-cli starts its local Blobs server on a random port of its own
/// before the functions server: when the Blobs server gets the port, the
/// port accepts connections but answers every request 403 (no Blobs token).
/// So the host counts as started only once it says its server is ready on
/// this port; otherwise it is stopped and started again on a new port.
fn serve_netlify(
    hosts: &Path,
    site: &Path,
    vars: &[(String, String)],
    port: u16,
) -> anyhow::Result<ChildHost> {
    const ATTEMPTS: usize = 3;
    let mut port = port;
    let mut attempt = 1;
    loop {
        let mut cmd = Command::new(hosts.join("node_modules/.bin/netlify"));
        cmd.current_dir(site)
            .args(["functions:serve", "--offline", "--port", &port.to_string()])
            .env("NETLIFY_TELEMETRY_DISABLED", "1")
            .env("CI", "1")
            .env("NO_UPDATE_NOTIFIER", "1")
            .envs(vars.iter().cloned());
        let addr: SocketAddr = format!("127.0.0.1:{port}").parse()?;
        let mut host = ChildHost::spawn_listening(
            cmd,
            "netlify functions:serve",
            addr,
            Duration::from_secs(120),
        )?;
        let ready = format!("Local dev server ready: http://localhost:{port}");
        if host.wait_for_output(&ready, Duration::from_secs(60)) {
            return Ok(host);
        }
        if attempt == ATTEMPTS {
            bail!(
                "netlify functions:serve did not say `{ready}` (tried {ATTEMPTS} ports); its output:\n{}",
                host.output()
            );
        }
        eprintln!(
            "netlify functions:serve did not get port {port} (attempt {attempt}); its output:\n{}",
            host.output()
        );
        drop(host);
        port = free_port()?;
        attempt += 1;
    }
}

fn free_port() -> anyhow::Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port())
}
