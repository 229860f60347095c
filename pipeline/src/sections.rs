//! Section-level access to modules and components: list the top-level
//! sections, find the core modules of a component, and write a binary back
//! from (possibly rewritten) sections. Code is copied, never re-encoded, so
//! these passes are cheap and cannot change behaviour.

use std::ops::Range;

use wasmparser::{Encoding, Parser, Payload, TypeRef};

use crate::error::WasmError;

/// A top-level section of a module or component.
#[derive(Debug, Clone)]
pub struct Section<'a> {
    /// The section id (module and component ids overlap: see `kind`).
    pub id: u8,
    /// The section's contents, without id and size.
    pub data: &'a [u8],
    /// What the section is.
    pub kind: SectionKind<'a>,
}

/// What a [`Section`] is, as far as the pipeline cares.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SectionKind<'a> {
    /// A custom section with its name.
    Custom(&'a str),
    /// A core module nested in a component.
    Module,
    /// A component nested in a component.
    Component,
    /// A core module's import section.
    Imports,
    /// Anything else.
    Other,
}

/// A parsed binary: its encoding, header and top-level sections.
#[derive(Debug)]
pub struct Binary<'a> {
    /// Module or component.
    pub encoding: Encoding,
    /// The 8-byte preamble (magic and version).
    pub header: &'a [u8],
    /// Top-level sections in order.
    pub sections: Vec<Section<'a>>,
}

/// Splits `wasm` into its top-level sections; nested modules and components
/// are kept whole.
pub fn parse(wasm: &[u8]) -> Result<Binary<'_>, WasmError> {
    let mut encoding = None;
    let mut sections = Vec::new();
    let mut depth = 0u32;
    for payload in Parser::new(0).parse_all(wasm) {
        let payload = payload?;
        match &payload {
            Payload::Version { encoding: e, .. } => {
                if depth == 0 {
                    encoding = Some(*e);
                }
                continue;
            }
            Payload::End(_) => {
                if depth == 0 {
                    break;
                }
                depth -= 1;
                continue;
            }
            _ => {}
        }
        if depth > 0 {
            continue;
        }
        let Some((id, range)) = payload.as_section() else {
            continue;
        };
        let kind = match &payload {
            Payload::CustomSection(c) => SectionKind::Custom(c.name()),
            Payload::ModuleSection { .. } => SectionKind::Module,
            Payload::ComponentSection { .. } => SectionKind::Component,
            Payload::ImportSection(_) => SectionKind::Imports,
            _ => SectionKind::Other,
        };
        if matches!(kind, SectionKind::Module | SectionKind::Component) {
            depth += 1;
        }
        sections.push(Section {
            id,
            data: slice(wasm, range)?,
            kind,
        });
    }
    let encoding = encoding.ok_or(WasmError::Empty)?;
    Ok(Binary {
        encoding,
        header: &wasm[..8],
        sections,
    })
}

/// The bytes of a section. A nested module's range comes from its declared
/// size, before the parser has read (and checked) its contents.
fn slice(wasm: &[u8], range: Range<u64>) -> Result<&[u8], WasmError> {
    let start = usize::try_from(range.start).map_err(|_| WasmError::Truncated)?;
    let end = usize::try_from(range.end).map_err(|_| WasmError::Truncated)?;
    wasm.get(start..end).ok_or(WasmError::Truncated)
}

/// Appends one section (id, LEB128 size, contents) to `out`.
pub fn push_section(out: &mut Vec<u8>, id: u8, data: &[u8]) {
    out.push(id);
    let mut size = data.len() as u64;
    loop {
        let byte = (size & 0x7f) as u8;
        size >>= 7;
        if size == 0 {
            out.push(byte);
            break;
        }
        out.push(byte | 0x80);
    }
    out.extend_from_slice(data);
}

