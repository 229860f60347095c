//! Publishing to and pulling from OCI registries, over `oci-client` (the
//! distribution protocol, auth challenges, chunked uploads). This module
//! decides the layouts ([`artifact`] for the component, [`image`] for a
//! Linux container image, [`spin_app`] for SpinKube), the references
//! ([`reference`]), the credentials ([`auth`]), writes images to disk
//! ([`layout`]) and turns protocol errors into messages that say what to do.

pub mod artifact;
pub mod auth;
pub mod image;
pub mod layout;
pub mod reference;
pub mod spin_app;

use oci_client::errors::{OciDistributionError, OciErrorCode};
use oci_client::manifest::OciImageManifest;
use oci_client::{Client, client::ClientConfig, client::ClientProtocol};

pub use artifact::{Annotations, Artifact, WasmConfig};
pub use image::{Image, ImageBuilder};
pub use reference::ImageRef;

/// A connection to one repository of one registry.
pub struct Registry {
    client: Client,
    image: ImageRef,
    credentials: auth::Credentials,
    plain_http: bool,
}

/// What a pull brings back, checked.
#[derive(Debug, Clone)]
pub struct Pulled {
    /// The component bytes.
    pub wasm: Vec<u8>,
    /// The manifest digest (what the bytes were pinned by).
    pub manifest_digest: String,
    /// The layer digest (sha256 of `wasm`).
    pub layer_digest: String,
    /// The parsed manifest.
    pub manifest: OciImageManifest,
    /// The parsed config.
    pub config: WasmConfig,
}

/// A manifest resolved without fetching the layer.
#[derive(Debug, Clone)]
pub struct Resolved {
    /// The manifest digest.
    pub manifest_digest: String,
    /// The one wasm layer's digest.
    pub layer_digest: String,
    /// Its size.
    pub layer_size: u64,
}

impl Registry {
    /// Prepares a client for `image`; plain HTTP when `insecure` or the host
    /// is loopback. Credentials are looked up now, used on first request.
    pub fn new(image: &ImageRef, insecure: bool) -> anyhow::Result<Self> {
        // reqwest is built without a default crypto provider: use ring,
        // which the workspace already compiles. Installing twice is harmless.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let plain_http = insecure || image.is_loopback();
        let config = ClientConfig {
            protocol: if plain_http {
                ClientProtocol::Http
            } else {
                ClientProtocol::Https
            },
            connect_timeout: Some(std::time::Duration::from_secs(10)),
            read_timeout: Some(std::time::Duration::from_secs(120)),
            // Chunked uploads trip some registries; the artifact is small.
            use_monolithic_push: true,
            ..ClientConfig::default()
        };
        Ok(Registry {
            client: Client::new(config),
            credentials: auth::lookup(&image.registry)?,
            image: image.clone(),
            plain_http,
        })
    }

    /// Whether requests go over plain HTTP.
    pub fn plain_http(&self) -> bool {
        self.plain_http
    }

    /// The reference this client talks to.
    pub fn image(&self) -> &ImageRef {
        &self.image
    }

    /// Pushes the layer, the config, then the manifest under the tag.
    pub async fn push(&self, artifact: &Artifact) -> anyhow::Result<()> {
        self.push_parts(
            &[
                (&artifact.layer, &artifact.layer_digest),
                (&artifact.config, &artifact.config_digest),
            ],
            &artifact.manifest,
            self.image.tag_or_latest(),
        )
        .await
    }

    /// Pushes a container image (layer, config, manifest) under the tag;
    /// returns the manifest digest, which pins it.
    pub async fn push_image(&self, image: &Image) -> anyhow::Result<String> {
        self.push_parts(&image.blobs(), &image.manifest, self.image.tag_or_latest())
            .await?;
        Ok(image.manifest_digest.clone())
    }

    /// Pushes the blobs the registry does not have yet, then `manifest`
    /// under `tag` of this repository.
    pub async fn push_parts(
        &self,
        blobs: &[(&[u8], &str)],
        manifest: &[u8],
        tag: &str,
    ) -> anyhow::Result<()> {
        let image = oci_client::Reference::with_tag(
            self.image.registry.clone(),
            self.image.repository.clone(),
            tag.to_owned(),
        );
        let auth = self.credentials.to_client_auth();
        let op = oci_client::RegistryOperation::Push;
        self.client
            .auth(&image, &auth, op)
            .await
            .map_err(|e| self.explain(e, "log in to"))?;
        for (bytes, digest) in blobs {
            let exists = self
                .client
                .blob_exists(&image, digest)
                .await
                .map_err(|e| self.explain(e, "push to"))?;
            if !exists {
                self.client
                    .push_blob(&image, bytes.to_vec(), digest)
                    .await
                    .map_err(|e| self.explain(e, "push to"))?;
            }
        }
        self.client
            .push_manifest_raw(
                &image,
                manifest.to_vec(),
                artifact::MANIFEST_MEDIA_TYPE
                    .parse()
                    .expect("a valid header value"),
            )
            .await
            .map_err(|e| self.explain(e, "push the manifest to"))?;
        Ok(())
    }

    /// Fetches and parses the manifest (by tag or digest).
    async fn manifest(&self) -> anyhow::Result<(OciImageManifest, String)> {
        let image = self.image.to_client_ref();
        let (body, digest) = self
            .client
            .pull_manifest_raw(
                &image,
                &self.credentials.to_client_auth(),
                &[artifact::MANIFEST_MEDIA_TYPE],
            )
            .await
            .map_err(|e| self.explain(e, "pull from"))?;
        if let Some(pinned) = &self.image.digest
            && *pinned != digest
        {
            anyhow::bail!(
                "digest mismatch: asked for manifest {pinned}, {} sent one with digest {digest}",
                self.image.registry
            );
        }
        let manifest: OciImageManifest = serde_json::from_slice(&body).map_err(|e| {
            anyhow::anyhow!(
                "{} sent a manifest that is not an OCI image manifest: {e}",
                self.image
            )
        })?;
        Ok((manifest, digest))
    }

