//! The cargo-fn build pipeline: compile a function crate for wasm32-wasip2,
//! bring the component within the portable contract, strip what no runtime
//! needs, validate it, and report where it can run.
//!
//! ```no_run
//! let built = fn_pipeline::build(&fn_pipeline::BuildOptions {
//!     manifest_path: Some("my-fn/Cargo.toml".into()),
//!     release: true,
//!     ..Default::default()
//! })?;
//! println!("{} ({} bytes)\n{}", built.artifact.display(), built.final_size, built.report);
//! # Ok::<(), fn_pipeline::BuildError>(())
//! ```
//!
//! [`process`] runs the post-compile steps alone on any component, and
//! [`report::inspect`] gives the report of any component.

use std::io::IsTerminal as _;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

pub mod adapter;
pub mod cargo;
pub mod compose;
pub mod contract;
pub mod declared;
mod error;
pub mod hosts;
pub mod optimize;
pub use optimize::OptLevel;
pub mod report;
pub mod sections;
pub mod stubs;
pub mod toolchain;
pub mod versions;
pub mod wit;

pub use error::{BuildError, WasmError};
pub use report::Report;

/// The compilation target of every function.
pub const TARGET: &str = "wasm32-wasip2";

/// What to build and how.
#[derive(Debug, Clone, Default)]
pub struct BuildOptions {
    /// The package's (or workspace's) `Cargo.toml`; default: cargo's lookup from the current directory.
    pub manifest_path: Option<PathBuf>,
    /// The package to build in a workspace (`-p`).
    pub package: Option<String>,
    /// Build with the release profile.
    pub release: bool,
    /// Build with this cargo profile (`--profile`); overrides `release`.
    pub profile: Option<String>,
    /// Cargo's target directory; default: the workspace's.
    pub target_dir: Option<PathBuf>,
    /// Cargo features to enable (`--features`, each a name or a
    /// comma/space-separated list).
    pub features: Vec<String>,
    /// Enable every feature (`--all-features`).
    pub all_features: bool,
    /// Leave out the `default` feature (`--no-default-features`).
    pub no_default_features: bool,
    /// Require `Cargo.lock` to be up to date (`--locked`).
    pub locked: bool,
    /// Build without touching the network (`--offline`).
    pub offline: bool,
    /// Keep custom sections (names, producers, DWARF).
    pub keep_debug: bool,
    /// Keep the WASI import versions cargo's component has, rather than
    /// lowering each to the lowest release it needs ([`versions`]).
    pub keep_wasi_versions: bool,
    /// Host ids (see [`hosts::HOSTS`]) that must be able to run the artifact.
    pub required_hosts: Vec<String>,
    /// Print nothing but compiler errors.
    pub quiet: bool,
    /// Whether to run binaryen's optimiser over the main core module.
    pub wasm_opt: WasmOpt,
    /// Sign the artifact with this key before it is written, so the one
    /// atomic write puts the signed artifact in place: a build killed at any
    /// moment leaves the old artifact or the new signed one, never an
    /// unsigned new one.
    pub sign: Option<fn_sign::SecretKey>,
}

/// Whether [`build`] runs wasm-opt ([`optimize`]).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum WasmOpt {
    /// `wasm-opt` in `[package.metadata.fn]` decides (a level or `"none"`);
    /// without it, release builds get [`OptLevel::RELEASE_DEFAULT`] when
    /// there is a binaryen ([`optimize::optimizer`]), and other profiles
    /// nothing.
    #[default]
    Auto,
    /// Never.
    Off,
    /// At this level.
    Level(OptLevel),
}

impl std::str::FromStr for WasmOpt {
    type Err = String;

    /// `none`, or a level (`s`, `z`, `0`..`4`, `-Os`, ...).
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "none" | "off" => Ok(WasmOpt::Off),
            level => level.parse().map(WasmOpt::Level),
        }
    }
}

impl BuildOptions {
    /// The cargo profile built: [`profile`](Self::profile), else `release`
    /// or `dev`.
    pub fn profile_name(&self) -> &str {
        match &self.profile {
            Some(profile) => profile,
            None if self.release => "release",
            None => "dev",
        }
    }
}

