//! The CNCF wasm OCI artifact layout: a manifest whose config is
//! `application/vnd.wasm.config.v0+json` and whose one layer is the
//! component (`application/wasm`).

use std::collections::BTreeMap;

use oci_client::manifest::{OciDescriptor, OciImageManifest};
use serde::{Deserialize, Serialize};
use sha2::Digest as _;

/// The manifest media type.
pub const MANIFEST_MEDIA_TYPE: &str = "application/vnd.oci.image.manifest.v1+json";
/// The config media type of a wasm artifact.
pub const CONFIG_MEDIA_TYPE: &str = "application/vnd.wasm.config.v0+json";
/// The layer media type of a wasm artifact.
pub const LAYER_MEDIA_TYPE: &str = "application/wasm";

/// The config blob.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct WasmConfig {
    /// RFC 3339 UTC.
    pub created: String,
    /// Always `wasm`.
    pub architecture: String,
    /// `wasip2` for a component.
    pub os: String,
    /// One digest per layer.
    pub layer_digests: Vec<String>,
    /// The component's top-level interfaces.
    pub component: ComponentInfo,
}

/// `component` in the config.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ComponentInfo {
    /// e.g. `wasi:http/incoming-handler@0.2.12`.
    pub exports: Vec<String>,
    /// e.g. `wasi:http/types@0.2.12`.
    pub imports: Vec<String>,
    /// A target world, when built against one; always `null` here.
    pub target: Option<String>,
}

/// The annotations `publish` writes.
#[derive(Debug, Clone, Default)]
pub struct Annotations {
    /// Source repository URL.
    pub source: Option<String>,
    /// Version (the package's).
    pub version: Option<String>,
    /// VCS revision (git HEAD).
    pub revision: Option<String>,
    /// Title (the package's name).
    pub title: Option<String>,
    /// For a composition: the layer digest of the published function
    /// inside it (`dev.cargo-fn.function.digest`).
    pub function_digest: Option<String>,
}

/// Everything pushed: blobs and the manifest, serialised once so the
/// digests printed are the digests of the bytes sent.
#[derive(Debug, Clone)]
pub struct Artifact {
    /// The component.
    pub layer: Vec<u8>,
    /// `sha256:..` of the layer.
    pub layer_digest: String,
    /// The config blob bytes.
    pub config: Vec<u8>,
    /// `sha256:..` of the config.
    pub config_digest: String,
    /// The manifest bytes.
    pub manifest: Vec<u8>,
    /// `sha256:..` of the manifest: what pins the artifact.
    pub manifest_digest: String,
}

/// `sha256:<hex>` of `bytes`.
pub fn sha256_digest(bytes: &[u8]) -> String {
    let hash = sha2::Sha256::digest(bytes);
    let mut s = String::with_capacity(71);
    s.push_str("sha256:");
    for b in hash {
        s.push_str(&format!("{b:02x}"));
    }
    s
}

/// The descriptor of a blob.
pub fn descriptor(media_type: &str, digest: &str, size: u64) -> OciDescriptor {
    OciDescriptor {
        media_type: media_type.into(),
        digest: digest.into(),
        size: size as i64,
        ..OciDescriptor::default()
    }
}

/// An OCI image manifest of `config` and `layers` (annotations only when
/// there are some), serialised, and its digest.
pub fn image_manifest(
    config: OciDescriptor,
    layers: Vec<OciDescriptor>,
    annotations: BTreeMap<String, String>,
) -> (Vec<u8>, String) {
    let manifest = OciImageManifest {
        schema_version: 2,
        media_type: Some(MANIFEST_MEDIA_TYPE.into()),
        config,
        layers,
        subject: None,
        artifact_type: None,
        annotations: (!annotations.is_empty()).then_some(annotations),
    };
    let manifest = serde_json::to_vec(&manifest).expect("the manifest serialises");
    let digest = sha256_digest(&manifest);
    (manifest, digest)
}

