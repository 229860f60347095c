//! What each known host can run. All host facts live in [`HOSTS`], each with
//! where it comes from; [`evaluate`] turns them into a verdict for an
//! artifact's imports.

use cargo_metadata::semver::Version;

use crate::report::Import;
use crate::wit;

/// Which WASI 0.2 interfaces a host provides besides its capabilities.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// Only the interfaces of `wasi:http/proxy`.
    Proxy,
    /// All of WASI 0.2 (cli, filesystem, sockets, ...).
    All,
}

/// A capability interface a host provides, at exactly these versions.
#[derive(Debug, Clone, Copy)]
pub struct Capability {
    /// `ns:pkg/name`.
    pub interface: &'static str,
    /// The versions provided (pre-releases only match exactly).
    pub versions: &'static [&'static str],
    /// What the user must do to get it (flag, manifest entry).
    pub how: &'static str,
}

/// A host that runs `wasi:http/proxy` components.
#[derive(Debug, Clone, Copy)]
pub struct Host {
    /// Short id for `--require-host`.
    pub id: &'static str,
    /// Display name.
    pub name: &'static str,
    /// The newest WASI 0.2 version it implements.
    pub wasi_max: (u64, u64, u64),
    /// Whether it links an import to any semver-compatible version it has
    /// (wasmtime's linker does); if not, import versions must match exactly.
    pub semver: bool,
    /// Which WASI interfaces it provides.
    pub scope: Scope,
    /// Capabilities (key-value, config) it provides.
    pub capabilities: &'static [Capability],
    /// An adapter `cargo fn deploy` composes in front of the function for
    /// this host, turning capability versions it lacks into ones it has.
    pub adapter: Option<&'static Adapter>,
    /// Where these facts come from.
    pub source: &'static str,
}

/// A component composed in front of an unchanged function (see
/// `fn_pipeline::compose`): it exports capability versions a function
/// imports and imports the versions a host provides.
#[derive(Debug, Clone, Copy)]
pub struct Adapter {
    /// Its name: fn-templates' `adapters/<name>`.
    pub name: &'static str,
    /// What it exports, `(ns:pkg/name, version)`.
    pub exports: &'static [(&'static str, &'static str)],
    /// When it is composed.
    pub how: &'static str,
}

impl Adapter {
    /// Whether it exports `import` (`ns:pkg/name@version`).
    pub fn exports(&self, import: &str) -> bool {
        let (interface, version) = wit::split_versioned(import);
        version.is_some_and(|v| {
            self.exports
                .iter()
                .any(|(i, ver)| *i == interface && *ver == v.to_string())
        })
    }
}

/// The Spin adapter (fn-templates `adapters/spin`): it exports the
/// function's key-value and config versions over Spin's.
pub const SPIN_ADAPTER: Adapter = Adapter {
    name: "spin",
    exports: &[
        ("wasi:keyvalue/store", "0.2.0-draft"),
        ("wasi:keyvalue/atomics", "0.2.0-draft"),
        ("wasi:config/store", "0.2.0-rc.1"),
    ],
    how: "`cargo fn deploy --provider spin|spinkube` composes the Spin adapter in front of the function (wasi:keyvalue@0.2.0-draft2, wasi:config@0.2.0-draft-2024-09-27)",
};

/// The wasmCloud 1.x adapter (fn-templates `adapters/wasmcloud`): it
/// exports the function's config version over wasmCloud 1.x's.
pub const WASMCLOUD_ADAPTER: Adapter = Adapter {
    name: "wasmcloud",
    exports: &[("wasi:config/store", "0.2.0-rc.1")],
    how: "`cargo fn deploy --provider wasmcloud` composes the wasmCloud 1.x adapter in front of the function (wasi:config@0.2.0-draft) and pushes it as TAG-wasmcloud",
};

/// What the files adapter (fn-templates `adapters/files`) exports: the
/// function's key-value and config, kept in the host's filesystem (a
/// preopened directory) and read from its environment.
const FILES_EXPORTS: &[(&str, &str)] = &[
    ("wasi:keyvalue/store", "0.2.0-draft"),
    ("wasi:keyvalue/atomics", "0.2.0-draft"),
    ("wasi:config/store", "0.2.0-rc.1"),
];

/// The files adapter as `cargo fn deploy --provider unit` composes it.
pub const UNIT_FILES_ADAPTER: Adapter = Adapter {
    name: "files",
    exports: FILES_EXPORTS,
    how: "`cargo fn deploy --provider unit` composes the files adapter in front of the function (key-value in a preopened directory, config from FN_CONFIG_ variables)",
};

