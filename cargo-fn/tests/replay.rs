//! `cargo fn replay` end to end, on the checkout and mfa examples: failed
//! calls (a declined card, a provider outage, a wrong MFA code) recorded
//! with the test harness replay identically on the same artifact, diverge
//! where a secret is missing, and, on a changed build of the example, are
//! reported at the outbound request or key-value call the change altered.
//! Bad recordings are refused before anything runs.

mod common;

use std::path::{Path, PathBuf};

use fn_host_test::{RecordOptions, TestFunction};
use http::Method;
use serde_json::{Value, json};

const INTENTS: &str = "https://pay.test/v1/payment_intents";

fn checkout_manifest() -> PathBuf {
    common::workspace().join("examples/checkout/Cargo.toml")
}

/// A declined card on the checkout example, recorded into `dir`; returns
/// the file and the artifact.
fn record_declined_card(dir: &Path) -> (PathBuf, PathBuf) {
    let declined =
        json!({"error": {"code": "card_declined", "message": "Your card was declined."}});
    record_order(dir, 402, &declined, "declined")
}

/// An order on the checkout example whose payment provider answers
/// `status` and `answer`, recorded into `dir/<name>.jsonl`; returns the file
/// and the artifact.
fn record_order(dir: &Path, status: u16, answer: &Value, name: &str) -> (PathBuf, PathBuf) {
    let artifact = fn_host_test::build_package(checkout_manifest()).unwrap();
    let f = TestFunction::load(&artifact).unwrap();
    f.set_config("payment_api_key", "sk_test_123")
        .set_config("payment_api_url", "https://pay.test");
    f.kv()
        .set_json(
            "product:tee",
            &json!({"name": "T-shirt", "price_cents": 1500}),
        )
        .unwrap();
    f.kv().set("stock:tee", "5");
    f.mock_http(
        Method::POST,
        INTENTS,
        http::Response::builder()
            .status(status)
            .header("content-type", "application/json")
            .body(answer.to_string())
            .unwrap(),
    );
    let order = json!({
        "items": [{"sku": "tee", "quantity": 2}],
        "email": "ada@example.com",
        "payment_token": "tok_visa",
    });
    let request = http::Request::post("/orders")
        .header("content-type", "application/json")
        .body(order.to_string())
        .unwrap();
    let options = RecordOptions {
        secrets: ["payment_api_key".to_owned()].into(),
    };
    let (res, recording) = f.record(request, &options);
    assert!(res.status().is_client_error() || res.status().is_server_error());
    let file = dir.join(format!("{name}.jsonl"));
    recording.write(&file).unwrap();
    (file, artifact)
}

/// The checkout example copied into `dir` as a package of its own (as a
/// user's clone of it would be), with `edit` applied to `src/payment.rs`.
fn changed_checkout(dir: &Path, edit: (&str, &str)) -> PathBuf {
    let deps = "serde = { version = \"1\", features = [\"derive\"] }\nserde_json = \"1\"\n\
                form_urlencoded = \"1\"\n";
    changed_example(dir, "checkout", deps, "src/payment.rs", edit)
}

/// The example `name` copied into `dir` as a package of its own, depending
/// on the SDK by path and on `deps`, with `edit` applied to `file`.
fn changed_example(dir: &Path, name: &str, deps: &str, file: &str, edit: (&str, &str)) -> PathBuf {
    let source = common::workspace().join("examples").join(name);
    let package = dir.join(name);
    std::fs::create_dir_all(package.join("src")).unwrap();
    for entry in std::fs::read_dir(source.join("src")).unwrap() {
        let entry = entry.unwrap();
        std::fs::copy(entry.path(), package.join("src").join(entry.file_name())).unwrap();
    }
    let original = std::fs::read_to_string(source.join("Cargo.toml")).unwrap();
    let metadata = &original[original.find("[package.metadata.fn]").unwrap()..];
    let metadata = &metadata[..metadata.find("[lints]").unwrap_or(metadata.len())];
    let sdk = common::workspace().join("sdk");
    std::fs::write(
        package.join("Cargo.toml"),
        format!(
            r#"[package]
name = "{name}"
version = "0.1.0"
edition = "2024"
publish = false

[lib]
crate-type = ["cdylib", "rlib"]

[dependencies]
fnsdk = {{ path = {sdk:?} }}
{deps}
[profile.release]
opt-level = "s"
lto = true
codegen-units = 1
panic = "abort"
strip = true

[workspace]

{metadata}"#
        ),
    )
    .unwrap();
    common::edit(&package.join(file), edit.0, edit.1);
    package
}

