//! Registry credentials: `CARGO_FN_REGISTRY_USERNAME`/`_PASSWORD`, else the
//! docker config file (`$DOCKER_CONFIG/config.json` or
//! `~/.docker/config.json`) the way `docker login` leaves it: a credential
//! helper named by `credHelpers.<host>` or `credsStore` (Docker Desktop,
//! `pass`, `secretservice`, `ecr-login`, ...), or `auths.<host>`; else
//! anonymous. Reading the file and running the helpers is the
//! `docker_credential` crate's work.

use std::path::{Path, PathBuf};

use anyhow::Context as _;
use docker_credential::{CredentialRetrievalError, DockerCredential};

/// Where credentials came from, for messages (never the secret itself).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// No credentials found.
    Anonymous,
    /// The environment variables.
    Environment,
    /// A docker config file (`auths`, or a helper it names).
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

/// The user and password the docker config file at `path` holds for
/// `registry`, running the credential helper it names if any (`None`: no
/// login for that registry). `auths` keys may carry a scheme and a path
/// (`https://index.docker.io/v1/`); they are compared by host and port.
pub fn from_docker_config(path: &Path, registry: &str) -> anyhow::Result<Option<(String, String)>> {
    let file = std::fs::File::open(path)
        .with_context(|| format!("cannot read the docker config {}", path.display()))?;
    // Docker keeps Docker Hub logins under its v1 URL, helpers included.
    let server = match registry {
        "docker.io" | "index.docker.io" | "registry-1.docker.io" => "https://index.docker.io/v1/",
        other => other,
    };
    let helper = || helper_name(path, registry);
    let no_env = "or set CARGO_FN_REGISTRY_USERNAME and CARGO_FN_REGISTRY_PASSWORD";
    match docker_credential::get_credential_from_reader(std::io::BufReader::new(file), server) {
        Ok(DockerCredential::UsernamePassword(user, pass)) => Ok(Some((user, pass))),
        Ok(DockerCredential::IdentityToken(_)) => anyhow::bail!(
            "the docker login for {registry} in {} is an identity token, which cargo fn cannot use; log in with a user and password (or an access token as the password), {no_env}",
            path.display()
        ),
        Err(CredentialRetrievalError::NoCredentialConfigured) => Ok(None),
        // The helper protocol's answer for "no login for that server".
        Err(CredentialRetrievalError::HelperFailure { stdout, .. })
            if stdout.contains("credentials not found") =>
        {
            Ok(None)
        }
        Err(CredentialRetrievalError::HelperFailure { helper, stderr, .. }) => anyhow::bail!(
            "the docker credential helper {helper} (named in {}) failed for {registry}: {}; run `docker login {registry}` again, {no_env}",
            path.display(),
            stderr.trim()
        ),
        Err(CredentialRetrievalError::HelperCommunicationError) => anyhow::bail!(
            "cannot run the docker credential helper {} that {} names for {registry}; install it or put it on PATH, {no_env}",
            helper(),
            path.display()
        ),
        Err(CredentialRetrievalError::MalformedHelperResponse) => anyhow::bail!(
            "the docker credential helper {} that {} names for {registry} answered something other than {{\"Username\": .., \"Secret\": ..}}; {no_env}",
            helper(),
            path.display()
        ),
        Err(CredentialRetrievalError::CredentialDecodingError) => anyhow::bail!(
            "auths.{registry}.auth in {} is not base64 of user:password",
            path.display()
        ),
        Err(CredentialRetrievalError::CredentialMismatchError) => anyhow::bail!(
            "auths.{registry} in {} has an auth that does not match its username and password",
            path.display()
        ),
        Err(CredentialRetrievalError::ConfigReadError) => anyhow::bail!(
            "the docker config {} is not valid JSON (or its auths, credsStore and credHelpers are not strings)",
            path.display()
        ),
        Err(e) => Err(anyhow::anyhow!("{e}"))
            .with_context(|| format!("cannot read the docker config {}", path.display())),
    }
}

