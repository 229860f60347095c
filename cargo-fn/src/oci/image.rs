//! Linux container images (the OCI image layout that Cloud Run and every
//! container runtime pull) for the clouds that run a process: the runner
//! binary next to the component, in one gzipped tar layer, under an image
//! config that starts the runner. Built without a container daemon and
//! reproducibly: the same files give the same bytes, so the same manifest
//! digest (fixed owner and times, sorted entries, a gzip header without a
//! timestamp or file name, no `created` unless asked for).

use std::collections::BTreeMap;
use std::io::Write as _;

use serde::{Deserialize, Serialize};

use super::artifact::{descriptor, image_manifest, sha256_digest};

/// The config media type of a container image.
pub const CONFIG_MEDIA_TYPE: &str = "application/vnd.oci.image.config.v1+json";
/// The media type of a gzipped tar layer.
pub const LAYER_MEDIA_TYPE: &str = "application/vnd.oci.image.layer.v1.tar+gzip";
/// Where [`runner_image`] puts the runner; its entrypoint.
pub const RUNNER_PATH: &str = "/fn/fn-runner";
/// Where [`runner_image`] puts the component.
pub const COMPONENT_PATH: &str = "/fn/fn.wasm";
/// Where the runner finds the function's declarations, when given.
pub const BUNDLE_PATH: &str = "/fn/fn-bundle.json";
/// Where the runner finds the precompiled component, when given.
pub const PRECOMPILED_PATH: &str = "/fn/fn.cwasm";
/// The working directory of [`runner_image`].
pub const WORKING_DIR: &str = "/fn";
/// The port the runner listens on unless the platform sets `$PORT`
/// (Cloud Run sets it, to 8080 by default).
pub const PORT: u16 = 8080;
/// The config label holding the component's digest (the published
/// artifact's layer), so the image says which function it runs.
pub const COMPONENT_DIGEST_LABEL: &str = "dev.cargo-fn.component.digest";

/// Why an image cannot be built.
#[derive(Debug, thiserror::Error)]
pub enum ImageError {
    /// A path that is not absolute and normal.
    #[error(
        "{path:?} cannot be a file in the image: {reason}; give an absolute path without `.`, `..` or `//`, such as {COMPONENT_PATH}"
    )]
    BadPath {
        /// The path given.
        path: String,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// The same path given twice.
    #[error("{0} is added to the image twice; give each file once")]
    Duplicate(String),
    /// A file where another file needs a directory.
    #[error("{file} is a file, but {child} needs it to be a directory; move one of them")]
    FileIsDirectory {
        /// The file.
        file: String,
        /// The file below it.
        child: String,
    },
    /// Permission bits out of range.
    #[error("mode {mode:#o} of {path} is not a file mode; use permission bits such as 0o755")]
    BadMode {
        /// The file.
        path: String,
        /// The mode given.
        mode: u32,
    },
    /// No entrypoint.
    #[error("the image has no entrypoint: give the command that starts the server")]
    NoEntrypoint,
    /// Writing the layer failed (out of memory, in practice).
    #[error("cannot write the image layer: {0}")]
    Layer(#[from] std::io::Error),
}

/// One regular file of the image.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageFile {
    /// Absolute path inside the image, e.g. `/fn/fn.wasm`.
    pub path: String,
    /// Its contents.
    pub bytes: Vec<u8>,
    /// Permission bits, e.g. `0o755`.
    pub mode: u32,
}

/// The image config blob (OCI image spec, `config.json`). Own types rather
/// than oci-client's, whose labels and ports are hash maps: their order
/// would change the digest from one run to the next.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ImageConfig {
    /// RFC 3339, only when asked for (it would change every digest).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created: Option<String>,
    /// `amd64`.
    pub architecture: String,
    /// `linux`.
    pub os: String,
    /// How to run a container of the image.
    pub config: ContainerConfig,
    /// The layers' uncompressed digests.
    pub rootfs: RootFs,
    /// One entry per layer.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub history: Vec<History>,
}

/// `config` of the image config.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Default)]
#[serde(rename_all = "PascalCase")]
pub struct ContainerConfig {
    /// `NAME=value` entries.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub env: Vec<String>,
    /// The command.
    pub entrypoint: Vec<String>,
    /// Arguments after the entrypoint.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub cmd: Vec<String>,
    /// The working directory.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub working_dir: String,
    /// `8080/tcp` → `{}`.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub exposed_ports: BTreeMap<String, serde_json::Map<String, serde_json::Value>>,
    /// Labels.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub labels: BTreeMap<String, String>,
}

/// `rootfs` of the image config.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct RootFs {
    /// Always `layers`.
    #[serde(rename = "type")]
    pub kind: String,
    /// `sha256:..` of each uncompressed layer.
    pub diff_ids: Vec<String>,
}

/// One `history` entry.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct History {
    /// What made the layer.
    pub created_by: String,
}

