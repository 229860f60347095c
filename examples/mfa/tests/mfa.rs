//! The built component on fn-host-test: codes go out through mocked SMS and
//! e-mail APIs, the tests read them from the recorded outbound requests.

use std::time::Duration;

use fn_host_test::{CallResult, RecordOptions, Replay, TestFunction};
use http::Method;
use serde_json::{Value, json};

const SMS_URL: &str = "https://sms.test/2010-04-01/Accounts/AC123/Messages.json";
const EMAIL_URL: &str = "https://mail.test/emails";

/// Which host's artifact the flows run on: here the function as built;
/// `tests/on_spin.rs` and `tests/on_wasmcloud.rs` include this file with
/// `Some("spin")` and `Some("wasmcloud")` to run every flow again on the
/// function composed for those hosts.
#[allow(dead_code)]
const HOST: Option<&str> = None;

/// The built component (`cargo fn build --release`'s bytes, or what
/// [`HOST`] runs; built once per test binary) with its own key-value store,
/// config and mocks.
fn function() -> TestFunction {
    let manifest = concat!(env!("CARGO_MANIFEST_DIR"), "/Cargo.toml");
    match crate::HOST {
        None => TestFunction::from_package(manifest),
        Some(host) => TestFunction::from_package_for(manifest, host),
    }
    .unwrap_or_else(|e| panic!("{e:#}"))
}

