//! Binaryen's optimiser (`wasm-opt`) over the main core module of a
//! component.
//!
//! The component's other parts (its types, canonical functions, the shim
//! and fixup modules) only name the main module's imports and exports,
//! which wasm-opt keeps, so the module is replaced in place and the result
//! is validated with the rest of the pipeline.
//!
//! Binaryen comes from one of two places ([`optimizer`]): built into
//! cargo-fn from source by the `wasm-opt` crate (cargo-fn's `wasm-opt`
//! feature, 14 CPU-minutes to compile), or a `wasm-opt` executable already
//! on the machine (a binaryen package: `apt install binaryen`, `brew install
//! binaryen`, `npm install -g binaryen`), named by `FN_WASM_OPT` or found on
//! `PATH`, as wasm-pack and trunk find theirs.

use std::fmt;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use crate::error::{BuildError, WasmError};
use crate::sections::{self, ModuleRole, SectionKind};

/// A wasm-opt level, as its `-O` flags name them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OptLevel {
    /// `-O0`: no optimisation (binaryen still rewrites the binary).
    O0,
    /// `-O1`.
    O1,
    /// `-O2`.
    O2,
    /// `-O3`.
    O3,
    /// `-O4`.
    O4,
    /// `-Os`: optimise for size.
    Os,
    /// `-Oz`: optimise aggressively for size.
    Oz,
}

impl OptLevel {
    /// Every level, by its name.
    pub const ALL: [(&'static str, OptLevel); 7] = [
        ("0", OptLevel::O0),
        ("1", OptLevel::O1),
        ("2", OptLevel::O2),
        ("3", OptLevel::O3),
        ("4", OptLevel::O4),
        ("s", OptLevel::Os),
        ("z", OptLevel::Oz),
    ];

    /// The level release builds get when nothing says otherwise.
    pub const RELEASE_DEFAULT: OptLevel = OptLevel::Os;
}

impl fmt::Display for OptLevel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = OptLevel::ALL
            .iter()
            .find(|(_, level)| level == self)
            .map_or("?", |(name, _)| name);
        write!(f, "-O{name}")
    }
}

impl FromStr for OptLevel {
    type Err = String;

    /// `s`, `z`, `0`..`4`, with or without a leading `-O` or `O`.
    fn from_str(s: &str) -> Result<Self, String> {
        let bare = s
            .strip_prefix("-O")
            .or_else(|| s.strip_prefix('O'))
            .unwrap_or(s);
        OptLevel::ALL
            .iter()
            .find(|(name, _)| *name == bare)
            .map(|(_, level)| *level)
            .ok_or_else(|| format!("unknown wasm-opt level {s:?}; use one of 0, 1, 2, 3, 4, s, z"))
    }
}

/// Whether this build of the pipeline has binaryen built in.
pub const AVAILABLE: bool = cfg!(feature = "wasm-opt");

/// The environment variable naming a `wasm-opt` executable to use (before
/// the built-in binaryen and `PATH`).
pub const ENV: &str = "FN_WASM_OPT";

/// The feature flags given to an external `wasm-opt`: what rustc's
/// wasm32-wasip2 output uses (WebAssembly 2.0), as for the built-in one.
const FEATURE_FLAGS: [&str; 6] = [
    "--enable-bulk-memory",
    "--enable-mutable-globals",
    "--enable-sign-ext",
    "--enable-nontrapping-float-to-int",
    "--enable-reference-types",
    "--enable-multivalue",
];

/// Which binaryen optimises.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Optimizer {
    /// The one compiled into cargo-fn (its `wasm-opt` feature).
    Builtin,
    /// A `wasm-opt` executable.
    External(PathBuf),
}

impl fmt::Display for Optimizer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Optimizer::Builtin => f.write_str("binaryen built into cargo-fn"),
            Optimizer::External(path) => write!(f, "{}", path.display()),
        }
    }
}

/// The optimiser builds use: the `wasm-opt` named by `FN_WASM_OPT` when it is
/// set, else the built-in binaryen, else the first `wasm-opt` on `PATH`.
pub fn optimizer() -> Option<Optimizer> {
    optimizer_from(std::env::var_os(ENV), std::env::var_os("PATH"))
}

