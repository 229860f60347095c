use super::*;
use wasm_encoder::{
    EntityType, ExportKind, ExportSection, ImportSection, MemoryType, Module, TypeSection,
};

/// A core module importing what wasi-libc and newer bindings import, at two
/// versions, plus an import that must stay.
fn std_like_module() -> Vec<u8> {
    let mut types = TypeSection::new();
    types.ty().function([wasm_encoder::ValType::I32], []); // 0: (i32) -> ()
    types.ty().function([], [wasm_encoder::ValType::I32]); // 1: () -> i32
    let mut imports = ImportSection::new();
    for (module, name, ty) in [
        ("wasi:cli/environment@0.2.0", "get-environment", 0),
        ("wasi:cli/environment@0.2.12", "get-environment", 0),
        ("wasi:cli/environment@0.2.0", "initial-cwd", 0),
        ("wasi:cli/exit@0.2.0", "exit", 0),
        (
            "wasi:cli/terminal-input@0.2.0",
            "[resource-drop]terminal-input",
            0,
        ),
        ("wasi:cli/terminal-stdout@0.2.0", "get-terminal-stdout", 0),
        ("wasi:cli/stdout@0.2.0", "get-stdout", 1),
        ("wasi:io/poll@0.2.0", "[resource-drop]pollable", 0),
    ] {
        imports.import(module, name, EntityType::Function(ty));
    }
    let mut module = Module::new();
    module.section(&types).section(&imports);
    let mut memories = wasm_encoder::MemorySection::new();
    memories.memory(MemoryType {
        minimum: 1,
        maximum: None,
        memory64: false,
        shared: false,
        page_size_log2: None,
    });
    module.section(&memories);
    let mut exports = ExportSection::new();
    exports.export("memory", ExportKind::Memory, 0);
    module.section(&exports);
    module.section(&wasm_encoder::CustomSection {
        name: "producers".into(),
        data: b"\0".as_slice().into(),
    });
    module.finish()
}

fn imports_of(module: &[u8]) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for payload in Parser::new(0).parse_all(module) {
        if let Payload::ImportSection(s) = payload.unwrap() {
            for i in s.into_imports() {
                let i = i.unwrap();
                out.push((i.module.to_string(), i.name.to_string()));
            }
        }
    }
    out
}

#[test]
fn redirects_stubbed_interfaces_of_every_version() {
    let redirected = redirect_imports(&std_like_module(), false).unwrap();
    wasmparser::Validator::new()
        .validate_all(&redirected.module)
        .unwrap();
    let imports = imports_of(&redirected.module);
    let stub = |n: &str| (STUB_MODULE.to_string(), n.to_string());
    assert_eq!(
        imports,
        [
            stub("wasi:cli/environment#get-environment"),
            stub("wasi:cli/environment#get-environment"),
            stub("wasi:cli/environment#initial-cwd"),
            stub("wasi:cli/exit#exit"),
            stub("wasi:cli/terminal-input#[resource-drop]terminal-input"),
            stub("wasi:cli/terminal-stdout#get-terminal-stdout"),
            ("wasi:cli/stdout@0.2.0".into(), "get-stdout".into()),
            (
                "wasi:io/poll@0.2.0".into(),
                "[resource-drop]pollable".into()
            ),
        ]
    );
    let behaviours: Vec<_> = redirected
        .stubs
        .iter()
        .map(|s| (s.name.as_str(), s.behaviour))
        .collect();
    assert_eq!(
        behaviours,
        [
            ("wasi:cli/environment#get-environment", Behaviour::EmptyList),
            ("wasi:cli/environment#initial-cwd", Behaviour::NoneOption),
            ("wasi:cli/exit#exit", Behaviour::Trap),
            (
                "wasi:cli/terminal-input#[resource-drop]terminal-input",
                Behaviour::Nop
            ),
            (
                "wasi:cli/terminal-stdout#get-terminal-stdout",
                Behaviour::NoneOption
            ),
        ]
    );
}

#[test]
fn drops_custom_sections_unless_asked_to_keep_them() {
    let has_custom = |m: &[u8]| {
        Parser::new(0)
            .parse_all(m)
            .any(|p| matches!(p.unwrap(), Payload::CustomSection(_)))
    };
    assert!(has_custom(&std_like_module()));
    assert!(!has_custom(
        &redirect_imports(&std_like_module(), false).unwrap().module
    ));
    assert!(has_custom(
        &redirect_imports(&std_like_module(), true).unwrap().module
    ));
}

