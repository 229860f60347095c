//! `oci://HOST[:PORT]/REPO[:TAG|@sha256:HEX]`: what `publish`, `pull` and
//! `deploy` accept, checked here so a typo fails with a message that says
//! which part is wrong, before any network traffic.

use std::fmt;

/// A parsed registry reference.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageRef {
    /// `host` or `host:port`.
    pub registry: String,
    /// `path/to/repo`.
    pub repository: String,
    /// A tag, when given.
    pub tag: Option<String>,
    /// `sha256:<hex>`, when given.
    pub digest: Option<String>,
}

/// Why a reference was refused.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error(
    "malformed registry reference {input:?}: {reason}; expected oci://HOST[:PORT]/REPO[:TAG] or oci://HOST[:PORT]/REPO@sha256:DIGEST, e.g. oci://127.0.0.1:5000/hello:v1"
)]
pub struct RefError {
    /// What was given.
    pub input: String,
    /// Which part is wrong.
    pub reason: String,
}

impl ImageRef {
    /// Parses `oci://HOST[:PORT]/REPO[:TAG][@sha256:HEX]` (the `oci://`
    /// prefix is optional).
    pub fn parse(input: &str) -> Result<Self, RefError> {
        let err = |reason: String| RefError {
            input: input.to_owned(),
            reason,
        };
        let rest = input.strip_prefix("oci://").unwrap_or(input);
        if let Some((scheme, _)) = rest.split_once("://") {
            return Err(err(format!("the scheme must be oci://, not {scheme}://")));
        }
        let (registry, path) = rest
            .split_once('/')
            .ok_or_else(|| err("no repository after the registry host".into()))?;
        check_registry(registry).map_err(err)?;
        let (path, digest) = match path.split_once('@') {
            Some((path, digest)) => {
                check_digest(digest).map_err(err)?;
                (path, Some(digest.to_owned()))
            }
            None => (path, None),
        };
        // A tag follows the last ':' of the last path segment.
        let last = path.rsplit('/').next().unwrap_or(path);
        let (repository, tag) = match last.rsplit_once(':') {
            Some((_, tag)) => {
                check_tag(tag).map_err(err)?;
                let repo = &path[..path.len() - tag.len() - 1];
                (repo, Some(tag.to_owned()))
            }
            None => (path, None),
        };
        check_repository(repository).map_err(err)?;
        Ok(ImageRef {
            registry: registry.to_owned(),
            repository: repository.to_owned(),
            tag,
            digest,
        })
    }

    /// The host without the port.
    pub fn host(&self) -> &str {
        if let Some(rest) = self.registry.strip_prefix('[') {
            return rest.split(']').next().unwrap_or(rest);
        }
        self.registry.split(':').next().unwrap_or(&self.registry)
    }

    /// Whether the registry is on this machine (then plain HTTP is used).
    pub fn is_loopback(&self) -> bool {
        let host = self.host();
        host == "localhost"
            || host
                .parse::<std::net::IpAddr>()
                .is_ok_and(|ip| ip.is_loopback())
    }

    /// The same repository pinned to a manifest digest (tag dropped).
    pub fn pinned(&self, digest: &str) -> Self {
        ImageRef {
            tag: None,
            digest: Some(digest.to_owned()),
            ..self.clone()
        }
    }

    /// `host/repo@sha256:..` or `host/repo:tag`, without the scheme: the
    /// form wasmCloud and Kubernetes take.
    pub fn without_scheme(&self) -> String {
        let mut s = format!("{}/{}", self.registry, self.repository);
        if let Some(tag) = &self.tag {
            s.push(':');
            s.push_str(tag);
        }
        if let Some(digest) = &self.digest {
            s.push('@');
            s.push_str(digest);
        }
        s
    }

    /// The tag, or `latest`.
    pub fn tag_or_latest(&self) -> &str {
        self.tag.as_deref().unwrap_or("latest")
    }

    /// The URL of a blob of this repository, as Spin fetches a component
    /// source.
    pub fn blob_url(&self, digest: &str, plain_http: bool) -> String {
        let scheme = if plain_http { "http" } else { "https" };
        format!(
            "{scheme}://{}/v2/{}/blobs/{digest}",
            self.registry, self.repository
        )
    }

    /// For oci-client.
    pub(crate) fn to_client_ref(&self) -> oci_client::Reference {
        match (&self.tag, &self.digest) {
            (Some(tag), Some(digest)) => oci_client::Reference::with_tag_and_digest(
                self.registry.clone(),
                self.repository.clone(),
                tag.clone(),
                digest.clone(),
            ),
            (None, Some(digest)) => oci_client::Reference::with_digest(
                self.registry.clone(),
                self.repository.clone(),
                digest.clone(),
            ),
            _ => oci_client::Reference::with_tag(
                self.registry.clone(),
                self.repository.clone(),
                self.tag_or_latest().to_owned(),
            ),
        }
    }
}

