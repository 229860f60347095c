//! Netlify Functions: a site folder whose functions run the published
//! component, transpiled ([`super::js`]), on Node.js:
//!
//! - `netlify.toml`: the functions folder, bundled with esbuild;
//! - `netlify/functions/<name>/<name>.mjs`: a v2 function (`export default
//!   async (req) => Response`, `export const config = { path }`) for the
//!   route, with the glue, `fn-bundle.js` (the core modules inlined as
//!   base64: Node compiles them at start-up) and `component/fn.js` next to
//!   it;
//! - `netlify/functions/<name>-schedule.mjs`: the schedule, when declared,
//!   as a scheduled function whose ticks reach the component as CloudEvents
//!   (Netlify's scheduled functions have no URL, so it is a function of its
//!   own);
//! - `package.json`: the WASI shim and the Netlify Blobs client, pinned.
//!
//! Netlify's Node.js has no JSPI, so the component is transpiled to answer
//! synchronously. Key-value goes to Netlify Blobs, and outbound HTTP to
//! fetch, on a worker thread the function's thread waits for (`sync.js`);
//! atomic increments are compare-and-swap loops on the entry's ETag.
//! `blocking.js` replaces the WASI shim's outbound HTTP, timers and `poll`,
//! which would wait on promises, with ones that answer at once.

use anyhow::bail;
use serde_json::{Map, json};

use super::files::{Entry, Output};
use super::{Deployment, cron, js};

/// The request body limit of Netlify's synchronous functions (6 MB, as
/// AWS Lambda's).
pub const MAX_BODY_BYTES: usize = 6 << 20;

/// The functions folder.
const FUNCTIONS_DIR: &str = "netlify/functions";

/// The function's name on Netlify: its component id (`hello-fn`).
fn function_name(deployment: &Deployment) -> String {
    deployment.component_id()
}

/// The Netlify paths of a route (URLPattern syntax): `/orders/...` →
/// `/orders` and `/orders/*`; `:id` segments stay as they are.
pub fn paths(route: &str) -> Vec<String> {
    match route.strip_suffix("/...") {
        Some("") => vec!["/*".to_owned()],
        Some(prefix) => vec![prefix.to_owned(), format!("{prefix}/*")],
        None => vec![route.to_owned()],
    }
}

/// Refuses a schedule Netlify cannot run.
pub fn check(deployment: &Deployment) -> anyhow::Result<()> {
    if let Some(schedule) = &deployment.metadata.schedule
        && let Err(why) = cron::netlify(schedule)
    {
        bail!("schedule {schedule:?} cannot be a Netlify schedule: {why}");
    }
    Ok(())
}

/// The entry of the HTTP function.
fn http_entry(deployment: &Deployment, name: &str) -> anyhow::Result<String> {
    let config = json!({ "path": paths(deployment.metadata.route_or_wildcard()) });
    Ok(format!(
        "// cargo fn: the Netlify function around the published component (see glue.js).\n\
         // Written by `cargo fn deploy --provider netlify`.\n\
         import {{ bundle }} from \"./fn-bundle.js\";\n\
         import {{ serve }} from \"./glue.js\";\n\
         import {{ platform }} from \"./platform.js\";\n\
         \n\
         export default (request) => serve(bundle, platform, request);\n\
         \n\
         export const config = {};\n\
         // The function {name}: every request gets a fresh instance of the component.\n",
        serde_json::to_string(&config)?
    ))
}

/// The entry of the scheduled function: each tick, as a CloudEvent.
fn schedule_entry(name: &str, schedule: &str) -> anyhow::Result<String> {
    Ok(format!(
        "// cargo fn: the schedule of {name}, a Netlify scheduled function whose ticks\n\
         // reach the component as CloudEvents (dev.cargo-fn.schedule), as on the other clouds.\n\
         import {{ bundle }} from \"./{name}/fn-bundle.js\";\n\
         import {{ scheduleRequest, serve }} from \"./{name}/glue.js\";\n\
         import {{ platform }} from \"./{name}/platform.js\";\n\
         \n\
         export default async (request) => {{\n\
         \x20 const body = await request.json().catch(() => ({{}}));\n\
         \x20 const tick = scheduleRequest(bundle, {{\n\
         \x20   id: crypto.randomUUID(),\n\
         \x20   source: \"/netlify/functions/{name}\",\n\
         \x20   time: new Date().toISOString(),\n\
         \x20   data: body,\n\
         \x20 }});\n\
         \x20 const response = await serve(bundle, platform, tick);\n\
         \x20 if (!response.ok) {{\n\
         \x20   throw new Error(`{name}: schedule tick answered ${{response.status}}: ${{await response.text()}}`);\n\
         \x20 }}\n\
         }};\n\
         \n\
         export const config = {};\n",
        serde_json::to_string(&json!({ "schedule": schedule }))?
    ))
}