    /// The manifest digest and the wasm layer it points at.
    pub async fn resolve(&self) -> anyhow::Result<Resolved> {
        let (manifest, manifest_digest) = self.manifest().await?;
        let layer = artifact::wasm_layer(&manifest)
            .map_err(|e| anyhow::anyhow!("{} cannot be used: {e}", self.image))?;
        Ok(Resolved {
            manifest_digest,
            layer_digest: layer.digest.clone(),
            layer_size: layer.size.max(0) as u64,
        })
    }

    /// Pulls the manifest, config and layer, checking every digest.
    pub async fn pull(&self) -> anyhow::Result<Pulled> {
        let (manifest, manifest_digest) = self.manifest().await?;
        let layer = artifact::wasm_layer(&manifest)
            .map_err(|e| anyhow::anyhow!("{} cannot be pulled: {e}", self.image))?
            .clone();
        let image = self.image.to_client_ref();
        let mut config = Vec::new();
        self.client
            .pull_blob(&image, &manifest.config, &mut config)
            .await
            .map_err(|e| self.explain(e, "pull the config from"))?;
        let config_digest = artifact::sha256_digest(&config);
        if config_digest != manifest.config.digest {
            anyhow::bail!(
                "digest mismatch: the manifest lists config {}, the registry sent {config_digest}",
                manifest.config.digest
            );
        }
        let config: WasmConfig = serde_json::from_slice(&config).map_err(|e| {
            anyhow::anyhow!("the config of {} is not a wasm config: {e}", self.image)
        })?;
        let mut wasm = Vec::new();
        self.client
            .pull_blob(&image, &layer, &mut wasm)
            .await
            .map_err(|e| self.explain(e, "pull the component from"))?;
        let layer_digest = artifact::sha256_digest(&wasm);
        if layer_digest != layer.digest {
            anyhow::bail!(
                "digest mismatch: the manifest lists layer {}, the registry sent bytes with digest {layer_digest}; refusing to use them",
                layer.digest
            );
        }
        Ok(Pulled {
            wasm,
            manifest_digest,
            layer_digest,
            manifest,
            config,
        })
    }

    /// Turns a protocol error into a message that says what to do.
    fn explain(&self, error: OciDistributionError, doing: &str) -> anyhow::Error {
        let registry = &self.image.registry;
        let scheme = if self.plain_http { "http" } else { "https" };
        let who = match &self.credentials.source {
            auth::Source::Anonymous => "anonymously (no credentials found)".to_owned(),
            auth::Source::Environment => format!(
                "as user {} (CARGO_FN_REGISTRY_USERNAME)",
                self.credentials.basic.as_ref().map_or("", |(user, _)| user)
            ),
            auth::Source::DockerConfig(path) => format!("with the login in {}", path.display()),
        };
        let denied = |code: u16| {
            anyhow::anyhow!(
                "the registry {registry} refused access ({code} {}) {who}; set CARGO_FN_REGISTRY_USERNAME and CARGO_FN_REGISTRY_PASSWORD, or `docker login {registry}`, with an account that may {} {}",
                if code == 401 {
                    "Unauthorized"
                } else {
                    "Forbidden"
                },
                if doing.starts_with("push") {
                    "push to"
                } else {
                    "pull from"
                },
                self.image.repository
            )
        };
        let is_digest_error = matches!(error, OciDistributionError::DigestError(_));
        match error {
            OciDistributionError::UnauthorizedError { .. }
            | OciDistributionError::AuthenticationFailure(_) => denied(401),
            OciDistributionError::ServerError { code, .. } if code == 401 || code == 403 => {
                denied(code)
            }
            OciDistributionError::RegistryError { ref envelope, .. }
                if envelope.errors.iter().any(|e| {
                    matches!(e.code, OciErrorCode::Unauthorized | OciErrorCode::Denied)
                }) =>
            {
                let code = if envelope
                    .errors
                    .iter()
                    .any(|e| matches!(e.code, OciErrorCode::Denied))
                {
                    403
                } else {
                    401
                };
                denied(code)
            }
            OciDistributionError::RegistryError { ref envelope, .. }
                if envelope.errors.iter().any(|e| {
                    matches!(
                        e.code,
                        OciErrorCode::ManifestUnknown | OciErrorCode::NameUnknown
                    )
                }) =>
            {
                anyhow::anyhow!(
                    "{} does not exist on the registry ({envelope}); publish it first with `cargo fn publish {}`",
                    self.image,
                    self.image
                )
            }
            OciDistributionError::RequestError(ref e)
                if matches!(e.status().map(|s| s.as_u16()), Some(401 | 403)) =>
            {
                denied(e.status().map_or(401, |s| s.as_u16()))
            }
            OciDistributionError::RequestError(e) if e.is_connect() || e.is_timeout() => {
                anyhow::Error::new(e).context(format!(
                    "cannot reach the registry at {scheme}://{registry}; is it running, and is the address right?{}",
                    if self.plain_http {
                        ""
                    } else {
                        " For a registry without TLS pass --insecure"
                    }
                ))
            }
            other if is_digest_error => anyhow::Error::new(other).context(format!(
                "digest mismatch while trying to {doing} {registry}: the bytes received do not match the digest the manifest lists; refusing to use them"
            )),
            other => anyhow::Error::new(other)
                .context(format!("cannot {doing} the registry {registry}")),
        }
    }
}
