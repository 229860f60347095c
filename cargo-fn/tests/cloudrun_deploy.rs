//! `cargo fn deploy --provider cloudrun` on a scaffolded function published
//! to a loopback registry: the image is pushed next to the artifact as
//! `v1-cloudrun`, `service.yaml` pins the digest the registry holds, and
//! the image written as `image/` runs under runc and answers as the
//! function does.
//!
//! The runner is what `cargo fn` itself builds when `$FN_RUNNER` is unset:
//! the static musl `fn-runner` from this checkout, cached in the
//! workspace's target directory (`$FN_RUNNER_CACHE`), so it is built once
//! and only the static build can run in an image holding nothing else.

mod common;
#[path = "common/container.rs"]
mod container;
#[path = "common/registry.rs"]
mod registry;

use std::process::Command;
use std::time::Duration;

use common::*;
use container::Container;

const METADATA: &str = r#"
[package.metadata.fn]
route = "/..."
key-value = ["default"]
[package.metadata.fn.config]
greeting = { default = "Hello" }
api_token = { secret = true }
"#;

/// The registry's manifest digest for `repo:tag` (its
/// `Docker-Content-Digest`).
fn registry_digest(addr: &str, repo: &str, tag: &str) -> String {
    let (status, headers, body) = registry::get(
        addr,
        &format!("/v2/{repo}/manifests/{tag}"),
        &[("Accept", "application/vnd.oci.image.manifest.v1+json")],
    )
    .unwrap();
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&body));
    headers["docker-content-digest"].clone()
}

#[test]
fn cloudrun_image_is_pushed_pinned_and_serves_the_function_under_runc() {
    let registry = registry::start();
    let (tmp, project) = scaffold("hello-fn", "http");
    let manifest = project.join("Cargo.toml");
    let mut toml = std::fs::read_to_string(&manifest).unwrap();
    toml.push_str(METADATA);
    std::fs::write(&manifest, toml).unwrap();
    let image = format!("oci://{}/hello:v1", registry.addr);
    success(&cargo_fn(&project, &["publish", &image]));

    let out = tmp.path().join("cloudrun");
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_cargo-fn"));
    cmd.arg("fn")
        .args(["deploy", "--provider", "cloudrun", "--out"])
        .arg(&out)
        .current_dir(&project)
        .env_remove("FN_RUNNER")
        .env("FN_RUNNER_CACHE", workspace().join("target"))
        // The release build of wasmtime for musl is the slowest step of
        // the test suite on a fresh machine; optimising less halves it and
        // changes nothing this test looks at.
        .env("CARGO_PROFILE_RELEASE_OPT_LEVEL", "1")
        .env("DOCKER_CONFIG", tmp.path().join("no-docker-config"));
    offline(&mut cmd);
    let stdout = success(&cmd.output().expect("run cargo-fn"));
    assert!(stdout.contains("gcloud run services replace"), "{stdout}");
    assert!(stdout.contains("hello-fn-api-token"), "{stdout}");

    // service.yaml runs the pushed image by the digest the registry holds.
    let pushed = registry_digest(&registry.addr, "hello", "v1-cloudrun");
    let service: serde_json::Value =
        serde_norway::from_str(&std::fs::read_to_string(out.join("service.yaml")).unwrap())
            .unwrap();
    let container = &service["spec"]["template"]["spec"]["containers"][0];
    assert_eq!(
        container["image"],
        format!("{}/hello@{pushed}", registry.addr)
    );
    assert_eq!(
        container["env"],
        serde_json::json!([
            { "name": "FN_CONFIG_API_TOKEN", "valueFrom": { "secretKeyRef": {
                "name": "hello-fn-api-token", "key": "latest" } } },
            { "name": "FN_CONFIG_GREETING", "value": "Hello" },
            { "name": "FN_KEY_VALUE_URL", "valueFrom": { "secretKeyRef": {
                "name": "hello-fn-key-value-url", "key": "latest" } } },
        ])
    );

    // image/ is the same image, as an OCI layout under the same tag.
    let layout = out.join("image");
    let index: serde_json::Value =
        serde_json::from_slice(&std::fs::read(layout.join("index.json")).unwrap()).unwrap();
    assert_eq!(index["manifests"][0]["digest"], pushed.as_str());
    assert_eq!(
        index["manifests"][0]["annotations"]["org.opencontainers.image.ref.name"],
        "v1-cloudrun"
    );
    let hex = pushed.strip_prefix("sha256:").unwrap();
    let image_manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(layout.join("blobs/sha256").join(hex)).unwrap())
            .unwrap();
    eprintln!(
        "hello-fn Cloud Run image: layer {} bytes",
        image_manifest["layers"][0]["size"]
    );

    if !container::containers_can_run() {
        return;
    }
    let bundle = tmp.path().join("bundle");
    container::unpack(&layout, "v1-cloudrun", &bundle);
    let rootfs = bundle.join("rootfs/fn");
    let mut files: Vec<String> = std::fs::read_dir(&rootfs)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    files.sort();
    assert_eq!(
        files,
        ["fn-bundle.json", "fn-runner", "fn.cwasm", "fn.wasm"]
    );
    assert!(
        container::is_static_elf(&std::fs::read(rootfs.join("fn-runner")).unwrap()),
        "the runner in the image must be static"
    );
    // As Cloud Run would: PORT, and the secrets' values.
    let port = registry::free_port();
    container::share_host_network(
        &bundle,
        port,
        &[
            ("FN_CONFIG_API_TOKEN", "t0ken"),
            ("FN_KEY_VALUE_URL", "memory:"),
        ],
    );
    let running = Container::start(&bundle, tmp.path().join("container.log"));
    let addr = format!("127.0.0.1:{port}");
    let (status, _, body) = running.get(&addr, "/?name=CloudRun", Duration::from_secs(60));
    let body = String::from_utf8_lossy(&body);
    assert_eq!(
        (status, body.as_ref()),
        (200, "Hello, CloudRun!"),
        "{}",
        running.log()
    );
    assert!(running.log().contains("precompiled"), "{}", running.log());
}
