//! What the bundles for JavaScript runtimes (Cloudflare Workers, Netlify
//! Functions) share: the published component transpiled into an ES module
//! and its core wasm modules (what `jco transpile` does, by the crate jco
//! is built on), the glue that runs it there (`glue.js`), and
//! `fn-bundle.js`, the generated module that pins the component and
//! declares its configuration and stores.
//!
//! Transpiling is deterministic: the same component gives the same files,
//! byte for byte.

use anyhow::Context as _;
use js_component_bindgen::{AsyncMode, InstantiationMode, TranspileOpts};
use serde_json::{Map, Value, json};

use super::Deployment;
use super::files::Entry;
use super::native;

/// Where the transpiled component goes in a bundle.
pub const COMPONENT_DIR: &str = "component";
/// The transpiled component's name: `component/fn.js`,
/// `component/fn.core.wasm`, ...
const NAME: &str = "fn";

/// The runtime glue, the same for every JavaScript provider.
pub const GLUE_JS: &str = include_str!("glue.js");

/// Netlify Blobs and fetch behind a synchronous interface (a worker thread
/// and `Atomics.wait`), for Node.js without JSPI.
pub const SYNC_JS: &str = include_str!("sync.js");

/// The WASI imports a component blocks on (outbound HTTP, timers, poll),
/// answering synchronously over `sync.js`, for Node.js without JSPI.
pub const BLOCKING_JS: &str = include_str!("blocking.js");

/// The Node.js server of `cargo fn deploy --provider jco`, on jco's WASI
/// shim (the Node.js build of preview2-shim).
pub const SERVER_MJS: &str = include_str!("server.mjs");

/// The Netlify Blobs client the Netlify glue uses. Pinned: the one
/// netlify-cli 26.2.0 serves locally.
pub const NETLIFY_BLOBS: (&str, &str) = ("@netlify/blobs", "10.7.13");

/// The WASI implementation the glue builds on: its browser build runs in
/// workerd and Node.js alike. Pinned: the bundle is tested with this one.
pub const PREVIEW2_SHIM: (&str, &str) = ("@bytecodealliance/preview2-shim", "0.26.1");

/// Imports whose JavaScript side may answer with a promise: under JSPI
/// (`WebAssembly.Suspending`) the component waits for it. The names are
/// those of jco's `--async-imports`.
const SUSPENDING_IMPORTS: &[&str] = &[
    "wasi:io/poll#poll",
    "wasi:io/poll#[method]pollable.block",
    "wasi:io/streams#[method]input-stream.blocking-read",
    "wasi:io/streams#[method]input-stream.blocking-skip",
    "wasi:io/streams#[method]output-stream.blocking-flush",
    "wasi:io/streams#[method]output-stream.blocking-write-and-flush",
    "wasi:io/streams#[method]output-stream.blocking-splice",
    "wasi:keyvalue/store#[method]bucket.get",
    "wasi:keyvalue/store#[method]bucket.set",
    "wasi:keyvalue/store#[method]bucket.delete",
    "wasi:keyvalue/store#[method]bucket.exists",
    "wasi:keyvalue/store#[method]bucket.list-keys",
    "wasi:keyvalue/atomics#increment",
];

/// The export the glue calls, as a promise under JSPI.
const HANDLER_EXPORT: &str = "wasi:http/incoming-handler#handle";

/// A transpiled component.
#[derive(Debug, Clone)]
pub struct Transpiled {
    /// `component/fn.js` and the core modules, in that order.
    pub files: Vec<Entry>,
    /// The core modules' file names (`fn.core.wasm`, ...), as `fn.js` asks
    /// for them.
    pub core_modules: Vec<String>,
}

impl Transpiled {
    /// The bundle's size: every transpiled file, raw and gzipped (level 9),
    /// in bytes.
    pub fn sizes(&self) -> (usize, usize) {
        use std::io::Write as _;
        let raw = self.files.iter().map(|f| f.contents.len()).sum();
        let gzip = self
            .files
            .iter()
            .map(|f| {
                let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
                gz.write_all(&f.contents).expect("writes to a Vec");
                gz.finish().expect("writes to a Vec").len()
            })
            .sum();
        (raw, gzip)
    }
}

