//! The reference WIT: the SDK's world (`fn:sdk/function`, that is
//! `wasi:http/proxy` plus the key-value and config capabilities) and every
//! WASI package it depends on, embedded from the `fn-wit` crate.
//!
//! It answers three questions for the rest of the pipeline: which interfaces
//! the portable contract allows, which interfaces are capabilities, and since
//! which WASI version an item (function or resource) exists.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::OnceLock;

use cargo_metadata::semver::Version;
use wit_parser::{
    Resolve, SourceMap, Stability, TypeDefKind, UnresolvedPackageGroup, WorldId, WorldItem,
    WorldKey,
};

use fn_wit::FILES as WIT_FILES;

/// The parsed reference WIT.
pub struct Reference {
    /// Every package of the function WIT (`fn-wit`).
    pub resolve: Resolve,
    /// `fn:sdk/function`: the whole portable contract.
    pub contract_world: WorldId,
    /// `wasi:http/proxy`.
    pub proxy_world: WorldId,
    proxy: BTreeSet<String>,
    capabilities: BTreeMap<String, Version>,
}

/// The reference WIT, parsed on first use.
pub fn reference() -> &'static Reference {
    static REFERENCE: OnceLock<Reference> = OnceLock::new();
    REFERENCE.get_or_init(|| Reference::parse().expect("the WIT of fn-wit parses"))
}

impl Reference {
    fn parse() -> anyhow::Result<Reference> {
        // One group per package: `world.wit` at the root is the main package,
        // `deps/<name>.wit` and `deps/<name>/*.wit` are its dependencies.
        let mut groups: BTreeMap<&str, SourceMap> = BTreeMap::new();
        for (path, contents) in WIT_FILES {
            let key = match path.strip_prefix("deps/") {
                Some(rest) => match rest.split_once('/') {
                    Some((dir, _)) => dir,
                    None => rest,
                },
                None => "",
            };
            groups.entry(key).or_default().push_str(path, *contents);
        }
        let mut main = None;
        let mut deps = Vec::new();
        for (key, map) in groups {
            let group: UnresolvedPackageGroup =
                map.parse().map_err(|(_, e)| anyhow::anyhow!("{e}"))?;
            if key.is_empty() {
                main = Some(group);
            } else {
                deps.push(group);
            }
        }
        let main = main.ok_or_else(|| anyhow::anyhow!("the fn-wit package has no world.wit"))?;
        let mut resolve = Resolve::default();
        let pkg = resolve.push_groups(main, deps)?;
        let contract_world = resolve.select_world(&[pkg], Some("function"))?;
        let proxy_world = resolve.select_world(&[pkg], Some("wasi:http/proxy"))?;

        let proxy = interface_imports(&resolve, proxy_world)
            .into_keys()
            .collect::<BTreeSet<_>>();
        let capabilities = interface_imports(&resolve, contract_world)
            .into_iter()
            .filter(|(name, _)| !proxy.contains(name))
            .collect();
        Ok(Reference {
            resolve,
            contract_world,
            proxy_world,
            proxy,
            capabilities,
        })
    }

    /// Whether `interface` (`ns:pkg/name`, no version) is part of `wasi:http/proxy`.
    pub fn in_proxy(&self, interface: &str) -> bool {
        self.proxy.contains(interface)
    }

    /// The capability interfaces of the contract (`ns:pkg/name` → the version the SDK uses).
    pub fn capabilities(&self) -> &BTreeMap<String, Version> {
        &self.capabilities
    }

    /// Since which version `item` of `interface` (`ns:pkg/name`, no version)
    /// exists, from its `@since` gate. `None` when the interface or the item is
    /// unknown or carries no gate (pre-release packages such as
    /// `wasi:keyvalue@0.2.0-draft` have none).
    pub fn since(&self, interface: &str, item: &str) -> Option<Version> {
        let (pkg, name) = split_interface(interface)?;
        let id = self.resolve.interfaces.iter().find_map(|(id, i)| {
            let p = &self.resolve.packages[i.package?].name;
            (i.name.as_deref() == Some(name) && p.namespace == pkg.0 && p.name == pkg.1)
                .then_some(id)
        })?;
        let iface = &self.resolve.interfaces[id];
        let stability = match iface.functions.get(item) {
            Some(f) => &f.stability,
            None => &self.resolve.types[*iface.types.get(item)?].stability,
        };
        match stability {
            Stability::Stable { since, .. } => Some(since.clone()),
            _ => None,
        }
    }

