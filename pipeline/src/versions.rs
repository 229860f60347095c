//! Lowers the version of each WASI 0.2 import to the lowest release that
//! has everything the component uses from it (the report's "needs >=").
//!
//! A hello world built against `wasi` 0.14 imports `wasi:http/types@0.2.12`
//! although everything it calls is in 0.2.0. Hosts that link by semver
//! (wasmtime, Spin 3, wasmCloud 1.x) accept either name; hosts that link by
//! exact version (NGINX Unit 1.32, older Spin and wasmCloud releases) accept
//! only the versions they implement, so the lowest one reaches the most
//! hosts. WASI 0.2 releases only add items (each gated by `@since`), so an
//! interface's items keep their types across 0.2.x and renaming the import
//! is all it takes.
//!
//! One exception to "only items are added": 0.2.1 gave `wasi:http/types`
//! the name `field-name` for `field-key`, itself a name for `string`, and
//! bindings from newer WIT name it in the import's type. Such a name (one
//! that only stands for a primitive, through any chain of aliases) does not
//! hold the import up: in the instance type its export becomes a plain,
//! unexported definition of the primitive, which every index that used it
//! still finds, and the import is named at the release its other items need.
//!
//! Otherwise only the names of the component's own (top-level) imports
//! change; core modules, types and every index stay as they are. The result
//! is validated. A component whose imports are already the lowest comes back
//! byte for byte.

use std::collections::{BTreeMap, BTreeSet};

use cargo_metadata::semver::Version;
use wasm_encoder::reencode::{Reencode, ReencodeComponent, component_utils};

use crate::error::WasmError;
use crate::report;
use crate::wit;

/// A component with its imports lowered.
#[derive(Debug, Clone)]
pub struct Lowered {
    /// The component (the input itself when nothing was renamed).
    pub component: Vec<u8>,
    /// Each renamed import, old name to new.
    pub renamed: Vec<(String, String)>,
}

/// Lowers every WASI 0.2 import of `component` whose version is above what
/// it needs.
pub fn lower(component: &[u8]) -> Result<Lowered, WasmError> {
    let imports = report::inspect(component)?.imports;
    let names: Vec<&str> = imports.iter().map(|i| i.name.as_str()).collect();
    let mut renames = BTreeMap::new();
    let mut erase = BTreeSet::new();
    for import in &imports {
        let (interface, Some(current)) = wit::split_versioned(&import.name) else {
            continue;
        };
        let wasi_02 = |v: &Version| v.major == 0 && v.minor == 2 && v.pre.is_empty();
        if !interface.starts_with("wasi:") || !wasi_02(&current) || import.needs.is_none() {
            continue;
        }
        // What the import needs once names that only stand for a primitive
        // (`field-name`, 0.2.1) are replaced by the primitive: a function
        // taking a `field-name` takes a `string` in every 0.2 release.
        let needs = import
            .needs_unaliased
            .as_deref()
            .and_then(|v| Version::parse(v).ok())
            .unwrap_or(Version::new(0, 2, 0));
        if !wasi_02(&needs) {
            continue;
        }
        let lowered = format!("{interface}@{needs}");
        // Two imports of one interface at different versions stay apart.
        if needs < current && !names.contains(&lowered.as_str()) {
            renames.insert(import.name.clone(), lowered);
            for (alias, since) in &import.aliases {
                if Version::parse(since).is_ok_and(|since| since > needs) {
                    erase.insert(alias.clone());
                }
            }
        }
    }
    if renames.is_empty() {
        return Ok(Lowered {
            component: component.to_vec(),
            renamed: Vec::new(),
        });
    }
    let mut renamer = Renamer {
        renames: &renames,
        erase: &erase,
        depth: 0,
    };
    let mut out = wasm_encoder::Component::new();
    renamer
        .parse_component(&mut out, wasmparser::Parser::new(0), component)
        .map_err(|e| WasmError::Encode(format!("{e:?}")))?;
    let component = out.finish();
    wasmparser::Validator::new_with_features(wasmparser::WasmFeatures::all())
        .validate_all(&component)
        .map_err(|e| WasmError::Encode(format!("lowered component does not validate: {e}")))?;
    Ok(Lowered {
        component,
        renamed: renames.into_iter().collect(),
    })
}

