//! The portability report of a component: exports, imports with the lowest
//! WASI version each really needs, and which known hosts can run it.

use std::fmt;

use cargo_metadata::semver::Version;
use wit_component::DecodedWasm;
use wit_parser::{TypeDefKind, WorldItem};

use crate::contract::{self, ImportClass};
use crate::error::WasmError;
use crate::hosts::{self, Verdict};
use crate::wit;

/// One import of a component.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Import {
    /// As imported, e.g. `wasi:http/types@0.2.12`.
    pub name: String,
    /// Where it stands with respect to the portable contract.
    pub class: ImportClass,
    /// The lowest version that has every item used, from the `@since` gates
    /// (`None` when the items carry no gates, as in pre-release packages).
    pub needs: Option<String>,
    /// The item that sets `needs`, when it is newer than the package's first release.
    pub needs_because: Option<String>,
    /// The functions and resources used.
    pub items: Vec<String>,
    /// Types the import names that are only another name for a primitive
    /// (`field-name = field-key = string`), with the release that added each:
    /// `versions::lower` can replace them by the primitive itself.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub aliases: Vec<(String, String)>,
    /// What `needs` would be with those aliases replaced.
    #[serde(skip)]
    pub needs_unaliased: Option<String>,
}

/// The report `cargo fn build` prints and `cargo fn inspect` shows.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Report {
    /// Size of the component in bytes.
    pub size: u64,
    /// Top-level exports.
    pub exports: Vec<String>,
    /// Top-level imports.
    pub imports: Vec<Import>,
    /// Whether it exports `wasi:http/incoming-handler` and imports only
    /// within the contract.
    pub within_contract: bool,
    /// One verdict per known host.
    pub hosts: Vec<Verdict>,
    /// The components nested in it, when it is a composition (a function
    /// composed with an adapter): each one's digest and size.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub nested: Vec<crate::compose::Nested>,
}

/// Builds the report for any component.
pub fn inspect(component: &[u8]) -> Result<Report, WasmError> {
    let (names, exports) = contract::imports_and_exports(component)?;
    let mut imports: Vec<Import> = names
        .iter()
        .map(|name| Import {
            name: name.clone(),
            class: contract::classify(name),
            needs: None,
            needs_because: None,
            items: Vec::new(),
            aliases: Vec::new(),
            needs_unaliased: None,
        })
        .collect();
    fill_items(component, &mut imports)?;
    let within_contract = exports.iter().any(|e| is_handler(e))
        && imports
            .iter()
            .all(|i| matches!(i.class, ImportClass::Proxy | ImportClass::Capability));
    let hosts = hosts::evaluate_all(&imports);
    Ok(Report {
        size: component.len() as u64,
        exports,
        imports,
        within_contract,
        hosts,
        nested: crate::compose::nested_components(component)?,
    })
}

/// Whether an export name is `wasi:http/incoming-handler` at some version.
pub fn is_handler(export: &str) -> bool {
    wit::split_versioned(export).0 == "wasi:http/incoming-handler"
}

/// Fills `items`, `needs` and `needs_because` from the component's WIT.
fn fill_items(component: &[u8], imports: &mut [Import]) -> Result<(), WasmError> {
    let (resolve, world) = match wit_component::decode(component) {
        Ok(DecodedWasm::Component(resolve, world)) => (resolve, world),
        Ok(DecodedWasm::WitPackage(..)) => return Err(WasmError::NotAComponent),
        Err(e) => return Err(WasmError::Decode(format!("{e:#}"))),
    };
    let reference = wit::reference();
    for (key, item) in &resolve.worlds[world].imports {
        let WorldItem::Interface { id, .. } = item else {
            continue;
        };
        let name = resolve.name_world_key(key);
        let Some(import) = imports.iter_mut().find(|i| i.name == name) else {
            continue;
        };
        let iface = &resolve.interfaces[*id];
        let mut items: Vec<String> = iface.functions.keys().cloned().collect();
        items.extend(
            iface
                .types
                .iter()
                .filter(|(_, t)| matches!(resolve.types[**t].kind, TypeDefKind::Resource))
                .map(|(n, _)| n.clone()),
        );
        let (interface, _) = wit::split_versioned(&name);
        // Every type the import names counts too: a host of an older
        // release lacks a type added later (`field-name`, 0.2.1) even when
        // every function is older.
        let named = items.iter().chain(iface.types.keys());
        let mut needs: Option<(Version, String)> = None;
        for item in named {
            if let Some(since) = reference.since(interface, item)
                && needs.as_ref().is_none_or(|(v, _)| since > *v)
            {
                needs = Some((since, item.clone()));
            }
        }
        import.aliases = iface
            .types
            .iter()
            .filter(|(_, id)| names_a_primitive(&resolve, **id))
            .filter_map(|(n, _)| Some((n.clone(), reference.since(interface, n)?.to_string())))
            .collect();
        let aliased = |n: &String| import.aliases.iter().any(|(a, _)| a == n);
        import.needs_unaliased = items
            .iter()
            .chain(iface.types.keys())
            .filter(|n| !aliased(n))
            .filter_map(|n| reference.since(interface, n))
            .max()
            .map(|v| v.to_string());
        if let Some((version, item)) = needs {
            let first = Version::new(version.major, version.minor, 0);
            import.needs_because = (version > first).then_some(item);
            import.needs = Some(version.to_string());
        }
        import.items = items;
    }
    Ok(())
}

/// Whether type `id` is only a name for a primitive type, through any
/// chain of aliases (`type field-name = field-key; type field-key = string`).
fn names_a_primitive(resolve: &wit_parser::Resolve, mut id: wit_parser::TypeId) -> bool {
    loop {
        match &resolve.types[id].kind {
            TypeDefKind::Type(wit_parser::Type::Id(next)) => id = *next,
            TypeDefKind::Type(_) => return true,
            _ => return false,
        }
    }
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "exports:")?;
        for export in &self.exports {
            writeln!(f, "  {export}")?;
        }
        if !self.nested.is_empty() {
            writeln!(f, "composed of:")?;
            for part in &self.nested {
                writeln!(f, "  {}  {} bytes", part.digest, part.size)?;
            }
        }
        writeln!(f, "imports:")?;
        if self.imports.is_empty() {
            writeln!(f, "  (none)")?;
        }
        let width = self.imports.iter().map(|i| i.name.len()).max().unwrap_or(0);
        for import in &self.imports {
            let class = match import.class {
                ImportClass::Proxy => "proxy",
                ImportClass::Capability => "capability",
                ImportClass::Stubbable => "outside contract (cargo fn build supplies it)",
                ImportClass::Foreign => "OUTSIDE CONTRACT",
            };
            let needs = match (&import.needs, &import.needs_because) {
                (Some(v), Some(item)) => format!("needs >= {v} (for {item})"),
                (Some(v), None) => format!("needs >= {v}"),
                (None, _) => "needs this exact version".to_string(),
            };
            writeln!(f, "  {:width$}  {class:<10}  {needs}", import.name)?;
        }
        writeln!(
            f,
            "portable contract: {}",
            if self.within_contract {
                "yes (wasi:http/proxy + declared capabilities)"
            } else {
                "NO"
            }
        )?;
        writeln!(f, "hosts:")?;
        let width = self.hosts.iter().map(|h| h.name.len()).max().unwrap_or(0);
        for host in &self.hosts {
            let verdict = if host.runs { "yes" } else { "no " };
            let detail = if host.runs {
                host.notes.join("; ")
            } else {
                host.reasons.join("; ")
            };
            writeln!(f, "  {verdict}  {:width$}  {detail}", host.name)?;
        }
        Ok(())
    }
}
