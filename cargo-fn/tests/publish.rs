//! `cargo fn publish`, `pull` and `deploy` against a real OCI registry
//! (Debian's `docker-registry`, started on a free loopback port) and a
//! scripted fake for the failures a real one will not produce on demand.

mod common;
#[path = "common/registry.rs"]
mod registry;

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use common::*;
use registry::Reply;
use sha2::Digest as _;

const METADATA: &str = r#"
[package.metadata.fn]
route = "/orders/..."
events = ["user.registered"]
key-value = ["default"]
allowed-outbound-hosts = ["https://api.stripe.com"]
[package.metadata.fn.config]
payment_api_key = { secret = true }
payment_api_url = { default = "https://api.stripe.com" }
"#;

/// One registry, one scaffolded project (with `[package.metadata.fn]`),
/// built once, and a key pair.
struct Fixture {
    registry: registry::Registry,
    tmp: tempfile::TempDir,
    project: PathBuf,
    wasm: PathBuf,
    secret: PathBuf,
    public: PathBuf,
}

fn fixture() -> &'static Fixture {
    static FIXTURE: OnceLock<Fixture> = OnceLock::new();
    FIXTURE.get_or_init(|| {
        let registry = registry::start();
        let (tmp, project) = scaffold("orders-fn", "http");
        let manifest = project.join("Cargo.toml");
        let mut toml = std::fs::read_to_string(&manifest).unwrap();
        toml.push_str(METADATA);
        std::fs::write(&manifest, toml).unwrap();
        let json = build_json(&project, &[]);
        let wasm = tmp.path().join("orders.wasm");
        std::fs::copy(artifact(&json), &wasm).unwrap();
        let keys = tmp.path().join("keys");
        success(&cargo_fn(
            tmp.path(),
            &[
                "keygen",
                "--out-dir",
                keys.to_str().unwrap(),
                "--name",
                "release",
            ],
        ));
        Fixture {
            registry,
            project,
            wasm,
            secret: keys.join("release.key"),
            public: keys.join("release.pub"),
            tmp,
        }
    })
}

fn reference(repo_tag: &str) -> String {
    format!("oci://{}/{repo_tag}", fixture().registry.addr)
}

/// `cargo fn <args>` in the fixture's temp dir, no credentials around.
fn run(args: &[&str]) -> std::process::Output {
    cargo_fn_env(fixture().tmp.path(), args)
}

fn sha256(bytes: &[u8]) -> String {
    let hash = sha2::Sha256::digest(bytes);
    format!(
        "sha256:{}",
        hash.iter().map(|b| format!("{b:02x}")).collect::<String>()
    )
}

/// The `digest: ...` line of publish/pull output.
fn printed_digest(stdout: &str) -> String {
    stdout
        .lines()
        .find_map(|l| l.strip_prefix("digest: "))
        .unwrap_or_else(|| panic!("no digest line in {stdout}"))
        .trim()
        .to_owned()
}

/// GETs a manifest from the registry as a client would.
fn manifest(repo: &str, reference: &str) -> (Vec<u8>, serde_json::Value, String) {
    let (status, headers, body) = registry::get(
        &fixture().registry.addr,
        &format!("/v2/{repo}/manifests/{reference}"),
        &[("Accept", "application/vnd.oci.image.manifest.v1+json")],
    )
    .unwrap();
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&body));
    let json = serde_json::from_slice(&body).unwrap();
    (body, json, headers["content-type"].clone())
}

fn blob(repo: &str, digest: &str) -> Vec<u8> {
    let (status, _, body) = registry::get(
        &fixture().registry.addr,
        &format!("/v2/{repo}/blobs/{digest}"),
        &[],
    )
    .unwrap();
    assert_eq!(status, 200);
    body
}

