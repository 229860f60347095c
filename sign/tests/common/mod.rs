//! A small but real component, built with wasm-encoder, for the tests.

use std::borrow::Cow;

use wasm_encoder::{
    CodeSection, Component, ComponentTypeSection, CustomSection, ExportKind, ExportSection,
    Function, FunctionSection, Instruction, Module, ModuleSection, PrimitiveValType, TypeSection,
    ValType,
};

/// A core module exporting `add(i32, i32) -> i32`.
fn core_module() -> Module {
    let mut types = TypeSection::new();
    types
        .ty()
        .function([ValType::I32, ValType::I32], [ValType::I32]);
    let mut functions = FunctionSection::new();
    functions.function(0);
    let mut exports = ExportSection::new();
    exports.export("add", ExportKind::Func, 0);
    let mut code = CodeSection::new();
    let mut add = Function::new([]);
    add.instruction(&Instruction::LocalGet(0));
    add.instruction(&Instruction::LocalGet(1));
    add.instruction(&Instruction::I32Add);
    add.instruction(&Instruction::End);
    code.function(&add);
    let mut module = Module::new();
    module
        .section(&types)
        .section(&functions)
        .section(&exports)
        .section(&code);
    module
}

fn custom(name: &str, data: &[u8]) -> CustomSection<'static> {
    CustomSection {
        name: Cow::Owned(name.to_string()),
        data: Cow::Owned(data.to_vec()),
    }
}

/// A component: a custom section, an embedded core module, a component
/// type section and another custom section. Validates with wasmparser.
pub fn component() -> Vec<u8> {
    let mut types = ComponentTypeSection::new();
    types
        .function()
        .params([("a", PrimitiveValType::U32), ("b", PrimitiveValType::U32)])
        .result(Some(PrimitiveValType::U32.into()));
    let mut component = Component::new();
    component
        .section(&custom("producers-ish", b"cargo-fn test"))
        .section(&ModuleSection(&core_module()))
        .section(&types)
        .section(&custom("trailer", b"last section"));
    let bytes = component.finish();
    assert_eq!(
        bytes[4..8],
        [0x0d, 0x00, 0x01, 0x00],
        "component layer bytes"
    );
    validate(&bytes);
    bytes
}

/// A plain core module, for the tests that cover modules.
pub fn module() -> Vec<u8> {
    let bytes = core_module().finish();
    validate(&bytes);
    bytes
}

pub fn validate(wasm: &[u8]) {
    wasmparser::Validator::new_with_features(wasmparser::WasmFeatures::all())
        .validate_all(wasm)
        .expect("a valid wasm binary");
}

/// Each top-level section's byte range (id, size and contents), found
/// independently of the library under test.
#[allow(dead_code)] // not every test file uses it
pub fn section_ranges(wasm: &[u8]) -> Vec<std::ops::Range<usize>> {
    let mut ranges = Vec::new();
    let mut pos = 8;
    while pos < wasm.len() {
        let start = pos;
        pos += 1; // id
        let (mut size, mut shift) = (0usize, 0);
        loop {
            let b = wasm[pos];
            pos += 1;
            size |= usize::from(b & 0x7f) << shift;
            shift += 7;
            if b & 0x80 == 0 {
                break;
            }
        }
        pos += size;
        assert!(pos <= wasm.len(), "section at {start} runs past the end");
        ranges.push(start..pos);
    }
    ranges
}
