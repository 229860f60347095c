//! Driving cargo: find the package, then build it for wasm32-wasip2 and take
//! the artifact's path from cargo's JSON messages.

use std::ffi::OsString;
use std::io::{BufReader, Write as _};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use cargo_metadata::{CrateType, Message, Metadata, MetadataCommand, PackageId};

use crate::error::BuildError;
use crate::{BuildOptions, TARGET};

/// The package being built.
#[derive(Debug, Clone)]
pub struct Package {
    /// Cargo's id for it.
    pub id: PackageId,
    /// Its name.
    pub name: String,
    /// Its version.
    pub version: String,
    /// `package.repository`, if set.
    pub repository: Option<String>,
    /// Its `[package.metadata]` table (`null` when absent).
    pub metadata: serde_json::Value,
    /// Its `Cargo.toml`.
    pub manifest_path: PathBuf,
    /// The workspace's target directory (or `--target-dir`).
    pub target_dir: PathBuf,
    /// The workspace root.
    pub workspace_root: PathBuf,
    /// Path dependencies outside the workspace: `(name, directory)`.
    pub path_deps: Vec<(String, PathBuf)>,
}

/// The cargo to run: the one that started us (`$CARGO`), else `cargo`.
pub fn cargo() -> OsString {
    std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into())
}

/// The `Cargo.toml` cargo would use from `dir`: the nearest one in `dir` or
/// an ancestor, canonicalized.
fn nearest_manifest(dir: &std::path::Path) -> Option<std::path::PathBuf> {
    dir.ancestors()
        .map(|d| d.join("Cargo.toml"))
        .find(|m| m.is_file())
        .and_then(|m| std::fs::canonicalize(m).ok())
}

/// Reads the workspace with `cargo metadata` and picks the package to build:
/// [`metadata`] then [`select`].
pub fn locate(opts: &BuildOptions) -> Result<Package, BuildError> {
    select(&metadata(opts)?, opts)
}

/// Reads the workspace of `opts.manifest_path` (default: the current
/// directory's) with `cargo metadata --no-deps`.
pub fn metadata(opts: &BuildOptions) -> Result<Metadata, BuildError> {
    let mut cmd = MetadataCommand::new();
    cmd.cargo_path(cargo()).no_deps();
    if let Some(path) = &opts.manifest_path {
        cmd.manifest_path(path);
    }
    cmd.exec().map_err(|e| BuildError::Metadata {
        manifest: opts
            .manifest_path
            .as_ref()
            .map(|p| p.display().to_string())
            .unwrap_or_else(|| "the current directory".into()),
        message: error_text(&e),
    })
}

/// Picks the package `opts` selects in `meta`, as cargo does: `--package`,
/// else the root package, else the member whose manifest is
/// `--manifest-path` or whose folder we are in, else the workspace's only
/// cdylib. The package must build a cdylib.
pub fn select(meta: &Metadata, opts: &BuildOptions) -> Result<Package, BuildError> {
    let cwd = std::env::current_dir().ok();
    select_from(meta, opts, cwd.as_deref())
}