/// The function with working providers.
fn mfa() -> TestFunction {
    let f = function();
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
    f.mock_http(Method::POST, SMS_URL, reply(201, r#"{"sid":"SM1"}"#));
    f.mock_http(Method::POST, EMAIL_URL, reply(200, r#"{"id":"em_1"}"#));
    f
}

fn reply(status: u16, body: &'static str) -> http::Response<&'static str> {
    http::Response::builder().status(status).body(body).unwrap()
}

fn send_sms(f: &TestFunction, user: &str) -> CallResult {
    f.post_json(
        "/mfa/send",
        &json!({"user": user, "channel": "sms", "to": "+15551234567"}),
    )
}

fn verify(f: &TestFunction, user: &str, code: &str) -> CallResult {
    f.post_json("/mfa/verify", &json!({"user": user, "code": code}))
}

/// The code in the message the call sent (SMS form or e-mail JSON).
fn sent_code(res: &CallResult) -> String {
    assert_eq!(res.outbound.len(), 1, "{}", res.describe());
    let body = res.outbound[0].body_str();
    let text = if body.starts_with('{') {
        let email: Value = serde_json::from_str(&body).unwrap();
        email["text"].as_str().unwrap().to_owned()
    } else {
        form_urlencoded::parse(body.as_bytes())
            .find(|(k, _)| k == "Body")
            .expect("a Body field")
            .1
            .into_owned()
    };
    let start = text.find(|c: char| c.is_ascii_digit()).expect("a code");
    let code = &text[start..start + 6];
    assert!(code.bytes().all(|b| b.is_ascii_digit()), "{text}");
    code.to_owned()
}

fn another_code(code: &str) -> String {
    let n: u32 = code.parse().unwrap();
    format!("{:06}", (n + 1) % 1_000_000)
}

fn error_of(res: &CallResult) -> String {
    res.json::<Value>().unwrap()["error"]
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

#[test]
fn sms_code_verifies_once_and_is_never_stored_or_logged() {
    let f = mfa();
    let res = send_sms(&f, "alice");
    assert_eq!(res.status(), 202, "{}", res.describe());
    assert_eq!(
        res.json::<Value>().unwrap(),
        json!({"sent": true, "expires_in": 300})
    );

    let sent = &res.outbound[0];
    assert_eq!(sent.method, Method::POST);
    assert_eq!(sent.url, SMS_URL);
    // base64("AC123:sms-key")
    assert_eq!(sent.headers["authorization"], "Basic QUMxMjM6c21zLWtleQ==");
    assert_eq!(
        sent.headers["content-type"],
        "application/x-www-form-urlencoded"
    );
    assert_eq!(sent.headers["content-length"], sent.body.len().to_string());
    let form: Vec<(String, String)> = form_urlencoded::parse(sent.body.as_ref())
        .into_owned()
        .collect();
    assert!(form.contains(&("To".into(), "+15551234567".into())));
    assert!(form.contains(&("From".into(), "+15550000000".into())));

    let code = sent_code(&res);
    let record = f.kv().get_str("mfa:alice").expect("a pending record");
    assert!(!record.contains(&code), "plaintext code stored: {record}");
    let record: Value = serde_json::from_str(&record).unwrap();
    assert_eq!(record["hash"].as_str().unwrap().len(), 64);
    assert!(!res.text().contains(&code));
    assert!(!res.logs.stderr_str().contains(&code));
    assert!(!res.logs.stdout_str().contains(&code));
    assert!(res.logs.stderr_str().contains("mfa code sent"));

    let ok = verify(&f, "alice", &code);
    assert_eq!(ok.status(), 200, "{}", ok.describe());
    assert_eq!(ok.json::<Value>().unwrap(), json!({"verified": true}));
    assert!(!ok.logs.stderr_str().contains(&code));
    assert_eq!(f.kv().get("mfa:alice"), None);
    assert_eq!(f.kv().get("mfa:alice:attempts"), None);

    let again = verify(&f, "alice", &code);
    assert_eq!(
        again.status(),
        404,
        "a code works once: {}",
        again.describe()
    );
}

#[test]
fn wrong_codes_count_down_then_even_the_right_code_is_refused() {
    let f = mfa();
    let code = sent_code(&send_sms(&f, "bob"));
    let wrong = another_code(&code);
    for left in (0..5).rev() {
        let res = verify(&f, "bob", &wrong);
        assert_eq!(res.status(), 401, "{}", res.describe());
        assert_eq!(res.json::<Value>().unwrap()["attempts_left"], left);
    }
    let res = verify(&f, "bob", &code);
    assert_eq!(res.status(), 429, "{}", res.describe());
    assert!(error_of(&res).contains("too many"), "{}", res.text());
    assert_eq!(f.kv().get("mfa:bob"), None, "the record is deleted");
    assert_eq!(verify(&f, "bob", &code).status(), 404);
}

/// The secrets of `mfa()`, withheld from recordings.
const SECRETS: [(&str, &str); 3] = [
    ("mfa_secret", "test-secret-0123456789abcdef"),
    ("sms_api_key", "sms-key"),
    ("email_api_key", "re_test"),
];

/// Records `request` on `f`, writes the recording to a file, and replays
/// the file on a fresh function that has only the secrets: no stored codes,
/// no providers, another clock. The answer must be the recorded one.
fn record_then_replay(
    f: &TestFunction,
    request: http::Request<String>,
    name: &str,
) -> (CallResult, Replay) {
    let options = RecordOptions {
        secrets: SECRETS.iter().map(|(k, _)| k.to_string()).collect(),
    };
    let (res, recording) = f.record(request, &options);
    let path = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!(
        "mfa-{name}-{}.jsonl",
        crate::HOST.unwrap_or("component")
    ));
    recording.write(&path).unwrap();
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(!text.contains("test-secret-0123"), "{text}");
    let fresh = function();
    for (key, value) in SECRETS {
        fresh.set_config(key, value);
    }
    fresh.advance_clock(Duration::from_secs(86_400));
    let replay = fresh.replay(&path).unwrap();
    assert!(
        replay.is_identical(),
        "{:?}\n{}",
        replay.divergences,
        replay.result.describe()
    );
    assert_eq!(replay.result.response.body(), res.response.body());
    (res, replay)
}

fn json_request(path: &str, body: Value) -> http::Request<String> {
    http::Request::post(path)
        .header("content-type", "application/json")
        .body(body.to_string())
        .unwrap()
}

#[test]
fn a_send_and_a_wrong_code_recorded_replay_with_the_same_answers_offline() {
    let f = mfa();
    // The send draws a random code, reads the clock and calls the SMS
    // provider: the replay draws the same code and sends the same message.
    let (sent, replay) = record_then_replay(
        &f,
        json_request(
            "/mfa/send",
            json!({"user": "erin", "channel": "sms", "to": "+15551234567"}),
        ),
        "send",
    );
    assert_eq!(sent.status(), 202, "{}", sent.describe());
    assert_eq!(replay.result.outbound.len(), 1);
    assert_eq!(
        replay.result.outbound[0].body, sent.outbound[0].body,
        "the same random code"
    );

    let code = sent_code(&sent);
    let (wrong, replay) = record_then_replay(
        &f,
        json_request(
            "/mfa/verify",
            json!({"user": "erin", "code": another_code(&code)}),
        ),
        "wrong-code",
    );
    assert_eq!(wrong.status(), 401, "{}", wrong.describe());
    assert_eq!(replay.result.json::<Value>().unwrap()["attempts_left"], 4);
}

#[test]
fn max_attempts_comes_from_config() {
    let f = mfa();
    f.set_config("max_attempts", "2");
    let code = sent_code(&send_sms(&f, "bob"));
    let wrong = another_code(&code);
    assert_eq!(
        verify(&f, "bob", &wrong).json::<Value>().unwrap()["attempts_left"],
        1
    );
    assert_eq!(
        verify(&f, "bob", &wrong).json::<Value>().unwrap()["attempts_left"],
        0
    );
    assert_eq!(verify(&f, "bob", &code).status(), 429);
}

#[test]
fn expired_code_is_gone_and_deleted() {
    let f = mfa();
    f.set_config("code_ttl_seconds", "60");
    let res = send_sms(&f, "carol");
    assert_eq!(res.json::<Value>().unwrap()["expires_in"], 60);
    let code = sent_code(&res);
    assert!(res.outbound[0].body_str().contains("expires+in+1+min"));

    f.advance_clock(Duration::from_secs(59));
    let wrong = verify(&f, "carol", &another_code(&code));
    assert_eq!(
        wrong.status(),
        401,
        "still valid at 59 s: {}",
        wrong.describe()
    );

    f.advance_clock(Duration::from_secs(2));
    let res = verify(&f, "carol", &code);
    assert_eq!(res.status(), 410, "{}", res.describe());
    assert!(error_of(&res).contains("expired"));
    assert_eq!(f.kv().get("mfa:carol"), None);
    assert_eq!(verify(&f, "carol", &code).status(), 404);
}

#[test]
fn a_new_send_replaces_the_code_and_resets_attempts() {
    let f = mfa();
    let first = sent_code(&send_sms(&f, "dave"));
    let wrong = another_code(&first);
    for _ in 0..3 {
        assert_eq!(verify(&f, "dave", &wrong).status(), 401);
    }
    let second = sent_code(&send_sms(&f, "dave"));
    if first != second {
        let res = verify(&f, "dave", &first);
        assert_eq!(
            res.status(),
            401,
            "the old code is dead: {}",
            res.describe()
        );
        assert_eq!(res.json::<Value>().unwrap()["attempts_left"], 4);
    }
    assert_eq!(verify(&f, "dave", &second).status(), 200);
}

#[test]
fn codes_belong_to_their_user() {
    let f = mfa();
    let erins = sent_code(&send_sms(&f, "erin"));
    let franks = sent_code(&send_sms(&f, "frank"));
    if erins != franks {
        let res = verify(&f, "frank", &erins);
        assert_eq!(res.status(), 401, "{}", res.describe());
    }
    assert_eq!(verify(&f, "erin", &erins).status(), 200);
    assert_eq!(verify(&f, "frank", &franks).status(), 200);
}

#[test]
fn email_channel_sends_json_with_a_bearer_key() {
    let f = mfa();
    let res = f.post_json(
        "/mfa/send",
        &json!({"user": "alice", "channel": "email", "to": "alice@example.com"}),
    );
    assert_eq!(res.status(), 202, "{}", res.describe());
    let sent = &res.outbound[0];
    assert_eq!(sent.url, EMAIL_URL);
    assert_eq!(sent.headers["authorization"], "Bearer re_test");
    let email: Value = serde_json::from_slice(&sent.body).unwrap();
    assert_eq!(email["to"], json!(["alice@example.com"]));
    assert_eq!(email["from"], "auth@example.com");
    let code = sent_code(&res);
    assert_eq!(verify(&f, "alice", &code).status(), 200);
}

#[test]
fn provider_failure_is_502_and_leaves_no_pending_code() {
    let f = mfa();
    let old = sent_code(&send_sms(&f, "alice"));

    f.clear_mocks();
    f.mock_http(Method::POST, SMS_URL, reply(503, "try later"));
    let res = send_sms(&f, "alice");
    assert_eq!(res.status(), 502, "{}", res.describe());
    assert_eq!(f.kv().get("mfa:alice"), None);
    assert!(res.logs.stderr_str().contains("503"), "{}", res.describe());
    // The failed send also retired the earlier code.
    assert_eq!(verify(&f, "alice", &old).status(), 404);

    f.clear_mocks();
    let res = send_sms(&f, "alice");
    assert_eq!(
        res.status(),
        502,
        "unreachable provider: {}",
        res.describe()
    );
    assert_eq!(f.kv().get("mfa:alice"), None);
}

#[test]
fn invalid_input_is_400_with_a_message() {
    let f = mfa();
    let cases = [
        (
            "/mfa/send",
            json!({"user": "alice", "channel": "fax", "to": "1"}),
            "unknown variant `fax`",
        ),
        (
            "/mfa/send",
            json!({"user": "alice", "channel": "sms"}),
            "missing field `to`",
        ),
        (
            "/mfa/send",
            json!({"user": "alice", "channel": "sms", "to": "555-1234"}),
            "E.164",
        ),
        (
            "/mfa/send",
            json!({"user": "alice", "channel": "email", "to": "alice"}),
            "e-mail address",
        ),
        (
            "/mfa/send",
            json!({"user": "a b", "channel": "sms", "to": "+15551234567"}),
            "`user`",
        ),
        (
            "/mfa/verify",
            json!({"user": "alice", "code": "12ab56"}),
            "6 digits",
        ),
        (
            "/mfa/verify",
            json!({"user": "", "code": "123456"}),
            "`user`",
        ),
    ];
    for (path, body, expected) in cases {
        let res = f.post_json(path, &body);
        assert_eq!(res.status(), 400, "{body}: {}", res.describe());
        assert!(error_of(&res).contains(expected), "{body}: {}", res.text());
        assert!(res.outbound.is_empty());
    }
    let res = f.post("/mfa/send", "not json");
    assert_eq!(res.status(), 400);
    assert!(error_of(&res).contains("invalid JSON"), "{}", res.text());
    assert_eq!(f.get("/mfa/send").status(), 405);
    assert_eq!(f.get("/elsewhere").status(), 404);
    assert!(f.kv().store(fn_host_test::DEFAULT_STORE).keys().is_empty());
}

#[test]
fn missing_secret_is_a_server_error_naming_the_key_in_the_log() {
    let f = function();
    let res = send_sms(&f, "alice");
    assert_eq!(res.status(), 500);
    assert!(!res.text().contains("mfa_secret"));
    assert!(
        res.logs.stderr_str().contains("mfa_secret"),
        "{}",
        res.describe()
    );
    assert!(res.outbound.is_empty());
}

#[test]
fn concurrent_guesses_cannot_exceed_the_attempt_limit() {
    let f = mfa();
    let code = sent_code(&send_sms(&f, "grace"));
    let wrong = another_code(&code);
    let body = json!({"user": "grace", "code": wrong}).to_string();

    // 20 guesses at once, each on its own instance and thread.
    let tokio = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(4)
        .enable_all()
        .build()
        .unwrap();
    let statuses: Vec<u16> = tokio.block_on(async {
        let calls: Vec<_> = (0..20)
            .map(|_| {
                let function = f.function().clone();
                let request = http::Request::post("/mfa/verify")
                    .header("content-type", "application/json")
                    .body(fnsdk::Bytes::from(body.clone()))
                    .unwrap();
                tokio::spawn(async move { function.handle(request).await.status().as_u16() })
            })
            .collect();
        let mut statuses = Vec::new();
        for call in calls {
            statuses.push(call.await.unwrap());
        }
        statuses
    });
    // Exactly max_attempts guesses were compared; the rest were refused
    // (429), or found the code already deleted (404).
    let compared = statuses.iter().filter(|&&s| s == 401).count();
    assert_eq!(compared, 5, "{statuses:?}");
    assert!(
        statuses.iter().all(|s| [401, 429, 404].contains(s)),
        "{statuses:?}"
    );
    assert!(statuses.contains(&429), "{statuses:?}");
    assert_ne!(verify(&f, "grace", &code).status(), 200);
}

#[test]
fn a_right_guess_racing_another_verifies_once() {
    let f = mfa();
    let code = sent_code(&send_sms(&f, "heidi"));
    // A second right guess that read the pending record before the first
    // one deleted it: replay exactly that interleaving by putting the
    // record back after the first success.
    let record = f.kv().get("mfa:heidi").expect("a pending record");
    assert_eq!(verify(&f, "heidi", &code).status(), 200);
    f.kv().set("mfa:heidi", record);
    let res = verify(&f, "heidi", &code);
    assert_eq!(res.status(), 404, "{}", res.describe());

    // A new code for the same user works, once.
    let code = sent_code(&send_sms(&f, "heidi"));
    assert_eq!(verify(&f, "heidi", &code).status(), 200);
    assert_eq!(verify(&f, "heidi", &code).status(), 404);
}