#[test]
fn publish_then_pull_round_trips_the_exact_bytes_in_the_wasm_layout() {
    let f = fixture();
    let stdout = success(&run(&[
        "publish",
        &reference("team/orders:v1"),
        "--wasm",
        f.wasm.to_str().unwrap(),
    ]));
    let digest = printed_digest(&stdout);
    assert!(
        stdout.contains(&format!(
            "pinned: {}",
            reference(&format!("team/orders@{digest}"))
        )),
        "{stdout}"
    );

    let (raw, manifest, content_type) = manifest("team/orders", "v1");
    assert_eq!(sha256(&raw), digest, "the printed digest is the manifest's");
    assert_eq!(content_type, "application/vnd.oci.image.manifest.v1+json");
    assert_eq!(
        manifest["mediaType"],
        "application/vnd.oci.image.manifest.v1+json"
    );
    assert_eq!(
        manifest["config"]["mediaType"],
        "application/vnd.wasm.config.v0+json"
    );
    let layers = manifest["layers"].as_array().unwrap();
    assert_eq!(layers.len(), 1);
    assert_eq!(layers[0]["mediaType"], "application/wasm");
    let wasm = std::fs::read(&f.wasm).unwrap();
    assert_eq!(layers[0]["digest"], sha256(&wasm).as_str());
    assert_eq!(layers[0]["size"], wasm.len() as u64);
    let notes = &manifest["annotations"];
    assert_eq!(notes["org.opencontainers.image.title"], "orders");
    assert_eq!(notes["org.opencontainers.image.version"], "v1");
    assert!(
        notes["org.opencontainers.image.created"]
            .as_str()
            .unwrap()
            .ends_with('Z')
    );

    let config: serde_json::Value = serde_json::from_slice(&blob(
        "team/orders",
        manifest["config"]["digest"].as_str().unwrap(),
    ))
    .unwrap();
    assert_eq!(config["architecture"], "wasm");
    assert_eq!(config["os"], "wasip2");
    assert_eq!(config["layerDigests"][0], sha256(&wasm).as_str());
    assert!(config["component"]["target"].is_null());
    let exports: Vec<&str> = config["component"]["exports"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e.as_str().unwrap())
        .collect();
    assert!(
        exports
            .iter()
            .any(|e| e.starts_with("wasi:http/incoming-handler@0.2.")),
        "{exports:?}"
    );
    let imports = config["component"]["imports"].as_array().unwrap();
    assert!(
        imports
            .iter()
            .any(|i| i.as_str().unwrap().starts_with("wasi:http/types@0.2.")),
        "{imports:?}"
    );
    assert!(
        !imports
            .iter()
            .any(|i| i.as_str().unwrap().starts_with("wasi:cli/environment"))
    );

    // Pull by tag and by digest: the same bytes, the same digest.
    for pull_ref in [
        reference("team/orders:v1"),
        reference(&format!("team/orders@{digest}")),
    ] {
        let out = f.tmp.path().join("pulled.wasm");
        let stdout = success(&run(&["pull", &pull_ref, "-o", out.to_str().unwrap()]));
        assert_eq!(printed_digest(&stdout), digest);
        assert_eq!(
            std::fs::read(&out).unwrap(),
            wasm,
            "pulled bytes are the published bytes"
        );
        std::fs::remove_file(&out).unwrap();
    }
    // The default output name is the repository's.
    success(&run(&["pull", &reference("team/orders:v1")]));
    assert_eq!(
        std::fs::read(f.tmp.path().join("orders.wasm")).unwrap(),
        wasm
    );
}

#[test]
fn signed_artifacts_verify_on_pull_and_foreign_keys_or_tampering_are_refused() {
    let f = fixture();
    let stdout = success(&run(&[
        "publish",
        &reference("signed:v1"),
        "--wasm",
        f.wasm.to_str().unwrap(),
        "--sign",
        f.secret.to_str().unwrap(),
        "--json",
    ]));
    let json: serde_json::Value =
        serde_json::from_str(&stdout).expect("publish --json prints JSON");
    assert_eq!(json["signed"], true);
    let digest = json["manifest_digest"].as_str().unwrap().to_owned();
    assert_eq!(
        json["pinned"],
        reference(&format!("signed@{digest}")).as_str()
    );
    let (raw, _, _) = manifest("signed", "v1");
    assert_eq!(sha256(&raw), digest);
    let out = f.tmp.path().join("signed.wasm");
    let stdout = success(&run(&[
        "pull",
        &reference(&format!("signed@{digest}")),
        "-o",
        out.to_str().unwrap(),
        "--trusted-key",
        f.public.to_str().unwrap(),
    ]));
    let key_id = fn_sign::PublicKey::from_file(&f.public)
        .unwrap()
        .key_id_hex();
    assert!(stdout.contains(&key_id), "{stdout}");
    let signed = std::fs::read(&out).unwrap();
    assert_eq!(
        fn_sign::strip_signature(&signed).unwrap(),
        std::fs::read(&f.wasm).unwrap(),
        "the file given to --wasm was signed in memory, not rewritten"
    );

    // Another key: refused, nothing written.
    let other = f.tmp.path().join("other-keys");
    success(&run(&[
        "keygen",
        "--out-dir",
        other.to_str().unwrap(),
        "--name",
        "other",
    ]));
    let refused = f.tmp.path().join("refused.wasm");
    let stderr = failure(&run(&[
        "pull",
        &reference("signed:v1"),
        "-o",
        refused.to_str().unwrap(),
        "--trusted-key",
        other.join("other.pub").to_str().unwrap(),
    ]));
    assert!(stderr.contains("failed signature verification"), "{stderr}");
    assert!(
        stderr.contains("not by any of the 1 trusted key(s)"),
        "{stderr}"
    );
    assert!(!refused.exists());

    // Tampered after signing (and published anyway): refused.
    // An extra custom section keeps it valid WebAssembly.
    let mut tampered = signed.clone();
    tampered.extend_from_slice(b"\0\x06\x04note!");
    let tampered_file = f.tmp.path().join("tampered.wasm");
    std::fs::write(&tampered_file, &tampered).unwrap();
    success(&run(&[
        "publish",
        &reference("signed:tampered"),
        "--wasm",
        tampered_file.to_str().unwrap(),
    ]));
    let stderr = failure(&run(&[
        "pull",
        &reference("signed:tampered"),
        "-o",
        refused.to_str().unwrap(),
        "--trusted-key",
        f.public.to_str().unwrap(),
    ]));
    assert!(stderr.contains("modified after signing"), "{stderr}");
    assert!(!refused.exists());

    // An unsigned artifact with a trusted key: refused.
    success(&run(&[
        "publish",
        &reference("unsigned:v1"),
        "--wasm",
        f.wasm.to_str().unwrap(),
    ]));
    let stderr = failure(&run(&[
        "pull",
        &reference("unsigned:v1"),
        "-o",
        refused.to_str().unwrap(),
        "--trusted-key",
        f.public.to_str().unwrap(),
    ]));
    assert!(stderr.contains("is not signed"), "{stderr}");
}

