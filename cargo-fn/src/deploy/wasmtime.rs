//! `run.sh`: pull the artifact by digest with `cargo fn pull` (which checks
//! every digest), then `wasmtime serve` it with the capabilities declared.

use super::{Deployment, File};

/// Quotes a word for POSIX sh.
fn quote(word: &str) -> String {
    if !word.is_empty()
        && word
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "@%+=:,./_-".contains(c))
    {
        return word.to_owned();
    }
    format!("'{}'", word.replace('\'', r"'\''"))
}

/// The `cargo fn pull` command line.
pub fn pull_command(deployment: &Deployment, out: &str) -> Vec<String> {
    let mut cmd = vec![
        "cargo".to_owned(),
        "fn".into(),
        "pull".into(),
        deployment.image.to_string(),
        "-o".into(),
        out.to_owned(),
    ];
    if deployment.plain_http && !deployment.image.is_loopback() {
        cmd.push("--insecure".into());
    }
    cmd
}

/// The `wasmtime serve` arguments (before the file), one word each.
pub fn serve_args(deployment: &Deployment) -> Vec<String> {
    let meta = &deployment.metadata;
    let mut args = vec![
        "wasmtime".to_owned(),
        "serve".into(),
        "-S".into(),
        "cli".into(),
    ];
    if !meta.key_value.is_empty() {
        args.extend(["-S".into(), "keyvalue".into()]);
    }
    if !meta.config.is_empty() {
        args.extend(["-S".into(), "config".into()]);
    }
    for (key, c) in &meta.config {
        let value = if c.secret || c.default.is_none() {
            // Filled in by the shell from the environment at run time.
            format!("${{{}:?set {} first}}", env_name(key), env_name(key))
        } else {
            c.default.clone().unwrap_or_default()
        };
        args.extend(["-S".into(), format!("config-var={key}={value}")]);
    }
    args
}

fn env_name(key: &str) -> String {
    key.to_ascii_uppercase()
}

/// Generates `run.sh`.
pub fn run_script(deployment: &Deployment) -> File {
    let wasm = format!("{}.wasm", deployment.component_id());
    let mut script = String::from("#!/bin/sh\n");
    script.push_str(&format!(
        "# {} {}: pinned to {}\nset -eu\ncd \"$(dirname \"$0\")\"\n",
        deployment.name,
        deployment.version,
        deployment.manifest_digest()
    ));
    let pull: Vec<String> = pull_command(deployment, &wasm)
        .iter()
        .map(|w| quote(w))
        .collect();
    script.push_str(&pull.join(" "));
    script.push('\n');
    let mut serve: Vec<String> = serve_args(deployment)
        .iter()
        .map(|w| {
            if w.contains("${") {
                // Double quotes: the shell expands the environment variable.
                format!("\"{w}\"")
            } else {
                quote(w)
            }
        })
        .collect();
    // Extra arguments (e.g. --addr 0.0.0.0:8080) go to wasmtime serve.
    serve.push("\"$@\"".into());
    serve.push(quote(&wasm));
    script.push_str("exec ");
    script.push_str(&serve.join(" "));
    script.push('\n');
    let mut notes = Vec::new();
    let env: Vec<String> = deployment
        .metadata
        .config
        .iter()
        .filter(|(_, c)| c.secret || c.default.is_none())
        .map(|(k, _)| env_name(k))
        .collect();
    if !env.is_empty() {
        notes.push(format!("set {} before running run.sh", env.join(", ")));
    }
    notes.push(
        "extra arguments to run.sh go to wasmtime serve, e.g. ./run.sh --addr 127.0.0.1:8080"
            .into(),
    );
    if !deployment.metadata.allowed_outbound_hosts.is_empty() {
        notes.push(
            "wasmtime serve does not restrict outbound hosts; the declared list is not enforced"
                .into(),
        );
    }
    File {
        name: "run.sh",
        contents: script,
        executable: true,
        notes,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_script_pulls_by_digest_and_passes_config() {
        let deployment = super::super::sample();
        let file = run_script(&deployment);
        let text = &file.contents;
        assert!(
            text.contains(&format!(
                "cargo fn pull 'oci://127.0.0.1:5000/shop/checkout@{}' -o checkout-fn.wasm\n",
                deployment.manifest_digest()
            )) || text.contains(&format!(
                "cargo fn pull oci://127.0.0.1:5000/shop/checkout@{} -o checkout-fn.wasm\n",
                deployment.manifest_digest()
            )),
            "{text}"
        );
        assert!(
            text.contains("exec wasmtime serve -S cli -S keyvalue -S config"),
            "{text}"
        );
        assert!(
            text.contains("-S config-var=payment_api_url=https://api.stripe.com"),
            "{text}"
        );
        assert!(
            text.contains(
                "\"config-var=payment_api_key=${PAYMENT_API_KEY:?set PAYMENT_API_KEY first}\""
            ),
            "{text}"
        );
        assert!(file.executable);
        assert_eq!(quote("it's"), r"'it'\''s'");
    }
}
