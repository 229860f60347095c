//! The Cloud Run container image, proven with real tools: written as an
//! OCI image layout, unpacked by umoci, run by runc (as root, sharing the
//! host's network) and called over HTTP on `$PORT`; and pushed to a real
//! registry (Debian's `docker-registry`) that must hand back the very bytes.
//!
//! Running containers needs root, `umoci` and `runc` (see
//! `common/container.rs`).

#[path = "common/container.rs"]
mod container;
#[path = "common/registry.rs"]
mod registry;

use std::time::Duration;

use container::{Container, containers_can_run, is_static_elf};

use cargo_fn::deploy::cloudrun::{self, Service};
use cargo_fn::oci::image::{self, COMPONENT_PATH, ImageBuilder};
use cargo_fn::oci::{ImageRef, Registry};

/// A server image and the request that proves it runs.
struct Server {
    /// The image (its entrypoint listens on `0.0.0.0:$PORT`).
    image: ImageBuilder,
    /// The path to GET.
    path: &'static str,
    /// The body the server must answer with.
    expected: Vec<u8>,
}

/// The server under test. For now Debian's static busybox serving `/fn`
/// over HTTP, so `GET /fn.wasm` answers the component's bytes as they are
/// in the image; the runner, once built, takes its place (through
/// `image::runner_image`, answering the component's own response).
fn server() -> Server {
    const BUSYBOX: &str = "/bin/busybox";
    let busybox = std::fs::read(BUSYBOX).unwrap_or_else(|e| {
        panic!(
            "the container test serves with a static busybox: cannot read {BUSYBOX} ({e}); \
             install it with `apt-get install busybox-static`"
        )
    });
    assert!(
        is_static_elf(&busybox),
        "{BUSYBOX} is dynamically linked and would not run in an image without libc; \
         install the static build with `apt-get install busybox-static`"
    );
    let component = b"\0asm\x0d\0\x01\0 stand-in component bytes".to_vec();
    let image = ImageBuilder::new([
        "/fn/busybox",
        "sh",
        "-c",
        "exec /fn/busybox httpd -f -p \"0.0.0.0:$PORT\" -h /fn",
    ])
    .file("/fn/busybox", busybox, 0o755)
    .file(COMPONENT_PATH, component.clone(), 0o644)
    .env("PORT", &image::PORT.to_string())
    .working_dir(image::WORKING_DIR)
    .expose(image::PORT);
    Server {
        image,
        path: "/fn.wasm",
        expected: component,
    }
}

#[test]
fn the_image_unpacks_with_umoci_and_serves_http_on_port_under_runc() {
    let server = server();
    let image = server.image.build().unwrap();
    if !containers_can_run() {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let layout = tmp.path().join("layout");
    image.write_layout(&layout, "test").unwrap();
    let bundle = tmp.path().join("bundle");
    container::unpack(&layout, "test", &bundle);
    // umoci took the process from the image config and the files from the
    // layer, modes included.
    let port = registry::free_port();
    let config = container::share_host_network(&bundle, port, &[]);
    let wanted: serde_json::Value =
        serde_json::from_slice::<serde_json::Value>(&image.config).unwrap()["config"].clone();
    assert_eq!(config["process"]["args"], wanted["Entrypoint"]);
    assert_eq!(config["process"]["cwd"], "/fn");
    let rootfs = bundle.join("rootfs");
    assert_eq!(
        std::fs::read(rootfs.join("fn/fn.wasm")).unwrap(),
        server.expected
    );
    use std::os::unix::fs::PermissionsExt as _;
    let mode = |p: &str| {
        std::fs::metadata(rootfs.join(p))
            .unwrap()
            .permissions()
            .mode()
            & 0o7777
    };
    assert_eq!(
        (mode("fn"), mode("fn/busybox"), mode("fn/fn.wasm")),
        (0o755, 0o755, 0o644)
    );

    let container = Container::start(&bundle, tmp.path().join("container.log"));
    let addr = format!("127.0.0.1:{port}");
    let (status, _, body) = container.get(&addr, server.path, Duration::from_secs(15));
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&body));
    assert_eq!(body, server.expected);
    drop(container);
}

#[test]
fn the_image_pushes_to_a_registry_and_the_service_pins_its_digest() {
    let registry = registry::start();
    let image = server().image.build().unwrap();
    let reference = ImageRef::parse(&format!("oci://{}/fns/cloudrun:v1", registry.addr)).unwrap();
    let client = Registry::new(&reference, false).unwrap();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let digest = runtime.block_on(client.push_image(&image)).unwrap();
    assert_eq!(digest, image.manifest_digest);
    // Pushing the same image again is a no-op with the same digest.
    assert_eq!(runtime.block_on(client.push_image(&image)).unwrap(), digest);

    let (status, headers, body) = registry::get(
        &registry.addr,
        "/v2/fns/cloudrun/manifests/v1",
        &[("Accept", "application/vnd.oci.image.manifest.v1+json")],
    )
    .unwrap();
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&body));
    assert_eq!(body, image.manifest);
    assert_eq!(headers["docker-content-digest"], digest);
    for (bytes, digest) in image.blobs() {
        let (status, _, body) = registry::get(
            &registry.addr,
            &format!("/v2/fns/cloudrun/blobs/{digest}"),
            &[],
        )
        .unwrap();
        assert_eq!(status, 200);
        assert!(body == bytes, "blob {digest} differs");
    }

    let service = Service::new("cloudrun_test", reference.pinned(&digest));
    let yaml = cloudrun::service_yaml(&service).unwrap();
    let doc: serde_json::Value = serde_norway::from_str(&yaml.contents).unwrap();
    assert_eq!(
        doc["spec"]["template"]["spec"]["containers"][0]["image"],
        format!("{}/fns/cloudrun@{digest}", registry.addr)
    );
}