/// Builds, signs and publishes the package, then writes every provider's
/// bundle and checks they all pin the same digest.
#[test]
fn publish_builds_the_package_and_every_bundle_pins_its_digest() {
    let f = fixture();
    let stdout = success(&cargo_fn_env(
        &f.project,
        &[
            "publish",
            &reference("shop/orders:v2"),
            "--sign",
            f.secret.to_str().unwrap(),
            "--spin-app",
        ],
    ));
    let digest = printed_digest(&stdout);
    assert!(
        stdout.contains(&format!("spin app: {}", reference("shop/orders:v2-spin"))),
        "{stdout}"
    );
    let (_, wasm_manifest, _) = manifest("shop/orders", "v2");
    let layer = wasm_manifest["layers"][0]["digest"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(
        wasm_manifest["annotations"]["org.opencontainers.image.title"],
        "orders-fn"
    );
    assert_eq!(
        wasm_manifest["annotations"]["org.opencontainers.image.version"],
        "0.1.0"
    );
    let pulled = blob("shop/orders", &layer);
    fn_sign::verify(
        &pulled,
        &[fn_sign::PublicKey::from_file(&f.public).unwrap()],
    )
    .expect("publish --sign pushes a signed artifact");

    let out = f.tmp.path().join("bundles");
    let deploy = |provider: &str, extra: &[&str]| {
        let dir = out.join(provider);
        let mut args = vec![
            "deploy",
            "--provider",
            provider,
            "--out",
            dir.to_str().unwrap(),
        ];
        args.extend_from_slice(extra);
        let stdout = success(&cargo_fn_env(&f.project, &args));
        assert!(stdout.contains(&digest), "{stdout}");
        (dir, stdout)
    };

    // spin.toml: from the publish record, no registry round trip needed.
    let (dir, stdout) = deploy("spin", &[]);
    // The scaffolded function imports nothing Spin lacks: no warning that
    // the provider cannot run it (see `cargo fn inspect`).
    let again = cargo_fn_env(
        &f.project,
        &[
            "deploy",
            "--provider",
            "spin",
            "--out",
            dir.to_str().unwrap(),
        ],
    );
    let stderr = String::from_utf8_lossy(&again.stderr);
    assert!(!stderr.contains("cannot run"), "{stderr}");
    assert!(!stderr.contains("could not check"), "{stderr}");
    assert!(stdout.contains("SPIN_VARIABLE_PAYMENT_API_KEY"), "{stdout}");
    let spin: toml::Table = toml::from_str(&read(&dir.join("spin.toml"))).unwrap();
    assert_eq!(spin["spin_manifest_version"].as_integer(), Some(2));
    assert_eq!(
        spin["trigger"]["http"][0]["route"].as_str(),
        Some("/orders/...")
    );
    let component = &spin["component"]["orders-fn"];
    assert_eq!(component["source"]["digest"].as_str(), Some(layer.as_str()));
    let url = component["source"]["url"].as_str().unwrap();
    assert_eq!(
        url,
        format!("http://{}/v2/shop/orders/blobs/{layer}", f.registry.addr)
    );
    let path = url.split_once(&f.registry.addr).unwrap().1;
    assert_eq!(
        registry::get(&f.registry.addr, path, &[]).unwrap().2,
        pulled,
        "Spin's URL serves the layer"
    );
    assert_eq!(component["key_value_stores"][0].as_str(), Some("default"));
    assert_eq!(
        component["allowed_outbound_hosts"][0].as_str(),
        Some("https://api.stripe.com")
    );
    assert_eq!(
        spin["variables"]["payment_api_key"]["secret"].as_bool(),
        Some(true)
    );
    assert_eq!(
        spin["variables"]["payment_api_url"]["default"].as_str(),
        Some("https://api.stripe.com")
    );

    // wadm.yaml, resolving the tag on the registry.
    let (dir, _) = deploy("wasmcloud", &["--image", &reference("shop/orders:v2")]);
    let wadm: serde_json::Value = serde_norway::from_str(&read(&dir.join("wadm.yaml"))).unwrap();
    let component = &wadm["spec"]["components"][0];
    assert_eq!(
        component["properties"]["image"].as_str().unwrap(),
        format!("{}/shop/orders@{digest}", f.registry.addr)
    );
    let traits = component["traits"].as_array().unwrap();
    assert!(
        traits
            .iter()
            .any(|t| t["properties"]["package"] == "keyvalue")
    );
    assert_eq!(
        wadm["spec"]["components"][1]["traits"][0]["properties"]["package"],
        "http"
    );

    // The Spin application layout: the same component blob plus the
    // locked app, under its own tag.
    let (raw, spin_manifest, _) = manifest("shop/orders", "v2-spin");
    let spin_digest = sha256(&raw);
    let spin_layers = spin_manifest["layers"].as_array().unwrap();
    assert_eq!(spin_layers[0]["digest"], layer.as_str(), "the same blob");
    assert_eq!(
        spin_layers[1]["mediaType"],
        "application/vnd.fermyon.spin.application.v1+config"
    );
    let locked: serde_json::Value = serde_json::from_slice(&blob(
        "shop/orders",
        spin_layers[1]["digest"].as_str().unwrap(),
    ))
    .unwrap();
    assert_eq!(locked["components"][0]["source"]["digest"], layer.as_str());
    assert_eq!(
        locked["triggers"][0]["trigger_config"]["route"],
        "/orders/..."
    );
    assert_eq!(
        locked["components"][0]["metadata"]["key_value_stores"][0],
        "default"
    );

    // SpinApp, pinned with --digest: it runs the Spin layout of that artifact.
    let (dir, stdout) = deploy(
        "spinkube",
        &["--image", &reference("shop/orders"), "--digest", &digest],
    );
    assert!(!stdout.contains("MISSING"), "{stdout}");
    assert!(stdout.contains(&layer), "{stdout}");
    let app: serde_json::Value = serde_norway::from_str(&read(&dir.join("spinapp.yaml"))).unwrap();
    assert_eq!(
        app["spec"]["image"].as_str().unwrap(),
        format!("{}/shop/orders@{spin_digest}", f.registry.addr)
    );
    assert!(
        app["spec"]["variables"]
            .as_array()
            .unwrap()
            .iter()
            .any(|v| v["name"] == "payment_api_url" && v["value"] == "https://api.stripe.com")
    );

    // run.sh: pulls by digest with cargo fn pull, serves with wasmtime.
    let (dir, _) = deploy("wasmtime", &[]);
    let script = read(&dir.join("run.sh"));
    assert!(
        script.contains(&format!(
            "cargo fn pull oci://{}/shop/orders@{digest}",
            f.registry.addr
        )),
        "{script}"
    );
    assert!(
        script.contains("wasmtime serve -S cli -S keyvalue -S config"),
        "{script}"
    );
    assert!(
        script.contains("config-var=payment_api_url=https://api.stripe.com"),
        "{script}"
    );

    // A digest the registry does not have is refused.
    let missing = format!("sha256:{}", "0".repeat(64));
    let stderr = failure(&cargo_fn_env(
        &f.project,
        &[
            "deploy",
            "--provider",
            "spin",
            "--image",
            &reference("shop/orders"),
            "--digest",
            &missing,
        ],
    ));
    assert!(
        stderr.contains("does not exist on the registry"),
        "{stderr}"
    );
}

/// A function that uses key-value and config imports the versions Spin
/// lacks: `deploy --provider spin` writes it composed with the Spin adapter
/// next to spin.toml, `publish --spin-app` makes that composition the Spin
/// layout's component, and `inspect` finds the published function inside.
#[test]
fn a_key_value_function_is_composed_with_the_spin_adapter() {
    let f = fixture();
    let (_tmp, project) = scaffold("counter-fn", "http");
    std::fs::write(
        project.join("src/lib.rs"),
        r#"use fnsdk::{Request, function};

/// Counts its calls in the default store, with a configurable greeting.
#[function]
fn handle(_req: Request) -> Result<String, fnsdk::Error> {
    let hits = fnsdk::kv::Store::open_default()?.increment("hits", 1)?;
    let greeting = fnsdk::config::get("greeting")?.unwrap_or_else(|| "Hello".into());
    Ok(format!("{greeting} #{hits}"))
}
"#,
    )
    .unwrap();
    let cargo_toml = project.join("Cargo.toml");
    let mut toml = std::fs::read_to_string(&cargo_toml).unwrap();
    toml.push_str(
        "\n[package.metadata.fn]\nkey-value = [\"default\"]\n[package.metadata.fn.config]\ngreeting = { default = \"Hello\" }\n",
    );
    std::fs::write(&cargo_toml, toml).unwrap();
    let stdout = success(&cargo_fn_env(
        &project,
        &["publish", &reference("shop/counter:v1"), "--spin-app"],
    ));
    let digest = printed_digest(&stdout);
    let (_, wasm_manifest, _) = manifest("shop/counter", "v1");
    let layer = wasm_manifest["layers"][0]["digest"]
        .as_str()
        .unwrap()
        .to_owned();

    // spin.toml runs the composition written next to it.
    let out = f.tmp.path().join("counter-spin");
    let deployed = cargo_fn_env(
        &project,
        &[
            "deploy",
            "--provider",
            "spin",
            "--out",
            out.to_str().unwrap(),
        ],
    );
    let stdout = success(&deployed);
    assert!(stdout.contains(&digest), "{stdout}");
    let stderr = String::from_utf8_lossy(&deployed.stderr);
    assert!(!stderr.contains("cannot run"), "{stderr}");
    let spin: toml::Table = toml::from_str(&read(&out.join("spin.toml"))).unwrap();
    let source = spin["component"]["counter-fn"]["source"].as_str().unwrap();
    assert_eq!(source, "counter-fn.spin.wasm");
    let composed = std::fs::read(out.join(source)).unwrap();
    let report = fn_pipeline::report::inspect(&composed).unwrap();
    assert!(
        report
            .imports
            .iter()
            .any(|i| i.name == "wasi:keyvalue/atomics@0.2.0-draft2"),
        "{:?}",
        report.imports
    );
    assert!(
        !report
            .imports
            .iter()
            .any(|i| i.name.ends_with("@0.2.0-draft") || i.name.ends_with("-rc.1")),
        "{:?}",
        report.imports
    );
    assert!(report.nested.iter().any(|n| n.digest == layer));

    // inspect names the function inside against the publish record, and
    // refuses a digest that is not inside.
    let inspected = cargo_fn_env(&project, &["inspect", out.join(source).to_str().unwrap()]);
    let stdout = success(&inspected);
    assert!(stdout.contains("composed of:"), "{stdout}");
    let stderr = String::from_utf8_lossy(&inspected.stderr);
    assert!(
        stderr.contains(&format!("the function inside is {layer}")),
        "{stderr}"
    );
    let wrong = format!("sha256:{}", "1".repeat(64));
    let stderr = failure(&cargo_fn_env(
        &project,
        &[
            "inspect",
            out.join(source).to_str().unwrap(),
            "--function-digest",
            &wrong,
        ],
    ));
    assert!(stderr.contains("no component inside"), "{stderr}");

    // The Spin layout's component is the same composition, annotated with
    // the published function's digest.
    let (_, spin_manifest, _) = manifest("shop/counter", "v1-spin");
    assert_eq!(
        spin_manifest["layers"][0]["digest"].as_str().unwrap(),
        sha256(&composed),
        "the layout runs the composition deploy wrote"
    );
    assert_eq!(
        spin_manifest["annotations"]["dev.cargo-fn.function.digest"],
        layer.as_str()
    );
    assert_eq!(blob("shop/counter", &sha256(&composed)), composed);

    // wasmCloud 1.x: composed with its own adapter (config at 0.2.0-draft;
    // key-value as published), pushed as v1-wasmcloud, and wadm.yaml runs
    // that manifest by digest.
    let out = f.tmp.path().join("counter-wasmcloud");
    let deploy_wasmcloud = || {
        success(&cargo_fn_env(
            &project,
            &[
                "deploy",
                "--provider",
                "wasmcloud",
                "--out",
                out.to_str().unwrap(),
            ],
        ))
    };
    let stdout = deploy_wasmcloud();
    assert!(stdout.contains("v1-wasmcloud"), "{stdout}");
    let (body, wasmcloud_manifest, _) = manifest("shop/counter", "v1-wasmcloud");
    let wadm: serde_json::Value = serde_norway::from_str(&read(&out.join("wadm.yaml"))).unwrap();
    assert_eq!(
        wadm["spec"]["components"][0]["properties"]["image"],
        format!("{}/shop/counter@{}", fixture().registry.addr, sha256(&body))
    );
    assert_eq!(
        wasmcloud_manifest["annotations"]["dev.cargo-fn.function.digest"],
        layer.as_str()
    );
    let pushed = blob(
        "shop/counter",
        wasmcloud_manifest["layers"][0]["digest"].as_str().unwrap(),
    );
    let report = fn_pipeline::report::inspect(&pushed).unwrap();
    let capabilities: Vec<&str> = report
        .imports
        .iter()
        .map(|i| i.name.as_str())
        .filter(|n| n.starts_with("wasi:keyvalue") || n.starts_with("wasi:config"))
        .collect();
    assert_eq!(
        capabilities,
        [
            "wasi:keyvalue/store@0.2.0-draft",
            "wasi:keyvalue/atomics@0.2.0-draft",
            "wasi:config/store@0.2.0-draft"
        ],
        "{:?}",
        report.imports
    );
    assert!(report.nested.iter().any(|n| n.digest == layer));
    let wasmcloud = report.hosts.iter().find(|h| h.id == "wasmcloud").unwrap();
    assert!(wasmcloud.runs, "{:?}", wasmcloud.reasons);
    // The same function composes to the same manifest: a second deploy
    // pins the same digest.
    deploy_wasmcloud();
    let (again, _, _) = manifest("shop/counter", "v1-wasmcloud");
    assert_eq!(sha256(&again), sha256(&body));

    // NGINX Unit has neither key-value nor config: the function composed
    // with the files adapter, written next to unit.json with a folder per
    // store, which the application preopens and FN_KV_DIR names.
    let out = f.tmp.path().join("counter-unit");
    success(&cargo_fn_env(
        &project,
        &[
            "deploy",
            "--provider",
            "unit",
            "--out",
            out.to_str().unwrap(),
        ],
    ));
    let unit: serde_json::Value = serde_json::from_str(&read(&out.join("unit.json"))).unwrap();
    assert_eq!(
        unit["listeners"]["*:8080"]["pass"],
        "applications/counter-fn"
    );
    let app = &unit["applications"]["counter-fn"];
    assert_eq!(app["type"], "wasm-wasi-component");
    let component = Path::new(app["component"].as_str().unwrap());
    assert!(component.is_absolute(), "{component:?}");
    assert_eq!(component, out.join("counter-fn.unit.wasm"));
    let kv = out.join("kv");
    assert_eq!(app["access"]["filesystem"][0], kv.to_str().unwrap());
    assert_eq!(app["environment"]["FN_KV_DIR"], kv.to_str().unwrap());
    assert_eq!(app["environment"]["FN_CONFIG_GREETING"], "Hello");
    assert!(kv.join("default").is_dir());
    let composed = std::fs::read(component).unwrap();
    let report = fn_pipeline::report::inspect(&composed).unwrap();
    assert!(
        !report
            .imports
            .iter()
            .any(|i| i.name.starts_with("wasi:keyvalue") || i.name.starts_with("wasi:config")),
        "{:?}",
        report.imports
    );
    assert!(
        report
            .imports
            .iter()
            .any(|i| i.name == "wasi:filesystem/preopens@0.2.0"),
        "{:?}",
        report.imports
    );
    assert!(report.nested.iter().any(|n| n.digest == layer));
    let unit_host = report.hosts.iter().find(|h| h.id == "nginx-unit").unwrap();
    assert!(unit_host.runs, "{:?}", unit_host.reasons);
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// `cargo fn <args>` in `dir` without registry credentials.
fn cargo_fn_env(dir: &Path, args: &[&str]) -> std::process::Output {
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_cargo-fn"));
    cmd.arg("fn").args(args).current_dir(dir);
    offline(&mut cmd);
    cmd.env_remove("CARGO_FN_REGISTRY_USERNAME")
        .env_remove("CARGO_FN_REGISTRY_PASSWORD")
        .env(
            "DOCKER_CONFIG",
            fixture().tmp.path().join("no-docker-config"),
        );
    cmd.output().expect("run cargo-fn")
}

#[test]
fn refused_credentials_say_what_to_do() {
    let f = fixture();
    let reply = |status: u16| Reply {
        status,
        headers: vec![
            ("WWW-Authenticate".into(), "Basic realm=\"test\"".into()),
            ("Content-Type".into(), "application/json".into()),
        ],
        body: Vec::new(),
    };
    for status in [401, 403] {
        let addr = registry::fake(Vec::new(), reply(status));
        let stderr = failure(&run(&[
            "publish",
            &format!("oci://{addr}/x:v1"),
            "--wasm",
            f.wasm.to_str().unwrap(),
        ]));
        let expected = if status == 401 {
            "refused access (401 Unauthorized)"
        } else {
            "refused access (403 Forbidden)"
        };
        assert!(stderr.contains(expected), "{status}: {stderr}");
        assert!(stderr.contains("anonymously"), "{stderr}");
        assert!(stderr.contains("CARGO_FN_REGISTRY_USERNAME"), "{stderr}");

        let stderr = failure(&run(&["pull", &format!("oci://{addr}/x:v1")]));
        assert!(stderr.contains("refused access"), "{status}: {stderr}");
    }
    // Credentials from a docker config file are used, and named on refusal.
    let docker = f.tmp.path().join("docker");
    std::fs::create_dir_all(&docker).unwrap();
    let addr = registry::fake(Vec::new(), reply(401));
    std::fs::write(
        docker.join("config.json"),
        format!(r#"{{"auths": {{"{addr}": {{"auth": "dXNlcjpwYXNz"}}}}}}"#),
    )
    .unwrap();
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_cargo-fn"));
    cmd.args(["fn", "pull", &format!("oci://{addr}/x:v1")])
        .current_dir(f.tmp.path())
        .env_remove("CARGO_FN_REGISTRY_USERNAME")
        .env_remove("CARGO_FN_REGISTRY_PASSWORD")
        .env("DOCKER_CONFIG", &docker);
    let stderr = failure(&cmd.output().unwrap());
    assert!(
        stderr.contains(&format!(
            "with the login in {}",
            docker.join("config.json").display()
        )),
        "{stderr}"
    );
}

/// alice:s3cret, bcrypt.
const HTPASSWD: &str = "alice:$2b$12$bRfTlYjrH6z6NWaYhAL3z.EDndyGRlsxBLQE87CzuIoVDyLXLOBz2\n";

#[test]
fn a_registry_with_basic_auth_takes_credentials_from_env_or_docker_config() {
    let f = fixture();
    let registry = registry::start_with_htpasswd(HTPASSWD);
    let image = format!("oci://{}/private:v1", registry.addr);
    let wasm = f.wasm.to_str().unwrap();
    let with_env = |user: &str, pass: &str, args: &[&str]| {
        let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_cargo-fn"));
        cmd.arg("fn")
            .args(args)
            .current_dir(f.tmp.path())
            .env("CARGO_FN_REGISTRY_USERNAME", user)
            .env("CARGO_FN_REGISTRY_PASSWORD", pass)
            .env("DOCKER_CONFIG", f.tmp.path().join("no-docker-config"));
        cmd.output().unwrap()
    };

    let stderr = failure(&run(&["publish", &image, "--wasm", wasm]));
    assert!(
        stderr.contains("refused access (401 Unauthorized) anonymously"),
        "{stderr}"
    );
    let stderr = failure(&with_env(
        "alice",
        "wrong",
        &["publish", &image, "--wasm", wasm],
    ));
    assert!(
        stderr.contains("refused access (401 Unauthorized) as user alice"),
        "{stderr}"
    );

    let stdout = success(&with_env(
        "alice",
        "s3cret",
        &["publish", &image, "--wasm", wasm],
    ));
    let digest = printed_digest(&stdout);

    // Pull with the login from a docker config file.
    let docker = f.tmp.path().join("docker-auth");
    std::fs::create_dir_all(&docker).unwrap();
    std::fs::write(
        docker.join("config.json"),
        format!(
            r#"{{"auths": {{"http://{}": {{"auth": "YWxpY2U6czNjcmV0"}}}}}}"#,
            registry.addr
        ),
    )
    .unwrap();
    let out = f.tmp.path().join("private.wasm");
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_cargo-fn"));
    cmd.args(["fn", "pull", &image, "-o", out.to_str().unwrap()])
        .current_dir(f.tmp.path())
        .env_remove("CARGO_FN_REGISTRY_USERNAME")
        .env_remove("CARGO_FN_REGISTRY_PASSWORD")
        .env("DOCKER_CONFIG", &docker);
    let stdout = success(&cmd.output().unwrap());
    assert_eq!(printed_digest(&stdout), digest);
    assert_eq!(
        std::fs::read(&out).unwrap(),
        std::fs::read(&f.wasm).unwrap()
    );
}

#[test]
fn unreachable_registries_and_malformed_references_fail_clearly() {
    let f = fixture();
    let port = registry::free_port();
    let stderr = failure(&run(&[
        "publish",
        &format!("oci://127.0.0.1:{port}/x:v1"),
        "--wasm",
        f.wasm.to_str().unwrap(),
    ]));
    assert!(
        stderr.contains(&format!(
            "cannot reach the registry at http://127.0.0.1:{port}"
        )),
        "{stderr}"
    );
    let stderr = failure(&run(&["pull", &format!("oci://127.0.0.1:{port}/x:v1")]));
    assert!(stderr.contains("cannot reach the registry"), "{stderr}");

    for (bad, part) in [
        ("oci://127.0.0.1:5000", "no repository"),
        ("https://ghcr.io/x:v1", "scheme must be oci://"),
        ("oci://127.0.0.1:5000/Upper:v1", "lowercase"),
        ("oci://127.0.0.1:5000/x@sha256:123", "64 lowercase hex"),
    ] {
        let stderr = failure(&run(&["pull", bad]));
        assert!(
            stderr.contains("malformed registry reference"),
            "{bad}: {stderr}"
        );
        assert!(stderr.contains(part), "{bad}: {stderr}");
    }
    // Not a component: refused before any network traffic.
    let module = f.tmp.path().join("module.wasm");
    std::fs::write(&module, b"\0asm\x01\0\0\0").unwrap();
    let stderr = failure(&run(&[
        "publish",
        &reference("m:v1"),
        "--wasm",
        module.to_str().unwrap(),
    ]));
    assert!(
        stderr.contains("only a WebAssembly component can be published"),
        "{stderr}"
    );
    // A component that is not a function (no wasi:http/incoming-handler
    // export): no provider could call it.
    let library = f.tmp.path().join("library.wasm");
    std::fs::write(
        &library,
        wat::parse_str(r#"(component (import "wasi:keyvalue/store@0.2.0-draft" (instance)))"#)
            .unwrap(),
    )
    .unwrap();
    let stderr = failure(&run(&[
        "publish",
        &reference("library:v1"),
        "--wasm",
        library.to_str().unwrap(),
    ]));
    assert!(
        stderr.contains("does not export wasi:http/incoming-handler"),
        "{stderr}"
    );
}

#[test]
fn bytes_that_do_not_match_the_manifest_digest_are_refused() {
    let f = fixture();
    let wasm = std::fs::read(&f.wasm).unwrap();
    let config = br#"{"created":"2026-01-01T00:00:00Z","architecture":"wasm","os":"wasip2","layerDigests":[],"component":{"exports":[],"imports":[],"target":null}}"#.to_vec();
    let manifest = serde_json::json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.wasm.config.v0+json", "digest": sha256(&config), "size": config.len()},
        "layers": [{"mediaType": "application/wasm", "digest": sha256(&wasm), "size": wasm.len()}],
    });
    let mut evil = wasm.clone();
    evil[100] ^= 0xff;
    let ok = |body: Vec<u8>, content_type: &str| Reply {
        status: 200,
        headers: vec![("Content-Type".into(), content_type.into())],
        body,
    };
    let addr = registry::fake(
        vec![
            ("/v2/".into(), ok(b"{}".to_vec(), "application/json")),
            (
                "/v2/x/manifests/".into(),
                ok(
                    serde_json::to_vec(&manifest).unwrap(),
                    "application/vnd.oci.image.manifest.v1+json",
                ),
            ),
            (
                format!("/v2/x/blobs/{}", sha256(&config)),
                ok(config.clone(), "application/octet-stream"),
            ),
            (
                format!("/v2/x/blobs/{}", sha256(&wasm)),
                ok(evil, "application/octet-stream"),
            ),
        ],
        Reply {
            status: 404,
            headers: Vec::new(),
            body: Vec::new(),
        },
    );
    let out = f.tmp.path().join("evil.wasm");
    let stderr = failure(&run(&[
        "pull",
        &format!("oci://{addr}/x:v1"),
        "-o",
        out.to_str().unwrap(),
    ]));
    assert!(stderr.contains("digest mismatch"), "{stderr}");
    assert!(!out.exists(), "nothing written");
}

#[test]
fn invalid_function_metadata_is_refused_before_building() {
    let (_tmp, project) = scaffold("bad-meta", "http");
    let manifest = project.join("Cargo.toml");
    let mut toml = std::fs::read_to_string(&manifest).unwrap();
    toml.push_str("\n[package.metadata.fn]\nroute = \"orders\"\nschedule = \"* * *\"\n");
    std::fs::write(&manifest, toml).unwrap();
    let stderr = failure(&cargo_fn_env(
        &project,
        &["publish", "oci://127.0.0.1:1/x:v1"],
    ));
    assert!(stderr.contains("invalid [package.metadata.fn]"), "{stderr}");
    assert!(
        stderr.contains("route \"orders\": must start with '/'"),
        "{stderr}"
    );
}

/// Crash safety of `cargo fn publish --sign`: killed at a spread of moments
/// (building, signing, pushing, writing the record), it leaves the old
/// artifact or the new signed one, and the old record or a complete new one.
#[test]
#[cfg(unix)]
fn a_publish_killed_at_any_moment_leaves_the_old_or_the_new_artifact_and_record() {
    let f = fixture();
    let (_tmp, project) = scaffold("killed-publish", "http");
    let artifact = artifact(&build_json(&project, &[]));
    let unsigned = std::fs::read(&artifact).unwrap();
    let record = artifact.with_file_name("killed-publish.published.json");
    let public = fn_sign::PublicKey::from_file(&f.public).unwrap();
    let (old_artifact, old_record) = (b"an older artifact".to_vec(), b"an older record".to_vec());
    let (mut kept, mut replaced) = (0, 0);
    for delay_ms in (0u64..=900).step_by(60).chain([5000]) {
        std::fs::write(&artifact, &old_artifact).unwrap();
        std::fs::write(&record, &old_record).unwrap();
        let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_cargo-fn"));
        cmd.args(["fn", "publish", &reference("shop/killed:v1"), "--sign"])
            .arg(&f.secret)
            .current_dir(&project)
            .env("DOCKER_CONFIG", f.tmp.path().join("no-docker-config"));
        offline(&mut cmd);
        killed_leaves_old_or_signed(cmd, delay_ms, &artifact, &old_artifact, &unsigned, public);
        let written = std::fs::read(&record).unwrap();
        if written == old_record {
            kept += 1;
        } else {
            let json: serde_json::Value = serde_json::from_slice(&written)
                .unwrap_or_else(|e| panic!("killed after {delay_ms} ms: a torn record: {e}"));
            assert!(
                json["manifest_digest"]
                    .as_str()
                    .is_some_and(|d| d.starts_with("sha256:")),
                "{json}"
            );
            replaced += 1;
        }
    }
    eprintln!("old record {kept} times, new record {replaced} times");
}
