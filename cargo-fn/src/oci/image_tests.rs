use std::io::Read as _;

use super::*;
use crate::oci::artifact::MANIFEST_MEDIA_TYPE;

/// A runner image of fake bytes, plus the optional files.
fn sample() -> ImageBuilder {
    runner_image(b"\x7fELF runner".to_vec(), b"\0asm component".to_vec()).file(
        BUNDLE_PATH,
        br#"{"route":"/..."}"#.to_vec(),
        0o644,
    )
}

fn json(bytes: &[u8]) -> serde_json::Value {
    serde_json::from_slice(bytes).unwrap()
}

fn gunzip(bytes: &[u8]) -> Vec<u8> {
    let mut tar = Vec::new();
    flate2::read::GzDecoder::new(bytes)
        .read_to_end(&mut tar)
        .unwrap();
    tar
}

/// (path, directory?, mode, uid, gid, mtime, contents) of every entry.
type Entry = (String, bool, u32, u64, u64, u64, Vec<u8>);

fn entries(image: &Image) -> Vec<Entry> {
    let tar = gunzip(&image.layer);
    let mut archive = tar::Archive::new(tar.as_slice());
    archive
        .entries()
        .unwrap()
        .map(|e| {
            let mut e = e.unwrap();
            let h = e.header().clone();
            let mut bytes = Vec::new();
            e.read_to_end(&mut bytes).unwrap();
            (
                e.path().unwrap().to_str().unwrap().to_owned(),
                h.entry_type().is_dir(),
                h.mode().unwrap(),
                h.uid().unwrap(),
                h.gid().unwrap(),
                h.mtime().unwrap(),
                bytes,
            )
        })
        .collect()
}

