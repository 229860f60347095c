//! Charging a card through a Stripe-style payment-intents API.

use fnsdk::{Bytes, StatusCode, http, outbound};
use serde::Deserialize;

/// What the provider said about a charge.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// The money moved; the provider's payment id.
    Paid(String),
    /// The card was refused; a message fit for the buyer.
    Declined(String),
    /// No usable answer (5xx, unreachable, garbage, our key refused); the
    /// detail is for the log only.
    Unavailable(String),
}

/// `POST {api_url}/v1/payment_intents`, confirming at once.
///
/// `idempotency_key` makes a retry safe: when our function times out after
/// the provider charged, the retry with the same key gets the same payment
/// back instead of a second charge.
pub fn charge(
    api_url: &str,
    api_key: &str,
    amount_cents: u64,
    token: &str,
    idempotency_key: &str,
) -> Outcome {
    let form = form_urlencoded::Serializer::new(String::new())
        .append_pair("amount", &amount_cents.to_string())
        .append_pair("currency", "usd")
        .append_pair("payment_method", token)
        .append_pair("confirm", "true")
        .finish();
    let url = format!("{}/v1/payment_intents", api_url.trim_end_matches('/'));
    let request = http::Request::post(&url)
        .header(http::header::AUTHORIZATION, format!("Bearer {api_key}"))
        .header(
            http::header::CONTENT_TYPE,
            "application/x-www-form-urlencoded",
        )
        .header("idempotency-key", idempotency_key)
        .body(Bytes::from(form));
    let request = match request {
        Ok(request) => request,
        // A URL or key that is not a valid header value: configuration.
        Err(err) => return Outcome::Unavailable(format!("cannot build request to {url}: {err}")),
    };
    match outbound::send(request) {
        Ok(response) => interpret(response.status(), response.body()),
        Err(err) => Outcome::Unavailable(err.to_string()),
    }
}

#[derive(Deserialize)]
struct PaymentIntent {
    id: String,
    status: String,
}

#[derive(Deserialize)]
struct ErrorBody {
    error: ProviderError,
}

#[derive(Deserialize)]
struct ProviderError {
    #[serde(default)]
    code: Option<String>,
    #[serde(default)]
    message: Option<String>,
}

/// Maps the provider's answer to an [`Outcome`].
fn interpret(status: StatusCode, body: &[u8]) -> Outcome {
    let text = || {
        String::from_utf8_lossy(body)
            .chars()
            .take(200)
            .collect::<String>()
    };
    match status {
        s if s.is_success() => match serde_json::from_slice::<PaymentIntent>(body) {
            Ok(intent) if intent.status == "succeeded" => Outcome::Paid(intent.id),
            Ok(intent) => Outcome::Declined(format!(
                "payment was not completed (status {})",
                intent.status
            )),
            Err(err) => {
                Outcome::Unavailable(format!("unreadable payment intent ({err}): {}", text()))
            }
        },
        StatusCode::PAYMENT_REQUIRED => {
            let error = serde_json::from_slice::<ErrorBody>(body)
                .ok()
                .map(|b| b.error);
            let message = error
                .and_then(|e| e.message.or(e.code))
                .unwrap_or_else(|| "the card was declined".into());
            Outcome::Declined(message)
        }
        StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN => Outcome::Unavailable(format!(
            "provider refused our API key ({status}); check payment_api_key"
        )),
        _ => Outcome::Unavailable(format!("provider answered {status}: {}", text())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_map_to_outcomes() {
        assert_eq!(
            interpret(StatusCode::OK, br#"{"id":"pi_1","status":"succeeded"}"#),
            Outcome::Paid("pi_1".into())
        );
        assert_eq!(
            interpret(
                StatusCode::PAYMENT_REQUIRED,
                br#"{"error":{"code":"card_declined","message":"Your card was declined."}}"#
            ),
            Outcome::Declined("Your card was declined.".into())
        );
        assert!(matches!(
            interpret(StatusCode::OK, br#"{"id":"pi_1","status":"requires_action"}"#),
            Outcome::Declined(m) if m.contains("requires_action")
        ));
        assert!(matches!(
            interpret(StatusCode::OK, b"<html>"),
            Outcome::Unavailable(_)
        ));
        assert!(matches!(
            interpret(StatusCode::UNAUTHORIZED, b"{}"),
            Outcome::Unavailable(m) if m.contains("payment_api_key")
        ));
        assert!(matches!(
            interpret(StatusCode::SERVICE_UNAVAILABLE, b"busy"),
            Outcome::Unavailable(m) if m.contains("busy")
        ));
    }

    #[test]
    fn charges_send_a_form_with_key_and_idempotency_key() {
        fnsdk::testing::mock_outbound(|_| {
            fnsdk::Response::new(Bytes::from_static(br#"{"id":"pi_9","status":"succeeded"}"#))
        });
        let outcome = charge("https://pay.test/", "sk_test", 1250, "tok_a+b", "key-1");
        assert_eq!(outcome, Outcome::Paid("pi_9".into()));
        let sent = fnsdk::testing::outbound_requests();
        assert_eq!(sent.len(), 1);
        assert_eq!(sent[0].uri(), "https://pay.test/v1/payment_intents");
        assert_eq!(sent[0].headers()["authorization"], "Bearer sk_test");
        assert_eq!(sent[0].headers()["idempotency-key"], "key-1");
        assert_eq!(
            sent[0].body().as_ref(),
            b"amount=1250&currency=usd&payment_method=tok_a%2Bb&confirm=true"
        );
    }
}
