//! AWS Lambda: `bootstrap.zip`, a custom runtime for `provided.al2023`
//! (the runner as `bootstrap`, next to the function bundle), and a SAM
//! `template.yaml` deploying it with a Function URL for the route and an
//! EventBridge rule for the schedule.
//!
//! The schedule uses a classic EventBridge rule (SAM `Schedule`), whose
//! `Scheduled Event` payload the runner's Lambda mode turns into a schedule
//! CloudEvent.

use serde_json::{Map, Value, json};

use super::files::{Entry, Output, zip};
use super::native::{self, Component};
use super::{Deployment, cron};
use crate::runner::Arch;

/// The zip SAM uploads.
pub const ZIP: &str = "bootstrap.zip";
/// The SAM template.
pub const TEMPLATE: &str = "template.yaml";
/// Memory for the function, MB: room for the engine and a few instances.
pub const MEMORY_MB: u32 = 512;
/// Lambda's timeout, seconds.
pub const TIMEOUT_S: u32 = 30;
/// The name of the schedule trigger in the bundle and the template.
pub const SCHEDULE: &str = "Schedule";

/// `payment_api_key` → `PaymentApiKey`, `orders-fn` → `OrdersFn`: a
/// CloudFormation logical id.
pub fn logical_id(name: &str) -> String {
    let id: String = name
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(|w| {
            let mut chars = w.chars();
            chars
                .next()
                .map(|c| c.to_ascii_uppercase().to_string() + chars.as_str())
                .unwrap_or_default()
        })
        .collect();
    if id.starts_with(|c: char| c.is_ascii_alphabetic()) {
        id
    } else {
        format!("Fn{id}")
    }
}

/// The SAM template for `deployment` on `arch`; fails when the schedule
/// cannot be expressed for EventBridge.
pub fn sam_template(deployment: &Deployment, arch: Arch) -> anyhow::Result<Value> {
    let meta = &deployment.metadata;
    let function_id = logical_id(&deployment.name);
    let mut parameters = Map::new();
    let mut variables = Map::new();
    for (key, c) in &meta.config {
        let env = native::config_env(key);
        match (&c.default, c.secret) {
            (Some(value), false) => {
                variables.insert(env, json!(value));
            }
            (default, secret) => {
                let param = logical_id(key);
                let mut p = json!({
                    "Type": "String",
                    "Description": format!("config `{key}` of {} (${env})", deployment.name),
                });
                if secret {
                    p["NoEcho"] = json!(true);
                }
                if let Some(value) = default {
                    p["Default"] = json!(value);
                }
                parameters.insert(param.clone(), p);
                variables.insert(env, json!({ "Ref": param }));
            }
        }
    }
    if !meta.key_value.is_empty() {
        parameters.insert(
            "KeyValueUrl".into(),
            json!({
                "Type": "String",
                "NoEcho": true,
                "Description": format!(
                    "the key-value store ({}): redis://HOST:PORT, or memory: for a store private to each instance",
                    meta.key_value.join(", ")
                ),
            }),
        );
        variables.insert(
            native::KEY_VALUE_URL_ENV.into(),
            json!({ "Ref": "KeyValueUrl" }),
        );
    }
    let mut properties = json!({
        "CodeUri": ZIP,
        "Handler": "bootstrap",
        "Runtime": "provided.al2023",
        "Architectures": [arch.name()],
        "MemorySize": MEMORY_MB,
        "Timeout": TIMEOUT_S,
    });
    if !variables.is_empty() {
        properties["Environment"] = json!({ "Variables": variables });
    }
    if meta.route.is_some() {
        properties["FunctionUrlConfig"] = json!({ "AuthType": "NONE" });
    }
    if let Some(schedule) = &meta.schedule {
        let expression = cron::eventbridge(schedule)
            .map_err(|e| anyhow::anyhow!("schedule {schedule:?} cannot run on EventBridge: {e}"))?;
        properties["Events"] = json!({
            SCHEDULE: {
                "Type": "Schedule",
                "Properties": {
                    "Schedule": expression,
                    "Description": format!("schedule {schedule:?} of {} (UTC)", deployment.name),
                },
            },
        });
    }
    // No AWSTemplateFormatVersion: it is optional, and YAML 1.1 readers
    // (PyYAML, which SAM uses) would take 2010-09-09 unquoted for a date.
    let mut template = json!({
        "Transform": "AWS::Serverless-2016-10-31",
        "Description": format!(
            "{} {} as published to {}",
            deployment.name, deployment.version, deployment.image
        ),
    });
    if !parameters.is_empty() {
        template["Parameters"] = Value::Object(parameters);
    }
    template["Resources"] = json!({
        function_id.clone(): {
            "Type": "AWS::Serverless::Function",
            "Properties": properties,
        },
    });
    if meta.route.is_some() {
        template["Outputs"] = json!({
            "FunctionUrl": {
                "Description": "the function's URL",
                "Value": { "Fn::GetAtt": [format!("{function_id}Url"), "FunctionUrl"] },
            },
        });
    }
    Ok(template)
}