#[test]
fn the_same_files_give_the_same_bytes_and_digest() {
    let a = sample().build().unwrap();
    let b = sample().build().unwrap();
    assert_eq!(a.layer, b.layer);
    assert_eq!(a.config, b.config);
    assert_eq!(a.manifest, b.manifest);
    assert_eq!(a.manifest_digest, b.manifest_digest);
    // The order files are added in does not matter: entries are sorted.
    let file = |path: &str, bytes: &[u8], mode| ImageFile {
        path: path.into(),
        bytes: bytes.to_vec(),
        mode,
    };
    let reordered = ImageBuilder::new([RUNNER_PATH])
        .files([
            file(BUNDLE_PATH, br#"{"route":"/..."}"#, 0o644),
            file(COMPONENT_PATH, b"\0asm component", 0o644),
            file(RUNNER_PATH, b"\x7fELF runner", 0o755),
        ])
        .label(COMPONENT_DIGEST_LABEL, &sha256_digest(b"\0asm component"))
        .expose(PORT)
        .working_dir(WORKING_DIR)
        .env("PORT", "8080")
        .build()
        .unwrap();
    assert_eq!(reordered.manifest_digest, a.manifest_digest);
    // Any change to a file changes the digest.
    let other = runner_image(b"\x7fELF runner".to_vec(), b"\0asm other".to_vec())
        .file(BUNDLE_PATH, br#"{"route":"/..."}"#.to_vec(), 0o644)
        .build()
        .unwrap();
    assert_ne!(other.manifest_digest, a.manifest_digest);
    let mode = sample()
        .file("/fn/extra", Vec::new(), 0o600)
        .build()
        .unwrap();
    assert_ne!(mode.manifest_digest, a.manifest_digest);
}

#[test]
fn the_layer_holds_the_files_and_their_directories_owned_by_root_at_the_epoch() {
    let image = sample()
        .file(PRECOMPILED_PATH, b"cwasm".to_vec(), 0o644)
        .file("/etc/ssl/certs/ca.pem", b"PEM".to_vec(), 0o444)
        .build()
        .unwrap();
    let got: Vec<(String, bool, u32, Vec<u8>)> = entries(&image)
        .into_iter()
        .map(|(path, dir, mode, uid, gid, mtime, bytes)| {
            assert_eq!((uid, gid, mtime), (0, 0, 0), "{path}");
            (path, dir, mode, bytes)
        })
        .collect();
    let dir = |p: &str| (p.to_owned(), true, 0o755, Vec::new());
    let file = |p: &str, mode, b: &[u8]| (p.to_owned(), false, mode, b.to_vec());
    assert_eq!(
        got,
        [
            dir("etc/"),
            dir("etc/ssl/"),
            dir("etc/ssl/certs/"),
            file("etc/ssl/certs/ca.pem", 0o444, b"PEM"),
            dir("fn/"),
            file("fn/fn-bundle.json", 0o644, br#"{"route":"/..."}"#),
            file("fn/fn-runner", 0o755, b"\x7fELF runner"),
            file("fn/fn.cwasm", 0o644, b"cwasm"),
            file("fn/fn.wasm", 0o644, b"\0asm component"),
        ]
    );
    // gzip -n: no modification time, no file name, OS unknown.
    assert_eq!(&image.layer[..4], b"\x1f\x8b\x08\x00");
    assert_eq!(&image.layer[4..8], &[0, 0, 0, 0]);
    assert_eq!(image.layer[9], 255);
}

#[test]
fn the_config_runs_the_runner_on_port_8080_and_names_the_component() {
    let image = sample().build().unwrap();
    let config = json(&image.config);
    assert_eq!(config["architecture"], "amd64");
    assert_eq!(config["os"], "linux");
    assert!(config.get("created").is_none(), "{config}");
    let c = &config["config"];
    assert_eq!(c["Entrypoint"], serde_json::json!([RUNNER_PATH]));
    assert_eq!(c["Env"], serde_json::json!(["PORT=8080"]));
    assert_eq!(c["WorkingDir"], WORKING_DIR);
    assert_eq!(c["ExposedPorts"], serde_json::json!({ "8080/tcp": {} }));
    assert_eq!(
        c["Labels"][COMPONENT_DIGEST_LABEL],
        sha256_digest(b"\0asm component")
    );
    assert!(c.get("Cmd").is_none(), "{c}");
    assert_eq!(config["rootfs"]["type"], "layers");
    assert_eq!(
        config["rootfs"]["diff_ids"],
        serde_json::json!([sha256_digest(&gunzip(&image.layer))])
    );
    assert_eq!(image.diff_id, sha256_digest(&gunzip(&image.layer)));
    let parsed: ImageConfig = serde_json::from_slice(&image.config).unwrap();
    assert_eq!(parsed.config.entrypoint, [RUNNER_PATH]);

    let changed = sample()
        .env("PORT", "9000")
        .cmd(["--verbose"])
        .created("2026-01-01T00:00:00Z")
        .build()
        .unwrap();
    let config = json(&changed.config);
    assert_eq!(config["config"]["Env"], serde_json::json!(["PORT=9000"]));
    assert_eq!(config["config"]["Cmd"], serde_json::json!(["--verbose"]));
    assert_eq!(config["created"], "2026-01-01T00:00:00Z");
}

#[test]
fn the_manifest_lists_the_very_blobs() {
    let image = sample().annotation("org.opencontainers.image.version", "1.2.0");
    let image = image.build().unwrap();
    let manifest = json(&image.manifest);
    assert_eq!(manifest["schemaVersion"], 2);
    assert_eq!(manifest["mediaType"], MANIFEST_MEDIA_TYPE);
    assert_eq!(manifest["config"]["mediaType"], CONFIG_MEDIA_TYPE);
    assert_eq!(manifest["config"]["digest"], sha256_digest(&image.config));
    assert_eq!(manifest["config"]["size"], image.config.len());
    let layers = manifest["layers"].as_array().unwrap();
    assert_eq!(layers.len(), 1);
    assert_eq!(layers[0]["mediaType"], LAYER_MEDIA_TYPE);
    assert_eq!(layers[0]["digest"], sha256_digest(&image.layer));
    assert_eq!(layers[0]["digest"], image.layer_digest.as_str());
    assert_eq!(layers[0]["size"], image.layer.len());
    assert_eq!(
        manifest["annotations"]["org.opencontainers.image.version"],
        "1.2.0"
    );
    assert_eq!(image.manifest_digest, sha256_digest(&image.manifest));
    assert_eq!(
        image.blobs().map(|(b, d)| (sha256_digest(b), d.to_owned())),
        [
            (image.layer_digest.clone(), image.layer_digest.clone()),
            (image.config_digest.clone(), image.config_digest.clone()),
        ]
    );
}

#[test]
fn bad_files_are_refused_with_the_reason() {
    let refuse = |builder: ImageBuilder| builder.build().unwrap_err().to_string();
    let one = |path: &str| ImageBuilder::new(["/x"]).file(path, Vec::new(), 0o644);
    for (path, reason) in [
        ("fn/fn.wasm", "not absolute"),
        ("/fn/../etc/passwd", "normal form"),
        ("/fn//fn.wasm", "normal form"),
        ("/fn/./fn.wasm", "normal form"),
        ("/fn/", "names a directory"),
        ("/", "names a directory"),
    ] {
        let e = refuse(one(path));
        assert!(e.contains(reason) && e.contains(path), "{path}: {e}");
    }
    let e = refuse(one("/fn/a").file("/fn/a", Vec::new(), 0o644));
    assert!(e.contains("/fn/a is added to the image twice"), "{e}");
    let e = refuse(one("/fn").file("/fn/fn.wasm", Vec::new(), 0o644));
    assert!(e.contains("/fn is a file, but /fn/fn.wasm"), "{e}");
    let e = refuse(ImageBuilder::new(["/x"]).file("/x", Vec::new(), 0o100755));
    assert!(e.contains("not a file mode"), "{e}");
    let e = refuse(ImageBuilder::new(Vec::<String>::new()).file("/x", Vec::new(), 0o755));
    assert!(e.contains("no entrypoint"), "{e}");
}
