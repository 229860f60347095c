//! The Cloud Run container image, proven with real tools: written as an
//! OCI image layout, unpacked by umoci, run by runc (as root, sharing the
//! host's network) and called over HTTP on `$PORT`; and pushed to a real
//! registry (Debian's `docker-registry`) that must hand back the very bytes.
//!
//! Running containers needs root, `umoci` and `runc` (`.ci/run` installs
//! them); where that is impossible the container test fails saying why,
//! unless `FN_SKIP_CONTAINERS=1` says to skip it.

#[path = "common/registry.rs"]
mod registry;

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

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

/// Whether `elf` is an ELF executable without a program interpreter.
fn is_static_elf(elf: &[u8]) -> bool {
    const PT_INTERP: u32 = 3;
    let u16_at = |at: usize| {
        elf.get(at..at + 2)
            .map(|b| u16::from_le_bytes([b[0], b[1]]))
    };
    let u64_at = |at: usize| {
        elf.get(at..at + 8)
            .map(|b| u64::from_le_bytes(b.try_into().unwrap()))
    };
    // 64-bit little-endian ELF only: what an amd64 image runs.
    if elf.get(..6) != Some(b"\x7fELF\x02\x01") {
        return false;
    }
    let (Some(phoff), Some(size), Some(count)) = (u64_at(0x20), u16_at(0x36), u16_at(0x38)) else {
        return false;
    };
    (0..count as usize).all(|i| {
        let at = phoff as usize + i * size as usize;
        elf.get(at..at + 4)
            .is_some_and(|t| u32::from_le_bytes(t.try_into().unwrap()) != PT_INTERP)
    })
}

/// Whether containers can run here; panics saying why not, unless
/// `FN_SKIP_CONTAINERS=1` (then false, announced on stderr).
fn containers_can_run() -> bool {
    if std::env::var("FN_SKIP_CONTAINERS").is_ok_and(|v| v == "1") {
        eprintln!("SKIPPED: FN_SKIP_CONTAINERS=1, the image is not run in a container");
        return false;
    }
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let root = status
        .lines()
        .find_map(|l| l.strip_prefix("Uid:"))
        .and_then(|ids| ids.split_whitespace().nth(1))
        == Some("0");
    assert!(
        root,
        "the container test runs runc, which needs root to create namespaces and cgroups; \
         run the tests as root, or set FN_SKIP_CONTAINERS=1 to skip it"
    );
    for tool in ["umoci", "runc"] {
        let found = Command::new(tool)
            .arg("--version")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        assert!(
            found,
            "the container test needs {tool}: install it with `apt-get install umoci runc` \
             (`.ci/run` does), or set FN_SKIP_CONTAINERS=1 to skip it"
        );
    }
    true
}

/// A runc container, deleted (killed first) when dropped.
struct Container {
    id: String,
}

impl Drop for Container {
    fn drop(&mut self) {
        let _ = Command::new("runc")
            .args(["delete", "--force", &self.id])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
    }
}

/// Runs `cmd`, panicking with its output unless it succeeds.
fn run(cmd: &mut Command, what: &str) {
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("cannot {what}: {e}"));
    assert!(
        out.status.success(),
        "cannot {what} ({}):\n{}{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Makes the unpacked bundle run here: no terminal, the host's network
/// (loopback included) instead of a namespace without interfaces, and
/// `$PORT` set to `port`.
fn share_host_network(bundle: &Path, port: u16) -> serde_json::Value {
    let path = bundle.join("config.json");
    let mut config: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    config["process"]["terminal"] = false.into();
    let env = config["process"]["env"].as_array_mut().unwrap();
    env.retain(|e| !e.as_str().unwrap().starts_with("PORT="));
    env.push(format!("PORT={port}").into());
    config["linux"]["namespaces"]
        .as_array_mut()
        .unwrap()
        .retain(|ns| ns["type"] != "network");
    std::fs::write(&path, serde_json::to_vec_pretty(&config).unwrap()).unwrap();
    config
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
    run(
        Command::new("umoci")
            .arg("unpack")
            .arg("--image")
            .arg(format!("{}:test", layout.display()))
            .arg(&bundle),
        "unpack the image with umoci",
    );
    // umoci took the process from the image config and the files from the
    // layer, modes included.
    let port = registry::free_port();
    let config = share_host_network(&bundle, port);
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

    let container = Container {
        id: format!(
            "cargo-fn-test-{}-{}",
            std::process::id(),
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_nanos()
        ),
    };
    let log = tmp.path().join("container.log");
    let log_file = std::fs::File::create(&log).unwrap();
    run(
        Command::new("runc")
            .args(["run", "--detach", "--bundle"])
            .arg(&bundle)
            .arg(&container.id)
            .stdin(Stdio::null())
            .stdout(log_file.try_clone().unwrap())
            .stderr(log_file),
        "start the container with runc",
    );
    let addr = format!("127.0.0.1:{port}");
    let deadline = Instant::now() + Duration::from_secs(15);
    let (status, _, body) = loop {
        match registry::get(&addr, server.path, &[]) {
            Ok(reply) => break reply,
            Err(e) => {
                assert!(
                    Instant::now() < deadline,
                    "nothing answers on {addr} 15 s after `runc run` ({e}); container output:\n{}",
                    std::fs::read_to_string(&log).unwrap_or_default()
                );
                std::thread::sleep(Duration::from_millis(100));
            }
        }
    };
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