/// [`select`], with the current directory given.
fn select_from(
    meta: &Metadata,
    opts: &BuildOptions,
    cwd: Option<&Path>,
) -> Result<Package, BuildError> {
    let members = meta.workspace_packages();
    let names = || {
        members
            .iter()
            .map(|p| p.name.to_string())
            .collect::<Vec<_>>()
            .join(", ")
    };
    let package = match &opts.package {
        Some(name) => members
            .iter()
            .find(|p| p.name.as_str() == name)
            .copied()
            .ok_or_else(|| BuildError::PackageNotFound {
                name: name.clone(),
                available: names(),
            })?,
        None => match meta.root_package().or_else(|| {
            // `--manifest-path member/Cargo.toml`, or running in a member's
            // folder, selects that member, as cargo itself does.
            let wanted = match &opts.manifest_path {
                Some(path) => std::fs::canonicalize(path).ok()?,
                None => nearest_manifest(cwd?)?,
            };
            members.iter().copied().find(|p| {
                std::fs::canonicalize(p.manifest_path.as_std_path())
                    .ok()
                    .as_ref()
                    == Some(&wanted)
            })
        }) {
            Some(p) => p,
            None => {
                let mut cdylibs = members.iter().copied().filter(|p| lib_is_cdylib(p));
                match (cdylibs.next(), cdylibs.next()) {
                    (Some(one), None) => one,
                    _ => return Err(BuildError::AmbiguousPackage { available: names() }),
                }
            }
        },
    };
    if !lib_is_cdylib(package) {
        return Err(BuildError::NotCdylib {
            package: package.name.to_string(),
            manifest: package.manifest_path.to_string(),
        });
    }
    let workspace_root = meta.workspace_root.clone().into_std_path_buf();
    let path_deps = package
        .dependencies
        .iter()
        .filter_map(|d| Some((d.name.clone(), d.path.clone()?.into_std_path_buf())))
        .filter(|(_, dir)| !dir.starts_with(&workspace_root))
        .collect();
    Ok(Package {
        id: package.id.clone(),
        name: package.name.to_string(),
        version: package.version.to_string(),
        repository: package.repository.clone(),
        metadata: package.metadata.clone(),
        manifest_path: package.manifest_path.clone().into_std_path_buf(),
        target_dir: opts
            .target_dir
            .clone()
            .unwrap_or_else(|| meta.target_directory.clone().into_std_path_buf()),
        workspace_root,
        path_deps,
    })
}

fn lib_is_cdylib(package: &cargo_metadata::Package) -> bool {
    package
        .targets
        .iter()
        .any(|t| t.crate_types.contains(&CrateType::CDyLib))
}

fn error_text(e: &cargo_metadata::Error) -> String {
    match e {
        cargo_metadata::Error::CargoMetadata { stderr } => {
            stderr.trim().trim_start_matches("error: ").to_string()
        }
        other => other.to_string(),
    }
}

/// `--remap-path-prefix` flags that keep machine-specific paths out of the
/// artifact: cargo's home (registry sources), the target directory (build
/// script output) and path dependencies outside the workspace. Sources inside
/// the workspace already reach rustc as relative paths. Later flags win in
/// rustc, so the most specific come last. The flags do not depend on where
/// the project is, so projects sharing a target directory share compiled
/// dependencies.
pub fn remap_flags(package: &Package) -> Vec<String> {
    let mut flags = Vec::new();
    let mut remap = |from: &Path, to: &str| {
        flags.push(format!("--remap-path-prefix={}={to}", from.display()));
    };
    if let Some(home) = cargo_home() {
        remap(&home, "/cargo");
    }
    remap(&package.target_dir, "/target");
    for (name, dir) in &package.path_deps {
        remap(dir, &format!("/deps/{name}"));
    }
    flags
}

fn cargo_home() -> Option<PathBuf> {
    if let Some(home) = std::env::var_os("CARGO_HOME") {
        return Some(PathBuf::from(home));
    }
    std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cargo"))
}

/// Runs `cargo build --target wasm32-wasip2` for the package and returns the
/// path of the `.wasm` cargo reports. Compiler diagnostics go to stderr as
/// cargo renders them.
pub fn build(package: &Package, opts: &BuildOptions) -> Result<PathBuf, BuildError> {
    let mut cmd = build_command(package, opts);
    cmd.stdout(Stdio::piped()).stderr(Stdio::inherit());
    let command = format!("cargo build --target {TARGET} -p {}", package.name);
    let mut child = cmd
        .spawn()
        .map_err(|source| BuildError::Spawn { command, source })?;
    let stdout = child.stdout.take().expect("piped");
    let mut artifact = None;
    for message in Message::parse_stream(BufReader::new(stdout)) {
        match message {
            Ok(Message::CompilerArtifact(a)) if a.package_id == package.id => {
                if let Some(wasm) = a.filenames.iter().find(|f| f.extension() == Some("wasm")) {
                    artifact = Some(wasm.clone().into_std_path_buf());
                }
            }
            Ok(Message::TextLine(line)) => {
                let _ = writeln!(std::io::stdout(), "{line}");
            }
            _ => {}
        }
    }
    let status = child.wait().map_err(|source| BuildError::Spawn {
        command: "cargo build".into(),
        source,
    })?;
    if !status.success() {
        return Err(BuildError::CargoFailed { status });
    }
    artifact.ok_or_else(|| BuildError::NoArtifact {
        package: package.name.clone(),
    })
}