/// A re-encoding that renames the top-level imports in `renames` and, in the
/// top-level instance types, replaces each type export named in `erase` that
/// only stands for a primitive by that primitive (a type the instance
/// defines without exporting it), so that a host of the older release, which
/// lacks the name, still links the import.
struct Renamer<'a> {
    renames: &'a BTreeMap<String, String>,
    erase: &'a BTreeSet<String>,
    /// How deep in nested components the re-encoding is (0: the top).
    depth: u32,
}

impl Reencode for Renamer<'_> {
    type Error = std::convert::Infallible;
}

impl ReencodeComponent for Renamer<'_> {
    fn push_depth(&mut self) {
        self.depth += 1;
    }

    fn pop_depth(&mut self) {
        self.depth -= 1;
    }

    fn component_instance_type(
        &mut self,
        ty: Box<[wasmparser::InstanceTypeDeclaration<'_>]>,
    ) -> Result<wasm_encoder::InstanceType, wasm_encoder::reencode::Error<Self::Error>> {
        use wasmparser::{
            ComponentAlias, ComponentDefinedType, ComponentExternalKind, ComponentOuterAliasKind,
            ComponentType, ComponentTypeRef, InstanceTypeDeclaration as Decl, TypeBounds,
        };
        if self.depth > 0 || self.erase.is_empty() {
            return component_utils::component_instance_type(self, ty);
        }
        self.push_depth();
        let mut out = wasm_encoder::InstanceType::new();
        // The instance's type index space: which entries are a primitive.
        let mut primitive: Vec<Option<wasmparser::PrimitiveValType>> = Vec::new();
        for decl in Vec::from(ty) {
            match &decl {
                Decl::Type(ComponentType::Defined(ComponentDefinedType::Primitive(p))) => {
                    primitive.push(Some(*p));
                }
                Decl::Type(_) => primitive.push(None),
                Decl::Alias(
                    ComponentAlias::InstanceExport {
                        kind: ComponentExternalKind::Type,
                        ..
                    }
                    | ComponentAlias::Outer {
                        kind: ComponentOuterAliasKind::Type,
                        ..
                    },
                ) => primitive.push(None),
                Decl::Export {
                    name,
                    ty: ComponentTypeRef::Type(bounds),
                } => {
                    let stands_for = match bounds {
                        TypeBounds::Eq(i) => primitive.get(*i as usize).copied().flatten(),
                        TypeBounds::SubResource => None,
                    };
                    primitive.push(stands_for);
                    if let Some(p) = stands_for
                        && self.erase.contains(name.name)
                    {
                        let p = self.component_primitive_val_type(p);
                        out.ty().defined_type().primitive(p);
                        continue;
                    }
                }
                Decl::CoreType(_) | Decl::Alias(_) | Decl::Export { .. } => {}
            }
            self.parse_component_instance_type_declaration(&mut out, decl)?;
        }
        self.pop_depth();
        Ok(out)
    }

    fn parse_component_import_section(
        &mut self,
        imports: &mut wasm_encoder::ComponentImportSection,
        section: wasmparser::ComponentImportSectionReader<'_>,
    ) -> Result<(), wasm_encoder::reencode::Error<Self::Error>> {
        if self.depth > 0 {
            return component_utils::parse_component_import_section(self, imports, section);
        }
        for import in section {
            let import = import?;
            let ty = self.component_type_ref(import.ty)?;
            let renamed = match import.name.implements {
                None => self.renames.get(import.name.full_name().as_ref()),
                Some(_) => None,
            };
            match renamed {
                Some(name) => imports.import(name.as_str(), ty),
                None => imports.import(import.name, ty),
            };
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A component importing the monotonic clock's `now` (0.2.0) and
    /// `exit-with-code` (0.2.12), both named at `version`.
    fn component(version: &str) -> Vec<u8> {
        wat::parse_str(format!(
            r#"(component
                 (import "wasi:clocks/monotonic-clock@{version}" (instance
                   (export "now" (func (result u64)))))
                 (import "wasi:cli/exit@{version}" (instance
                   (export "exit-with-code" (func (param "status-code" u8))))))"#
        ))
        .unwrap()
    }

    fn imports(component: &[u8]) -> Vec<String> {
        crate::contract::imports_and_exports(component).unwrap().0
    }

    #[test]
    fn each_import_goes_down_to_the_release_it_needs() {
        let lowered = lower(&component("0.2.12")).unwrap();
        assert_eq!(
            lowered.renamed,
            [(
                "wasi:clocks/monotonic-clock@0.2.12".to_owned(),
                "wasi:clocks/monotonic-clock@0.2.0".to_owned()
            )]
        );
        wasmparser::Validator::new()
            .validate_all(&lowered.component)
            .unwrap();
        assert_eq!(
            imports(&lowered.component),
            [
                "wasi:clocks/monotonic-clock@0.2.0",
                // exit-with-code is new in 0.2.12: it stays.
                "wasi:cli/exit@0.2.12"
            ]
        );
        // Lowering again changes nothing, byte for byte.
        let again = lower(&lowered.component).unwrap();
        assert!(again.renamed.is_empty());
        assert_eq!(again.component, lowered.component);
    }

    #[test]
    fn imports_at_their_lowest_or_outside_wasi_02_are_left_alone() {
        let lowest = component("0.2.0");
        let lowered = lower(&lowest).unwrap();
        assert!(lowered.renamed.is_empty());
        assert_eq!(lowered.component, lowest);
        // Pre-release and non-WASI packages carry no gates to go by.
        let other = wat::parse_str(
            r#"(component
                 (import "wasi:keyvalue/store@0.2.0-draft" (instance))
                 (import "acme:app/api@1.2.3" (instance)))"#,
        )
        .unwrap();
        assert!(lower(&other).unwrap().renamed.is_empty());
    }

    /// `wasi:http/types` as a hello world imports it: `fields.get` (0.2.0)
    /// takes a `field-name`, a name added in 0.2.1 for `field-key = string`.
    fn http_types(version: &str) -> Vec<u8> {
        wat::parse_str(format!(
            r#"(component
                 (import "wasi:http/types@{version}" (instance
                   (export "fields" (type (sub resource)))
                   (type string)
                   (export "field-key" (type (eq 1)))
                   (export "field-name" (type (eq 2)))
                   (type (borrow 0))
                   (type (list u8))
                   (type (list 5))
                   (type (func (param "self" 4) (param "name" 3) (result 6)))
                   (export "[method]fields.get" (func (type 7))))))"#
        ))
        .unwrap()
    }

    #[test]
    fn a_name_that_only_stands_for_a_primitive_does_not_hold_an_import_up() {
        let original = http_types("0.2.12");
        let before = report::inspect(&original).unwrap();
        assert_eq!(before.imports[0].needs.as_deref(), Some("0.2.1"));
        assert_eq!(
            before.imports[0].needs_because.as_deref(),
            Some("field-name")
        );

        let lowered = lower(&original).unwrap();
        assert_eq!(imports(&lowered.component), ["wasi:http/types@0.2.0"]);
        wasmparser::Validator::new()
            .validate_all(&lowered.component)
            .unwrap();
        let after = report::inspect(&lowered.component).unwrap();
        assert_eq!(after.imports[0].needs.as_deref(), Some("0.2.0"));
        // The interface keeps field-key and the method; field-name is gone
        // and the method takes the string it stood for.
        let wit_component::DecodedWasm::Component(resolve, world) =
            wit_component::decode(&lowered.component).unwrap()
        else {
            panic!("not a component")
        };
        let (_, item) = resolve.worlds[world].imports.iter().next().unwrap();
        let wit_parser::WorldItem::Interface { id, .. } = item else {
            panic!("not an interface")
        };
        let iface = &resolve.interfaces[*id];
        assert!(iface.types.contains_key("field-key"));
        assert!(!iface.types.contains_key("field-name"));
        let get = &iface.functions["[method]fields.get"];
        let wit_parser::Type::Id(ty) = get.params[1].ty else {
            panic!("{:?}", get.params[1].ty)
        };
        assert_eq!(resolve.types[ty].name, None);
        assert_eq!(
            resolve.types[ty].kind,
            wit_parser::TypeDefKind::Type(wit_parser::Type::String)
        );

        let again = lower(&lowered.component).unwrap();
        assert!(again.renamed.is_empty());
        assert_eq!(again.component, lowered.component);
    }
}
