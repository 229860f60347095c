//! Supplying, inside the artifact, the parts of WASI that Rust's std imports
//! but a function never needs: an empty environment, no arguments, no working
//! directory, no terminals, an `exit` that traps, and the hash-map seed
//! (`wasi:random/insecure-seed`), drawn from `wasi:random/random` instead.
//!
//! The main core module's imports of those interfaces are redirected to a
//! private module name, [`STUB_MODULE`], whatever version or naming style they
//! use (wasi-libc imports `@0.2.0`, bindings generated later `@0.2.12`); a tiny
//! adapter core module generated here exports one function per redirected
//! import. wit-component then links the two, so the component no longer
//! imports these interfaces at all.

use std::collections::BTreeMap;

use wasm_encoder::reencode::{Reencode, RoundtripReencoder};
use wasm_encoder::{
    CodeSection, EntityType, ExportKind, ExportSection, Function, FunctionSection, ImportSection,
    MemArg, MemArgTarget, MemoryType, Module, RawSection, TypeSection,
};
use wasmparser::{FuncType, Parser, Payload, TypeRef};

use crate::error::WasmError;
use crate::sections::{self, SectionKind};

/// Interfaces (`ns:pkg/name`, any version) supplied inside the artifact.
pub const STUBBED: &[&str] = &[
    "wasi:cli/environment",
    "wasi:cli/exit",
    "wasi:cli/terminal-input",
    "wasi:cli/terminal-output",
    "wasi:cli/terminal-stdin",
    "wasi:cli/terminal-stdout",
    "wasi:cli/terminal-stderr",
    "wasi:random/insecure-seed",
];

/// The module name the redirected imports use; the adapter is registered under it.
pub const STUB_MODULE: &str = "cargo-fn:stubs";

/// Whether `interface` (`ns:pkg/name`, no version) is supplied by the stubs.
pub fn is_stubbed(interface: &str) -> bool {
    STUBBED.contains(&interface)
}

/// What a stub function does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Behaviour {
    /// Writes an empty `list<_>` (pointer 0, length 0) to the return area.
    EmptyList,
    /// Writes `none` for an `option<_>` to the return area.
    NoneOption,
    /// Does nothing (resource drops of resources that are never created).
    Nop,
    /// Writes two `u64`s from `wasi:random/random.get-random-u64` to the return area.
    RandomSeed,
    /// Traps (`exit`, and anything unexpected).
    Trap,
}

/// The behaviour of `func` of a stubbed `interface`, given its core type.
pub fn behaviour(interface: &str, func: &str, ty: &FuncType) -> Behaviour {
    let takes_return_area = ty.params() == [wasmparser::ValType::I32] && ty.results().is_empty();
    let wanted = match (interface, func) {
        ("wasi:cli/environment", "get-environment" | "get-arguments") => Behaviour::EmptyList,
        ("wasi:cli/environment", "initial-cwd") => Behaviour::NoneOption,
        (
            "wasi:cli/terminal-stdin" | "wasi:cli/terminal-stdout" | "wasi:cli/terminal-stderr",
            "get-terminal-stdin" | "get-terminal-stdout" | "get-terminal-stderr",
        ) => Behaviour::NoneOption,
        ("wasi:random/insecure-seed", "insecure-seed") => Behaviour::RandomSeed,
        (_, f) if f.starts_with("[resource-drop]") && ty.results().is_empty() => {
            return Behaviour::Nop;
        }
        _ => return Behaviour::Trap,
    };
    if takes_return_area {
        wanted
    } else {
        Behaviour::Trap
    }
}

/// One redirected import: its new name and core type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StubImport {
    /// `ns:pkg/name#func`, the name imported from [`STUB_MODULE`].
    pub name: String,
    /// The core function type.
    pub params: Vec<wasmparser::ValType>,
    /// The core function results.
    pub results: Vec<wasmparser::ValType>,
    /// What the stub does.
    pub behaviour: Behaviour,
}

/// A main module with its stubbed imports redirected.
#[derive(Debug)]
pub struct Redirected {
    /// The rewritten core module.
    pub module: Vec<u8>,
    /// The redirected imports, one per distinct name.
    pub stubs: Vec<StubImport>,
}

/// Rewrites the main module: imports of stubbed interfaces now come from
/// [`STUB_MODULE`]; custom sections are dropped unless `keep_custom`.
pub fn redirect_imports(module: &[u8], keep_custom: bool) -> Result<Redirected, WasmError> {
    let types = func_types(module)?;
    let binary = sections::parse(module)?;
    let mut out = Module::new();
    let mut stubs: BTreeMap<String, StubImport> = BTreeMap::new();
    for section in &binary.sections {
        match section.kind {
            SectionKind::Custom(_) if !keep_custom => {}
            SectionKind::Imports => {
                let reader = wasmparser::ImportSectionReader::new(wasmparser::BinaryReader::new(
                    section.data,
                    0,
                ))?;
                let mut imports = ImportSection::new();
                for import in reader.into_imports() {
                    let import = import?;
                    let (interface, _) = crate::wit::split_versioned(import.module);
                    let TypeRef::Func(ty) = import.ty else {
                        RoundtripReencoder
                            .parse_import(&mut imports, import)
                            .map_err(encode_err)?;
                        continue;
                    };
                    if !is_stubbed(interface) {
                        RoundtripReencoder
                            .parse_import(&mut imports, import)
                            .map_err(encode_err)?;
                        continue;
                    }
                    let ty = types.get(ty as usize).ok_or_else(|| {
                        WasmError::UnsupportedLayout(format!("import type {ty} out of range"))
                    })?;
                    let name = format!("{interface}#{}", import.name);
                    let stub = StubImport {
                        name: name.clone(),
                        params: ty.params().to_vec(),
                        results: ty.results().to_vec(),
                        behaviour: behaviour(interface, import.name, ty),
                    };
                    if let Some(prev) = stubs.get(&name)
                        && (prev.params != stub.params || prev.results != stub.results)
                    {
                        return Err(WasmError::UnsupportedLayout(format!(
                            "`{name}` is imported with two different types"
                        )));
                    }
                    stubs.insert(name.clone(), stub);
                    let entity = RoundtripReencoder
                        .entity_type(import.ty)
                        .map_err(encode_err)?;
                    imports.import(STUB_MODULE, &name, entity);
                }
                out.section(&imports);
            }
            _ => {
                out.section(&RawSection {
                    id: section.id,
                    data: section.data,
                });
            }
        }
    }
    Ok(Redirected {
        module: out.finish(),
        stubs: stubs.into_values().collect(),
    })
}