impl fmt::Display for ImageRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "oci://{}", self.without_scheme())
    }
}

impl std::str::FromStr for ImageRef {
    type Err = RefError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

fn check_registry(registry: &str) -> Result<(), String> {
    if registry.is_empty() {
        return Err("the registry host is empty".into());
    }
    let (host, port) = if let Some(rest) = registry.strip_prefix('[') {
        let (host, after) = rest
            .split_once(']')
            .ok_or("an IPv6 host needs a closing ]")?;
        (host, after.strip_prefix(':'))
    } else {
        match registry.split_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (registry, None),
        }
    };
    if host.is_empty()
        || !host
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':'))
    {
        return Err(format!("{registry:?} is not a valid registry host"));
    }
    if let Some(port) = port
        && port.parse::<u16>().map_or(true, |p| p == 0)
    {
        return Err(format!("{port:?} is not a valid port"));
    }
    Ok(())
}

fn check_repository(repo: &str) -> Result<(), String> {
    if repo.is_empty() {
        return Err("the repository name is empty".into());
    }
    for component in repo.split('/') {
        let ok = !component.is_empty()
            && component
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "._-".contains(c))
            && component.starts_with(|c: char| c.is_ascii_alphanumeric())
            && component.ends_with(|c: char| c.is_ascii_alphanumeric());
        if !ok {
            return Err(format!(
                "repository {repo:?}: each path component must be lowercase letters and digits, separated by '.', '_' or '-'"
            ));
        }
    }
    Ok(())
}

fn check_tag(tag: &str) -> Result<(), String> {
    let ok = (1..=128).contains(&tag.len())
        && tag.starts_with(|c: char| c.is_ascii_alphanumeric() || c == '_')
        && tag
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "._-".contains(c));
    if ok {
        Ok(())
    } else {
        Err(format!(
            "tag {tag:?} must be 1 to 128 letters, digits, '.', '_' or '-', not starting with '.' or '-'"
        ))
    }
}

/// Checks `sha256:<64 lowercase hex>`.
pub fn check_digest(digest: &str) -> Result<(), String> {
    let ok = digest.strip_prefix("sha256:").is_some_and(|hex| {
        hex.len() == 64 && hex.chars().all(|c| matches!(c, '0'..='9' | 'a'..='f'))
    });
    if ok {
        Ok(())
    } else {
        Err(format!(
            "digest {digest:?} must be sha256: followed by 64 lowercase hex digits"
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const D: &str = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

    #[test]
    fn parses_host_port_repo_tag_and_digest() {
        let r = ImageRef::parse("oci://127.0.0.1:5000/team/hello:v1").unwrap();
        assert_eq!(r.registry, "127.0.0.1:5000");
        assert_eq!(r.repository, "team/hello");
        assert_eq!(r.tag.as_deref(), Some("v1"));
        assert_eq!(r.digest, None);
        assert!(r.is_loopback());
        assert_eq!(r.to_string(), "oci://127.0.0.1:5000/team/hello:v1");

        let r = ImageRef::parse(&format!("ghcr.io/acme/hello@{D}")).unwrap();
        assert_eq!((r.host(), r.tag.as_deref()), ("ghcr.io", None));
        assert_eq!(r.digest.as_deref(), Some(D));
        assert!(!r.is_loopback());
        assert_eq!(r.without_scheme(), format!("ghcr.io/acme/hello@{D}"));

        let r = ImageRef::parse("oci://localhost/hello").unwrap();
        assert_eq!(r.tag_or_latest(), "latest");
        assert!(r.is_loopback());
        assert_eq!(
            r.pinned(D).blob_url(D, true),
            format!("http://localhost/v2/hello/blobs/{D}")
        );
        assert!(
            ImageRef::parse("oci://[::1]:5000/a:b")
                .unwrap()
                .is_loopback()
        );
    }

    #[test]
    fn refuses_malformed_references_saying_which_part() {
        for (input, part) in [
            ("oci://127.0.0.1:5000", "no repository"),
            ("https://ghcr.io/a:b", "scheme must be oci://"),
            ("oci:///hello:v1", "registry host is empty"),
            ("oci://host:99999/hello", "not a valid port"),
            ("oci://host/Hello:v1", "lowercase"),
            ("oci://host/a//b", "lowercase"),
            ("oci://host/hello:", "tag \"\""),
            ("oci://host/hello:-x", "tag"),
            ("oci://host/hello@sha256:abc", "64 lowercase hex"),
            ("oci://ho st/hello", "not a valid registry host"),
        ] {
            let e = ImageRef::parse(input).unwrap_err().to_string();
            assert!(e.contains(part), "{input}: {e}");
            assert!(e.contains("expected oci://HOST[:PORT]/REPO[:TAG]"), "{e}");
        }
    }
}
