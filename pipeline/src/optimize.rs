//! Binaryen's optimiser (`wasm-opt`) over the main core module of a
//! component.
//!
//! The component's other parts (its types, canonical functions, the shim
//! and fixup modules) only name the main module's imports and exports,
//! which wasm-opt keeps, so the module is replaced in place and the result
//! is validated with the rest of the pipeline. Binaryen is built from
//! source by the `wasm-opt` crate: cargo-fn without its `wasm-opt` feature
//! has no optimiser, and says so when asked for one.

use std::fmt;
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

/// Whether this build of the pipeline has binaryen.
pub const AVAILABLE: bool = cfg!(feature = "wasm-opt");

/// Optimises the main core module of `component` at `level`; every other
/// section is copied unchanged.
pub fn component(component: &[u8], level: OptLevel) -> Result<Vec<u8>, BuildError> {
    let binary = sections::parse(component)?;
    let mut out = Vec::with_capacity(component.len());
    out.extend_from_slice(binary.header);
    let mut optimized = 0;
    for section in &binary.sections {
        if section.kind == SectionKind::Module
            && sections::module_role(section.data)? == ModuleRole::Main
        {
            let module = module(section.data, level)?;
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

/// Runs wasm-opt on one core module, with the WebAssembly 2.0 features
/// rustc's output already uses and nothing newer.
#[cfg(feature = "wasm-opt")]
pub fn module(module: &[u8], level: OptLevel) -> Result<Vec<u8>, BuildError> {
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
    // supports these.
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
    // The wasm-opt crate works on files.
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
    opts.run(&input, &output)
        .map_err(|e| BuildError::Optimizer(e.to_string()))?;
    std::fs::read(&output).map_err(|e| BuildError::Io {
        action: "read",
        path: output,
        source: e,
    })
}

/// Without binaryen: refuses, naming the feature to build cargo-fn with.
#[cfg(not(feature = "wasm-opt"))]
pub fn module(_module: &[u8], _level: OptLevel) -> Result<Vec<u8>, BuildError> {
    Err(BuildError::Optimizer(
        "this cargo-fn was built without wasm-opt (its `wasm-opt` cargo feature); \
         reinstall it with that feature, or build with `--wasm-opt none`"
            .into(),
    ))
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
        let after = module(&before, OptLevel::Oz).unwrap();
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