/// The files adapter as `cargo fn deploy --provider jco` composes it.
pub const JCO_FILES_ADAPTER: Adapter = Adapter {
    name: "files",
    exports: FILES_EXPORTS,
    how: "`cargo fn deploy --provider jco` composes the files adapter in front of the function (key-value in a preopened directory, config from FN_CONFIG_ variables)",
};

const KV_DRAFT: &[&str] = &["0.2.0-draft"];
/// Our runtime serves Spin's key-value version too (fn-runtime
/// `kv/versions.rs`), so a component made for Spin runs on it unchanged.
const KV_OURS_AND_SPIN: &[&str] = &["0.2.0-draft", "0.2.0-draft2"];

/// The known hosts. Keep every fact here, with its source.
pub const HOSTS: &[Host] = &[
    // Our own runtime (fn-host-test, `cargo fn serve`, fn-runner): wasmtime 48.0.8 as pinned
    // in the workspace; wasmtime-wasi 48 vendors WASI 0.2.12, wasmtime-wasi-keyvalue
    // 48 `wasi:keyvalue@0.2.0-draft`, wasmtime-wasi-config 48 `wasi:config@0.2.0-rc.1`
    // (read from their crate sources); fn-runtime also serves Spin's versions
    // (`wasi:keyvalue@0.2.0-draft2`, `wasi:config@0.2.0-draft-2024-09-27`) and
    // wasmCloud 1.x's config (`wasi:config@0.2.0-draft`), fn-runtime `kv/versions.rs`.
    Host {
        id: "cargo-fn",
        name: "cargo fn serve / fn-runner / fn-host-test",
        wasi_max: (0, 2, 12),
        semver: true,
        scope: Scope::Proxy,
        capabilities: &[
            Capability {
                interface: "wasi:keyvalue/store",
                versions: KV_OURS_AND_SPIN,
                how: "built in",
            },
            Capability {
                interface: "wasi:keyvalue/atomics",
                versions: KV_OURS_AND_SPIN,
                how: "built in",
            },
            Capability {
                interface: "wasi:config/store",
                versions: &["0.2.0-rc.1", "0.2.0-draft-2024-09-27", "0.2.0-draft"],
                how: "built in",
            },
        ],
        adapter: None,
        source: "workspace Cargo.toml (wasmtime 48.0.8) and the WIT vendored by wasmtime-wasi* 48; Spin's and wasmCloud 1.x's versions from fn-runtime's kv/versions.rs",
    },
    // `wasmtime serve` 48: same crates as above; by default it links only the
    // proxy world (a component importing wasi:cli/environment is refused, seen
    // here, see shared/DESIGN.md); `-S keyvalue` and `-S config` add the capabilities.
    Host {
        id: "wasmtime",
        name: "wasmtime serve 48",
        wasi_max: (0, 2, 12),
        semver: true,
        scope: Scope::Proxy,
        capabilities: &[
            Capability {
                interface: "wasi:keyvalue/store",
                versions: KV_DRAFT,
                how: "run with -S keyvalue",
            },
            Capability {
                interface: "wasi:keyvalue/atomics",
                versions: KV_DRAFT,
                how: "run with -S keyvalue",
            },
            Capability {
                interface: "wasi:config/store",
                versions: &["0.2.0-rc.1"],
                how: "run with -S config",
            },
        ],
        adapter: None,
        source: "https://github.com/bytecodealliance/wasmtime/tree/v48.0.8 (crates/wasi, wasi-http, wasi-keyvalue, wasi-config and their WIT: 0.2.12, keyvalue 0.2.0-draft, config 0.2.0-rc.1); strict proxy linking observed (shared/DESIGN.md)",
    },
    // Spin 4.0.2, observed on this kind of machine (shared/DESIGN.md) and read from
    // its sources (wit/deps of the v4.0.2 tag: cli/http up to @0.2.6,
    // keyvalue-2024-10-17 is wasi:keyvalue@0.2.0-draft2, wasi-runtime-config-2024-09-27
    // is wasi:config@0.2.0-draft-2024-09-27): a WASI 0.2.6 host that links 0.2.x
    // imports by semver; key-value and config only at those versions
    // (pre-releases never match another pre-release).
    Host {
        id: "spin",
        name: "Spin 4",
        wasi_max: (0, 2, 6),
        semver: true,
        scope: Scope::All,
        capabilities: &[
            Capability {
                interface: "wasi:keyvalue/store",
                versions: &["0.2.0-draft2"],
                how: "declare key_value_stores in spin.toml",
            },
            Capability {
                interface: "wasi:keyvalue/atomics",
                versions: &["0.2.0-draft2"],
                how: "declare key_value_stores in spin.toml",
            },
            Capability {
                interface: "wasi:config/store",
                versions: &["0.2.0-draft-2024-09-27"],
                how: "declare [variables] in spin.toml",
            },
        ],
        adapter: Some(&SPIN_ADAPTER),
        source: "https://github.com/spinframework/spin/tree/v4.0.2/wit/deps (keyvalue-2024-10-17, wasi-runtime-config-2024-09-27, cli@0.2.6); Spin 4.0.2 observed (shared/DESIGN.md)",
    },
    // wasmCloud 1.x: its host (wasmCloud/wasmCloud v1.9.2, crates/runtime) links
    // wasi:keyvalue store/atomics/batch@0.2.0-draft (wit/deps/keyvalue) and
    // wasi:config/store@0.2.0-draft (wit/deps/config; also the older
    // wasi:config/runtime interface, wit/config-legacy), with WASI from
    // wasmtime-wasi 38.0.4 (semver linking; wasi:http@0.2.6 in wit/deps/http).
    Host {
        id: "wasmcloud",
        name: "wasmCloud 1.x",
        wasi_max: (0, 2, 6),
        semver: true,
        scope: Scope::All,
        capabilities: &[
            Capability {
                interface: "wasi:keyvalue/store",
                versions: KV_DRAFT,
                how: "link a keyvalue provider",
            },
            Capability {
                interface: "wasi:keyvalue/atomics",
                versions: KV_DRAFT,
                how: "link a keyvalue provider",
            },
            Capability {
                interface: "wasi:config/store",
                versions: &["0.2.0-draft"],
                how: "set config in the wadm manifest",
            },
        ],
        adapter: Some(&WASMCLOUD_ADAPTER),
        source: "https://github.com/wasmCloud/wasmCloud/tree/v1.9.2/crates/runtime (src/capability.rs, wit/deps/config, wit/deps/keyvalue, wit/deps/http; Cargo.toml: wasmtime 38.0.4)",
    },
    // wasmCloud 2 (the wash-runtime crate that the 2.x host and `wash dev` embed):
    // its wasi-config plugin binds `wasi:config/store@0.2.0-rc.1`
    // (crates/wash-runtime/src/plugin/wasi_config.rs) and its key-value plugins
    // `wasi:keyvalue/store,atomics,batch@0.2.0-draft`
    // (crates/wash-runtime/src/plugin/wasi_keyvalue/*.rs), both in
    // https://github.com/wasmCloud/wash. WASI comes from wasmtime-wasi (semver
    // linking); the exact 0.2.x depends on the release, 0.2.6 is assumed.
    Host {
        id: "wasmcloud2",
        name: "wasmCloud 2 (wash-runtime)",
        wasi_max: (0, 2, 6),
        semver: true,
        scope: Scope::All,
        capabilities: &[
            Capability {
                interface: "wasi:keyvalue/store",
                versions: KV_DRAFT,
                how: "enable the wasi-keyvalue plugin",
            },
            Capability {
                interface: "wasi:keyvalue/atomics",
                versions: KV_DRAFT,
                how: "enable the wasi-keyvalue plugin",
            },
            Capability {
                interface: "wasi:config/store",
                versions: &["0.2.0-rc.1"],
                how: "workload environment (wasi-config plugin)",
            },
        ],
        adapter: None,
        source: "https://github.com/wasmCloud/wash/tree/v2.0.0-rc.7 (Cargo.toml: wasmtime 41; crates/wash-runtime/src/plugin/{wasi_config.rs,wasi_keyvalue/}: config rc.1, keyvalue 0.2.0-draft); WASI 0.2.6 assumed",
    },
    // jco on Node.js: `jco transpile`/`jco serve` map every 0.2.x WASI import to
    // @bytecodealliance/preview2-shim by name (jco book, "WASI support"); the shim
    // (0.26.1, the one the bundles pin) types the world wasi:http/proxy@0.2.3
    // (its types/index.d.ts). No key-value or config: `cargo fn deploy --provider
    // jco` composes the files adapter (the Node.js build has all of WASI:
    // preopens through `filesystem._setPreopens`, the process's environment).
    Host {
        id: "jco",
        name: "jco on Node.js",
        wasi_max: (0, 2, 3),
        semver: true,
        scope: Scope::All,
        capabilities: &[],
        adapter: Some(&JCO_FILES_ADAPTER),
        source: "https://github.com/bytecodealliance/jco (jco book, WASI support); @bytecodealliance/preview2-shim 0.26.1 types/index.d.ts (wasi:http/proxy@0.2.3) and its Node.js build, run by cargo-fn's tests",
    },
    // Cloudflare Workers: the component transpiled by js-component-bindgen 2.11 (the
    // crate of jco) runs on @bytecodealliance/preview2-shim 0.26.1's browser build,
    // which maps WASI imports by name like jco and types the 0.2.3 WIT, as for jco.
    // workerd has JSPI (`WebAssembly.Suspending`, checked on workerd 2026-11-17),
    // so blocking imports (poll, streams, outbound fetch, KV) can wait on promises.
    // Key-value is Workers KV, atomics a Durable Object, config `vars`/secrets:
    // all provided by `cargo fn deploy --provider cloudflare`'s glue.
    Host {
        id: "cloudflare",
        name: "Cloudflare Workers",
        wasi_max: (0, 2, 3),
        semver: true,
        scope: Scope::Proxy,
        capabilities: &[
            Capability {
                interface: "wasi:keyvalue/store",
                versions: KV_DRAFT,
                how: "a KV namespace per store (wrangler.jsonc kv_namespaces)",
            },
            Capability {
                interface: "wasi:keyvalue/atomics",
                versions: KV_DRAFT,
                how: "a Durable Object for atomic increments (in the bundle)",
            },
            Capability {
                interface: "wasi:config/store",
                versions: &["0.2.0-rc.1"],
                how: "config from vars and secrets (wrangler.jsonc, wrangler secret put)",
            },
        ],
        adapter: None,
        source: "https://www.npmjs.com/package/wrangler/v/4.86.0 (workerd 2026-11-17) observed; https://www.npmjs.com/package/@bytecodealliance/preview2-shim/v/0.26.1 (types/index.d.ts: wasi:http/proxy@0.2.3)",
    },
    // Netlify Functions: the same transpiled component, run by Node.js. Node 20
    // (netlify-cli 26.2.0's `functions:serve` here) has no JSPI, so a component
    // cannot wait on a promise. The glue of `cargo fn deploy --provider netlify`
    // does the asynchronous work (Netlify Blobs, fetch) on a worker thread the
    // component's thread waits for (Atomics.wait), and replaces the shim's
    // promise-based outbound HTTP, timers and poll. Atomic increments are
    // compare-and-swap loops on Blobs' conditional writes (`onlyIfMatch`,
    // `onlyIfNew`; @netlify/blobs 10.7.13, whose local server netlify-cli runs).
    Host {
        id: "netlify",
        name: "Netlify Functions",
        wasi_max: (0, 2, 3),
        semver: true,
        scope: Scope::Proxy,
        capabilities: &[
            Capability {
                interface: "wasi:keyvalue/store",
                versions: KV_DRAFT,
                how: "a Netlify Blobs store per store, called from a worker thread (in the bundle)",
            },
            Capability {
                interface: "wasi:keyvalue/atomics",
                versions: KV_DRAFT,
                how: "increments as conditional writes to Netlify Blobs (in the bundle)",
            },
            Capability {
                interface: "wasi:config/store",
                versions: &["0.2.0-rc.1"],
                how: "config from the site's environment variables",
            },
        ],
        adapter: None,
        source: "https://www.npmjs.com/package/netlify-cli/v/26.2.0 on Node 20 observed; https://www.npmjs.com/package/@netlify/blobs/v/10.7.13 (dist/main.d.ts: onlyIfMatch, onlyIfNew); https://www.npmjs.com/package/@bytecodealliance/preview2-shim/v/0.26.1 (types/index.d.ts: wasi:http/proxy@0.2.3)",
    },
    // NGINX Unit 1.32+ (nginx/unit, src/wasm-wasi-component): 1.32 embeds wasmtime
    // 17 (WASI 0.2.0; its linker predates semver-compatible linking, wasmtime 19),
    // so imports must be named @0.2.0; 1.33 moved to wasmtime 24, 1.35 to 35. It
    // links all of WASI 0.2 (1.32: `command::add_to_linker`; 1.35:
    // `p2::add_to_linker_async`) plus wasi:http, with the directories of the
    // app's `access.filesystem` preopened and the app's environment inherited,
    // but no key-value or config.
    Host {
        id: "nginx-unit",
        name: "NGINX Unit 1.32+",
        wasi_max: (0, 2, 0),
        semver: false,
        scope: Scope::All,
        capabilities: &[],
        adapter: Some(&UNIT_FILES_ADAPTER),
        source: "https://github.com/nginx/unit/tree/1.32.0/src/wasm-wasi-component (Cargo.toml: wasmtime 17; src/lib.rs: command::add_to_linker), 1.35.0 (wasmtime 35)",
    },
];

