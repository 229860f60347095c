//! The OCI image layout on disk (`oci-layout`, `index.json`,
//! `blobs/sha256/<hex>`): what umoci, skopeo (`oci:DIR:TAG`) and
//! `crane push` read, for trying an image without a registry.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use oci_client::manifest::{ImageIndexEntry, OciImageIndex};

use super::artifact::{MANIFEST_MEDIA_TYPE, sha256_digest};

/// The media type of `index.json`.
pub const INDEX_MEDIA_TYPE: &str = "application/vnd.oci.image.index.v1+json";
/// The annotation naming a manifest in `index.json` (the `TAG` of
/// `umoci unpack --image DIR:TAG`).
pub const REF_NAME: &str = "org.opencontainers.image.ref.name";

/// Why a layout could not be written.
#[derive(Debug, thiserror::Error)]
pub enum LayoutError {
    /// A file could not be read or written.
    #[error("cannot write the image layout: {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// `index.json` is there but is not an image index.
    #[error("{path} is not an OCI image index ({reason}); write the image to an empty directory")]
    NotAnIndex {
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },
    /// A blob's digest is not `sha256:` of its bytes.
    #[error("blob {0} does not match its digest; refusing to write it")]
    Digest(String),
}

/// Writes `blobs` and `manifest` into the layout at `dir` (created if
/// missing) and names the manifest `tag` in `index.json`, replacing a
/// manifest of that name and keeping the others. Blobs already there are
/// not rewritten. Returns the manifest's digest.
pub fn write(
    dir: &Path,
    blobs: &[(&[u8], &str)],
    manifest: &[u8],
    tag: &str,
) -> Result<String, LayoutError> {
    let io = |path: &Path| {
        let path = path.to_owned();
        move |source| LayoutError::Io { path, source }
    };
    let blob_dir = dir.join("blobs").join("sha256");
    std::fs::create_dir_all(&blob_dir).map_err(io(&blob_dir))?;
    let manifest_digest = sha256_digest(manifest);
    for (bytes, digest) in blobs.iter().copied().chain([(manifest, &*manifest_digest)]) {
        let hex = digest
            .strip_prefix("sha256:")
            .filter(|_| sha256_digest(bytes) == digest)
            .ok_or_else(|| LayoutError::Digest(digest.to_owned()))?;
        let path = blob_dir.join(hex);
        if !path.exists() {
            crate::fs::write_atomic(&path, bytes).map_err(io(&path))?;
        }
    }
    let layout = dir.join("oci-layout");
    crate::fs::write_atomic(&layout, br#"{"imageLayoutVersion":"1.0.0"}"#).map_err(io(&layout))?;
    let index_path = dir.join("index.json");
    let mut index = match std::fs::read(&index_path) {
        Ok(bytes) => serde_json::from_slice::<OciImageIndex>(&bytes).map_err(|e| {
            LayoutError::NotAnIndex {
                path: index_path.clone(),
                reason: e.to_string(),
            }
        })?,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => OciImageIndex {
            schema_version: 2,
            media_type: Some(INDEX_MEDIA_TYPE.into()),
            manifests: Vec::new(),
            artifact_type: None,
            annotations: None,
        },
        Err(e) => return Err(io(&index_path)(e)),
    };
    index.manifests.retain(|m| {
        m.annotations
            .as_ref()
            .and_then(|a| a.get(REF_NAME))
            .is_none_or(|name| name != tag)
    });
    index.manifests.push(ImageIndexEntry {
        media_type: MANIFEST_MEDIA_TYPE.into(),
        digest: manifest_digest.clone(),
        size: manifest.len() as i64,
        platform: None,
        artifact_type: None,
        annotations: Some(BTreeMap::from([(REF_NAME.to_owned(), tag.to_owned())])),
    });
    let json = serde_json::to_vec(&index).expect("the index serialises");
    crate::fs::write_atomic(&index_path, &json).map_err(io(&index_path))?;
    Ok(manifest_digest)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_layout_holds_every_blob_under_its_digest_and_names_the_manifest() {
        let dir = tempfile::tempdir().unwrap();
        let blob = b"layer bytes".as_slice();
        let digest = sha256_digest(blob);
        let first = write(dir.path(), &[(blob, &digest)], b"{\"a\":1}", "v1").unwrap();
        let hex = digest.strip_prefix("sha256:").unwrap();
        assert_eq!(
            std::fs::read(dir.path().join("blobs/sha256").join(hex)).unwrap(),
            blob
        );
        let layout: serde_json::Value =
            serde_json::from_slice(&std::fs::read(dir.path().join("oci-layout")).unwrap()).unwrap();
        assert_eq!(layout["imageLayoutVersion"], "1.0.0");

        // A second tag is added, the same tag again replaces its entry.
        let second = write(dir.path(), &[], b"{\"a\":2}", "v2").unwrap();
        let third = write(dir.path(), &[], b"{\"a\":3}", "v1").unwrap();
        let index: serde_json::Value =
            serde_json::from_slice(&std::fs::read(dir.path().join("index.json")).unwrap()).unwrap();
        assert_eq!(index["schemaVersion"], 2);
        let names: Vec<(String, String)> = index["manifests"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| {
                assert_eq!(m["mediaType"], MANIFEST_MEDIA_TYPE);
                (
                    m["annotations"][REF_NAME].as_str().unwrap().to_owned(),
                    m["digest"].as_str().unwrap().to_owned(),
                )
            })
            .collect();
        assert_eq!(names, [("v2".into(), second), ("v1".into(), third)]);
        assert!(dir.path().join("blobs/sha256").join(&first[7..]).exists());
    }

    #[test]
    fn a_blob_that_does_not_match_its_digest_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let wrong = sha256_digest(b"other");
        let err = write(dir.path(), &[(b"bytes", &wrong)], b"{}", "v1").unwrap_err();
        assert!(matches!(err, LayoutError::Digest(d) if d == wrong));
    }

    #[test]
    fn a_foreign_index_json_is_not_overwritten() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("index.json"), "not json").unwrap();
        let err = write(dir.path(), &[], b"{}", "v1").unwrap_err();
        assert!(err.to_string().contains("not an OCI image index"), "{err}");
        assert_eq!(
            std::fs::read_to_string(dir.path().join("index.json")).unwrap(),
            "not json"
        );
    }
}
