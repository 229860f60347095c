//! The portable contract: a component exports `wasi:http/incoming-handler`
//! and imports nothing outside `wasi:http/proxy` except the capabilities
//! (`wasi:keyvalue` store/atomics, `wasi:config/store`) it uses.
//!
//! [`make_clean`] brings a component built by `cargo build --target
//! wasm32-wasip2` within the contract: std's `wasi:cli` environment, exit and
//! terminal imports are supplied inside the artifact (see [`crate::stubs`]),
//! and anything else outside the contract is refused.

use wit_component::{ComponentEncoder, DecodedWasm, StringEncoding};
use wit_parser::WorldKey;

use crate::error::WasmError;
use crate::{sections, stubs, wit};

/// Where an import stands with respect to the contract.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ImportClass {
    /// Part of `wasi:http/proxy`.
    Proxy,
    /// A capability of the contract (key-value, config).
    Capability,
    /// Outside the contract, but `cargo fn build` supplies it inside the artifact.
    Stubbable,
    /// Outside the contract.
    Foreign,
}

/// Classifies a component import name such as `wasi:io/poll@0.2.12`.
pub fn classify(import: &str) -> ImportClass {
    let (interface, _) = wit::split_versioned(import);
    let reference = wit::reference();
    if reference.in_proxy(interface) {
        ImportClass::Proxy
    } else if reference.capabilities().contains_key(interface) {
        ImportClass::Capability
    } else if stubs::is_stubbed(interface) {
        ImportClass::Stubbable
    } else {
        ImportClass::Foreign
    }
}

/// The names of a component's top-level imports and exports.
pub fn imports_and_exports(component: &[u8]) -> Result<(Vec<String>, Vec<String>), WasmError> {
    let binary = sections::parse(component)?;
    if binary.encoding != wasmparser::Encoding::Component {
        return Err(WasmError::NotAComponent);
    }
    let (mut imports, mut exports) = (Vec::new(), Vec::new());
    for section in &binary.sections {
        let reader = wasmparser::BinaryReader::new(section.data, 0);
        match section.id {
            // Component import and export sections.
            10 if section.kind == sections::SectionKind::Other => {
                for import in wasmparser::ComponentImportSectionReader::new(reader)? {
                    imports.push(import?.name.name.to_string());
                }
            }
            11 if section.kind == sections::SectionKind::Other => {
                for export in wasmparser::ComponentExportSectionReader::new(reader)? {
                    exports.push(export?.name.name.to_string());
                }
            }
            _ => {}
        }
    }
    Ok((imports, exports))
}

/// A component brought within the contract.
#[derive(Debug)]
pub struct Clean {
    /// The component.
    pub component: Vec<u8>,
    /// The imports that are now supplied inside it, as they were named.
    pub stubbed: Vec<String>,
}

