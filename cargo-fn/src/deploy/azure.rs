//! Azure Functions: a function app folder for a custom handler, and its zip
//! for `az functionapp deployment source config-zip`:
//!
//! - `host.json`: the runner (`fn-runner`) as the custom handler, HTTP
//!   requests forwarded as they come, no `api/` route prefix (the function
//!   sees the paths it declares);
//! - `http/function.json`: the route as an anonymous `httpTrigger` with
//!   the `$return` output;
//! - `schedule/function.json`: the schedule as a `timerTrigger` (NCRONTAB);
//! - the bundle, whose `events` name those triggers so the runner treats a
//!   POST to `/schedule` as a timer invocation.
//!
//! `[package.metadata.fn]` has no queues. To add a Storage queue trigger by
//! hand: a folder `orders/` with `function.json` `{"bindings": [{"type":
//! "queueTrigger", "direction": "in", "name": "msg", "queueName": "orders",
//! "connection": "AzureWebJobsStorage"}]}`, and in `fn-bundle.json`'s
//! `events` `{"name": "orders", "kind": "queue", "source": "orders",
//! "route": "/..."}`; the runner delivers each message as a CloudEvent.
//!
//! `local.settings.json` is not written: it would hold secrets. The notes
//! list the app settings to set instead.

use serde_json::{Value, json};

use super::files::{Entry, Output, zip};
use super::native::{self, Component};
use super::{Deployment, cron};
use crate::runner::Arch;

/// The runner's file name in the app.
pub const RUNNER: &str = "fn-runner";
/// The HTTP function's name (its folder).
pub const HTTP_FUNCTION: &str = "http";
/// The timer function's name (its folder, and the trigger in the bundle).
pub const TIMER_FUNCTION: &str = "schedule";
/// The extension bundle range Functions 4.x apps use.
pub const EXTENSION_BUNDLE: &str = "[4.*, 5.0.0)";
/// Every method the HTTP trigger accepts.
const METHODS: [&str; 7] = ["get", "post", "put", "delete", "patch", "head", "options"];

/// `host.json`.
pub fn host_json() -> Value {
    json!({
        "version": "2.0",
        "extensionBundle": {
            "id": "Microsoft.Azure.Functions.ExtensionBundle",
            "version": EXTENSION_BUNDLE,
        },
        "customHandler": {
            "description": {
                "defaultExecutablePath": RUNNER,
                "workingDirectory": "",
                "arguments": [],
            },
            "enableForwardingHttpRequest": true,
        },
        "extensions": { "http": { "routePrefix": "" } },
    })
}

/// A route in our (Spin) syntax as an Azure route template: `/orders/...`
/// → `orders/{*rest}`, `/users/:id` → `users/{id}`; `/` and `/...` take
/// every path (the function answers 404 itself).
pub fn route_template(route: &str) -> String {
    let rest = route.trim_start_matches('/');
    if rest.is_empty() {
        return "{*rest}".to_owned();
    }
    rest.split('/')
        .map(|seg| match seg {
            "..." => "{*rest}".to_owned(),
            seg => match seg.strip_prefix(':') {
                Some(name) => format!("{{{name}}}"),
                None => seg.to_owned(),
            },
        })
        .collect::<Vec<_>>()
        .join("/")
}

/// `function.json` of the HTTP function.
pub fn http_function(route: &str) -> Value {
    json!({
        "bindings": [
            {
                "type": "httpTrigger",
                "direction": "in",
                "name": "req",
                "authLevel": "anonymous",
                "methods": METHODS,
                "route": route_template(route),
            },
            { "type": "http", "direction": "out", "name": "$return" },
        ],
    })
}

/// `function.json` of the timer function, or why the schedule cannot be
/// said in NCRONTAB.
pub fn timer_function(schedule: &str) -> anyhow::Result<Value> {
    let expression = cron::ncrontab(schedule)
        .map_err(|e| anyhow::anyhow!("schedule {schedule:?} cannot run on Azure Functions: {e}"))?;
    Ok(json!({
        "bindings": [
            { "type": "timerTrigger", "direction": "in", "name": "timer", "schedule": expression },
        ],
    }))
}

/// The function folders: `(name, function.json)`.
pub fn functions(deployment: &Deployment) -> anyhow::Result<Vec<(&'static str, Value)>> {
    let meta = &deployment.metadata;
    let mut functions = vec![(HTTP_FUNCTION, http_function(meta.route_or_wildcard()))];
    if let Some(schedule) = &meta.schedule {
        functions.push((TIMER_FUNCTION, timer_function(schedule)?));
    }
    Ok(functions)
}

/// Refuses what Azure Functions cannot run.
pub fn check(deployment: &Deployment, arch: Arch) -> anyhow::Result<()> {
    if arch != Arch::X86_64 {
        anyhow::bail!(
            "Azure Functions runs custom handlers on x86_64 Linux only; drop --arch {}",
            arch.name()
        );
    }
    functions(deployment).map(drop)
}

