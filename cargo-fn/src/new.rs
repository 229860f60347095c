//! Scaffolding a function project from a template (`cargo fn new`).

use std::path::{Path, PathBuf};

use anyhow::{Context as _, bail};

use fn_templates::{self as templates, Sdk, Vars};

/// Writes a new project from `template` into `path` (missing or empty), its
/// package named after the last component of `path`. With `sdk_path`, the
/// project depends on the fnsdk crate there and starts from the lockfile
/// it is tested with; otherwise on the registry release. Returns the
/// package name.
pub fn scaffold(path: &Path, template: &str, sdk_path: Option<&Path>) -> anyhow::Result<String> {
    let name = path
        .file_name()
        .and_then(|n| n.to_str())
        .with_context(|| format!("`{}` does not end in a usable package name", path.display()))?
        .to_string();
    check_name(&name)?;
    check_empty(path)?;
    let sdk = sdk_path.map(self::sdk_path).transpose()?;
    let vars = Vars {
        name: name.clone(),
        sdk: match &sdk {
            Some(dir) => Sdk::Path(dir.display().to_string()),
            None => Sdk::Registry,
        },
    };
    let files = templates::render(template, &vars).with_context(|| {
        format!(
            "no template `{template}`; pick one of {}",
            templates::names().join(", ")
        )
    })?;
    for file in &files {
        let path = path.join(&file.path);
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)
                .with_context(|| format!("cannot create {}", dir.display()))?;
        }
        std::fs::write(&path, &file.contents)
            .with_context(|| format!("cannot write {}", path.display()))?;
    }
    // With a local SDK, start from the lockfile it is tested with: same
    // dependency versions, and no registry lookups for the first build.
    let lock = sdk
        .as_deref()
        .and_then(Path::parent)
        .map(|p| p.join("Cargo.lock"));
    if let Some(lock) = lock.filter(|l| l.is_file()) {
        std::fs::copy(&lock, path.join("Cargo.lock"))
            .with_context(|| format!("cannot copy {}", lock.display()))?;
    }
    Ok(name)
}

/// Refuses names cargo would refuse, and names that clash with the
/// dependencies every template has.
pub fn check_name(name: &str) -> anyhow::Result<()> {
    const KEYWORDS: &[&str] = &[
        "as", "async", "await", "break", "const", "continue", "crate", "dyn", "else", "enum",
        "extern", "false", "fn", "for", "gen", "if", "impl", "in", "let", "loop", "match", "mod",
        "move", "mut", "pub", "ref", "return", "self", "Self", "static", "struct", "super",
        "trait", "true", "type", "unsafe", "use", "where", "while", "abstract", "become", "box",
        "do", "final", "macro", "override", "priv", "try", "typeof", "unsized", "virtual", "yield",
    ];
    const RESERVED: &[&str] = &[
        "std",
        "core",
        "alloc",
        "proc_macro",
        "test",
        "fnsdk",
        "fnsdk-macros",
        "serde",
        "http",
        "bytes",
    ];
    let hint = "use letters, digits, `-` and `_`, starting with a letter, e.g. `hello-fn`";
    let Some(first) = name.chars().next() else {
        bail!("the package name is empty; {hint}")
    };
    if !first.is_ascii_alphabetic() {
        bail!("`{name}` is not a valid package name: it must start with a letter; {hint}");
    }
    if let Some(bad) = name
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || *c == '-' || *c == '_'))
    {
        bail!("`{name}` is not a valid package name: `{bad}` is not allowed; {hint}");
    }
    if KEYWORDS.contains(&name) {
        bail!("`{name}` is not a valid package name: it is a Rust keyword; {hint}");
    }
    if RESERVED.contains(&name) || RESERVED.contains(&name.replace('-', "_").as_str()) {
        bail!(
            "`{name}` is not a valid package name: it clashes with a crate the project uses; {hint}"
        );
    }
    Ok(())
}

fn check_empty(path: &Path) -> anyhow::Result<()> {
    if path.is_file() {
        bail!(
            "`{}` already exists and is a file; pick another name",
            path.display()
        );
    }
    let non_empty = path.is_dir()
        && std::fs::read_dir(path)
            .with_context(|| format!("cannot read {}", path.display()))?
            .next()
            .is_some();
    if non_empty {
        bail!(
            "destination `{}` already exists and is not empty; pick another name or empty it first",
            path.display()
        );
    }
    Ok(())
}

/// The `--sdk-path` directory, checked and made absolute so the project
/// builds from anywhere.
fn sdk_path(given: &Path) -> anyhow::Result<PathBuf> {
    let manifest = given.join("Cargo.toml");
    let is_sdk = std::fs::read_to_string(&manifest)
        .ok()
        .and_then(|text| text.parse::<toml::Table>().ok())
        .and_then(|toml| Some(toml.get("package")?.get("name")?.as_str()? == "fnsdk"))
        .unwrap_or(false);
    if !is_sdk {
        bail!(
            "no fnsdk crate at `{}` (expected the SDK's directory, whose Cargo.toml names package `fnsdk`); check --sdk-path",
            given.display()
        );
    }
    given
        .canonicalize()
        .with_context(|| format!("cannot resolve {}", given.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_ordinary_names() {
        for name in ["hello", "hello-fn", "my_fn2", "Checkout"] {
            check_name(name).unwrap();
        }
    }

    #[test]
    fn refuses_invalid_names_with_a_reason() {
        for (name, reason) in [
            ("", "empty"),
            ("1fn", "start with a letter"),
            ("-fn", "start with a letter"),
            ("my fn", "` ` is not allowed"),
            ("my.fn", "`.` is not allowed"),
            ("fn", "Rust keyword"),
            ("fnsdk", "clashes"),
            ("std", "clashes"),
        ] {
            let err = check_name(name).unwrap_err().to_string();
            assert!(err.contains(reason), "{name}: {err}");
        }
    }

    #[test]
    fn scaffold_writes_the_template_and_refuses_to_overwrite() {
        let tmp = tempfile::tempdir().unwrap();
        let project = tmp.path().join("hello-fn");
        let err = scaffold(&project, "no-such-template", None).unwrap_err();
        assert!(err.to_string().contains("no template"), "{err}");
        assert_eq!(scaffold(&project, "http", None).unwrap(), "hello-fn");
        let manifest = std::fs::read_to_string(project.join("Cargo.toml")).unwrap();
        assert!(manifest.contains("name = \"hello-fn\""), "{manifest}");
        let err = scaffold(&project, "http", None).unwrap_err();
        assert!(err.to_string().contains("not empty"), "{err}");
    }

    #[test]
    fn sdk_path_must_hold_the_sdk() {
        let sdk = Path::new(env!("CARGO_MANIFEST_DIR")).join("../sdk");
        if sdk.join("Cargo.toml").is_file() {
            let resolved = sdk_path(&sdk).unwrap();
            assert!(resolved.is_absolute(), "{}", resolved.display());
        }
        for wrong in [
            Path::new("/nonexistent/sdk"),
            Path::new(env!("CARGO_MANIFEST_DIR")),
        ] {
            let err = sdk_path(wrong).unwrap_err().to_string();
            assert!(err.contains("--sdk-path"), "{err}");
        }
    }
}
