//! The project templates of `cargo fn new`, embedded at build time, and
//! their rendering.
//!
//! Each folder of this crate holding a `Cargo.toml.tmpl` is one template
//! (`http`, `event`); see its README for the renames and placeholders.

#![deny(missing_docs)]

include!(concat!(env!("OUT_DIR"), "/templates.rs"));

/// The names of the embedded templates.
pub fn names() -> Vec<&'static str> {
    TEMPLATES.iter().map(|(name, _)| *name).collect()
}

/// The version of the SDK crate (`fnsdk`) these templates are written for:
/// the workspace version every cargo-fn crate shares.
pub const SDK_VERSION: &str = env!("CARGO_PKG_VERSION");

/// Where a new project gets the SDK crate from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Sdk {
    /// The registry, by version requirement: `fnsdk = "0.1.0"`.
    Registry,
    /// A local checkout of the SDK (working on the SDK itself):
    /// `fnsdk = { version = "0.1.0", path = "..." }`.
    Path(String),
}

/// Values for a template's placeholders.
#[derive(Debug, Clone)]
pub struct Vars {
    /// `{{name}}`: the package name.
    pub name: String,
    /// `{{sdk_dependency}}`: the value of the `fnsdk` dependency.
    pub sdk: Sdk,
}

/// One file to write: its path in the project and its contents.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct File {
    /// Relative path, `/`-separated.
    pub path: String,
    /// Contents with placeholders filled in.
    pub contents: String,
}

/// The names of the embedded adapters (`adapters/<name>`): component crates
/// `cargo fn deploy` builds and composes in front of a function.
pub fn adapter_names() -> Vec<&'static str> {
    ADAPTERS.iter().map(|(name, _)| *name).collect()
}

/// Renders adapter `name`, its `fn-wit` build dependency taken from `wit`
/// (the registry, or a checkout's `wit` crate), or `None` if there is no
/// such adapter.
pub fn render_adapter(name: &str, wit: &Sdk) -> Option<Vec<File>> {
    let wit = sdk_dependency(wit);
    render_from(ADAPTERS, name, |contents| {
        contents
            .replace("{{version}}", SDK_VERSION)
            .replace("{{wit_dependency}}", &wit)
    })
}

/// The names of the embedded anchors (`anchors/<name>`): functions written
/// without the SDK that `cargo fn bench` measures next to the user's, so
/// every figure reads as a ratio to "no SDK at all".
pub fn anchor_names() -> Vec<&'static str> {
    ANCHORS.iter().map(|(name, _)| *name).collect()
}

/// Renders anchor `name`, or `None` if there is no such anchor.
pub fn render_anchor(name: &str) -> Option<Vec<File>> {
    render_from(ANCHORS, name, |contents| {
        contents.replace("{{version}}", SDK_VERSION)
    })
}

/// Renders template `name`, or `None` if there is no such template.
pub fn render(name: &str, vars: &Vars) -> Option<Vec<File>> {
    render_from(TEMPLATES, name, |contents| fill(contents, vars))
}

/// The files of entry `name` of `set`, each path renamed and each text
/// filled in by `fill`.
fn render_from(
    set: &[(&str, &[(&str, &str)])],
    name: &str,
    fill: impl Fn(&str) -> String,
) -> Option<Vec<File>> {
    let (_, files) = set.iter().find(|(n, _)| *n == name)?;
    Some(
        files
            .iter()
            .map(|(path, contents)| File {
                path: output_path(path),
                contents: fill(contents),
            })
            .collect(),
    )
}

/// `Cargo.toml.tmpl` → `Cargo.toml`, `_gitignore` → `.gitignore`.
fn output_path(path: &str) -> String {
    let path = path.strip_suffix(".tmpl").unwrap_or(path);
    match path.rsplit_once('/') {
        Some((dir, file)) => format!("{dir}/{}", dotfile(file)),
        None => dotfile(path),
    }
}

fn dotfile(file: &str) -> String {
    match file.strip_prefix('_') {
        Some(rest) => format!(".{rest}"),
        None => file.to_string(),
    }
}

fn fill(contents: &str, vars: &Vars) -> String {
    contents
        .replace("{{name}}", &vars.name)
        .replace("{{crate_name}}", &vars.name.replace('-', "_"))
        .replace("{{sdk_dependency}}", &sdk_dependency(&vars.sdk))
}

/// The TOML value of a dependency on a crate of this workspace (`fnsdk`,
/// `fn-wit`), which all share [`SDK_VERSION`].
fn sdk_dependency(sdk: &Sdk) -> String {
    match sdk {
        Sdk::Registry => format!("\"{SDK_VERSION}\""),
        Sdk::Path(path) => format!(
            "{{ version = \"{SDK_VERSION}\", path = \"{}\" }}",
            toml_escape(path)
        ),
    }
}