/// The ids accepted by `--require-host`.
pub fn ids() -> Vec<&'static str> {
    HOSTS.iter().map(|h| h.id).collect()
}

/// Looks a host up by id (case-insensitive).
pub fn find(id: &str) -> Option<&'static Host> {
    HOSTS.iter().find(|h| h.id.eq_ignore_ascii_case(id))
}

/// Whether and how a host can run an artifact.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Verdict {
    /// The host's id.
    pub id: &'static str,
    /// The host's name.
    pub name: &'static str,
    /// Whether it can run the artifact.
    pub runs: bool,
    /// Why not (empty when it runs).
    pub reasons: Vec<String>,
    /// What to do to run it there (flags, manifest entries).
    pub notes: Vec<String>,
}

const WASI_02_PACKAGES: &[&str] = &[
    "io",
    "clocks",
    "random",
    "cli",
    "http",
    "filesystem",
    "sockets",
];

/// Judges whether `host` can run an artifact with these imports.
pub fn evaluate(host: &Host, imports: &[Import]) -> Verdict {
    let (mut reasons, mut notes) = (Vec::new(), Vec::new());
    let mut inexact = Vec::new();
    let (maj, min, patch) = host.wasi_max;
    let max = Version::new(maj, min, patch);
    for import in imports {
        let (interface, version) = wit::split_versioned(&import.name);
        let package = interface
            .split_once('/')
            .map(|(p, _)| p)
            .unwrap_or(interface);
        let wasi_02 = package
            .strip_prefix("wasi:")
            .is_some_and(|p| WASI_02_PACKAGES.contains(&p))
            && version
                .as_ref()
                .is_some_and(|v| v.major == 0 && v.minor == 2 && v.pre.is_empty());
        if wasi_02 {
            let version = version.expect("checked above");
            if host.scope == Scope::Proxy && !wit::reference().in_proxy(interface) {
                reasons.push(format!(
                    "it provides only wasi:http/proxy, and {} is outside it",
                    import.name
                ));
            } else if !host.semver && version != max {
                inexact.push(import.name.as_str());
            } else {
                let needs = import
                    .needs
                    .as_deref()
                    .and_then(|v| Version::parse(v).ok())
                    .unwrap_or(version);
                if needs > max {
                    reasons.push(format!(
                        "{} uses items added in WASI {needs}, and it implements WASI up to {max}",
                        import.name
                    ));
                }
            }
            continue;
        }
        if let Some(adapter) = host.adapter.filter(|a| a.exports(&import.name)) {
            // Composed in front of the function: the host sees the
            // adapter's imports, at versions it provides.
            if !notes.iter().any(|n| n == adapter.how) {
                notes.push(adapter.how.to_string());
            }
            continue;
        }
        match host.capabilities.iter().find(|c| c.interface == interface) {
            Some(cap)
                if version
                    .as_ref()
                    .is_some_and(|v| cap.versions.contains(&v.to_string().as_str())) =>
            {
                if !notes.iter().any(|n| n == cap.how) {
                    notes.push(cap.how.to_string());
                }
            }
            Some(cap) => reasons.push(format!(
                "it provides {interface} only at {} (pre-release versions must match exactly), \
                 and this artifact imports {}",
                cap.versions.join(", "),
                import.name
            )),
            None => reasons.push(format!("it does not provide {}", import.name)),
        }
    }
    if !inexact.is_empty() {
        reasons.insert(
            0,
            format!(
                "it links WASI imports by exact version ({max}), and this artifact imports {}",
                inexact.join(", ")
            ),
        );
    }
    Verdict {
        id: host.id,
        name: host.name,
        runs: reasons.is_empty(),
        reasons,
        notes,
    }
}

/// Whether `host` runs an artifact with these imports only with its
/// adapter composed in front: the adapter, if so.
pub fn adapter_for(host: &Host, imports: &[Import]) -> Option<&'static Adapter> {
    host.adapter
        .filter(|a| imports.iter().any(|i| a.exports(&i.name)))
}

/// Verdicts for every known host.
pub fn evaluate_all(imports: &[Import]) -> Vec<Verdict> {
    HOSTS.iter().map(|h| evaluate(h, imports)).collect()
}

#[cfg(test)]
#[path = "hosts_tests.rs"]
mod tests;