/// The `cargo build` command for `package`: our fixed flags, then the
/// profile, feature and lock-file flags of `opts`, then our rustflags.
fn build_command(package: &Package, opts: &BuildOptions) -> Command {
    let mut cmd = Command::new(cargo());
    cmd.arg("build")
        .args([
            "--target",
            TARGET,
            "--message-format=json-render-diagnostics",
            "--lib",
        ])
        .arg("--manifest-path")
        .arg(&package.manifest_path)
        .args(["-p", &package.name])
        .arg("--target-dir")
        .arg(&package.target_dir)
        .args(["--profile", opts.profile_name()]);
    for features in &opts.features {
        cmd.args(["--features", features]);
    }
    for (set, flag) in [
        (opts.all_features, "--all-features"),
        (opts.no_default_features, "--no-default-features"),
        (opts.locked, "--locked"),
        (opts.offline, "--offline"),
        (opts.quiet, "--quiet"),
    ] {
        if set {
            cmd.arg(flag);
        }
    }
    apply_rustflags(&mut cmd, &remap_flags(package));
    cmd
}

/// Adds our rustflags without dropping the user's: appended to
/// `CARGO_ENCODED_RUSTFLAGS`/`RUSTFLAGS` when those are set (they override
/// every config), else given as `target.wasm32-wasip2.rustflags` config,
/// which cargo merges with the user's config of the same key.
fn apply_rustflags(cmd: &mut Command, flags: &[String]) {
    let encoded = std::env::var("CARGO_ENCODED_RUSTFLAGS").ok();
    let plain = std::env::var("RUSTFLAGS").ok();
    let existing: Option<Vec<String>> = match (encoded, plain) {
        (Some(e), _) => Some(
            e.split('\x1f')
                .filter(|s| !s.is_empty())
                .map(String::from)
                .collect(),
        ),
        (None, Some(p)) => Some(p.split_whitespace().map(String::from).collect()),
        (None, None) => None,
    };
    match existing {
        Some(mut all) => {
            all.extend(flags.iter().cloned());
            cmd.env("CARGO_ENCODED_RUSTFLAGS", all.join("\x1f"))
                .env_remove("RUSTFLAGS");
        }
        None => {
            cmd.arg("--config").arg(rustflags_config(flags));
        }
    }
}

/// The `--config` value that adds `flags` to the wasm32-wasip2 rustflags.
pub fn rustflags_config(flags: &[String]) -> String {
    let list = flags
        .iter()
        .map(|f| toml_string(f))
        .collect::<Vec<_>>()
        .join(", ");
    format!("target.{TARGET}.rustflags=[{list}]")
}

