//! The stub adapter fn-pipeline generates, executed on wasmtime (core wasm):
//! empty environment, no terminal, exit traps.

use fn_pipeline::stubs::{Behaviour, StubImport, adapter_module};
use wasmparser::ValType::I32;
use wasmtime::{Engine, Instance, Memory, MemoryType, Module, Store};

fn stub(name: &str, behaviour: Behaviour) -> StubImport {
    StubImport {
        name: name.into(),
        params: vec![I32],
        results: vec![],
        behaviour,
    }
}

#[test]
fn the_adapter_behaves() {
    let adapter = adapter_module(&[
        stub("wasi:cli/environment#get-environment", Behaviour::EmptyList),
        stub(
            "wasi:cli/terminal-stdout#get-terminal-stdout",
            Behaviour::NoneOption,
        ),
        stub(
            "wasi:cli/terminal-input#[resource-drop]terminal-input",
            Behaviour::Nop,
        ),
        stub("wasi:cli/exit#exit", Behaviour::Trap),
    ])
    .unwrap();
    let engine = Engine::default();
    let module = Module::new(&engine, &adapter).unwrap();
    let mut store = Store::new(&engine, ());
    let memory = Memory::new(&mut store, MemoryType::new(1, None)).unwrap();
    let instance = Instance::new(&mut store, &module, &[memory.into()]).unwrap();
    memory.data_mut(&mut store)[..64].fill(0xff);

    let call = |store: &mut Store<()>, name: &str, arg: i32| {
        instance
            .get_typed_func::<i32, ()>(&mut *store, name)
            .unwrap()
            .call(&mut *store, arg)
    };
    call(&mut store, "wasi:cli/environment#get-environment", 8).unwrap();
    assert_eq!(
        &memory.data(&store)[8..17],
        &[0, 0, 0, 0, 0, 0, 0, 0, 0xff],
        "empty list, nothing more"
    );
    call(
        &mut store,
        "wasi:cli/terminal-stdout#get-terminal-stdout",
        32,
    )
    .unwrap();
    assert_eq!(
        memory.data(&store)[32..34],
        [0, 0xff],
        "option none is one zero byte"
    );
    call(
        &mut store,
        "wasi:cli/terminal-input#[resource-drop]terminal-input",
        5,
    )
    .unwrap();
    let trap = call(&mut store, "wasi:cli/exit#exit", 0).unwrap_err();
    assert_eq!(
        trap.downcast_ref::<wasmtime::Trap>(),
        Some(&wasmtime::Trap::UnreachableCodeReached)
    );
}