fn replay_json(dir: &Path, file: &Path, wasm: &Path, extra: &[&str]) -> (bool, Value, String) {
    let mut args = vec![
        "replay",
        file.to_str().unwrap(),
        "--wasm",
        wasm.to_str().unwrap(),
        "--json",
    ];
    args.extend_from_slice(extra);
    let out = common::cargo_fn(dir, &args);
    let (stdout, stderr) = common::text(&out);
    let json = serde_json::from_str(&stdout)
        .unwrap_or_else(|e| panic!("{e}: stdout {stdout}\nstderr {stderr}"));
    (out.status.success(), json, stderr)
}

#[test]
fn a_declined_card_replays_identically_and_a_changed_build_is_caught_at_the_charge() {
    let dir = tempfile::tempdir().unwrap();
    let (file, artifact) = record_declined_card(dir.path());
    let text = std::fs::read_to_string(&file).unwrap();
    assert!(!text.contains("sk_test_123"), "{text}");

    // The same artifact, with the secret given again: identical.
    let out = common::cargo_fn(
        dir.path(),
        &[
            "replay",
            file.to_str().unwrap(),
            "--wasm",
            artifact.to_str().unwrap(),
            "--config",
            "payment_api_key=sk_test_123",
        ],
    );
    let stdout = common::success(&out);
    assert!(stdout.contains("Identical"), "{stdout}");
    assert!(
        stdout.contains("Response: 402 Payment Required"),
        "{stdout}"
    );

    // Without the secret, the function refuses to charge: the recorded
    // charge is reported as not made, then the answer, and the command fails.
    let (ok, json, stderr) = replay_json(dir.path(), &file, &artifact, &[]);
    assert!(!ok, "a divergence fails the command: {json}");
    assert!(stderr.contains("diverged"), "{stderr}");
    assert!(
        json["notes"][0]
            .as_str()
            .unwrap()
            .contains("`payment_api_key` was redacted"),
        "{json}"
    );
    let first = &json["divergences"][0];
    assert_eq!(first["at"], "outbound request 1", "{json}");
    assert_eq!(first["recorded"], format!("POST {INTENTS}"), "{json}");
    assert_eq!(first["replayed"], "no further outbound request", "{json}");
    // It read the key first, so it never opened the store either.
    assert_eq!(json["divergences"][1]["at"], "key-value call 1", "{json}");
    assert_eq!(json["divergences"][2]["at"], "response status", "{json}");

    // A build that charges in euros: caught at the charge, with both bodies.
    let package = changed_checkout(
        dir.path(),
        (
            r#".append_pair("currency", "usd")"#,
            r#".append_pair("currency", "eur")"#,
        ),
    );
    let built = common::build_json(&package, &[]);
    let changed = common::artifact(&built);
    let (ok, json, _) = replay_json(
        dir.path(),
        &file,
        &changed,
        &["--config", "payment_api_key=sk_test_123"],
    );
    assert!(!ok, "{json}");
    let divergences = json["divergences"].as_array().unwrap();
    assert_eq!(divergences.len(), 1, "{json}");
    assert_eq!(
        divergences[0]["at"],
        format!("outbound request 1 (POST {INTENTS})")
    );
    assert!(
        divergences[0]["recorded"]
            .as_str()
            .unwrap()
            .contains("currency=usd"),
        "{json}"
    );
    assert!(
        divergences[0]["replayed"]
            .as_str()
            .unwrap()
            .contains("currency=eur"),
        "{json}"
    );
    // The charge got the recorded answer, so the rest ran as recorded.
    assert_eq!(json["status"], 402);
    assert_eq!(json["recorded_status"], 402);

    // A provider outage, recorded on the shipped build, is caught at the
    // same call on the changed one.
    let (outage, _) = record_order(
        dir.path(),
        500,
        &json!({"error": {"message": "db shard 7 on fire"}}),
        "outage",
    );
    let (ok, json, _) = replay_json(
        dir.path(),
        &outage,
        &changed,
        &["--config", "payment_api_key=sk_test_123"],
    );
    assert!(!ok, "{json}");
    assert_eq!(
        json["divergences"][0]["at"],
        format!("outbound request 1 (POST {INTENTS})"),
        "{json}"
    );
    assert_eq!(json["status"], 502, "{json}");
}