/// `bootstrap.zip` (the runner as `bootstrap` and the bundle) and
/// `template.yaml`.
pub fn package(
    deployment: &Deployment,
    arch: Arch,
    runner: &[u8],
    component: &Component,
) -> anyhow::Result<Output> {
    let template = sam_template(deployment, arch)?;
    let entries = native::runner_files(deployment, component, SCHEDULE, "bootstrap", runner)?;
    let files = vec![
        Entry::file(ZIP, zip(&entries)?),
        Entry::yaml(TEMPLATE, &template)?,
    ];
    let mut notes = vec![format!(
        "deploy with `sam deploy --guided` in this directory (AWS SAM CLI; it uploads {ZIP} as it is)"
    )];
    let settings = native::settings_to_set(deployment);
    if !settings.is_empty() {
        notes.push(format!(
            "sam asks for the parameters behind {} (secrets are NoEcho; better, keep them in SSM Parameter Store or Secrets Manager and use dynamic references such as '{{{{resolve:ssm:/{}/NAME}}}}')",
            settings.join(", "),
            deployment.name
        ));
    }
    if deployment.metadata.route.is_none() {
        notes.push(
            "no route declared: no Function URL; add FunctionUrlConfig or an Api event to template.yaml to serve HTTP".into(),
        );
    }
    Ok(Output {
        files,
        main: TEMPLATE.to_owned(),
        notes,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::deploy::{files::unzip, sample};

    fn scheduled(cron: &str) -> Deployment {
        let mut deployment = sample();
        deployment.metadata.schedule = Some(cron.to_owned());
        deployment
    }

    #[test]
    fn the_template_runs_the_bootstrap_on_al2023() {
        let template = sam_template(&scheduled("0 9 * * MON-FRI"), Arch::Arm64).unwrap();
        assert_eq!(template["Transform"], "AWS::Serverless-2016-10-31");
        assert!(template.get("AWSTemplateFormatVersion").is_none());
        let function = &template["Resources"]["CheckoutFn"];
        assert_eq!(function["Type"], "AWS::Serverless::Function");
        let p = &function["Properties"];
        assert_eq!(p["Runtime"], "provided.al2023");
        assert_eq!(p["Handler"], "bootstrap");
        assert_eq!(p["CodeUri"], "bootstrap.zip");
        assert_eq!(p["Architectures"], json!(["arm64"]));
        assert_eq!(p["MemorySize"], 512);
        assert_eq!(p["Timeout"], 30);
        assert_eq!(p["FunctionUrlConfig"]["AuthType"], "NONE");
        let schedule = &p["Events"]["Schedule"];
        assert_eq!(schedule["Type"], "Schedule");
        assert_eq!(
            schedule["Properties"]["Schedule"],
            "cron(0 9 ? * MON-FRI *)"
        );
        let vars = &p["Environment"]["Variables"];
        assert_eq!(vars["FN_CONFIG_PAYMENT_API_URL"], "https://api.stripe.com");
        assert_eq!(
            vars["FN_CONFIG_PAYMENT_API_KEY"],
            json!({"Ref": "PaymentApiKey"})
        );
        assert_eq!(vars["FN_CONFIG_REGION"], json!({"Ref": "Region"}));
        assert_eq!(vars["FN_KEY_VALUE_URL"], json!({"Ref": "KeyValueUrl"}));
        let params = &template["Parameters"];
        assert_eq!(params["PaymentApiKey"]["NoEcho"], true);
        assert!(params["Region"]["NoEcho"].is_null());
        assert!(params.get("PaymentApiUrl").is_none());
        assert_eq!(
            template["Outputs"]["FunctionUrl"]["Value"],
            json!({"Fn::GetAtt": ["CheckoutFnUrl", "FunctionUrl"]})
        );
        // It is YAML SAM reads: plain keys, no tags.
        let yaml = serde_norway::to_string(&template).unwrap();
        assert_eq!(crate::deploy::parse_yaml(&yaml), template);
    }

    /// AWS's own checker accepts the template: cfn-lint (pinned in .ci/run)
    /// runs AWS's SAM translator (aws-sam-translator) over it and lints the
    /// CloudFormation that comes out against the resource specifications.
    /// Any error, warning or note fails the test.
    #[test]
    fn cfn_lint_accepts_the_template() {
        let cfn_lint = std::env::var_os("FN_CFN_LINT").unwrap_or_else(|| "cfn-lint".into());
        let mut no_route = sample();
        no_route.metadata.route = None;
        let dir = tempfile::tempdir().unwrap();
        for (name, deployment, arch) in [
            ("scheduled.yaml", scheduled("0 9 * * MON-FRI"), Arch::Arm64),
            ("no-route.yaml", no_route, Arch::X86_64),
        ] {
            let template = sam_template(&deployment, arch).unwrap();
            let path = dir.path().join(name);
            std::fs::write(&path, serde_norway::to_string(&template).unwrap()).unwrap();
            let output = std::process::Command::new(&cfn_lint)
                .arg(&path)
                .output()
                .unwrap_or_else(|e| {
                    panic!(
                        "cannot run {} ({e}): install it with `pip install cfn-lint==1.51.0` (.ci/run does) or point $FN_CFN_LINT at it",
                        cfn_lint.display()
                    )
                });
            assert!(
                output.status.success(),
                "cfn-lint refused {name}:\n{}{}",
                String::from_utf8_lossy(&output.stdout),
                String::from_utf8_lossy(&output.stderr)
            );
        }
    }

    #[test]
    fn no_route_no_url_and_unsayable_schedules_are_refused() {
        let mut deployment = sample();
        deployment.metadata.route = None;
        let template = sam_template(&deployment, Arch::X86_64).unwrap();
        let p = &template["Resources"]["CheckoutFn"]["Properties"];
        assert!(p.get("FunctionUrlConfig").is_none());
        assert!(p.get("Events").is_none());
        assert!(template.get("Outputs").is_none());
        assert_eq!(p["Architectures"], json!(["x86_64"]));

        let err = sam_template(&scheduled("0 0 1 * MON"), Arch::X86_64)
            .unwrap_err()
            .to_string();
        assert!(err.contains("cannot run on EventBridge"), "{err}");
        assert!(err.contains("both the day of the month"), "{err}");
    }

    #[test]
    fn the_zip_holds_an_executable_bootstrap_and_the_bundle() {
        let mut deployment = scheduled("@hourly");
        let wasm = b"\0asm\x0d\0\x01\0".to_vec();
        deployment.layer_digest = fn_runtime::bundle::sha256_digest(&wasm);
        let component = Component {
            precompiled: Some(b"code".to_vec()),
            ..Component::new(&deployment, wasm).unwrap()
        };
        let output = package(&deployment, Arch::X86_64, b"\x7fELF", &component).unwrap();
        assert_eq!(output.main, "template.yaml");
        assert!(output.notes[0].contains("sam deploy --guided"));
        let zip_bytes = &output.files[0].contents;
        let again = package(&deployment, Arch::X86_64, b"\x7fELF", &component).unwrap();
        assert_eq!(&again.files[0].contents, zip_bytes, "deterministic");
        let entries = unzip(zip_bytes).unwrap();
        let listing: Vec<(&str, u32)> = entries.iter().map(|e| (e.path.as_str(), e.mode)).collect();
        assert_eq!(
            listing,
            [
                ("bootstrap", 0o755),
                ("fn-bundle.json", 0o644),
                ("fn.cwasm", 0o644),
                ("fn.wasm", 0o644)
            ]
        );
        let manifest: fn_runtime::bundle::Manifest =
            serde_json::from_slice(&entries[1].contents).unwrap();
        assert_eq!(manifest.component.digest, deployment.layer_digest);
        assert_eq!(
            manifest.precompiled.unwrap().digest,
            fn_runtime::bundle::sha256_digest(b"code")
        );
        assert_eq!(manifest.events.len(), 1);
        assert_eq!(manifest.events[0].name, "Schedule");
        assert_eq!(manifest.events[0].route, "/orders/...");
    }

    #[test]
    fn logical_ids_are_alphanumeric() {
        assert_eq!(logical_id("orders-fn"), "OrdersFn");
        assert_eq!(logical_id("payment_api_key"), "PaymentApiKey");
        assert_eq!(logical_id("3d"), "Fn3d");
    }
}