/// The app folder `<name>/` and `<name>.zip` of the same files.
pub fn package(
    deployment: &Deployment,
    arch: Arch,
    runner: &[u8],
    component: &Component,
) -> anyhow::Result<Output> {
    check(deployment, arch)?;
    let mut app = native::runner_files(deployment, component, TIMER_FUNCTION, RUNNER, runner)?;
    app.push(Entry::json("host.json", &host_json())?);
    for (name, function) in functions(deployment)? {
        app.push(Entry::json(format!("{name}/function.json"), &function)?);
    }
    let name = &deployment.name;
    let zip_name = format!("{name}.zip");
    let mut files = vec![Entry::file(&zip_name, zip(&app)?)];
    files.extend(app.into_iter().map(|e| Entry {
        path: format!("{name}/{}", e.path),
        ..e
    }));
    let mut settings = vec!["FUNCTIONS_WORKER_RUNTIME=custom".to_owned()];
    settings.extend(
        native::settings_to_set(deployment)
            .into_iter()
            .map(|s| s.replacen(' ', "=... ", 1)),
    );
    let mut notes = vec![
        format!(
            "create a Linux app with the custom runtime (`az functionapp create --os-type Linux --runtime custom --functions-version 4 ...`), then deploy with `az functionapp deployment source config-zip --resource-group <group> --name <app> --src {zip_name}`"
        ),
        format!(
            "app settings to set (`az functionapp config appsettings set --settings NAME=VALUE`; secrets as Key Vault references): {}",
            settings.join(", ")
        ),
    ];
    notes.push(
        "no queue triggers are generated ([package.metadata.fn] has none); to add one, see the queueTrigger recipe in `cargo doc` of cargo_fn::deploy::azure".into(),
    );
    Ok(Output {
        files,
        main: zip_name,
        notes,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::deploy::{files::unzip, sample};

    /// The validation errors of each of `instances` against a vendored
    /// SchemaStore schema (see tests/data/README.md), by Python's
    /// `jsonschema` (the reference validator; `.ci/run` installs it): a
    /// Rust validator as a dev-dependency changes `serde_json`'s features
    /// in test builds and so rebuilds the whole wasmtime chain.
    fn schema_errors(schema: &str, instances: &[Value]) -> Vec<Vec<String>> {
        use std::io::Write as _;
        const SCRIPT: &str = "import json, sys\n\
            import jsonschema\n\
            doc = json.load(sys.stdin)\n\
            cls = jsonschema.validators.validator_for(doc['schema'])\n\
            v = cls(doc['schema'])\n\
            print(json.dumps([[e.message + ' at ' + '/'.join(map(str, e.absolute_path)) for e in v.iter_errors(i)] for i in doc['instances']]))\n";
        let input = json!({
            "schema": serde_json::from_str::<Value>(schema).unwrap(),
            "instances": instances,
        });
        let mut child = std::process::Command::new("python3")
            .args(["-c", SCRIPT])
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("python3 runs the schema check");
        child
            .stdin
            .take()
            .unwrap()
            .write_all(input.to_string().as_bytes())
            .unwrap();
        let out = child.wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "validating with Python's jsonschema failed (install it: `pip install jsonschema`): {}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice(&out.stdout).unwrap()
    }

    fn assert_valid(schema: &str, instances: &[Value]) {
        for (instance, errors) in instances.iter().zip(schema_errors(schema, instances)) {
            assert!(errors.is_empty(), "{instance}: {errors:#?}");
        }
    }

    const HOST_SCHEMA: &str = include_str!("../../tests/data/azure-host.schema.json");
    const FUNCTION_SCHEMA: &str = include_str!("../../tests/data/azure-function.schema.json");

    #[test]
    fn generated_files_match_the_schemastore_schemas() {
        assert_valid(HOST_SCHEMA, &[host_json()]);
        let mut functions: Vec<Value> = ["/", "/...", "/orders/...", "/users/:id/orders"]
            .into_iter()
            .map(http_function)
            .collect();
        for cron in [
            "*/5 * * * *",
            "0 9 * * MON-FRI",
            "0,30 9-17/2 1 1-12 *",
            "0 0 * * 5-7",
            "0 0 1 JAN,jul *",
            "@daily",
            "@weekly",
            "@yearly",
        ] {
            functions.push(timer_function(cron).unwrap());
        }
        assert_valid(FUNCTION_SCHEMA, &functions);
        // The schemas do reject mistakes.
        let mut bad = timer_function("@daily").unwrap();
        bad["bindings"][0]["schedule"] = json!("0 0 * * *");
        assert!(
            !schema_errors(FUNCTION_SCHEMA, &[bad])[0].is_empty(),
            "five fields are not NCRONTAB"
        );
        let mut bad = host_json();
        bad["customHandler"]["enableForwardingHttpRequest"] = json!("yes");
        assert!(!schema_errors(HOST_SCHEMA, &[bad])[0].is_empty());
    }

    #[test]
    fn routes_become_route_templates() {
        assert_eq!(route_template("/orders/..."), "orders/{*rest}");
        assert_eq!(route_template("/users/:id"), "users/{id}");
        assert_eq!(route_template("/users/:id/orders"), "users/{id}/orders");
        assert_eq!(route_template("/..."), "{*rest}");
        assert_eq!(route_template("/"), "{*rest}");
        assert_eq!(route_template("/hook"), "hook");
    }

    #[test]
    fn host_json_forwards_http_to_the_runner() {
        let host = host_json();
        assert_eq!(host["version"], "2.0");
        let handler = &host["customHandler"];
        assert_eq!(handler["description"]["defaultExecutablePath"], "fn-runner");
        assert_eq!(handler["enableForwardingHttpRequest"], true);
        assert_eq!(host["extensions"]["http"]["routePrefix"], "");
        assert_eq!(
            host["extensionBundle"]["id"],
            "Microsoft.Azure.Functions.ExtensionBundle"
        );
    }

    #[test]
    fn functions_are_an_http_trigger_and_a_timer() {
        let mut deployment = sample();
        deployment.metadata.schedule = Some("*/5 * * * *".into());
        let functions = functions(&deployment).unwrap();
        let (name, http) = &functions[0];
        assert_eq!(*name, "http");
        let trigger = &http["bindings"][0];
        assert_eq!(trigger["type"], "httpTrigger");
        assert_eq!(trigger["authLevel"], "anonymous");
        assert_eq!(trigger["route"], "orders/{*rest}");
        assert!(
            trigger["methods"]
                .as_array()
                .unwrap()
                .contains(&json!("post"))
        );
        assert_eq!(http["bindings"][1]["name"], "$return");
        let (name, timer) = &functions[1];
        assert_eq!(*name, "schedule");
        assert_eq!(timer["bindings"][0]["type"], "timerTrigger");
        assert_eq!(timer["bindings"][0]["schedule"], "0 */5 * * * *");

        deployment.metadata.schedule = Some("0 0 L * *".into());
        let err = check(&deployment, Arch::X86_64).unwrap_err().to_string();
        assert!(err.contains("cannot run on Azure Functions"), "{err}");
        let err = check(&sample(), Arch::Arm64).unwrap_err().to_string();
        assert!(err.contains("x86_64 Linux only"), "{err}");
    }

    #[test]
    fn the_app_folder_and_its_zip_hold_the_same_files() {
        let mut deployment = sample();
        deployment.metadata.schedule = Some("@daily".into());
        let wasm = b"\0asm\x0d\0\x01\0".to_vec();
        deployment.layer_digest = fn_runtime::bundle::sha256_digest(&wasm);
        let component = Component::new(&deployment, wasm).unwrap();
        let output = package(&deployment, Arch::X86_64, b"\x7fELF", &component).unwrap();
        assert_eq!(output.main, "checkout_fn.zip");
        let entries = unzip(&output.files[0].contents).unwrap();
        let listing: Vec<(&str, u32)> = entries.iter().map(|e| (e.path.as_str(), e.mode)).collect();
        assert_eq!(
            listing,
            [
                ("fn-bundle.json", 0o644),
                ("fn-runner", 0o755),
                ("fn.wasm", 0o644),
                ("host.json", 0o644),
                ("http/function.json", 0o644),
                ("schedule/function.json", 0o644),
            ]
        );
        for entry in &entries {
            let folder = output
                .files
                .iter()
                .find(|f| f.path == format!("checkout_fn/{}", entry.path))
                .unwrap();
            assert_eq!(folder.contents, entry.contents);
            assert_eq!(folder.mode, entry.mode);
        }
        assert!(
            !output
                .files
                .iter()
                .any(|f| f.path.ends_with("local.settings.json"))
        );
        let manifest: fn_runtime::bundle::Manifest =
            serde_json::from_slice(&entries[0].contents).unwrap();
        assert_eq!(manifest.events[0].name, "schedule");
        assert_eq!(manifest.events[0].kind, "schedule");
        let notes = output.notes.join("\n");
        assert!(notes.contains("config-zip"), "{notes}");
        assert!(notes.contains("FUNCTIONS_WORKER_RUNTIME=custom"), "{notes}");
        assert!(notes.contains("FN_CONFIG_PAYMENT_API_KEY=..."), "{notes}");
        assert!(notes.contains("FN_KEY_VALUE_URL=..."), "{notes}");
    }
}