#[test]
fn unexpected_shapes_trap() {
    let i32_to_i32 = FuncType::new([wasmparser::ValType::I32], [wasmparser::ValType::I32]);
    let retptr = FuncType::new([wasmparser::ValType::I32], []);
    assert_eq!(
        behaviour("wasi:cli/environment", "get-environment", &i32_to_i32),
        Behaviour::Trap
    );
    assert_eq!(
        behaviour("wasi:cli/environment", "get-environment", &retptr),
        Behaviour::EmptyList
    );
    assert_eq!(
        behaviour("wasi:cli/exit", "exit-with-code", &retptr),
        Behaviour::Trap
    );
    assert_eq!(
        behaviour("wasi:cli/environment", "something-new", &retptr),
        Behaviour::Trap
    );
}

/// The imports and code of an adapter: (import names, operators per function).
fn adapter_parts(adapter: &[u8]) -> (Vec<String>, Vec<String>) {
    let mut bodies = Vec::new();
    let mut imports = Vec::new();
    for payload in Parser::new(0).parse_all(adapter) {
        match payload.unwrap() {
            Payload::ImportSection(s) => {
                imports.extend(s.into_imports().map(|i| {
                    let i = i.unwrap();
                    format!("{}#{}", i.module, i.name)
                }));
            }
            Payload::CodeSectionEntry(body) => {
                let ops: Vec<String> = body
                    .get_operators_reader()
                    .unwrap()
                    .into_iter()
                    .map(|op| format!("{:?}", op.unwrap()))
                    .collect();
                bodies.push(ops.join(" "));
            }
            _ => {}
        }
    }
    (imports, bodies)
}

#[test]
fn the_hash_map_seed_comes_from_wasi_random() {
    let mut types = TypeSection::new();
    types.ty().function([wasm_encoder::ValType::I32], []);
    let mut imports = ImportSection::new();
    imports.import(
        "wasi:random/insecure-seed@0.2.6",
        "insecure-seed",
        EntityType::Function(0),
    );
    let mut module = Module::new();
    module.section(&types).section(&imports);
    let redirected = redirect_imports(&module.finish(), false).unwrap();
    assert_eq!(redirected.stubs[0].behaviour, Behaviour::RandomSeed);

    let adapter = adapter_module(&redirected.stubs).unwrap();
    wasmparser::Validator::new().validate_all(&adapter).unwrap();
    let (imports, bodies) = adapter_parts(&adapter);
    assert_eq!(
        imports,
        ["env#memory", "wasi:random/random@0.2.12#get-random-u64"]
    );
    assert_eq!(
        bodies[0].matches("Call { function_index: 0 }").count(),
        2,
        "{}",
        bodies[0]
    );
    assert!(
        bodies[0].contains("I64Store { memarg: MemArg { align: 3, max_align: 3, offset: 8"),
        "{}",
        bodies[0]
    );
    let has_metadata = Parser::new(0).parse_all(&adapter).any(|p| {
        matches!(p.unwrap(), Payload::CustomSection(c) if c.name().starts_with("component-type"))
    });
    assert!(
        has_metadata,
        "the adapter declares its wasi:random import to wit-component"
    );
}

/// The adapter's code, as operator names per exported function.
#[test]
fn adapter_bodies_write_empty_values_and_trap_on_exit() {
    let stubs = redirect_imports(&std_like_module(), false).unwrap().stubs;
    let adapter = adapter_module(&stubs).unwrap();
    wasmparser::Validator::new().validate_all(&adapter).unwrap();
    let (imports, bodies) = adapter_parts(&adapter);
    assert_eq!(
        imports,
        ["env#memory"],
        "the adapter imports only the main memory"
    );
    assert_eq!(bodies.len(), stubs.len());
    assert!(
        bodies[0].contains("I32Store { memarg: MemArg { align: 2, max_align: 2, offset: 4"),
        "{}",
        bodies[0]
    );
    assert_eq!(
        bodies[0].matches("I32Const { value: 0 }").count(),
        2,
        "{}",
        bodies[0]
    );
    assert!(bodies[1].contains("I32Store8"), "{}", bodies[1]);
    assert_eq!(bodies[2], "Unreachable End");
    assert_eq!(bodies[3], "End");
}