/// `docker-credential-<name>` for the helper the config names for
/// `registry`, for messages.
fn helper_name(path: &Path, registry: &str) -> String {
    let config: serde_json::Value = std::fs::read_to_string(path)
        .ok()
        .and_then(|text| serde_json::from_str(&text).ok())
        .unwrap_or_default();
    let name = config["credHelpers"][registry]
        .as_str()
        .or(config["credsStore"].as_str())
        .unwrap_or("?");
    format!("docker-credential-{name}")
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
                "quay.io": {"username": "carol", "password": "pw2"},
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
        assert_eq!(
            from_docker_config(&path, "quay.io").unwrap(),
            Some(("carol".into(), "pw2".into()))
        );
        assert_eq!(from_docker_config(&path, "127.0.0.1:5001").unwrap(), None);
        let e = from_docker_config(&path, "broken.io").unwrap_err();
        assert!(e.to_string().contains("not base64"), "{e}");
        std::fs::write(&path, "{not json").unwrap();
        let e = from_docker_config(&path, "ghcr.io").unwrap_err();
        assert!(e.to_string().contains("not valid JSON"), "{e}");
    }

    /// Credential helpers are programs on PATH; the tests below run fake
    /// ones from a temporary directory. PATH is process-wide, so they take
    /// turns, and each helper has a name no other test uses.
    #[cfg(unix)]
    mod helpers {
        use super::*;
        use std::os::unix::fs::PermissionsExt as _;
        use std::sync::Mutex;

        static PATH_LOCK: Mutex<()> = Mutex::new(());

        /// Writes `docker-credential-<name>`: it records the server asked
        /// about and answers `script`'s way.
        fn fake_helper(dir: &Path, name: &str, script: &str) {
            let path = dir.join(format!("docker-credential-{name}"));
            let log = dir.join(format!("{name}.asked"));
            std::fs::write(
                &path,
                format!(
                    "#!/bin/sh\n[ \"$1\" = get ] || exit 3\nread -r server\nprintf '%s' \"$server\" > '{}'\n{script}\n",
                    log.display()
                ),
            )
            .unwrap();
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
        }

        fn with_path<R>(dir: &Path, f: impl FnOnce() -> R) -> R {
            let _guard = PATH_LOCK.lock().unwrap_or_else(|e| e.into_inner());
            let old = std::env::var_os("PATH").unwrap_or_default();
            let mut paths = vec![dir.to_owned()];
            paths.extend(std::env::split_paths(&old));
            // SAFETY: tests that read PATH hold PATH_LOCK.
            unsafe { std::env::set_var("PATH", std::env::join_paths(paths).unwrap()) };
            let result = f();
            // SAFETY: as above.
            unsafe { std::env::set_var("PATH", old) };
            result
        }

        #[test]
        fn creds_store_and_cred_helpers_are_asked() {
            let dir = tempfile::tempdir().unwrap();
            fake_helper(
                dir.path(),
                "fnteststore",
                r#"case "$server" in
  127.0.0.1:5000) echo '{"ServerURL":"127.0.0.1:5000","Username":"desk","Secret":"top"}' ;;
  https://index.docker.io/v1/) echo '{"Username":"hubuser","Secret":"hubpw"}' ;;
  *) echo 'credentials not found in native keychain'; exit 1 ;;
esac"#,
            );
            fake_helper(
                dir.path(),
                "fnteston",
                r#"echo '{"Username":"ecr","Secret":"tok"}'"#,
            );
            let path = dir.path().join("config.json");
            std::fs::write(
                &path,
                r#"{
                    "auths": {"127.0.0.1:5000": {}, "plain.io": {"auth": "Ym9iOnB3"}},
                    "credsStore": "fnteststore",
                    "credHelpers": {"1234.dkr.ecr.example.com": "fnteston"}
                }"#,
            )
            .unwrap();
            let (store, hub, helper, plain, missing) = with_path(dir.path(), || {
                (
                    from_docker_config(&path, "127.0.0.1:5000").unwrap(),
                    from_docker_config(&path, "docker.io").unwrap(),
                    from_docker_config(&path, "1234.dkr.ecr.example.com").unwrap(),
                    from_docker_config(&path, "plain.io").unwrap(),
                    from_docker_config(&path, "other.io").unwrap(),
                )
            });
            assert_eq!(store, Some(("desk".into(), "top".into())));
            assert_eq!(hub, Some(("hubuser".into(), "hubpw".into())));
            assert_eq!(helper, Some(("ecr".into(), "tok".into())));
            assert_eq!(
                std::fs::read_to_string(dir.path().join("fnteston.asked")).unwrap(),
                "1234.dkr.ecr.example.com"
            );
            // An `auths` entry with its own login wins over the store.
            assert_eq!(plain, Some(("bob".into(), "pw".into())));
            // The store has nothing for that host: anonymous, no error.
            assert_eq!(missing, None);
            assert_eq!(
                std::fs::read_to_string(dir.path().join("fnteststore.asked")).unwrap(),
                "other.io"
            );
        }

        #[test]
        fn a_helper_that_fails_or_is_missing_is_an_error_naming_it() {
            let dir = tempfile::tempdir().unwrap();
            fake_helper(
                dir.path(),
                "fntestbroken",
                "echo 'keychain is locked' >&2; exit 1",
            );
            fake_helper(dir.path(), "fntestgarbled", "echo 'not json'");
            let path = dir.path().join("config.json");
            std::fs::write(
                &path,
                r#"{"credsStore": "fntestabsent", "credHelpers": {
                    "broken.io": "fntestbroken", "garbled.io": "fntestgarbled"
                }}"#,
            )
            .unwrap();
            let (broken, garbled, absent) = with_path(dir.path(), || {
                (
                    from_docker_config(&path, "broken.io").unwrap_err(),
                    from_docker_config(&path, "garbled.io").unwrap_err(),
                    from_docker_config(&path, "ghcr.io").unwrap_err(),
                )
            });
            let broken = broken.to_string();
            assert!(
                broken.contains("docker-credential-fntestbroken"),
                "{broken}"
            );
            assert!(broken.contains("keychain is locked"), "{broken}");
            let garbled = garbled.to_string();
            assert!(
                garbled.contains("docker-credential-fntestgarbled"),
                "{garbled}"
            );
            let absent = absent.to_string();
            assert!(
                absent.contains("docker-credential-fntestabsent"),
                "{absent}"
            );
            assert!(absent.contains("CARGO_FN_REGISTRY_USERNAME"), "{absent}");
        }
    }
}