/// Lays out a component as a wasm OCI artifact.
pub fn build(
    wasm: Vec<u8>,
    annotations: &Annotations,
    created: &str,
) -> Result<Artifact, fn_pipeline::WasmError> {
    let (imports, exports) = fn_pipeline::contract::imports_and_exports(&wasm)?;
    let layer_digest = sha256_digest(&wasm);
    let config = WasmConfig {
        created: created.to_owned(),
        architecture: "wasm".into(),
        os: "wasip2".into(),
        layer_digests: vec![layer_digest.clone()],
        component: ComponentInfo {
            exports,
            imports,
            target: None,
        },
    };
    let config = serde_json::to_vec(&config).expect("the config serialises");
    let config_digest = sha256_digest(&config);
    let mut notes = BTreeMap::new();
    let mut note = |key: &str, value: Option<&String>| {
        if let Some(value) = value {
            notes.insert(format!("org.opencontainers.image.{key}"), value.clone());
        }
    };
    note("source", annotations.source.as_ref());
    note("version", annotations.version.as_ref());
    note("revision", annotations.revision.as_ref());
    note("title", annotations.title.as_ref());
    notes.insert(
        "org.opencontainers.image.created".into(),
        created.to_owned(),
    );
    if let Some(digest) = &annotations.function_digest {
        notes.insert(
            crate::publish::FUNCTION_DIGEST_ANNOTATION.to_owned(),
            digest.clone(),
        );
    }
    let (manifest, manifest_digest) = image_manifest(
        descriptor(CONFIG_MEDIA_TYPE, &config_digest, config.len() as u64),
        vec![descriptor(
            LAYER_MEDIA_TYPE,
            &layer_digest,
            wasm.len() as u64,
        )],
        notes,
    );
    Ok(Artifact {
        manifest_digest,
        layer: wasm,
        layer_digest,
        config,
        config_digest,
        manifest,
    })
}

/// Checks that a pulled manifest is a wasm artifact and returns its one
/// layer.
pub fn wasm_layer(manifest: &OciImageManifest) -> Result<&OciDescriptor, String> {
    if manifest.config.media_type != CONFIG_MEDIA_TYPE {
        return Err(format!(
            "it is not a wasm component artifact: its config media type is {}, not {CONFIG_MEDIA_TYPE}",
            manifest.config.media_type
        ));
    }
    match manifest.layers.as_slice() {
        [layer] if layer.media_type == LAYER_MEDIA_TYPE => Ok(layer),
        layers => Err(format!(
            "a wasm component artifact has exactly one {LAYER_MEDIA_TYPE} layer; this one has [{}]",
            layers
                .iter()
                .map(|l| l.media_type.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        )),
    }
}

/// Now as RFC 3339 UTC, second precision (`SOURCE_DATE_EPOCH` wins, for
/// reproducible pushes).
pub fn now_rfc3339() -> String {
    created(std::env::var("SOURCE_DATE_EPOCH").ok().as_deref())
}

/// `source_date_epoch` (seconds) when it is a number, else now.
fn created(source_date_epoch: Option<&str>) -> String {
    let secs = source_date_epoch
        .and_then(|s| s.trim().parse::<i64>().ok())
        .unwrap_or_else(|| chrono::Utc::now().timestamp());
    rfc3339(secs)
}

/// Seconds since the epoch as `YYYY-MM-DDTHH:MM:SSZ` (proleptic
/// Gregorian); the epoch itself for a value past chrono's range (about
/// 262,000 years either way).
pub fn rfc3339(secs: i64) -> String {
    chrono::DateTime::from_timestamp(secs, 0)
        .unwrap_or_default()
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc3339_formats_known_instants() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339(951_782_400), "2000-02-29T00:00:00Z");
        assert_eq!(rfc3339(1_798_761_599), "2026-12-31T23:59:59Z");
        assert_eq!(rfc3339(-1), "1969-12-31T23:59:59Z");
        assert_eq!(rfc3339(i64::MAX), "1970-01-01T00:00:00Z");
    }

    #[test]
    fn source_date_epoch_wins_over_the_clock() {
        assert_eq!(created(Some("1700000000")), "2023-11-14T22:13:20Z");
        for not_a_number in [None, Some(""), Some("yesterday")] {
            let now = created(not_a_number);
            let parsed = chrono::DateTime::parse_from_rfc3339(&now).unwrap();
            let age = chrono::Utc::now().timestamp() - parsed.timestamp();
            assert!((0..60).contains(&age), "{now}");
        }
    }

    #[test]
    fn digest_is_sha256_hex() {
        assert_eq!(
            sha256_digest(b""),
            "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
    }

    #[test]
    fn a_core_module_is_not_published_as_a_component() {
        let err = build(b"\0asm\x01\0\0\0".to_vec(), &Annotations::default(), "x").unwrap_err();
        assert!(err.to_string().contains("component"), "{err}");
    }

    #[test]
    fn wasm_layer_refuses_other_layouts() {
        let layer = |media: &str| OciDescriptor {
            media_type: media.into(),
            ..OciDescriptor::default()
        };
        let mut m = OciImageManifest {
            config: layer(CONFIG_MEDIA_TYPE),
            layers: vec![layer(LAYER_MEDIA_TYPE)],
            ..OciImageManifest::default()
        };
        assert!(wasm_layer(&m).is_ok());
        m.layers.push(layer("application/octet-stream"));
        let e = wasm_layer(&m).unwrap_err();
        assert!(e.contains("exactly one"), "{e}");
        m.config = layer("application/vnd.oci.image.config.v1+json");
        let e = wasm_layer(&m).unwrap_err();
        assert!(e.contains("not a wasm component artifact"), "{e}");
    }
}