#[test]
fn truncated_newer_and_foreign_recordings_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let (file, artifact) = record_declined_card(dir.path());
    let text = std::fs::read_to_string(&file).unwrap();
    let replay = |file: &Path, wasm: &Path| {
        common::failure(&common::cargo_fn(
            dir.path(),
            &[
                "replay",
                file.to_str().unwrap(),
                "--wasm",
                wasm.to_str().unwrap(),
            ],
        ))
    };

    let cut = dir.path().join("cut.jsonl");
    std::fs::write(&cut, &text[..text.len() - 40]).unwrap();
    let stderr = replay(&cut, &artifact);
    assert!(stderr.contains("truncated"), "{stderr}");
    assert!(stderr.contains("not replayed"), "{stderr}");

    let newer = dir.path().join("newer.jsonl");
    std::fs::write(&newer, text.replace("\"version\":1", "\"version\":2")).unwrap();
    let stderr = replay(&newer, &artifact);
    assert!(stderr.contains("format version 2"), "{stderr}");

    let hello = fn_host_test::build_package(
        common::workspace().join("host-test/fixtures/hello/Cargo.toml"),
    )
    .unwrap();
    let stderr = replay(&file, &hello);
    assert!(stderr.contains("is of the function `checkout`"), "{stderr}");

    let stderr = replay(&dir.path().join("missing.jsonl"), &artifact);
    assert!(stderr.contains("could not read the recording"), "{stderr}");
}