/// Drops the custom sections of `wasm` and of every module and component
/// nested in it, except those for which `keep` says yes.
pub fn strip_custom_sections(
    wasm: &[u8],
    keep: &dyn Fn(&str) -> bool,
) -> Result<Vec<u8>, WasmError> {
    let binary = parse(wasm)?;
    let mut out = Vec::with_capacity(wasm.len());
    out.extend_from_slice(binary.header);
    for section in &binary.sections {
        match section.kind {
            SectionKind::Custom(name) if !keep(name) => {}
            SectionKind::Module | SectionKind::Component => {
                let inner = strip_custom_sections(section.data, keep)?;
                push_section(&mut out, section.id, &inner);
            }
            _ => push_section(&mut out, section.id, section.data),
        }
    }
    Ok(out)
}

/// What a core module inside a component is for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ModuleRole {
    /// The compiled program.
    Main,
    /// wit-component's indirection shim (exports the `$imports` table).
    Shim,
    /// wit-component's fixup module (fills the `$imports` table).
    Fixup,
    /// A WASI preview1 adapter (imports from `__main_module__`).
    Adapter,
    /// Another adapter, such as cargo fn's stubs: it imports the main
    /// module's memory instead of defining one.
    Helper,
}

/// The top-level core modules of a component, with their roles.
pub fn core_modules(component: &[u8]) -> Result<Vec<(ModuleRole, &[u8])>, WasmError> {
    let binary = parse(component)?;
    if binary.encoding != Encoding::Component {
        return Err(WasmError::NotAComponent);
    }
    let mut out = Vec::new();
    for section in binary
        .sections
        .iter()
        .filter(|s| s.kind == SectionKind::Module)
    {
        out.push((module_role(section.data)?, section.data));
    }
    Ok(out)
}

pub(crate) fn module_role(module: &[u8]) -> Result<ModuleRole, WasmError> {
    let mut role = ModuleRole::Main;
    for payload in Parser::new(0).parse_all(module) {
        match payload? {
            Payload::ImportSection(imports) => {
                for import in imports.into_imports() {
                    let import = import?;
                    // wasm-component-ld imports the table from "",
                    // wit-component's encoder from "shim".
                    if import.name == "$imports" {
                        return Ok(ModuleRole::Fixup);
                    }
                    if import.module == "__main_module__" {
                        role = ModuleRole::Adapter;
                    } else if role == ModuleRole::Main && matches!(import.ty, TypeRef::Memory(_)) {
                        role = ModuleRole::Helper;
                    }
                }
            }
            Payload::ExportSection(exports) => {
                for export in exports {
                    if export?.name == "$imports" {
                        return Ok(ModuleRole::Shim);
                    }
                }
            }
            Payload::CodeSectionStart { .. } => break,
            _ => {}
        }
    }
    Ok(role)
}