    /// Whether `item` of `interface` is a resource type (only resources and
    /// functions matter for linking: other named types are structural).
    pub fn is_resource(&self, interface: &str, item: &str) -> bool {
        let Some((pkg, name)) = split_interface(interface) else {
            return false;
        };
        self.resolve.interfaces.iter().any(|(_, i)| {
            let Some(p) = i.package.map(|p| &self.resolve.packages[p].name) else {
                return false;
            };
            i.name.as_deref() == Some(name)
                && p.namespace == pkg.0
                && p.name == pkg.1
                && i.types
                    .get(item)
                    .is_some_and(|t| matches!(self.resolve.types[*t].kind, TypeDefKind::Resource))
        })
    }
}

/// The world of the stub adapter (see [`crate::stubs`]): it imports only
/// `wasi:random/random`, at the version of the reference WIT.
pub fn adapter_world() -> &'static (Resolve, WorldId) {
    static WORLD: OnceLock<(Resolve, WorldId)> = OnceLock::new();
    WORLD.get_or_init(|| {
        let mut resolve = reference().resolve.clone();
        let version = resolve
            .packages
            .iter()
            .find(|(_, p)| p.name.namespace == "wasi" && p.name.name == "random")
            .and_then(|(_, p)| p.name.version.clone())
            .expect("the reference WIT has wasi:random");
        let source = format!(
            "package cargo-fn:stubs;\nworld adapter {{ import wasi:random/random@{version}; }}\n"
        );
        let pkg = resolve
            .push_source("cargo-fn-stubs.wit", &source)
            .expect("the adapter world parses");
        let world = resolve
            .select_world(&[pkg], Some("adapter"))
            .expect("declared above");
        (resolve, world)
    })
}

/// Splits `ns:pkg/name` into `((ns, pkg), name)`.
fn split_interface(interface: &str) -> Option<((&str, &str), &str)> {
    let (pkg, name) = interface.split_once('/')?;
    let (ns, pkg) = pkg.split_once(':')?;
    Some(((ns, pkg), name))
}

/// The interface imports of a world, as `ns:pkg/name` → package version.
fn interface_imports(resolve: &Resolve, world: WorldId) -> BTreeMap<String, Version> {
    let mut out = BTreeMap::new();
    for (key, item) in &resolve.worlds[world].imports {
        if let (WorldKey::Interface(id), WorldItem::Interface { .. }) = (key, item) {
            let iface = &resolve.interfaces[*id];
            let Some(pkg) = iface.package.map(|p| &resolve.packages[p].name) else {
                continue;
            };
            let Some(name) = &iface.name else { continue };
            let version = pkg.version.clone().unwrap_or(Version::new(0, 0, 0));
            out.insert(format!("{}:{}/{name}", pkg.namespace, pkg.name), version);
        }
    }
    out
}

/// Splits an interface import name `ns:pkg/name@1.2.3` into `("ns:pkg/name", Some(1.2.3))`.
pub fn split_versioned(name: &str) -> (&str, Option<Version>) {
    match name.split_once('@') {
        Some((base, version)) => (base, Version::parse(version).ok()),
        None => (name, None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn contract_is_proxy_plus_capabilities() {
        let r = reference();
        assert!(r.in_proxy("wasi:http/types"));
        assert!(r.in_proxy("wasi:io/streams"));
        assert!(r.in_proxy("wasi:cli/stdout"));
        assert!(!r.in_proxy("wasi:cli/environment"));
        assert!(!r.in_proxy("wasi:keyvalue/store"));
        let caps: Vec<_> = r.capabilities().keys().map(String::as_str).collect();
        assert_eq!(
            caps,
            [
                "wasi:config/store",
                "wasi:keyvalue/atomics",
                "wasi:keyvalue/store"
            ]
        );
        assert_eq!(
            r.capabilities()["wasi:config/store"].to_string(),
            "0.2.0-rc.1"
        );
    }

    #[test]
    fn since_reads_the_gates() {
        let r = reference();
        assert_eq!(
            r.since("wasi:cli/exit", "exit"),
            Some(Version::new(0, 2, 0))
        );
        assert_eq!(
            r.since("wasi:cli/exit", "exit-with-code"),
            Some(Version::new(0, 2, 12))
        );
        assert_eq!(
            r.since("wasi:http/types", "field-name"),
            Some(Version::new(0, 2, 1))
        );
        assert_eq!(r.since("wasi:http/types", "no-such-item"), None);
        assert_eq!(
            r.since("wasi:keyvalue/store", "open"),
            None,
            "drafts carry no gates"
        );
        assert!(r.is_resource("wasi:http/types", "fields"));
        assert!(!r.is_resource("wasi:http/types", "method"));
    }

    #[test]
    fn versioned_names_split() {
        assert_eq!(
            split_versioned("wasi:io/poll@0.2.12"),
            ("wasi:io/poll", Some(Version::new(0, 2, 12)))
        );
        assert_eq!(split_versioned("local"), ("local", None));
    }
}