/// Transpiles the component `wasm`. With `jspi`, blocking imports may wait
/// on promises (the runtime must have `WebAssembly.Suspending`); without,
/// every import must answer synchronously.
pub fn transpile(wasm: &[u8], jspi: bool) -> anyhow::Result<Transpiled> {
    // `instantiate(getCoreModule, imports)`, a promise: the glue hands over
    // modules the runtime compiled ahead (workerd refuses to compile wasm
    // at run time) and a fresh import object per instance.
    transpile_as(wasm, jspi, InstantiationMode::Async)
}

/// Transpiles the component `wasm` for synchronous instantiation:
/// `instantiate(getCoreModule, imports)` returns the instance, so a server
/// whose handler must answer synchronously (jco's shim on Node.js) can
/// instantiate per request. Every import must answer synchronously.
pub fn transpile_sync(wasm: &[u8]) -> anyhow::Result<Transpiled> {
    transpile_as(wasm, false, InstantiationMode::Sync)
}

fn transpile_as(
    wasm: &[u8],
    jspi: bool,
    instantiation: InstantiationMode,
) -> anyhow::Result<Transpiled> {
    let opts = TranspileOpts {
        name: NAME.to_owned(),
        no_typescript: true,
        instantiation_mode: Some(instantiation),
        // Core modules stay .wasm files, never base64 in the JavaScript.
        base64_cutoff: 0,
        nodejs_compat_disabled: true,
        no_namespaced_exports: true,
        async_mode: jspi.then(|| AsyncMode::JavaScriptPromiseIntegration {
            imports: SUSPENDING_IMPORTS.iter().map(|s| s.to_string()).collect(),
            exports: vec![HANDLER_EXPORT.to_owned()],
        }),
        ..TranspileOpts::default()
    };
    let transpiled = js_component_bindgen::transpile(wasm, opts)
        .context("cannot transpile the component to JavaScript")?;
    let mut files = Vec::new();
    let mut core_modules = Vec::new();
    for (name, contents) in transpiled.files {
        if name.ends_with(".wasm") {
            core_modules.push(name.clone());
        }
        files.push(Entry::file(format!("{COMPONENT_DIR}/{name}"), contents));
    }
    // fn.js first, then the core modules in their order.
    files.sort_by_key(|f| !f.path.ends_with(".js"));
    anyhow::ensure!(
        files
            .first()
            .is_some_and(|f| f.path == format!("{COMPONENT_DIR}/{NAME}.js")),
        "the transpiler wrote no {NAME}.js"
    );
    Ok(Transpiled {
        files,
        core_modules,
    })
}

/// The data part of `fn-bundle.js`: what the glue needs to know about the
/// deployment, as JSON. `extra` adds the provider's own fields.
pub fn bundle_data(
    deployment: &Deployment,
    max_body_bytes: usize,
    extra: Map<String, Value>,
) -> Value {
    let meta = &deployment.metadata;
    let config: Map<String, Value> = meta
        .config
        .iter()
        .map(|(key, decl)| {
            let mut entry = json!({ "env": native::config_env(key), "secret": decl.secret });
            // A secret's default is never written into a bundle.
            if let (Some(default), false) = (&decl.default, decl.secret) {
                entry["default"] = json!(default);
            }
            (key.clone(), entry)
        })
        .collect();
    let mut data = json!({
        "name": deployment.name,
        "version": deployment.version,
        "image": deployment.image.to_string(),
        "digest": deployment.layer_digest,
        "config": config,
        "stores": meta.key_value,
        "scheduleRoute": route_path(meta.route_or_wildcard()),
        "maxBodyBytes": max_body_bytes,
    });
    data.as_object_mut().expect("an object").extend(extra);
    data
}