/// What an image is made of; [`ImageBuilder::build`] lays it out.
#[derive(Debug, Clone)]
pub struct ImageBuilder {
    files: Vec<ImageFile>,
    config: ContainerConfig,
    created: Option<String>,
    annotations: BTreeMap<String, String>,
}

/// A built image: every blob and the manifest, serialised once so the
/// digests are those of the bytes pushed or written.
#[derive(Debug, Clone)]
pub struct Image {
    /// The gzipped tar layer.
    pub layer: Vec<u8>,
    /// `sha256:..` of `layer`.
    pub layer_digest: String,
    /// `sha256:..` of the uncompressed tar (the config's `diff_ids`).
    pub diff_id: String,
    /// The config blob bytes.
    pub config: Vec<u8>,
    /// `sha256:..` of `config`.
    pub config_digest: String,
    /// The manifest bytes.
    pub manifest: Vec<u8>,
    /// `sha256:..` of `manifest`: what pins the image.
    pub manifest_digest: String,
}

impl ImageBuilder {
    /// An image that runs `entrypoint` (the program first), with no files
    /// yet.
    pub fn new<S: Into<String>>(entrypoint: impl IntoIterator<Item = S>) -> Self {
        ImageBuilder {
            files: Vec::new(),
            config: ContainerConfig {
                entrypoint: entrypoint.into_iter().map(Into::into).collect(),
                ..ContainerConfig::default()
            },
            created: None,
            annotations: BTreeMap::new(),
        }
    }

    /// Adds regular files (see [`ImageBuilder::file`]).
    pub fn files(mut self, files: impl IntoIterator<Item = ImageFile>) -> Self {
        self.files.extend(files);
        self
    }

    /// Adds a regular file at the absolute `path` with permission bits
    /// `mode`; its parent directories are added too (mode 0755).
    pub fn file(mut self, path: impl Into<String>, bytes: Vec<u8>, mode: u32) -> Self {
        self.files.push(ImageFile {
            path: path.into(),
            bytes,
            mode,
        });
        self
    }

    /// Sets the environment variable `name` (replacing an earlier value).
    pub fn env(mut self, name: &str, value: &str) -> Self {
        let prefix = format!("{name}=");
        self.config.env.retain(|e| !e.starts_with(&prefix));
        self.config.env.push(format!("{name}={value}"));
        self
    }

    /// Sets the arguments passed after the entrypoint.
    pub fn cmd<S: Into<String>>(mut self, args: impl IntoIterator<Item = S>) -> Self {
        self.config.cmd = args.into_iter().map(Into::into).collect();
        self
    }

    /// Sets the working directory.
    pub fn working_dir(mut self, dir: &str) -> Self {
        self.config.working_dir = dir.to_owned();
        self
    }

    /// Declares a TCP port the server listens on.
    pub fn expose(mut self, port: u16) -> Self {
        self.config
            .exposed_ports
            .insert(format!("{port}/tcp"), serde_json::Map::new());
        self
    }

    /// Adds a config label (`docker inspect` shows it).
    pub fn label(mut self, key: &str, value: &str) -> Self {
        self.config.labels.insert(key.to_owned(), value.to_owned());
        self
    }

    /// Adds a manifest annotation (`org.opencontainers.image.source`, say).
    pub fn annotation(mut self, key: &str, value: &str) -> Self {
        self.annotations.insert(key.to_owned(), value.to_owned());
        self
    }

    /// Records a creation time (RFC 3339) in the config; without one the
    /// digest depends on the files and settings alone.
    pub fn created(mut self, rfc3339: &str) -> Self {
        self.created = Some(rfc3339.to_owned());
        self
    }

    /// Lays out the image: the layer, the config and the manifest.
    pub fn build(&self) -> Result<Image, ImageError> {
        if self.config.entrypoint.is_empty() {
            return Err(ImageError::NoEntrypoint);
        }
        let tar = layer_tar(&self.files)?;
        let diff_id = sha256_digest(&tar);
        let layer = gzip(&tar)?;
        let layer_digest = sha256_digest(&layer);
        let config = ImageConfig {
            created: self.created.clone(),
            architecture: "amd64".into(),
            os: "linux".into(),
            config: self.config.clone(),
            rootfs: RootFs {
                kind: "layers".into(),
                diff_ids: vec![diff_id.clone()],
            },
            history: vec![History {
                created_by: format!("cargo fn {}", env!("CARGO_PKG_VERSION")),
            }],
        };
        let config = serde_json::to_vec(&config).expect("the config serialises");
        let config_digest = sha256_digest(&config);
        let (manifest, manifest_digest) = image_manifest(
            descriptor(CONFIG_MEDIA_TYPE, &config_digest, config.len() as u64),
            vec![descriptor(
                LAYER_MEDIA_TYPE,
                &layer_digest,
                layer.len() as u64,
            )],
            self.annotations.clone(),
        );
        Ok(Image {
            manifest_digest,
            layer,
            layer_digest,
            diff_id,
            config,
            config_digest,
            manifest,
        })
    }
}