/// Where configuration and key-value come from on Netlify.
const PLATFORM_JS: &str = "\
// cargo fn: configuration on Netlify comes from the site's environment
// variables (FN_CONFIG_<KEY>); each key-value store is a Netlify Blobs
// store, called synchronously (sync.js): Node.js has no JSPI, so the WASI
// interfaces that would wait on promises are replaced (blocking.js).
import { blocking } from \"./blocking.js\";
import { blobStore } from \"./sync.js\";
import { bundle } from \"./fn-bundle.js\";

export const platform = {
  sync: true,
  wasi: blocking,
  store: (name) => blobStore(bundle.name, name),
  increment: (_name, store, key, delta) => store.increment(key, delta),
  variable: (name) => globalThis.Netlify?.env.get(name) ?? process.env[name],
  howToSet: (decl) =>
    `run \\`netlify env:set ${decl.env} VALUE${decl.secret ? \" --secret\" : \"\"}\\``,
};
";

/// The site folder for the published component `wasm`.
pub fn package(deployment: &Deployment, wasm: &[u8]) -> anyhow::Result<Output> {
    check(deployment)?;
    let name = function_name(deployment);
    let transpiled = js::transpile(wasm, false)?;
    let data = js::bundle_data(deployment, MAX_BODY_BYTES, Map::new());
    // Each module compiled on first use: the worker thread of sync.js loads
    // this module too, and never instantiates the component.
    let bundle = js::bundle_module(&data, &transpiled, |binding, file| {
        use base64::Engine as _;
        format!(
            "let {binding}Compiled;\nconst {binding} = () => ({binding}Compiled ??= WebAssembly.compile(Buffer.from(\"{}\", \"base64\")));",
            base64::engine::general_purpose::STANDARD.encode(&file.contents)
        )
    })?;
    let bundle = format!("import {{ Buffer }} from \"node:buffer\";\n{bundle}");
    let dir = format!("{FUNCTIONS_DIR}/{name}");
    let toml = toml::to_string(&json!({
        "functions": { "directory": FUNCTIONS_DIR, "node_bundler": "esbuild" }
    }))?;
    let mut files = vec![
        Entry::file("netlify.toml", toml),
        js::package_json(deployment, &[js::NETLIFY_BLOBS])?,
        Entry::file(format!("{dir}/{name}.mjs"), http_entry(deployment, &name)?),
        Entry::file(format!("{dir}/glue.js"), js::GLUE_JS),
        Entry::file(format!("{dir}/platform.js"), PLATFORM_JS),
        Entry::file(format!("{dir}/sync.js"), js::SYNC_JS),
        Entry::file(format!("{dir}/blocking.js"), js::BLOCKING_JS),
        // Node resolves the package to its Node.js build, which has no
        // Fetch-based HTTP: the path names the browser build.
        js::wasi_module(
            "../../../node_modules/@bytecodealliance/preview2-shim/dist/browser/index.js",
        )
        .map(|e| Entry::file(format!("{dir}/{}", e.path), e.contents))?,
        Entry::file(format!("{dir}/fn-bundle.js"), bundle),
    ];
    // fn.js only: the core modules are in fn-bundle.js.
    files.extend(
        transpiled
            .files
            .iter()
            .filter(|f| f.path.ends_with(".js"))
            .map(|f| Entry::file(format!("{dir}/{}", f.path), f.contents.clone())),
    );
    if let Some(schedule) = &deployment.metadata.schedule {
        files.push(Entry::file(
            format!("{FUNCTIONS_DIR}/{name}-schedule.mjs"),
            schedule_entry(&name, schedule)?,
        ));
    }
    let mut notes = vec![format!(
        "install the WASI shim, then deploy: `npm install && netlify deploy --prod` (the function {name} serves {})",
        paths(deployment.metadata.route_or_wildcard()).join(" and ")
    )];
    for (key, env, secret) in deployment.config_to_supply() {
        notes.push(if secret {
            format!(
                "secret `{key}`: `netlify env:set {env} VALUE --secret` before the first request"
            )
        } else {
            format!("config `{key}` has no default: `netlify env:set {env} VALUE`")
        });
    }
    Ok(Output {
        files,
        main: "netlify.toml".into(),
        notes,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes_become_netlify_paths() {
        assert_eq!(paths("/..."), ["/*"]);
        assert_eq!(paths("/orders/..."), ["/orders", "/orders/*"]);
        assert_eq!(paths("/users/:id"), ["/users/:id"]);
    }

    #[test]
    fn entries_declare_path_and_schedule() {
        let deployment = super::super::sample();
        let entry = http_entry(&deployment, "checkout-fn").unwrap();
        assert!(
            entry.contains(r#"export const config = {"path":["/orders","/orders/*"]};"#),
            "{entry}"
        );
        let entry = schedule_entry("checkout-fn", "@hourly").unwrap();
        assert!(
            entry.contains(r#"export const config = {"schedule":"@hourly"};"#),
            "{entry}"
        );
        assert!(entry.contains("./checkout-fn/glue.js"), "{entry}");
    }
}