/// `fn-bundle.js`: the deployment's data, and the core modules as the
/// provider's `import_module` brings them in (one statement per module,
/// binding the name it is given, from the module's file in the bundle).
pub fn bundle_module(
    data: &Value,
    transpiled: &Transpiled,
    import_module: impl Fn(&str, &Entry) -> String,
) -> anyhow::Result<String> {
    let mut js = String::from(
        "// Generated by `cargo fn deploy`: the published component, pinned by digest,\n\
         // and what it declares in [package.metadata.fn].\n",
    );
    let mut modules = Vec::new();
    for (i, name) in transpiled.core_modules.iter().enumerate() {
        let binding = format!("module{i}");
        let path = format!("{COMPONENT_DIR}/{name}");
        let file = transpiled
            .files
            .iter()
            .find(|f| f.path == path)
            .with_context(|| format!("the transpiler wrote no {path}"))?;
        js.push_str(&import_module(&binding, file));
        js.push('\n');
        modules.push(format!("    {}: {binding},", serde_json::to_string(name)?));
    }
    let data = serde_json::to_string_pretty(data)?;
    let data = data
        .strip_suffix('}')
        .context("the bundle data is an object")?
        .trim_end();
    js.push_str(&format!(
        "\nexport const bundle = {data},\n  \"modules\": {{\n{}\n  }}\n}};\n",
        modules.join("\n")
    ));
    Ok(js)
}

/// The path a route's requests start with: `/orders/...` → `/orders/`,
/// `/...` → `/` (where a schedule tick is POSTed).
pub fn route_path(route: &str) -> String {
    let trimmed = route.trim_end_matches("...");
    if trimmed.is_empty() {
        "/".to_owned()
    } else {
        trimmed.to_owned()
    }
}

/// `wasi.js`: where the glue takes WASI from, `shim` (the shim's browser
/// build, as the provider's module resolution reaches it).
pub fn wasi_module(shim: &str) -> anyhow::Result<Entry> {
    Ok(Entry::file(
        "wasi.js",
        format!(
            "// The WASI implementation the glue runs the component on: the browser build\n\
             // of {}@{} (see package.json).\n\
             export {{ cli, clocks, http, io, random }} from {};\n",
            PREVIEW2_SHIM.0,
            PREVIEW2_SHIM.1,
            serde_json::to_string(shim)?
        ),
    ))
}

/// `package.json`: the glue's dependencies (the WASI shim and `extra`),
/// pinned.
pub fn package_json(deployment: &Deployment, extra: &[(&str, &str)]) -> anyhow::Result<Entry> {
    let dependencies: Map<String, Value> = std::iter::once(PREVIEW2_SHIM)
        .chain(extra.iter().copied())
        .map(|(name, version)| (name.to_owned(), json!(version)))
        .collect();
    Entry::json(
        "package.json",
        &json!({
            "name": deployment.component_id(),
            "version": deployment.version,
            "private": true,
            "type": "module",
            "dependencies": dependencies,
        }),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes_give_the_path_ticks_go_to() {
        assert_eq!(route_path("/..."), "/");
        assert_eq!(route_path("/orders/..."), "/orders/");
        assert_eq!(route_path("/hook"), "/hook");
    }

    #[test]
    fn the_bundle_module_pins_the_component_and_lists_its_modules() {
        let deployment = super::super::sample();
        let transpiled = Transpiled {
            files: vec![
                Entry::file("component/fn.core.wasm", "a"),
                Entry::file("component/fn.core2.wasm", "b"),
            ],
            core_modules: vec!["fn.core.wasm".into(), "fn.core2.wasm".into()],
        };
        let data = bundle_data(&deployment, 1024, Map::new());
        let js = bundle_module(&data, &transpiled, |binding, file| {
            format!("import {binding} from \"./{}\";", file.path)
        })
        .unwrap();
        assert!(
            js.contains("import module0 from \"./component/fn.core.wasm\";"),
            "{js}"
        );
        assert!(js.contains("\"fn.core2.wasm\": module1,"), "{js}");
        assert!(js.contains(&deployment.layer_digest), "{js}");
        // A secret's variable is named; no default of it is written.
        assert!(
            js.contains("\"env\": \"FN_CONFIG_PAYMENT_API_KEY\""),
            "{js}"
        );
        assert!(
            js.contains("\"default\": \"https://api.stripe.com\""),
            "{js}"
        );
        assert!(js.contains("\"scheduleRoute\": \"/orders/\""), "{js}");
    }
}