/// Escapes `s` for the inside of a TOML basic string.
fn toml_escape(s: &str) -> String {
    s.replace('\\', "\\\\").replace('"', "\\\"")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars() -> Vars {
        Vars {
            name: "my-fn".into(),
            sdk: Sdk::Path(r#"C:\sdk "x""#.into()),
        }
    }

    #[test]
    fn every_template_has_a_manifest_sources_and_a_gitignore() {
        assert!(
            names().contains(&"http") && names().contains(&"event"),
            "{:?}",
            names()
        );
        for name in names() {
            let files = render(name, &vars()).unwrap();
            let paths: Vec<_> = files.iter().map(|f| f.path.as_str()).collect();
            for expected in ["Cargo.toml", "src/lib.rs", ".gitignore", "README.md"] {
                assert!(paths.contains(&expected), "{name}: {paths:?}");
            }
            assert!(
                files.iter().all(|f| !f.contents.contains("{{")),
                "{name}: placeholder left"
            );
        }
    }

    #[test]
    fn the_adapters_render_with_their_wit_dependency() {
        assert_eq!(adapter_names(), ["files", "spin", "wasmcloud"]);
        assert!(!names().contains(&"adapters"));
        for name in adapter_names() {
            adapter_renders_with_its_wit_dependency(name);
        }
        assert!(render_adapter("nope", &Sdk::Registry).is_none());
    }

    fn adapter_renders_with_its_wit_dependency(name: &str) {
        let files = render_adapter(name, &Sdk::Path("/src/cargo-fn/wit".into())).unwrap();
        let paths: Vec<_> = files.iter().map(|f| f.path.as_str()).collect();
        assert_eq!(paths, ["Cargo.toml", "build.rs", "src/lib.rs"]);
        let manifest = &files[0].contents;
        assert!(
            manifest.contains(&format!(
                "fn-wit = {{ version = \"{SDK_VERSION}\", path = \"/src/cargo-fn/wit\" }}"
            )),
            "{manifest}"
        );
        assert!(
            manifest.contains(&format!("version = \"{SDK_VERSION}\"\n")),
            "{manifest}"
        );
        // Only the manifest has placeholders (build.rs has `{{` of its own).
        assert!(!manifest.contains("{{"), "{manifest}");
        assert!(
            manifest.contains(&format!("name = \"fn-{name}-adapter\"")),
            "{manifest}"
        );
    }

    #[test]
    fn the_raw_anchor_renders_as_its_own_workspace() {
        assert_eq!(anchor_names(), ["raw-hello"]);
        assert!(!names().contains(&"anchors"));
        let files = render_anchor("raw-hello").unwrap();
        let manifest = &files
            .iter()
            .find(|f| f.path == "Cargo.toml")
            .unwrap()
            .contents;
        assert!(
            manifest.contains(&format!("version = \"{SDK_VERSION}\"")),
            "{manifest}"
        );
        assert!(manifest.contains("[workspace]"), "{manifest}");
        assert!(files.iter().any(|f| f.path == "src/lib.rs"));
        assert!(render_anchor("nope").is_none());
    }

    #[test]
    fn placeholders_are_filled_and_escaped() {
        let files = render("http", &vars()).unwrap();
        let manifest = &files
            .iter()
            .find(|f| f.path == "Cargo.toml")
            .unwrap()
            .contents;
        assert!(manifest.contains(r#"name = "my-fn""#), "{manifest}");
        assert!(
            manifest.contains(&format!(
                r#"fnsdk = {{ version = "{SDK_VERSION}", path = "C:\\sdk \"x\"" }}"#
            )),
            "{manifest}"
        );
        assert!(
            manifest.contains(r#"crate-type = ["cdylib", "rlib"]"#),
            "{manifest}"
        );
        assert!(manifest.contains("[workspace]"), "{manifest}");
    }

    #[test]
    fn by_default_the_sdk_is_a_version_requirement() {
        for name in names() {
            let vars = Vars {
                name: "my-fn".into(),
                sdk: Sdk::Registry,
            };
            let files = render(name, &vars).unwrap();
            let manifest = &files.iter().find(|f| f.path == "Cargo.toml").unwrap();
            let line = format!("fnsdk = \"{SDK_VERSION}\"");
            assert!(manifest.contents.contains(&line), "{}", manifest.contents);
            assert!(
                !manifest.contents.contains("path ="),
                "{}",
                manifest.contents
            );
        }
    }

    #[test]
    fn output_paths() {
        assert_eq!(output_path("Cargo.toml.tmpl"), "Cargo.toml");
        assert_eq!(output_path("_gitignore"), ".gitignore");
        assert_eq!(output_path("src/lib.rs"), "src/lib.rs");
        assert!(render("nope", &vars()).is_none());
    }
}