/// A TOML basic string holding `s`.
fn toml_string(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if c.is_control() => out.push_str(&format!("\\u{:04X}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Package `x` of workspace `/w`.
    fn package(target_dir: &str, path_deps: Vec<(String, PathBuf)>) -> Package {
        Package {
            id: PackageId { repr: "x".into() },
            name: "x".into(),
            version: "0.1.0".into(),
            repository: None,
            metadata: serde_json::Value::Null,
            manifest_path: "/w/Cargo.toml".into(),
            target_dir: target_dir.into(),
            workspace_root: "/w".into(),
            path_deps,
        }
    }

    #[test]
    fn nearest_manifest_walks_up_from_a_subfolder() {
        let here = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let found = nearest_manifest(&here.join("src")).unwrap();
        assert_eq!(found, here.join("Cargo.toml").canonicalize().unwrap());
    }

    #[test]
    fn the_member_whose_folder_we_are_in_is_selected() {
        // `cargo test` runs in this package's folder, inside a workspace of
        // many members: the selection is this one (which is no cdylib), not
        // "several packages, pick one".
        match locate(&BuildOptions::default()) {
            Err(BuildError::NotCdylib { package, .. }) => assert_eq!(package, "fn-pipeline"),
            other => panic!("expected fn-pipeline to be selected, got {other:?}"),
        }
    }

    /// A virtual workspace of two cdylib members, `one` and `two`.
    fn two_member_workspace() -> (tempfile::TempDir, Metadata) {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path();
        std::fs::write(
            root.join("Cargo.toml"),
            "[workspace]\nmembers = [\"one\", \"two\"]\nresolver = \"3\"\n",
        )
        .unwrap();
        for name in ["one", "two"] {
            std::fs::create_dir_all(root.join(name).join("src")).unwrap();
            std::fs::write(
                root.join(name).join("Cargo.toml"),
                format!(
                    "[package]\nname = \"{name}\"\nversion = \"0.1.0\"\nedition = \"2024\"\n\
                     [lib]\ncrate-type = [\"cdylib\"]\n"
                ),
            )
            .unwrap();
            std::fs::write(root.join(name).join("src/lib.rs"), "").unwrap();
        }
        let meta = metadata(&BuildOptions {
            manifest_path: Some(root.join("Cargo.toml")),
            ..BuildOptions::default()
        })
        .unwrap();
        (tmp, meta)
    }

    #[test]
    fn a_member_folder_or_package_flag_selects_in_a_virtual_workspace() {
        let (tmp, meta) = two_member_workspace();
        let opts = BuildOptions::default();
        let in_two = select_from(&meta, &opts, Some(&tmp.path().join("two/src"))).unwrap();
        assert_eq!(in_two.name, "two");
        assert_eq!(in_two.version, "0.1.0");
        match select_from(&meta, &opts, Some(tmp.path())) {
            Err(BuildError::AmbiguousPackage { available }) => {
                assert_eq!(available, "one, two")
            }
            other => panic!("expected an ambiguous selection, got {other:?}"),
        }
        let named = BuildOptions {
            package: Some("one".into()),
            target_dir: Some("/elsewhere".into()),
            ..BuildOptions::default()
        };
        let one = select_from(&meta, &named, Some(&tmp.path().join("two"))).unwrap();
        assert_eq!(one.name, "one");
        assert_eq!(one.target_dir, Path::new("/elsewhere"));
    }

    #[test]
    fn cargo_build_gets_the_profile_feature_and_lock_flags() {
        let package = package("/t", vec![]);
        let args = |opts: &BuildOptions| -> Vec<String> {
            build_command(&package, opts)
                .get_args()
                .map(|a| a.to_string_lossy().into_owned())
                .collect()
        };
        let plain = args(&BuildOptions::default());
        let joined = plain.join(" ");
        assert!(joined.contains("--target-dir /t --profile dev"), "{joined}");
        for flag in [
            "--features",
            "--locked",
            "--offline",
            "--no-default-features",
        ] {
            assert!(!plain.iter().any(|a| a == flag), "{joined}");
        }
        let all = args(&BuildOptions {
            release: true,
            features: vec!["a,b".into(), "c".into()],
            all_features: true,
            no_default_features: true,
            locked: true,
            offline: true,
            ..BuildOptions::default()
        })
        .join(" ");
        assert!(
            all.contains(
                "--profile release --features a,b --features c --all-features \
                 --no-default-features --locked --offline"
            ),
            "{all}"
        );
        let custom = args(&BuildOptions {
            release: true,
            profile: Some("wasm-size".into()),
            ..BuildOptions::default()
        })
        .join(" ");
        assert!(custom.contains("--profile wasm-size"), "{custom}");
    }

    #[test]
    fn toml_strings_escape_quotes_and_backslashes() {
        assert_eq!(toml_string(r"C:\a"), r#""C:\\a""#);
        assert_eq!(toml_string("a\"b"), r#""a\"b""#);
    }

    #[test]
    fn remaps_most_specific_last() {
        let package = package("/w/target", vec![("fnsdk".into(), "/checkout/sdk".into())]);
        let flags = remap_flags(&package);
        let n = flags.len();
        assert!(
            !flags.iter().any(|f| f.contains("/w=")),
            "the project's own path is not baked into flags"
        );
        assert_eq!(flags[n - 2], "--remap-path-prefix=/w/target=/target");
        assert_eq!(
            flags[n - 1],
            "--remap-path-prefix=/checkout/sdk=/deps/fnsdk"
        );
    }
}