/// A finished build.
#[derive(Debug, Clone)]
pub struct Built {
    /// The package built.
    pub package: String,
    /// `target/fn/<package>.wasm` (release) or `target/fn/debug/<package>.wasm`.
    pub artifact: PathBuf,
    /// The component cargo produced.
    pub raw_artifact: PathBuf,
    /// Size of cargo's component in bytes.
    pub raw_size: u64,
    /// Size of the final artifact in bytes.
    pub final_size: u64,
    /// Imports now supplied inside the artifact (std's `wasi:cli` environment, exit, terminals).
    pub stubbed: Vec<String>,
    /// WASI imports lowered to the version they need, old name to new.
    pub lowered: Vec<(String, String)>,
    /// The portability report.
    pub report: Report,
    /// Time spent in cargo (metadata, toolchain check and build).
    pub cargo_time: Duration,
    /// Time spent after cargo (rewrite, strip, validate, report, write).
    pub post_time: Duration,
    /// What wasm-opt did, if it ran.
    pub optimized: Option<Optimized>,
    /// What the code declares (config keys, event types).
    pub declared: declared::Declared,
    /// The key the artifact is signed by (`BuildOptions::sign`).
    pub signer: Option<fn_sign::PublicKey>,
}

/// What wasm-opt did to the main core module.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Optimized {
    /// The level it ran at.
    pub level: OptLevel,
    /// Which binaryen ran ([`optimize::Optimizer`]'s Display: the built-in
    /// one, or the path of a `wasm-opt` executable).
    pub tool: String,
    /// The component's size before, in bytes (contract applied, custom
    /// sections still in).
    pub before: u64,
    /// Its size after.
    pub after: u64,
    /// How long it took.
    pub time: Duration,
}

/// Options for [`process`].
#[derive(Debug, Clone, Default)]
pub struct ProcessOptions {
    /// The package name, for messages.
    pub package: String,
    /// Keep custom sections.
    pub keep_debug: bool,
    /// Keep the WASI import versions as they are.
    pub keep_wasi_versions: bool,
    /// Hosts that must be able to run the result.
    pub required_hosts: Vec<String>,
    /// Run wasm-opt at this level.
    pub wasm_opt: Option<OptLevel>,
    /// The package's `[package.metadata]`, to check the code's declarations
    /// against (`None`: no check).
    pub metadata: Option<serde_json::Value>,
}

/// The result of [`process`].
#[derive(Debug, Clone)]
pub struct Processed {
    /// The final component.
    pub component: Vec<u8>,
    /// Imports now supplied inside it.
    pub stubbed: Vec<String>,
    /// WASI imports lowered to the version they need, old name to new.
    pub lowered: Vec<(String, String)>,
    /// Its report.
    pub report: Report,
    /// What wasm-opt did, if it ran.
    pub optimized: Option<Optimized>,
    /// What the code declares (config keys, event types).
    pub declared: declared::Declared,
}

/// Builds the package `opts` selects and writes its artifact under `target/fn/`.
pub fn build(opts: &BuildOptions) -> Result<Built, BuildError> {
    build_with(opts, cargo::locate)
}

/// Builds `package` (already chosen with [`cargo::select`], so `cargo
/// metadata` is not run again) and writes its artifact under `target/fn/`.
/// The selection fields of `opts` (manifest path, package) are not read.
pub fn build_package(package: &cargo::Package, opts: &BuildOptions) -> Result<Built, BuildError> {
    build_with(opts, |_| Ok(package.clone()))
}