/// Brings `component` within the contract, or says why it cannot be.
///
/// A component already within the contract is returned unchanged. Otherwise
/// its main module is re-componentized with wit-component against its own
/// world minus the stubbed interfaces, plus the stub adapter. Custom
/// sections of the main module survive only with `keep_debug`.
pub fn make_clean(component: &[u8], keep_debug: bool) -> Result<Clean, WasmError> {
    let (imports, _) = imports_and_exports(component)?;
    let foreign: Vec<String> = imports
        .iter()
        .filter(|i| classify(i) == ImportClass::Foreign)
        .cloned()
        .collect();
    if !foreign.is_empty() {
        return Err(WasmError::OutsideContract(foreign));
    }
    let stubbed: Vec<String> = imports
        .iter()
        .filter(|i| classify(i) == ImportClass::Stubbable)
        .cloned()
        .collect();
    if stubbed.is_empty() {
        return Ok(Clean {
            component: component.to_vec(),
            stubbed,
        });
    }

    let (mut resolve, world) = match wit_component::decode(component) {
        Ok(DecodedWasm::Component(resolve, world)) => (resolve, world),
        Ok(DecodedWasm::WitPackage(..)) => return Err(WasmError::NotAComponent),
        Err(e) => return Err(WasmError::Decode(format!("{e:#}"))),
    };
    let keys: Vec<WorldKey> = resolve.worlds[world]
        .imports
        .keys()
        .filter(|key| stubbed.contains(&resolve.name_world_key(key)))
        .cloned()
        .collect();
    for key in &keys {
        resolve.worlds[world].imports.shift_remove(key);
    }

    let redirected = stubs::redirect_imports(sections::main_module(component)?, keep_debug)?;
    let mut module = redirected.module;
    wit_component::embed_component_metadata(
        &mut module,
        &resolve,
        world,
        StringEncoding::UTF8,
        false,
    )
    .map_err(|e| WasmError::Encode(format!("{e:#}")))?;
    let adapter = stubs::adapter_module(&redirected.stubs)?;
    let component = ComponentEncoder::default()
        .module(&module)
        .and_then(|e| e.adapter(stubs::STUB_MODULE, &adapter))
        .and_then(|e| e.validate(false).debug_names(keep_debug).encode())
        .map_err(|e| WasmError::Encode(format!("{e:#}")))?;
    Ok(Clean { component, stubbed })
}

/// Checks, the way `wasm-tools component targets` does, that `component`'s
/// imports and exports fit the contract world (`fn:sdk/function`: proxy plus
/// capabilities), matching versions by semver.
pub fn check_targets_contract(component: &[u8]) -> Result<(), WasmError> {
    let reference = wit::reference();
    wit_component::targets(
        &reference.resolve,
        reference.contract_world,
        component,
        true,
    )
    .map_err(|e| WasmError::Invalid(format!("{e:#}")))
}

/// Validates `component` with wasmparser (component model on).
pub fn validate(component: &[u8]) -> Result<(), WasmError> {
    let features = wasmparser::WasmFeatures::default() | wasmparser::WasmFeatures::COMPONENT_MODEL;
    wasmparser::Validator::new_with_features(features)
        .validate_all(component)
        .map(|_| ())
        .map_err(|e| WasmError::Invalid(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classifies_imports() {
        assert_eq!(classify("wasi:http/types@0.2.12"), ImportClass::Proxy);
        assert_eq!(classify("wasi:io/poll@0.2.0"), ImportClass::Proxy);
        assert_eq!(
            classify("wasi:keyvalue/store@0.2.0-draft"),
            ImportClass::Capability
        );
        assert_eq!(
            classify("wasi:keyvalue/store@0.2.0-draft2"),
            ImportClass::Capability
        );
        assert_eq!(
            classify("wasi:config/store@0.2.0-rc.1"),
            ImportClass::Capability
        );
        assert_eq!(
            classify("wasi:cli/environment@0.2.4"),
            ImportClass::Stubbable
        );
        assert_eq!(
            classify("wasi:cli/terminal-stderr@0.2.0"),
            ImportClass::Stubbable
        );
        assert_eq!(
            classify("wasi:random/insecure-seed@0.2.6"),
            ImportClass::Stubbable
        );
        assert_eq!(classify("wasi:random/insecure@0.2.6"), ImportClass::Foreign);
        assert_eq!(
            classify("wasi:filesystem/preopens@0.2.0"),
            ImportClass::Foreign
        );
        assert_eq!(
            classify("wasi:keyvalue/batch@0.2.0-draft"),
            ImportClass::Foreign
        );
        assert_eq!(classify("my-func"), ImportClass::Foreign);
    }

    #[test]
    fn refuses_foreign_imports_with_a_hint() {
        let msg =
            WasmError::OutsideContract(vec!["wasi:filesystem/preopens@0.2.0".into()]).to_string();
        assert!(msg.contains("wasi:filesystem/preopens@0.2.0"), "{msg}");
        assert!(msg.contains("std::fs"), "{msg}");
    }
}
