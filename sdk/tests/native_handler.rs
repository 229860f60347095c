//! A handler that uses every capability, unit-tested natively: in-memory
//! key-value and config, and an outbound-HTTP mock. No wasm involved.

use fnsdk::{
    Bytes, CloudEvent, Json, Request, RequestExt, StatusCode, function, http, kv, testing,
};
use serde::{Deserialize, Serialize};

#[derive(Deserialize)]
struct Charge {
    customer: String,
    cents: u64,
}

#[derive(Serialize, Deserialize, Debug, PartialEq)]
struct Receipt {
    number: u64,
    provider_ref: String,
}

/// Charges a customer through the payment API and numbers the receipt.
#[function]
fn charge(req: Request) -> fnsdk::Result<(StatusCode, Json<Receipt>)> {
    let charge: Charge = req.json()?;
    if charge.cents == 0 {
        return Err(fnsdk::Error::bad_request("cents must be positive"));
    }
    let api = fnsdk::config::require("payment_url")?;
    let key = fnsdk::config::require("payment_key")?;
    let call = http::Request::post(format!("{api}/charges"))
        .header("authorization", format!("Bearer {key}"))
        .body(Bytes::from(format!(
            r#"{{"customer":"{}","amount":{}}}"#,
            charge.customer, charge.cents
        )))?;
    let resp = fnsdk::outbound::send(call)?;
    if !resp.status().is_success() {
        return Err(fnsdk::Error::new(
            StatusCode::BAD_GATEWAY,
            "payment provider failed",
        ));
    }
    let store = kv::Store::open("default")?;
    let number = store.increment("receipts", 1)?;
    let receipt = Receipt {
        number,
        provider_ref: String::from_utf8_lossy(resp.body()).into_owned(),
    };
    store.set_json(&format!("receipt:{number}"), &receipt)?;
    fnsdk::info!("charged {} cents, receipt {number}", charge.cents);
    Ok((StatusCode::CREATED, Json(receipt)))
}

fn request(body: &str) -> Request {
    Request::new(http::Method::POST, "/charge").with_body(body.to_owned())
}

fn configure() {
    testing::set_config("payment_url", "https://pay.example.com");
    testing::set_config("payment_key", "sk_test_123");
}

#[test]
fn charges_records_and_numbers_receipts() {
    configure();
    testing::kv_set("default", "receipts", b"41");
    testing::mock_outbound(|req| {
        assert_eq!(req.uri(), "https://pay.example.com/charges");
        assert_eq!(req.headers()["authorization"], "Bearer sk_test_123");
        http::Response::builder()
            .status(200)
            .body(Bytes::from("ch_1"))
            .unwrap()
    });

    let (status, Json(receipt)) = charge(request(r#"{"customer":"c1","cents":1200}"#)).unwrap();
    assert_eq!(status, StatusCode::CREATED);
    assert_eq!(
        receipt,
        Receipt {
            number: 42,
            provider_ref: "ch_1".into()
        }
    );
    let stored = testing::kv_get("default", "receipt:42").expect("receipt stored");
    assert_eq!(serde_json::from_slice::<Receipt>(&stored).unwrap(), receipt);
    let sent = testing::outbound_requests();
    assert_eq!(sent.len(), 1);
    assert_eq!(&sent[0].body()[..], br#"{"customer":"c1","amount":1200}"#);
    assert!(testing::logs().iter().any(|l| l.contains("receipt 42")));
}

#[test]
fn provider_failure_is_a_502_and_nothing_is_recorded() {
    configure();
    testing::mock_outbound(|_| {
        http::Response::builder()
            .status(503)
            .body(Bytes::new())
            .unwrap()
    });
    let err = charge(request(r#"{"customer":"c1","cents":5}"#)).unwrap_err();
    assert_eq!(err.status(), StatusCode::BAD_GATEWAY);
    assert_eq!(testing::kv_get("default", "receipts"), None);
}

#[test]
fn missing_config_and_bad_input_are_errors() {
    let err = charge(request(r#"{"customer":"c1","cents":5}"#)).unwrap_err();
    assert_eq!(err.status(), StatusCode::INTERNAL_SERVER_ERROR);
    assert!(err.message().contains("payment_url"), "{err}");
    assert!(testing::outbound_requests().is_empty());

    let err = charge(request(r#"{"customer":"c1","cents":0}"#)).unwrap_err();
    assert_eq!(err.status(), StatusCode::BAD_REQUEST);
    let err = charge(request("not json")).unwrap_err();
    assert_eq!(err.status(), StatusCode::BAD_REQUEST);
}

#[derive(Deserialize, Serialize)]
struct Registered {
    email: String,
}

#[function(event = "com.example.user.registered")]
fn on_registered(event: CloudEvent<Registered>) -> fnsdk::Result<()> {
    kv::Store::open("default")?.set(
        &format!("welcomed:{}", event.id),
        event.data.email.as_bytes(),
    )?;
    Ok(())
}

#[test]
fn event_handlers_are_plain_functions_too() {
    let ev = CloudEvent::new(
        "com.example.user.registered",
        "/users",
        Registered {
            email: "a@b.c".into(),
        },
    )
    .with_id("evt-1");
    on_registered(ev).unwrap();
    assert_eq!(
        testing::kv_get("default", "welcomed:evt-1").as_deref(),
        Some(&b"a@b.c"[..])
    );
}
