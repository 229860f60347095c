//! Composition: an adapter component composed in front of an unchanged
//! function component, so that a host which provides other versions of the
//! function's capabilities runs it (see [`crate::hosts::Adapter`]).
//!
//! `wac-graph` builds the composition: the adapter's exports satisfy the
//! function's imports of the same names, everything else either imports
//! stays an import of the whole, and the function's exports are the
//! whole's. Both components are embedded as they are, byte for byte, so the
//! function inside is the published one: [`nested_components`] finds it and
//! its digest again.

use sha2::{Digest as _, Sha256};
use wac_graph::types::Package;
use wac_graph::{CompositionGraph, EncodeOptions};
use wasmparser::{Parser, Payload};

use crate::WasmError;

/// Composes `adapter` in front of `function`: the function's imports that
/// the adapter exports are wired to it. Fails when the adapter satisfies
/// none of them (nothing to adapt) or the result does not validate.
pub fn with_adapter(function: &[u8], adapter: &[u8]) -> Result<Vec<u8>, WasmError> {
    let encode = |e: &dyn std::fmt::Display| WasmError::Encode(e.to_string());
    let mut graph = CompositionGraph::new();
    let function_package =
        Package::from_bytes("fn:function", None, function.to_vec(), graph.types_mut())
            .map_err(|e| WasmError::Decode(format!("the function: {e:#}")))?;
    let adapter_package =
        Package::from_bytes("fn:adapter", None, adapter.to_vec(), graph.types_mut())
            .map_err(|e| WasmError::Decode(format!("the adapter: {e:#}")))?;
    let function_id = graph
        .register_package(function_package)
        .map_err(|e| encode(&e))?;
    let adapter_id = graph
        .register_package(adapter_package)
        .map_err(|e| encode(&e))?;
    wac_graph::plug(&mut graph, vec![adapter_id], function_id).map_err(|e| match e {
        wac_graph::PlugError::NoPlugHappened => WasmError::Encode(
            "the adapter exports nothing the function imports: there is nothing to adapt".into(),
        ),
        other => encode(&format!("{other:#}")),
    })?;
    let composed = graph
        .encode(EncodeOptions {
            define_components: true,
            validate: false,
            processor: None,
        })
        .map_err(|e| encode(&e))?;
    crate::contract::validate(&composed)?;
    Ok(composed)
}

/// A component nested in another (a composition's parts).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Nested {
    /// `sha256:<hex>` of its bytes, as an OCI layer digest.
    pub digest: String,
    /// Its size in bytes.
    pub size: usize,
}

/// `sha256:<hex>` of `bytes`: how OCI names a layer, and how
/// [`nested_components`] names each part.
pub fn digest(bytes: &[u8]) -> String {
    format!("sha256:{:x}", Sha256::digest(bytes))
}

/// The components with code (core modules) nested directly in `component`,
/// in order: the parts of a composition. Empty for a component cargo built,
/// whose only nested components are type-only shims of its exports.
pub fn nested_components(component: &[u8]) -> Result<Vec<Nested>, WasmError> {
    let mut nested = Vec::new();
    let mut depth = 0usize;
    for payload in Parser::new(0).parse_all(component) {
        match payload? {
            Payload::ComponentSection {
                unchecked_range, ..
            } => {
                if depth == 0 {
                    let start = usize::try_from(unchecked_range.start).unwrap_or(usize::MAX);
                    let end = usize::try_from(unchecked_range.end).unwrap_or(usize::MAX);
                    let bytes = component.get(start..end).ok_or_else(|| {
                        WasmError::UnsupportedLayout("a nested component runs past the end".into())
                    })?;
                    if has_module(bytes)? {
                        nested.push(Nested {
                            digest: digest(bytes),
                            size: bytes.len(),
                        });
                    }
                }
                depth += 1;
            }
            Payload::ModuleSection { .. } => depth += 1,
            Payload::End(_) => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    Ok(nested)
}

/// Whether `component` holds a core module, at any depth.
fn has_module(component: &[u8]) -> Result<bool, WasmError> {
    for payload in Parser::new(0).parse_all(component) {
        if let Payload::ModuleSection { .. } = payload? {
            return Ok(true);
        }
    }
    Ok(false)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nested_components_are_found_with_their_digests_and_modules_are_not() {
        let inner_a = wat::parse_str("(component (component (core module)))").unwrap();
        let inner_b = wat::parse_str("(component (core module))").unwrap();
        let outer = wat::parse_str(
            "(component
                (core module)
                (component (core module))
                (component (component (core module)))
                (component))",
        )
        .unwrap();
        let nested = nested_components(&outer).unwrap();
        // The last one holds no code (a type-only shim, as wit-component
        // writes for exports): not a part. The one two deep is inside a part.
        assert_eq!(nested.len(), 2, "{nested:?}");
        assert_eq!(nested[0].digest, digest(&inner_b));
        assert_eq!(nested[0].size, inner_b.len());
        assert_eq!(nested[1].digest, digest(&inner_a));
        assert!(nested_components(&inner_b).unwrap().is_empty());
    }

    #[test]
    fn composing_an_adapter_that_exports_nothing_needed_is_an_error() {
        let function = wat::parse_str(
            r#"(component
                (import "wasi:config/store@0.2.0-rc.1" (instance))
            )"#,
        )
        .unwrap();
        let adapter = wat::parse_str("(component)").unwrap();
        let err = with_adapter(&function, &adapter).unwrap_err();
        assert!(err.to_string().contains("nothing to adapt"), "{err}");
    }
}