fn optimizer_from(
    named: Option<std::ffi::OsString>,
    path: Option<std::ffi::OsString>,
) -> Option<Optimizer> {
    if let Some(named) = named.filter(|n| !n.is_empty()) {
        return Some(Optimizer::External(named.into()));
    }
    if AVAILABLE {
        return Some(Optimizer::Builtin);
    }
    std::env::split_paths(&path?)
        .map(|dir| dir.join("wasm-opt"))
        .find(|candidate| is_executable(candidate))
        .map(Optimizer::External)
}

fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt as _;
    std::fs::metadata(path).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

/// The error for a build that asks for wasm-opt where there is none.
pub fn missing() -> BuildError {
    BuildError::Optimizer(format!(
        "no wasm-opt: this cargo-fn was built without binaryen (its `wasm-opt` \
         feature), {ENV} is not set and no `wasm-opt` is on PATH; install binaryen \
         (`apt install binaryen`, `brew install binaryen`, `npm install -g binaryen`), \
         reinstall cargo-fn with `--features wasm-opt`, or build with `--wasm-opt none`"
    ))
}

/// Optimises the main core module of `component` at `level` with `tool`;
/// every other section is copied unchanged.
pub fn component(
    component: &[u8],
    level: OptLevel,
    tool: &Optimizer,
) -> Result<Vec<u8>, BuildError> {
    let binary = sections::parse(component)?;
    let mut out = Vec::with_capacity(component.len());
    out.extend_from_slice(binary.header);
    let mut optimized = 0;
    for section in &binary.sections {
        if section.kind == SectionKind::Module
            && sections::module_role(section.data)? == ModuleRole::Main
        {
            let module = module(section.data, level, tool)?;
            sections::push_section(&mut out, section.id, &module);
            optimized += 1;
        } else {
            sections::push_section(&mut out, section.id, section.data);
        }
    }
    if optimized != 1 {
        return Err(WasmError::UnsupportedLayout(format!(
            "expected one main core module to optimise, found {optimized}"
        ))
        .into());
    }
    Ok(out)
}

/// Runs wasm-opt (`tool`) on one core module, with the WebAssembly 2.0
/// features rustc's output already uses and nothing newer.
pub fn module(module: &[u8], level: OptLevel, tool: &Optimizer) -> Result<Vec<u8>, BuildError> {
    // Both work on files.
    let dir = tempfile::tempdir().map_err(|e| BuildError::Io {
        action: "create a scratch directory in",
        path: std::env::temp_dir(),
        source: e,
    })?;
    let input = dir.path().join("in.wasm");
    let output = dir.path().join("out.wasm");
    std::fs::write(&input, module).map_err(|e| BuildError::Io {
        action: "write",
        path: input.clone(),
        source: e,
    })?;
    match tool {
        Optimizer::Builtin => builtin(&input, &output, level)?,
        Optimizer::External(program) => external(program, &input, &output, level)?,
    }
    std::fs::read(&output).map_err(|e| BuildError::Io {
        action: "read",
        path: output,
        source: e,
    })
}

/// A `wasm-opt` executable: `wasm-opt -O<level> -g <features> in -o out`
/// (`-g` keeps the names section, as the built-in run does; stripping comes
/// later).
fn external(
    program: &Path,
    input: &Path,
    output: &Path,
    level: OptLevel,
) -> Result<(), BuildError> {
    let ran = std::process::Command::new(program)
        .arg(level.to_string())
        .arg("-g")
        .args(FEATURE_FLAGS)
        .arg(input)
        .arg("-o")
        .arg(output)
        .output()
        .map_err(|e| {
            BuildError::Optimizer(format!(
                "could not run {} ({e}); set {ENV} to a wasm-opt executable, or build \
                 with `--wasm-opt none`",
                program.display()
            ))
        })?;
    if !ran.status.success() {
        return Err(BuildError::Optimizer(format!(
            "{} {level} failed ({}): {}",
            program.display(),
            ran.status,
            String::from_utf8_lossy(&ran.stderr).trim()
        )));
    }
    Ok(())
}