impl Image {
    /// The blobs with their digests, as [`super::Registry::push_parts`]
    /// and [`super::layout::write`] take them.
    pub fn blobs(&self) -> [(&[u8], &str); 2] {
        [
            (&self.layer, &self.layer_digest),
            (&self.config, &self.config_digest),
        ]
    }

    /// Writes the image into the OCI image layout at `dir` under `tag`
    /// (`umoci unpack --image DIR:TAG`, `skopeo copy oci:DIR:TAG ..`).
    pub fn write_layout(
        &self,
        dir: &std::path::Path,
        tag: &str,
    ) -> Result<(), super::layout::LayoutError> {
        super::layout::write(dir, &self.blobs(), &self.manifest, tag).map(drop)
    }
}

/// The image Linux-process clouds (Cloud Run) run a function from: the
/// runner at [`RUNNER_PATH`] as the entrypoint, the component at
/// [`COMPONENT_PATH`], `PORT=8080`, working directory `/fn`, and the
/// component's digest as a label. Add [`BUNDLE_PATH`] or
/// [`PRECOMPILED_PATH`] with [`ImageBuilder::file`].
pub fn runner_image(runner: Vec<u8>, component: Vec<u8>) -> ImageBuilder {
    let digest = sha256_digest(&component);
    ImageBuilder::new([RUNNER_PATH])
        .file(RUNNER_PATH, runner, 0o755)
        .file(COMPONENT_PATH, component, 0o644)
        .env("PORT", &PORT.to_string())
        .working_dir(WORKING_DIR)
        .expose(PORT)
        .label(COMPONENT_DIGEST_LABEL, &digest)
}

/// The tar of `files` and their parent directories, in path order, owned
/// by root, every time the epoch.
fn layer_tar(files: &[ImageFile]) -> Result<Vec<u8>, ImageError> {
    // Path without the leading '/' → the file.
    let mut by_path: BTreeMap<&str, &ImageFile> = BTreeMap::new();
    for file in files {
        let relative = check_path(&file.path)?;
        if file.mode > 0o7777 {
            return Err(ImageError::BadMode {
                path: file.path.clone(),
                mode: file.mode,
            });
        }
        if by_path.insert(relative, file).is_some() {
            return Err(ImageError::Duplicate(file.path.clone()));
        }
    }
    // The same, plus every parent directory (None).
    let mut entries: BTreeMap<&str, Option<&ImageFile>> = BTreeMap::new();
    for (&path, &file) in &by_path {
        entries.insert(path, Some(file));
        let mut parent = path;
        while let Some((dir, _)) = parent.rsplit_once('/') {
            if let Some(blocking) = by_path.get(dir) {
                return Err(ImageError::FileIsDirectory {
                    file: blocking.path.clone(),
                    child: file.path.clone(),
                });
            }
            entries.insert(dir, None);
            parent = dir;
        }
    }
    let mut tar = tar::Builder::new(Vec::new());
    for (path, file) in &entries {
        let mut header = tar::Header::new_ustar();
        header.set_uid(0);
        header.set_gid(0);
        header.set_username("root")?;
        header.set_groupname("root")?;
        header.set_mtime(0);
        match file {
            Some(file) => {
                header.set_entry_type(tar::EntryType::Regular);
                header.set_mode(file.mode);
                header.set_size(file.bytes.len() as u64);
                tar.append_data(&mut header, path, file.bytes.as_slice())?;
            }
            None => {
                header.set_entry_type(tar::EntryType::Directory);
                header.set_mode(0o755);
                header.set_size(0);
                tar.append_data(&mut header, format!("{path}/"), std::io::empty())?;
            }
        }
    }
    Ok(tar.into_inner()?)
}

/// `path` without its leading `/`, if it is absolute and normal.
fn check_path(path: &str) -> Result<&str, ImageError> {
    let bad = |reason| ImageError::BadPath {
        path: path.to_owned(),
        reason,
    };
    let relative = path.strip_prefix('/').ok_or(bad("it is not absolute"))?;
    if relative.is_empty() || relative.ends_with('/') {
        return Err(bad("it names a directory, not a file"));
    }
    if relative
        .split('/')
        .any(|c| c.is_empty() || c == "." || c == "..")
    {
        return Err(bad("it is not in normal form"));
    }
    if relative.contains('\0') {
        return Err(bad("it contains a NUL byte"));
    }
    Ok(relative)
}

/// gzip without a modification time or a file name (`gzip -n`), at the
/// default level: `best` makes a 31 MB runner's layer 0.5% smaller and
/// takes twice as long.
fn gzip(bytes: &[u8]) -> std::io::Result<Vec<u8>> {
    let mut encoder = flate2::GzBuilder::new()
        .mtime(0)
        .operating_system(255)
        .write(Vec::new(), flate2::Compression::default());
    encoder.write_all(bytes)?;
    encoder.finish()
}

#[cfg(test)]
#[path = "image_tests.rs"]
mod tests;
