//! `cargo fn new <path> [--template http|event] [--sdk-path P]`: a ready
//! function project that builds and tests out of the box.

use std::path::{Path, PathBuf};

use anyhow::{Context as _, bail};

use crate::templates::{self, Vars};

/// Where the fn-sdk this cargo-fn was built with lives.
const DEFAULT_SDK: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../sdk");

/// Create a new function project from a template
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Directory to create; its last component is the package name
    pub path: PathBuf,
    /// The template to start from
    #[arg(long, short, default_value = "http", value_parser = clap::builder::PossibleValuesParser::new(templates::names()))]
    pub template: String,
    /// Path of the fn-sdk crate to depend on [default: the one this cargo-fn was built from]
    #[arg(long, value_name = "PATH")]
    pub sdk_path: Option<PathBuf>,
}

impl Args {
    /// Runs `cargo fn new`.
    pub fn run(self) -> anyhow::Result<()> {
        let name = self
            .path
            .file_name()
            .and_then(|n| n.to_str())
            .with_context(|| {
                format!(
                    "`{}` does not end in a usable package name",
                    self.path.display()
                )
            })?
            .to_string();
        check_name(&name)?;
        check_empty(&self.path)?;
        let sdk = sdk_path(self.sdk_path.as_deref())?;
        let vars = Vars {
            name: name.clone(),
            sdk_path: sdk.display().to_string(),
        };
        let files =
            templates::render(&self.template, &vars).expect("clap checked the template name");

        for file in &files {
            let path = self.path.join(&file.path);
            if let Some(dir) = path.parent() {
                std::fs::create_dir_all(dir)
                    .with_context(|| format!("cannot create {}", dir.display()))?;
            }
            std::fs::write(&path, &file.contents)
                .with_context(|| format!("cannot write {}", path.display()))?;
        }
        // Start from the lockfile the SDK is tested with: same dependency
        // versions, and no registry lookups for the first build.
        let lock = sdk.parent().map(|p| p.join("Cargo.lock"));
        if let Some(lock) = lock.filter(|l| l.is_file()) {
            std::fs::copy(&lock, self.path.join("Cargo.lock"))
                .with_context(|| format!("cannot copy {}", lock.display()))?;
        }
        fn_build::status_line(
            "Created",
            &format!("function `{name}` ({} template)", self.template),
        );
        let dir = self.path.display();
        println!(
            "next:\n  cd {dir}\n  cargo test                # unit tests, natively\n  cargo fn build --release  # target/fn/{name}.wasm"
        );
        Ok(())
    }
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
        "fn-sdk",
        "fn_sdk",
        "fn-macros",
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

/// The SDK to depend on, made absolute so the project builds from anywhere.
fn sdk_path(given: Option<&Path>) -> anyhow::Result<PathBuf> {
    let path = given.unwrap_or(Path::new(DEFAULT_SDK));
    let canonical = path
        .canonicalize()
        .ok()
        .filter(|p| p.join("Cargo.toml").is_file());
    match (canonical, given) {
        (Some(p), _) => Ok(p),
        (None, Some(_)) => bail!(
            "no fn-sdk crate at `{}` (expected a directory with a Cargo.toml); check --sdk-path",
            path.display()
        ),
        (None, None) => bail!(
            "the fn-sdk this cargo-fn was built from is gone ({}); pass --sdk-path <path to fn-sdk>",
            path.display()
        ),
    }
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
            ("fn-sdk", "clashes"),
            ("std", "clashes"),
        ] {
            let err = check_name(name).unwrap_err().to_string();
            assert!(err.contains(reason), "{name}: {err}");
        }
    }

    #[test]
    fn the_default_sdk_exists() {
        let sdk = sdk_path(None).unwrap();
        assert!(sdk.join("src/lib.rs").is_file(), "{}", sdk.display());
        assert!(
            sdk_path(Some(Path::new("/nonexistent/sdk")))
                .unwrap_err()
                .to_string()
                .contains("--sdk-path")
        );
    }
}