#[cfg(feature = "wasm-opt")]
fn builtin(input: &Path, output: &Path, level: OptLevel) -> Result<(), BuildError> {
    use wasm_opt::{Feature, OptimizationOptions};
    let mut opts = match level {
        OptLevel::O0 => OptimizationOptions::new_opt_level_0(),
        OptLevel::O1 => OptimizationOptions::new_opt_level_1(),
        OptLevel::O2 => OptimizationOptions::new_opt_level_2(),
        OptLevel::O3 => OptimizationOptions::new_opt_level_3(),
        OptLevel::O4 => OptimizationOptions::new_opt_level_4(),
        OptLevel::Os => OptimizationOptions::new_optimize_for_size(),
        OptLevel::Oz => OptimizationOptions::new_optimize_for_size_aggressively(),
    };
    opts.debug_info(true);
    // What rustc's wasm32-wasip2 output uses (WebAssembly 2.0), whether or
    // not the module still has its `target_features` section; binaryen
    // refuses `memory.copy` and friends otherwise. Every host in the table
    // supports these (the same list as `FEATURE_FLAGS`).
    for feature in [
        Feature::BulkMemory,
        Feature::MutableGlobals,
        Feature::SignExt,
        Feature::TruncSat,
        Feature::ReferenceTypes,
        Feature::Multivalue,
    ] {
        opts.enable_feature(feature);
    }
    opts.run(input, output)
        .map_err(|e| BuildError::Optimizer(e.to_string()))
}

/// Without binaryen built in: [`optimizer`] never picks it.
#[cfg(not(feature = "wasm-opt"))]
fn builtin(_input: &Path, _output: &Path, _level: OptLevel) -> Result<(), BuildError> {
    Err(missing())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn levels_parse_with_or_without_the_flag_prefix() {
        assert_eq!("s".parse::<OptLevel>().unwrap(), OptLevel::Os);
        assert_eq!("-Oz".parse::<OptLevel>().unwrap(), OptLevel::Oz);
        assert_eq!("O3".parse::<OptLevel>().unwrap(), OptLevel::O3);
        assert!(
            "fast"
                .parse::<OptLevel>()
                .unwrap_err()
                .contains("0, 1, 2, 3, 4, s, z")
        );
        assert_eq!(OptLevel::Oz.to_string(), "-Oz");
    }

    #[test]
    fn the_optimizer_is_fn_wasm_opt_then_the_built_in_one_then_path() {
        use std::os::unix::fs::PermissionsExt as _;
        let dir = tempfile::tempdir().unwrap();
        let (plain, executable) = (dir.path().join("plain"), dir.path().join("bin"));
        for (folder, mode) in [(&plain, 0o644), (&executable, 0o755)] {
            std::fs::create_dir(folder).unwrap();
            let file = folder.join("wasm-opt");
            std::fs::write(&file, "#!/bin/sh\n").unwrap();
            std::fs::set_permissions(&file, std::fs::Permissions::from_mode(mode)).unwrap();
        }
        let path = std::env::join_paths([&plain, &executable]).unwrap();
        assert_eq!(
            optimizer_from(Some("/opt/binaryen/wasm-opt".into()), Some(path.clone())),
            Some(Optimizer::External("/opt/binaryen/wasm-opt".into())),
            "FN_WASM_OPT comes first"
        );
        let from_path = if AVAILABLE {
            Optimizer::Builtin
        } else {
            Optimizer::External(executable.join("wasm-opt"))
        };
        assert_eq!(
            optimizer_from(Some("".into()), Some(path)),
            Some(from_path),
            "an empty FN_WASM_OPT is unset; a wasm-opt that is not executable is skipped"
        );
        let only_plain = std::env::join_paths([&plain]).unwrap();
        assert_eq!(
            optimizer_from(None, Some(only_plain)),
            AVAILABLE.then_some(Optimizer::Builtin)
        );
    }

    #[cfg(feature = "wasm-opt")]
    #[test]
    fn optimizing_a_module_keeps_its_exports_and_validates() {
        let wat = r#"(module
            (func $unused (result i32) i32.const 7)
            (func (export "add") (param i32 i32) (result i32)
                (local i32)
                local.get 0
                local.get 1
                i32.add
                local.set 2
                local.get 2))"#;
        let before = wat::parse_str(wat).unwrap();
        let after = module(&before, OptLevel::Oz, &Optimizer::Builtin).unwrap();
        assert!(
            after.len() < before.len(),
            "{} -> {}",
            before.len(),
            after.len()
        );
        wasmparser::Validator::new().validate_all(&after).unwrap();
        let exports: Vec<String> = wasmparser::Parser::new(0)
            .parse_all(&after)
            .filter_map(|p| match p.unwrap() {
                wasmparser::Payload::ExportSection(s) => Some(
                    s.into_iter()
                        .map(|e| e.unwrap().name.to_owned())
                        .collect::<Vec<_>>(),
                ),
                _ => None,
            })
            .flatten()
            .collect();
        assert_eq!(exports, ["add"]);
    }
}
