//! Recording calls and replaying them: the same artifact gives the same
//! answer without mocks, stores or clock; a different run is reported where
//! it first differs; bad recordings are refused whole.

use crate::common::load;
use fn_host_test::recording::{Body, Event};
use fn_host_test::{Outcome, RecordOptions, Recording, RecordingError};
use http::Method;

fn created(body: &'static str) -> http::Response<&'static str> {
    http::Response::builder()
        .status(201)
        .header("x-upstream", "pay")
        .body(body)
        .unwrap()
}

fn post(uri: &str, body: &'static str) -> http::Request<&'static str> {
    http::Request::post(uri).body(body).unwrap()
}

/// A temp file holding `recording`.
fn written(recording: &Recording) -> tempfile::NamedTempFile {
    let file = tempfile::NamedTempFile::new().unwrap();
    recording.write(file.path()).unwrap();
    file
}

#[test]
fn an_outbound_call_replays_from_the_file_without_its_mock() {
    let f = load("outbound");
    f.mock_http(Method::POST, "https://pay.test/charge", created("charged"));
    let (res, recording) = f.record(
        post("/?url=https://pay.test/charge", "amount=3"),
        &RecordOptions::default(),
    );
    assert_eq!(res.text(), "201 charged", "{}", res.describe());
    let outbound: Vec<&Event> = recording.outbound().collect();
    assert_eq!(outbound.len(), 1, "{recording:?}");
    let Event::Outbound {
        method,
        url,
        body,
        response: Some(response),
        ..
    } = outbound[0]
    else {
        panic!("{:?}", outbound[0]);
    };
    assert_eq!(
        (method.as_str(), url.as_str()),
        ("POST", "https://pay.test/charge")
    );
    assert_eq!(body.display(), "amount=3");
    assert_eq!(response.status, 201);
    assert!(
        response
            .headers
            .contains(&("x-upstream".into(), "pay".into()))
    );

    // No mock any more: only the recording can answer.
    f.clear_mocks();
    let file = written(&recording);
    let replay = f.replay(file.path()).unwrap();
    assert!(replay.is_identical(), "{:?}", replay.divergences);
    assert_eq!(replay.result.text(), "201 charged");
    assert_eq!(
        replay.result.outbound[0].outcome,
        Outcome::Replayed(Some(http::StatusCode::CREATED))
    );
    assert_eq!(
        replay.result.response.body(),
        res.response.body(),
        "byte for byte"
    );
    assert_eq!(replay.result.response.headers(), res.response.headers());
    // And without the recording, the same call now fails.
    assert_eq!(
        f.post("/?url=https://pay.test/charge", "amount=3").status(),
        502
    );
}

#[test]
fn a_run_that_sends_something_else_is_reported_at_that_outbound_request() {
    let f = load("outbound");
    f.mock_http(Method::POST, "https://pay.test/charge", created("charged"));
    let (_, recording) = f.record(
        post("/?url=https://pay.test/charge", "amount=3"),
        &RecordOptions::default(),
    );

    // The same function given another body sends another body: the replay
    // answers as recorded (same method and URL) and names the difference.
    let mut edited = recording.clone();
    for event in &mut edited.events {
        if let Event::Request { body, .. } = event {
            *body = Body::new(b"amount=4");
        }
    }
    let replay = f.replay_recording(&edited).unwrap();
    assert_eq!(replay.divergences.len(), 1, "{:?}", replay.divergences);
    let first = &replay.divergences[0];
    assert_eq!(
        first.at,
        "outbound request 1 (POST https://pay.test/charge)"
    );
    assert_eq!(first.recorded, "body amount=3");
    assert_eq!(first.replayed, "body amount=4");
    assert_eq!(replay.result.text(), "201 charged");

    // Another URL gets no answer: the guest sees an error and answers
    // differently, and both differences are reported in order.
    let mut elsewhere = recording.clone();
    for event in &mut elsewhere.events {
        if let Event::Request { uri, .. } = event {
            *uri = "/?url=https://pay.test/refund".into();
        }
    }
    let replay = f.replay_recording(&elsewhere).unwrap();
    let at: Vec<&str> = replay.divergences.iter().map(|d| d.at.as_str()).collect();
    assert_eq!(
        at,
        [
            "outbound request 1 (POST https://pay.test/refund)",
            "response status",
            "response body"
        ],
        "{:?}",
        replay.divergences
    );
    assert_eq!(replay.result.status(), 502);
    assert_eq!(replay.result.outbound[0].outcome, Outcome::Replayed(None));
    assert!(replay.result.error.is_none(), "not a missing mock");
}

#[test]
fn key_value_answers_come_from_the_recording_and_the_store_is_untouched() {
    let f = load("kv-counter");
    f.kv().set("visits", "41");
    let (res, recording) = f.record(
        http::Request::get("/").body("").unwrap(),
        &RecordOptions::default(),
    );
    assert_eq!(res.text(), "42");
    assert!(
        recording.to_jsonl().contains(r#""op":"increment""#),
        "{}",
        recording.to_jsonl()
    );

    f.kv().set("visits", "100");
    let replay = f.replay_recording(&recording).unwrap();
    assert!(replay.is_identical(), "{:?}", replay.divergences);
    assert_eq!(
        replay.result.text(),
        "42",
        "the recorded count, not the store's"
    );
    assert_eq!(
        f.kv().get_str("visits").as_deref(),
        Some("100"),
        "a replay writes nothing"
    );
}

#[test]
fn secrets_are_withheld_from_the_file_and_taken_from_the_local_config() {
    let f = load("config-reader");
    f.set_config("region", "eu")
        .set_config("api_key", "sk_live_42");
    let options = RecordOptions {
        secrets: ["api_key".to_owned()].into(),
    };
    let (res, recording) = f.record(http::Request::get("/all").body("").unwrap(), &options);
    assert_eq!(res.text(), "api_key=sk_live_42\nregion=eu");
    let text = recording.to_jsonl();
    // The response carries the secret (this fixture prints it), the config
    // event does not.
    let config_line = text
        .lines()
        .find(|l| l.contains(r#""kind":"config""#))
        .unwrap();
    assert!(!config_line.contains("sk_live_42"), "{config_line}");
    assert!(config_line.contains(r#""api_key":null"#), "{config_line}");
    assert_eq!(recording.header.redacted, ["api_key"]);

    // Replayed where the secret is set: identical.
    let replay = f.replay_recording(&recording).unwrap();
    assert!(replay.is_identical(), "{:?}", replay.divergences);

    // Where it is not, the run reads it as unset, says so, and differs.
    let bare = load("config-reader");
    let replay = bare.replay_recording(&recording).unwrap();
    assert!(
        replay
            .notes
            .iter()
            .any(|n| n.contains("`api_key` was redacted")),
        "{:?}",
        replay.notes
    );
    assert_eq!(replay.first_divergence().unwrap().at, "response body");
}

#[test]
fn a_recording_of_another_function_is_refused() {
    let (_, recording) = load("kv-counter").record(
        http::Request::get("/").body("").unwrap(),
        &RecordOptions::default(),
    );
    let err = load("hello").replay_recording(&recording).unwrap_err();
    let err = err.downcast::<RecordingError>().unwrap();
    assert!(matches!(err, RecordingError::OtherFunction { .. }), "{err}");
    assert!(err.to_string().contains("kv"), "{err}");
}

#[test]
fn truncated_and_newer_files_are_refused_and_nothing_runs() {
    let f = load("kv-counter");
    let (_, recording) = f.record(
        http::Request::get("/").body("").unwrap(),
        &RecordOptions::default(),
    );
    let text = recording.to_jsonl();
    let file = tempfile::NamedTempFile::new().unwrap();

    std::fs::write(file.path(), &text[..text.len() / 2]).unwrap();
    let err = f.replay(file.path()).unwrap_err();
    assert!(format!("{err:#}").contains("truncated"), "{err:#}");

    std::fs::write(file.path(), text.replace("\"version\":1", "\"version\":9")).unwrap();
    let err = f.replay(file.path()).unwrap_err();
    assert!(format!("{err:#}").contains("format version 9"), "{err:#}");

    assert_eq!(
        f.kv().get_str("visits").as_deref(),
        Some("1"),
        "only the recorded call ran"
    );
}
