//! The Spin application OCI layout (what `spin registry push` writes and
//! SpinKube runs): the component layer, the very blob of the wasm artifact,
//! plus a layer holding the locked application JSON, under an OCI image
//! config whose label names that layer's digest.

use std::collections::BTreeMap;

use super::artifact::{LAYER_MEDIA_TYPE, descriptor, image_manifest, sha256_digest};

/// The media type of the locked application layer.
pub const LOCKED_APP_MEDIA_TYPE: &str = "application/vnd.fermyon.spin.application.v1+config";
/// The config media type (a plain OCI image config).
pub use super::image::CONFIG_MEDIA_TYPE;
/// The config label naming the locked application layer.
pub const LOCKED_APP_LABEL: &str = "com.fermyon.spin.lockedAppDigest";

/// The blobs and manifest of a Spin application artifact.
#[derive(Debug, Clone)]
pub struct SpinApp {
    /// The locked application JSON.
    pub locked: Vec<u8>,
    /// Its digest.
    pub locked_digest: String,
    /// The OCI image config.
    pub config: Vec<u8>,
    /// Its digest.
    pub config_digest: String,
    /// The manifest.
    pub manifest: Vec<u8>,
    /// Its digest.
    pub manifest_digest: String,
}

/// Lays out a Spin application whose one component is the already pushed
/// layer `(layer_digest, layer_size)`.
pub fn build(
    locked_app: &serde_json::Value,
    layer_digest: &str,
    layer_size: u64,
    annotations: BTreeMap<String, String>,
) -> SpinApp {
    let locked = serde_json::to_vec(locked_app).expect("the locked app serialises");
    let locked_digest = sha256_digest(&locked);
    let config = serde_json::to_vec(&serde_json::json!({
        "architecture": "wasm",
        "os": "wasip1",
        "config": { "Labels": { LOCKED_APP_LABEL: locked_digest } },
        "rootfs": { "type": "layers", "diff_ids": [] },
    }))
    .expect("the config serialises");
    let config_digest = sha256_digest(&config);
    let (manifest, manifest_digest) = image_manifest(
        descriptor(CONFIG_MEDIA_TYPE, &config_digest, config.len() as u64),
        vec![
            descriptor(LAYER_MEDIA_TYPE, layer_digest, layer_size),
            descriptor(LOCKED_APP_MEDIA_TYPE, &locked_digest, locked.len() as u64),
        ],
        annotations,
    );
    SpinApp {
        manifest_digest,
        locked,
        locked_digest,
        config,
        config_digest,
        manifest,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_spin_layout_reuses_the_component_layer_and_labels_the_locked_app() {
        let app = serde_json::json!({ "spin_lock_version": 0, "triggers": [], "components": [] });
        let layer = format!("sha256:{}", "c".repeat(64));
        let built = build(&app, &layer, 1234, BTreeMap::new());
        let manifest: serde_json::Value = serde_json::from_slice(&built.manifest).unwrap();
        assert_eq!(manifest["layers"][0]["digest"], layer.as_str());
        assert_eq!(manifest["layers"][0]["size"], 1234);
        assert_eq!(manifest["layers"][1]["mediaType"], LOCKED_APP_MEDIA_TYPE);
        assert_eq!(
            manifest["layers"][1]["digest"],
            built.locked_digest.as_str()
        );
        assert_eq!(manifest["config"]["mediaType"], CONFIG_MEDIA_TYPE);
        let config: serde_json::Value = serde_json::from_slice(&built.config).unwrap();
        assert_eq!(
            config["config"]["Labels"][LOCKED_APP_LABEL],
            built.locked_digest.as_str()
        );
        assert_eq!(built.manifest_digest, sha256_digest(&built.manifest));
    }
}