/// The one main module of a component produced by `wasm-component-ld`.
pub fn main_module(component: &[u8]) -> Result<&[u8], WasmError> {
    let modules = core_modules(component)?;
    let mains: Vec<_> = modules
        .iter()
        .filter(|(role, _)| *role == ModuleRole::Main)
        .collect();
    match (mains.as_slice(), modules.iter().any(|(r, _)| *r == ModuleRole::Adapter)) {
        ([(_, main)], false) => Ok(main),
        (_, true) => Err(WasmError::UnsupportedLayout(
            "it contains a WASI preview1 adapter module; build for wasm32-wasip2, not wasm32-wasip1".into(),
        )),
        _ => Err(WasmError::UnsupportedLayout(format!(
            "expected one main core module, found {}",
            mains.len()
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use wasm_encoder::{
        CodeSection, Component, CustomSection, ExportKind, ExportSection, Function,
        FunctionSection, Module, ModuleSection, TypeSection,
    };

    fn module_with_names() -> Module {
        let mut m = Module::new();
        let mut types = TypeSection::new();
        types.ty().function([], []);
        m.section(&types);
        let mut funcs = FunctionSection::new();
        funcs.function(0);
        m.section(&funcs);
        let mut exports = ExportSection::new();
        exports.export("run", ExportKind::Func, 0);
        m.section(&exports);
        let mut code = CodeSection::new();
        let mut f = Function::new([]);
        f.instructions().end();
        code.function(&f);
        m.section(&code);
        m.section(&CustomSection {
            name: "name".into(),
            data: b"\0\0".as_slice().into(),
        });
        m.section(&CustomSection {
            name: "producers".into(),
            data: b"\0".as_slice().into(),
        });
        m
    }

    fn custom_names(wasm: &[u8]) -> Vec<String> {
        Parser::new(0)
            .parse_all(wasm)
            .filter_map(|p| match p.unwrap() {
                Payload::CustomSection(c) => Some(c.name().to_string()),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn a_truncated_nested_module_is_an_error_not_a_panic() {
        // Found by `fuzz/fuzz_targets/component.rs`: a nested module's range
        // is its declared size, known before its contents are read.
        let mut c = Component::new();
        c.section(&ModuleSection(&module_with_names()));
        let wasm = c.finish();
        for len in 9..wasm.len() {
            assert!(parse(&wasm[..len]).is_err(), "truncated to {len} bytes");
            assert!(strip_custom_sections(&wasm[..len], &|_| false).is_err());
        }
        assert!(parse(&wasm).is_ok());
    }

    #[test]
    fn strips_custom_sections_recursively() {
        let mut c = Component::new();
        c.section(&ModuleSection(&module_with_names()));
        c.section(&CustomSection {
            name: "producers".into(),
            data: b"\0".as_slice().into(),
        });
        let wasm = c.finish();
        assert_eq!(custom_names(&wasm), ["name", "producers", "producers"]);

        let stripped = strip_custom_sections(&wasm, &|_| false).unwrap();
        assert!(custom_names(&stripped).is_empty());
        assert!(stripped.len() < wasm.len());
        wasmparser::Validator::new()
            .validate_all(&stripped)
            .unwrap();

        let kept = strip_custom_sections(&wasm, &|n| n == "name").unwrap();
        assert_eq!(custom_names(&kept), ["name"]);
    }

    #[test]
    fn roundtrip_without_changes_is_identity() {
        let wasm = module_with_names().finish();
        assert_eq!(strip_custom_sections(&wasm, &|_| true).unwrap(), wasm);
    }

    #[test]
    fn finds_the_main_module() {
        let mut c = Component::new();
        let main = module_with_names();
        c.section(&ModuleSection(&main));
        let wasm = c.finish();
        assert_eq!(main_module(&wasm).unwrap(), main.as_slice());
        assert!(matches!(
            main_module(&main.finish()),
            Err(WasmError::NotAComponent)
        ));
    }

    #[test]
    fn tells_the_program_from_wit_components_helper_modules() {
        // The layout `ComponentEncoder` writes when cargo fn adds its stubs
        // adapter: the program, the adapter (imports the program's memory),
        // the shim (exports `$imports`) and the fixup (imports it from "shim").
        let module = |wat: &str| wat::parse_str(wat).unwrap();
        let main = module(r#"(module (memory (export "memory") 1) (func (export "run")))"#);
        let helper = module(r#"(module (import "env" "memory" (memory 0)) (func (export "f")))"#);
        let shim = module(r#"(module (table (export "$imports") 1 1 funcref))"#);
        let fixup = module(r#"(module (import "shim" "$imports" (table 1 1 funcref)))"#);
        let p1 = module(
            r#"(module (import "__main_module__" "run" (func)) (import "env" "memory" (memory 0)))"#,
        );
        let mut c = Component::new();
        for m in [&main, &helper, &shim, &fixup] {
            c.section(&wasm_encoder::RawSection { id: 1, data: m });
        }
        let wasm = c.finish();
        let roles: Vec<ModuleRole> = core_modules(&wasm)
            .unwrap()
            .into_iter()
            .map(|(r, _)| r)
            .collect();
        assert_eq!(
            roles,
            [
                ModuleRole::Main,
                ModuleRole::Helper,
                ModuleRole::Shim,
                ModuleRole::Fixup
            ]
        );
        assert_eq!(main_module(&wasm).unwrap(), main.as_slice());
        assert_eq!(module_role(&p1).unwrap(), ModuleRole::Adapter);
    }
}