#[test]
fn a_wrong_mfa_code_replayed_on_a_changed_build_diverges_at_the_key_value_call() {
    let dir = tempfile::tempdir().unwrap();
    let artifact =
        fn_host_test::build_package(common::workspace().join("examples/mfa/Cargo.toml")).unwrap();
    let f = TestFunction::load(&artifact).unwrap();
    for (key, value) in [
        ("mfa_secret", "test-secret-0123456789abcdef"),
        ("sms_api_url", "https://sms.test"),
        ("sms_account_sid", "AC123"),
        ("sms_api_key", "sms-key"),
        ("sms_from", "+15550000000"),
        ("email_api_url", "https://mail.test/"),
        ("email_api_key", "re_test"),
        ("email_from", "auth@example.com"),
    ] {
        f.set_config(key, value);
    }
    f.mock_http(
        Method::POST,
        "https://sms.test/2010-04-01/Accounts/AC123/Messages.json",
        http::Response::builder()
            .status(201)
            .body(r#"{"sid":"SM1"}"#)
            .unwrap(),
    );
    let post = |path: &str, body: Value| {
        http::Request::post(path)
            .header("content-type", "application/json")
            .body(body.to_string())
            .unwrap()
    };
    let sent = f.call(post(
        "/mfa/send",
        json!({"user": "erin", "channel": "sms", "to": "+15551234567"}),
    ));
    assert_eq!(sent.status(), 202, "{}", sent.describe());
    // A wrong code: of two neighbours at most one can be the sent code.
    let options = RecordOptions {
        secrets: ["mfa_secret", "sms_api_key", "email_api_key"]
            .map(str::to_owned)
            .into(),
    };
    let (wrong, recording) = ["000000", "000001"]
        .iter()
        .map(|code| {
            f.record(
                post("/mfa/verify", json!({"user": "erin", "code": code})),
                &options,
            )
        })
        .find(|(res, _)| res.status() == 401)
        .expect("one of the two codes is wrong");
    assert!(
        wrong.text().contains("attempts_left"),
        "{}",
        wrong.describe()
    );
    let file = dir.path().join("wrong-code.jsonl");
    recording.write(&file).unwrap();

    // A build that keeps its codes under another key.
    let deps = "serde = { version = \"1\", features = [\"derive\"] }\nserde_json = \"1\"\n\
                base64 = \"0.22\"\nform_urlencoded = \"1\"\nhex = \"0.4\"\nhmac = \"0.12\"\n\
                sha2 = \"0.10\"\nsubtle = \"2\"\n";
    let package = changed_example(
        dir.path(),
        "mfa",
        deps,
        "src/record.rs",
        ("format!(\"mfa:{user}\")", "format!(\"otp:{user}\")"),
    );
    let changed = common::artifact(&common::build_json(&package, &[]));
    let secrets = [
        "--config",
        "mfa_secret=test-secret-0123456789abcdef",
        "--config",
        "sms_api_key=sms-key",
        "--config",
        "email_api_key=re_test",
    ];
    let (ok, json, _) = replay_json(dir.path(), &file, &artifact, &secrets);
    assert!(ok, "the shipped build replays identically: {json}");
    let (ok, json, _) = replay_json(dir.path(), &file, &changed, &secrets);
    assert!(!ok, "{json}");
    let first = &json["divergences"][0];
    assert!(
        first["at"].as_str().unwrap().starts_with("key-value call "),
        "{json}"
    );
    assert!(
        first["recorded"].as_str().unwrap().contains("`mfa:erin`"),
        "{json}"
    );
    assert!(
        first["replayed"].as_str().unwrap().contains("`otp:erin`"),
        "{json}"
    );
}

#[test]
fn a_folder_of_recordings_replays_as_a_suite() {
    let dir = tempfile::tempdir().unwrap();
    let suite = dir.path().join("recordings");
    std::fs::create_dir(&suite).unwrap();
    let (declined, artifact) = record_declined_card(&suite);
    record_order(
        &suite,
        500,
        &json!({"error": {"message": "db shard 7 on fire"}}),
        "outage",
    );
    let key = ["--config", "payment_api_key=sk_test_123"];
    let run = |extra: &[&str]| {
        let mut args = vec![
            "replay",
            suite.to_str().unwrap(),
            "--wasm",
            artifact.to_str().unwrap(),
        ];
        args.extend_from_slice(extra);
        common::cargo_fn(dir.path(), &args)
    };

    let stdout = common::success(&run(&key));
    assert!(stdout.contains("declined.jsonl: identical"), "{stdout}");
    assert!(stdout.contains("outage.jsonl: identical"), "{stdout}");
    assert!(
        stdout.contains("2 replayed: 2 identical, 0 diverged, 0 refused"),
        "{stdout}"
    );

    // A cut file fails the suite, the others still run.
    let text = std::fs::read_to_string(&declined).unwrap();
    std::fs::write(suite.join("cut.jsonl"), &text[..text.len() / 2]).unwrap();
    let out = run(&key);
    let stderr = common::failure(&out);
    let (stdout, _) = common::text(&out);
    assert!(stdout.contains("cut.jsonl: refused: "), "{stdout}");
    assert!(
        stdout.contains("3 replayed: 2 identical, 0 diverged, 1 refused"),
        "{stdout}"
    );
    assert!(stderr.contains("1 were refused"), "{stderr}");

    // Without the key both recorded calls diverge.
    std::fs::remove_file(suite.join("cut.jsonl")).unwrap();
    let out = run(&["--json"]);
    common::failure(&out);
    let (stdout, _) = common::text(&out);
    let results: Value = serde_json::from_str(&stdout).unwrap();
    let results = results.as_array().unwrap();
    assert_eq!(results.len(), 2);
    assert!(results.iter().all(|r| r["identical"] == false), "{stdout}");
}