fn encode_err<E: std::fmt::Display>(e: E) -> WasmError {
    WasmError::Encode(e.to_string())
}

/// The function types of a core module, by type index.
fn func_types(module: &[u8]) -> Result<Vec<FuncType>, WasmError> {
    for payload in Parser::new(0).parse_all(module) {
        if let Payload::TypeSection(types) = payload? {
            return Ok(types
                .into_iter_err_on_gc_types()
                .collect::<Result<_, _>>()?);
        }
    }
    Ok(Vec::new())
}

/// Generates the adapter core module that implements `stubs`. It imports
/// the main module's memory (`env.memory`, wit-component wires it) to write
/// return values and, when a stub needs randomness,
/// `wasi:random/random.get-random-u64`; its component-type metadata declares
/// that import.
pub fn adapter_module(stubs: &[StubImport]) -> Result<Vec<u8>, WasmError> {
    let needs_random = stubs.iter().any(|s| s.behaviour == Behaviour::RandomSeed);
    let mut types = TypeSection::new();
    let mut imports = ImportSection::new();
    let mut funcs = FunctionSection::new();
    let mut exports = ExportSection::new();
    let mut code = CodeSection::new();
    let memory = MemoryType {
        minimum: 0,
        maximum: None,
        memory64: false,
        shared: false,
        page_size_log2: None,
    };
    imports.import("env", "memory", EntityType::Memory(memory));
    let (random, first) = match needs_random {
        true => {
            let (resolve, world) = crate::wit::adapter_world();
            let module = random_interface_name(resolve, *world);
            types.ty().function([], [wasm_encoder::ValType::I64]);
            imports.import(&module, "get-random-u64", EntityType::Function(0));
            (Some(0), 1)
        }
        false => (None, 0),
    };
    for (index, stub) in stubs.iter().enumerate() {
        let index = first + index as u32;
        let convert =
            |v: &wasmparser::ValType| RoundtripReencoder.val_type(*v).expect("plain value types");
        types.ty().function(
            stub.params.iter().map(convert),
            stub.results.iter().map(convert),
        );
        funcs.function(index);
        exports.export(&stub.name, ExportKind::Func, index);
        code.function(&body(stub.behaviour, random));
    }
    let mut module = Module::new();
    module
        .section(&types)
        .section(&imports)
        .section(&funcs)
        .section(&exports)
        .section(&code);
    let mut bytes = module.finish();
    if needs_random {
        let (resolve, world) = crate::wit::adapter_world();
        wit_component::embed_component_metadata(
            &mut bytes,
            resolve,
            *world,
            wit_component::StringEncoding::UTF8,
            false,
        )
        .map_err(|e| WasmError::Encode(format!("{e:#}")))?;
    }
    Ok(bytes)
}

/// `wasi:random/random@<version>` as imported by the adapter world.
fn random_interface_name(resolve: &wit_parser::Resolve, world: wit_parser::WorldId) -> String {
    resolve.worlds[world]
        .imports
        .keys()
        .map(|k| resolve.name_world_key(k))
        .find(|n| n.starts_with("wasi:random/random@"))
        .expect("the adapter world imports wasi:random/random")
}

fn body(behaviour: Behaviour, random: Option<u32>) -> Function {
    let mut f = Function::new([]);
    let mut ins = f.instructions();
    let mem = |offset, align| MemArg {
        offset,
        align,
        target: MemArgTarget::Memory(0),
        ordering: None,
    };
    match behaviour {
        Behaviour::EmptyList => {
            ins.local_get(0).i32_const(0).i32_store(mem(0, 2));
            ins.local_get(0).i32_const(0).i32_store(mem(4, 2));
        }
        Behaviour::NoneOption => {
            ins.local_get(0).i32_const(0).i32_store8(mem(0, 0));
        }
        Behaviour::RandomSeed => {
            let random = random.expect("imported when needed");
            ins.local_get(0).call(random).i64_store(mem(0, 3));
            ins.local_get(0).call(random).i64_store(mem(8, 3));
        }
        Behaviour::Nop => {}
        Behaviour::Trap => {
            ins.unreachable();
        }
    }
    ins.end();
    f
}

#[cfg(test)]
#[path = "stubs_tests.rs"]
mod tests;
