//! Registry credentials: `CARGO_FN_REGISTRY_USERNAME`/`_PASSWORD`, else the
//! docker config file (`$DOCKER_CONFIG/config.json` or
//! `~/.docker/config.json`, `auths.<host>.auth` = base64 `user:pass`), else
//! anonymous.

use std::path::{Path, PathBuf};

use base64::Engine as _;

/// Where credentials came from, for messages (never the secret itself).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// No credentials found.
    Anonymous,
    /// The environment variables.
    Environment,
    /// A docker config file.
    DockerConfig(PathBuf),
}

/// Credentials for one registry.
#[derive(Debug, Clone)]
pub struct Credentials {
    /// `None` means anonymous.
    pub basic: Option<(String, String)>,
    /// Where they came from.
    pub source: Source,
}

impl Credentials {
    /// For oci-client.
    pub fn to_client_auth(&self) -> oci_client::secrets::RegistryAuth {
        match &self.basic {
            Some((user, pass)) => {
                oci_client::secrets::RegistryAuth::Basic(user.clone(), pass.clone())
            }
            None => oci_client::secrets::RegistryAuth::Anonymous,
        }
    }
}

/// Finds credentials for `registry` (`host[:port]`).
pub fn lookup(registry: &str) -> anyhow::Result<Credentials> {
    let env = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
    match (
        env("CARGO_FN_REGISTRY_USERNAME"),
        env("CARGO_FN_REGISTRY_PASSWORD"),
    ) {
        (Some(user), Some(pass)) => {
            return Ok(Credentials {
                basic: Some((user, pass)),
                source: Source::Environment,
            });
        }
        (Some(_), None) | (None, Some(_)) => anyhow::bail!(
            "set both CARGO_FN_REGISTRY_USERNAME and CARGO_FN_REGISTRY_PASSWORD, or neither"
        ),
        (None, None) => {}
    }
    let Some(path) = docker_config_path() else {
        return Ok(anonymous());
    };
    if !path.is_file() {
        return Ok(anonymous());
    }
    match from_docker_config(&path, registry)? {
        Some(basic) => Ok(Credentials {
            basic: Some(basic),
            source: Source::DockerConfig(path),
        }),
        None => Ok(anonymous()),
    }
}

fn anonymous() -> Credentials {
    Credentials {
        basic: None,
        source: Source::Anonymous,
    }
}

fn docker_config_path() -> Option<PathBuf> {
    if let Some(dir) = std::env::var_os("DOCKER_CONFIG") {
        return Some(Path::new(&dir).join("config.json"));
    }
    let home = std::env::var_os("HOME")?;
    Some(Path::new(&home).join(".docker/config.json"))
}

/// Reads `auths.<registry>.auth` from a docker config file. Keys may carry
/// a scheme and a path (`https://index.docker.io/v1/`), so they are
/// compared by host and port.
pub fn from_docker_config(path: &Path, registry: &str) -> anyhow::Result<Option<(String, String)>> {
    use anyhow::Context as _;
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read the docker config {}", path.display()))?;
    let config: serde_json::Value = serde_json::from_str(&text)
        .with_context(|| format!("{} is not valid JSON", path.display()))?;
    let Some(auths) = config.get("auths").and_then(|a| a.as_object()) else {
        return Ok(None);
    };
    let normalize = |key: &str| {
        let key = key.split_once("://").map_or(key, |(_, rest)| rest);
        key.split('/').next().unwrap_or(key).to_owned()
    };
    let Some(entry) = auths
        .iter()
        .find(|(k, _)| normalize(k) == registry)
        .map(|(_, v)| v)
    else {
        return Ok(None);
    };
    let Some(auth) = entry.get("auth").and_then(|a| a.as_str()) else {
        return Ok(None);
    };
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(auth.trim())
        .ok()
        .and_then(|bytes| String::from_utf8(bytes).ok())
        .with_context(|| {
            format!(
                "auths.{registry}.auth in {} is not base64 of user:password",
                path.display()
            )
        })?;
    let (user, pass) = decoded.split_once(':').with_context(|| {
        format!(
            "auths.{registry}.auth in {} does not decode to user:password",
            path.display()
        )
    })?;
    Ok(Some((user.to_owned(), pass.to_owned())))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn docker_config_auth_is_found_by_host_and_port() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config.json");
        // "alice:s3cr:et" and "bob:pw"
        std::fs::write(
            &path,
            r#"{"auths": {
                "127.0.0.1:5000": {"auth": "YWxpY2U6czNjcjpldA=="},
                "https://ghcr.io/v1/": {"auth": "Ym9iOnB3"},
                "broken.io": {"auth": "!!!"}
            }}"#,
        )
        .unwrap();
        assert_eq!(
            from_docker_config(&path, "127.0.0.1:5000").unwrap(),
            Some(("alice".into(), "s3cr:et".into()))
        );
        assert_eq!(
            from_docker_config(&path, "ghcr.io").unwrap(),
            Some(("bob".into(), "pw".into()))
        );
        assert_eq!(from_docker_config(&path, "127.0.0.1:5001").unwrap(), None);
        let e = from_docker_config(&path, "broken.io").unwrap_err();
        assert!(e.to_string().contains("not base64"), "{e}");
    }
}