fn build_with(
    opts: &BuildOptions,
    locate: impl FnOnce(&BuildOptions) -> Result<cargo::Package, BuildError> + Send,
) -> Result<Built, BuildError> {
    check_hosts(&opts.required_hosts)?;
    let progress = |verb: &str, msg: &str| {
        if !opts.quiet {
            status_line(verb, msg);
        }
    };
    let start = Instant::now();
    let dir = opts
        .manifest_path
        .as_deref()
        .and_then(Path::parent)
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."))
        .to_path_buf();
    // The toolchain check and `cargo metadata` are independent: overlap them.
    let (package, target) = std::thread::scope(|s| {
        let target = s.spawn(|| toolchain::ensure_target(&dir, &progress));
        let package = locate(opts);
        (
            package,
            target.join().expect("toolchain check does not panic"),
        )
    });
    target?;
    let package = package?;
    let wasm_opt = wasm_opt_level(opts, &package)?;
    let raw_artifact = cargo::build(&package, opts)?;
    let cargo_time = start.elapsed();

    let start = Instant::now();
    let raw = read(&raw_artifact)?;
    let steps = match wasm_opt {
        Some(level) => format!("contract, wasm-opt {level}, strip, validate"),
        None => "contract, strip, validate".to_owned(),
    };
    progress("Optimizing", &format!("{} ({steps})", package.name));
    let processed = process(
        &raw,
        &ProcessOptions {
            package: package.name.clone(),
            keep_debug: opts.keep_debug,
            keep_wasi_versions: opts.keep_wasi_versions,
            required_hosts: opts.required_hosts.clone(),
            wasm_opt,
            metadata: Some(package.metadata.clone()),
        },
    )?;
    let artifact = artifact_path(&package.target_dir, opts.profile_name(), &package.name);
    // Signing is the last transformation: nothing may rewrite the bytes
    // after it.
    let component = match &opts.sign {
        Some(key) => {
            fn_sign::sign(&processed.component, key).map_err(|e| BuildError::Sign(e.to_string()))?
        }
        None => processed.component,
    };
    write_atomic(&artifact, &component)?;
    let post_time = start.elapsed();
    progress(
        "Finished",
        &format!(
            "{} ({}, cargo's output {})",
            relative(&artifact),
            human_size(component.len() as u64),
            human_size(raw.len() as u64)
        ),
    );
    Ok(Built {
        package: package.name,
        artifact,
        raw_artifact,
        raw_size: raw.len() as u64,
        final_size: component.len() as u64,
        stubbed: processed.stubbed,
        lowered: processed.lowered,
        report: processed.report,
        cargo_time,
        post_time,
        optimized: processed.optimized,
        declared: processed.declared,
        signer: opts.sign.as_ref().map(fn_sign::SecretKey::public_key),
    })
}

/// The wasm-opt level of this build: the flag, else `wasm-opt` in
/// `[package.metadata.fn]`, else the release default when there is a
/// binaryen ([`optimize::optimizer`]: built in, `FN_WASM_OPT` or `PATH`).
fn wasm_opt_level(
    opts: &BuildOptions,
    package: &cargo::Package,
) -> Result<Option<OptLevel>, BuildError> {
    let chosen = match opts.wasm_opt {
        WasmOpt::Auto => match package.metadata.pointer("/fn/wasm-opt") {
            None => WasmOpt::Auto,
            Some(value) => value
                .as_str()
                .ok_or_else(|| "must be a string".to_owned())
                .and_then(str::parse)
                .map_err(|e| {
                    BuildError::Optimizer(format!(
                        "`wasm-opt` in [package.metadata.fn] of {}: {e} (or \"none\")",
                        package.manifest_path.display()
                    ))
                })?,
        },
        explicit => explicit,
    };
    Ok(match chosen {
        WasmOpt::Off => None,
        WasmOpt::Level(level) => Some(level),
        WasmOpt::Auto if opts.profile_name() == "release" && optimize::optimizer().is_some() => {
            Some(OptLevel::RELEASE_DEFAULT)
        }
        WasmOpt::Auto => None,
    })
}

/// The steps after compilation, on the component cargo produced: refuse a
/// component without a function, bring it within the contract, strip custom
/// sections (unless `keep_debug`), lower WASI import versions (unless
/// `keep_wasi_versions`), validate, report, and check the target hosts.
pub fn process(raw: &[u8], opts: &ProcessOptions) -> Result<Processed, BuildError> {
    check_hosts(&opts.required_hosts)?;
    let (_, exports) = contract::imports_and_exports(raw)?;
    if !exports.iter().any(|e| report::is_handler(e)) {
        let found = if exports.is_empty() {
            String::new()
        } else {
            format!(" (it exports: {})", exports.join(", "))
        };
        return Err(BuildError::NoFunction {
            package: opts.package.clone(),
            found,
        });
    }
    let declared = declared::read(raw)?;
    if let Some(metadata) = &opts.metadata {
        let drift = declared::disagreements(&declared, metadata);
        if !drift.is_empty() {
            return Err(BuildError::Undeclared {
                package: opts.package.clone(),
                problems: drift,
            });
        }
    }
    let clean = contract::make_clean(raw, opts.keep_debug)?;
    // Before stripping: binaryen reads the module's `target_features`.
    let (component, optimized) = match opts.wasm_opt {
        Some(level) => {
            let tool = optimize::optimizer().ok_or_else(optimize::missing)?;
            let start = Instant::now();
            let optimized = optimize::component(&clean.component, level, &tool)?;
            let report = Optimized {
                level,
                tool: tool.to_string(),
                before: clean.component.len() as u64,
                after: optimized.len() as u64,
                time: start.elapsed(),
            };
            (optimized, Some(report))
        }
        None => (clean.component, None),
    };
    let component = if opts.keep_debug {
        component
    } else {
        sections::strip_custom_sections(&component, &|_| false)?
    };
    let lowered = if opts.keep_wasi_versions {
        versions::Lowered {
            component,
            renamed: Vec::new(),
        }
    } else {
        versions::lower(&component)?
    };
    let component = lowered.component;
    contract::validate(&component)?;
    let report = report::inspect(&component)?;
    for id in &opts.required_hosts {
        let verdict = report
            .hosts
            .iter()
            .find(|v| v.id.eq_ignore_ascii_case(id))
            .expect("checked");
        if !verdict.runs {
            return Err(BuildError::HostIncompatible {
                id: verdict.id.to_string(),
                host: verdict.name.to_string(),
                reasons: verdict.reasons.clone(),
            });
        }
    }
    Ok(Processed {
        component,
        stubbed: clean.stubbed,
        lowered: lowered.renamed,
        report,
        optimized,
        declared,
    })
}

