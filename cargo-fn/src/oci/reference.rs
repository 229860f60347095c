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
        // The rest follows the distribution spec's grammar, as oci-client
        // parses it.
        let (repository, tag, digest) = parse_path(path).map_err(err)?;
        Ok(ImageRef {
            registry: registry.to_owned(),
            repository,
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

/// Parses `REPO[:TAG][@DIGEST]` with oci-client, each part on its own
/// first so that an error names the part to blame. `localhost` stands in
/// for the registry, checked apart: oci-client always takes it as a host,
/// never as a Docker Hub namespace (as it would a one-label host).
fn parse_path(path: &str) -> Result<(String, Option<String>, Option<String>), String> {
    let parse = |p: &str| oci_client::Reference::try_from(format!("localhost/{p}"));
    let (rest, digest) = match path.split_once('@') {
        Some((rest, digest)) => (rest, Some(digest)),
        None => (path, None),
    };
    // A tag follows the last ':' of the last path segment.
    let last = rest.rsplit('/').next().unwrap_or(rest);
    let (repository, tag) = match last.rsplit_once(':') {
        Some((_, tag)) => (&rest[..rest.len() - tag.len() - 1], Some(tag)),
        None => (rest, None),
    };
    if repository.is_empty() {
        return Err("the repository name is empty".into());
    }
    if let Some(digest) = digest {
        check_digest(digest)?;
    }
    if let Some(tag) = tag {
        // oci-client's `\w` also matches non-ASCII letters; tags are ASCII.
        if !tag.is_ascii() || parse(&format!("a:{tag}")).is_err() {
            return Err(format!(
                "tag {tag:?} must be 1 to 128 letters, digits, '.', '_' or '-', not starting with '.' or '-'"
            ));
        }
    }
    match parse(repository) {
        Err(oci_client::ParseError::NameTooLong) => {
            return Err(format!(
                "repository {repository:?} is longer than 255 characters"
            ));
        }
        Err(_) => {
            return Err(format!(
                "repository {repository:?}: each path component must be lowercase letters and digits, separated by '.', '_', '__' or dashes"
            ));
        }
        Ok(_) => {}
    }
    let parsed = parse(path).map_err(|e| e.to_string())?;
    Ok((
        parsed.repository().to_owned(),
        // oci-client fills in `latest` when no tag is given; keep "none".
        tag.and(parsed.tag().map(str::to_owned)),
        parsed.digest().map(str::to_owned),
    ))
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
    fn follows_the_distribution_grammar_but_keeps_the_host_as_written() {
        // A one-label host stays the registry (no Docker Hub namespace), and
        // no `latest` is invented when no tag is given.
        let r = ImageRef::parse("oci://registry/team/hello").unwrap();
        assert_eq!(
            (r.registry.as_str(), r.repository.as_str()),
            ("registry", "team/hello")
        );
        assert_eq!((r.tag.as_deref(), r.digest.as_deref()), (None, None));
        let r = ImageRef::parse(&format!("oci://host/a__b/c-d.e_f:v1.0-rc_1@{D}")).unwrap();
        assert_eq!(r.repository, "a__b/c-d.e_f");
        assert_eq!(
            (r.tag.as_deref(), r.digest.as_deref()),
            (Some("v1.0-rc_1"), Some(D))
        );
        let long = format!("oci://host/{}", "a".repeat(256));
        let e = ImageRef::parse(&long).unwrap_err().to_string();
        assert!(e.contains("longer than 255"), "{e}");
        assert!(ImageRef::parse(&format!("oci://host/{}", "a".repeat(255))).is_ok());
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
            ("oci://host/", "repository name is empty"),
            ("oci://host/:v1", "repository name is empty"),
            ("oci://host/a..b", "lowercase"),
            ("oci://host/-a", "lowercase"),
            ("oci://host/hello:caf\u{e9}", "tag"),
            ("oci://host/hello:.x", "tag"),
            (
                "oci://host/hello@sha512:0123456789abcdef",
                "64 lowercase hex",
            ),
        ] {
            let e = ImageRef::parse(input).unwrap_err().to_string();
            assert!(e.contains(part), "{input}: {e}");
            assert!(e.contains("expected oci://HOST[:PORT]/REPO[:TAG]"), "{e}");
        }
    }
}