/// Where the artifact of `package` built with `profile` goes:
/// `<target>/fn/<package>.wasm` for release, `<target>/fn/debug/` for dev
/// (cargo's folder name), `<target>/fn/<profile>/` for any other profile.
pub fn artifact_path(target_dir: &Path, profile: &str, package: &str) -> PathBuf {
    let mut path = target_dir.join("fn");
    match profile {
        "release" => {}
        "dev" => path.push("debug"),
        other => path.push(other),
    }
    path.push(format!("{package}.wasm"));
    path
}

fn check_hosts(ids: &[String]) -> Result<(), BuildError> {
    match ids.iter().find(|id| hosts::find(id).is_none()) {
        Some(id) => Err(BuildError::UnknownHost(id.clone())),
        None => Ok(()),
    }
}

fn read(path: &Path) -> Result<Vec<u8>, BuildError> {
    std::fs::read(path).map_err(|source| BuildError::Io {
        action: "read",
        path: path.into(),
        source,
    })
}

/// Writes through a temporary file and a rename, so readers never see half a file.
fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), BuildError> {
    let io = |action, source| BuildError::Io {
        action,
        path: path.into(),
        source,
    };
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(|e| io("create the directory of", e))?;
    }
    let tmp = path.with_extension(format!("wasm.{}.tmp", std::process::id()));
    std::fs::write(&tmp, bytes).map_err(|e| io("write", e))?;
    std::fs::rename(&tmp, path).map_err(|e| io("write", e))
}

/// `path` relative to the current directory when it is below it.
fn relative(path: &Path) -> String {
    std::env::current_dir()
        .ok()
        .and_then(|cwd| path.strip_prefix(cwd).ok().map(Path::to_path_buf))
        .unwrap_or_else(|| path.to_path_buf())
        .display()
        .to_string()
}

/// `12.3 KB` style sizes (1 KB = 1024 bytes).
pub fn human_size(bytes: u64) -> String {
    if bytes < 1024 {
        format!("{bytes} B")
    } else if bytes < 1024 * 1024 {
        format!("{:.1} KB", bytes as f64 / 1024.0)
    } else {
        format!("{:.1} MB", bytes as f64 / (1024.0 * 1024.0))
    }
}

/// Prints a cargo-style status line (`   Compiling foo`) to stderr.
pub fn status_line(verb: &str, msg: &str) {
    if std::io::stderr().is_terminal() {
        eprintln!("\x1b[1;32m{verb:>12}\x1b[0m {msg}");
    } else {
        eprintln!("{verb:>12} {msg}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn artifacts_go_to_a_folder_per_profile() {
        let at = |opts: BuildOptions| artifact_path(Path::new("/t"), opts.profile_name(), "f");
        assert_eq!(at(BuildOptions::default()), Path::new("/t/fn/debug/f.wasm"));
        let release = BuildOptions {
            release: true,
            ..BuildOptions::default()
        };
        assert_eq!(at(release.clone()), Path::new("/t/fn/f.wasm"));
        let custom = BuildOptions {
            profile: Some("wasm-size".into()),
            ..release
        };
        assert_eq!(at(custom), Path::new("/t/fn/wasm-size/f.wasm"));
    }
}
