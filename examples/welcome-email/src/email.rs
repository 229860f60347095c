//! The welcome e-mail and the Resend-style API that sends it.

use fnsdk::{Bytes, StatusCode, http, outbound};
use serde::Serialize;

/// A rendered message, serialised as the provider's `POST /emails` body.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Email {
    /// Sender, e.g. `Acme <welcome@acme.test>`.
    pub from: String,
    /// Recipients.
    pub to: Vec<String>,
    /// Subject line (plain text).
    pub subject: String,
    /// HTML body.
    pub html: String,
    /// Plain-text body, for clients that do not show HTML.
    pub text: String,
}

/// The welcome message for `name` at `address`.
pub fn welcome(from: &str, name: &str, address: &str) -> Email {
    // Names come from a sign-up form: escape them before they go into HTML.
    let html_name = escape_html(name);
    Email {
        from: from.to_owned(),
        to: vec![address.to_owned()],
        subject: format!("Welcome, {name}!"),
        html: format!(
            "<p>Hi {html_name},</p>\n\
             <p>Thanks for signing up. Your account is ready.</p>\n\
             <p>Reply to this e-mail if you need anything.</p>"
        ),
        text: format!(
            "Hi {name},\n\n\
             Thanks for signing up. Your account is ready.\n\n\
             Reply to this e-mail if you need anything.\n"
        ),
    }
}

/// Escapes the five characters that matter in HTML text and attributes.
pub fn escape_html(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len());
    for c in raw.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// Why a message was not sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SendError {
    /// Worth retrying later: the provider is down, busy or unreachable.
    Retry(String),
    /// The provider refused this message; sending it again will not help.
    Rejected(String),
}

/// `POST {api_url}/emails`; `idempotency_key` makes the provider send a
/// message once per key, however many times it is posted.
pub fn send(
    api_url: &str,
    api_key: &str,
    email: &Email,
    idempotency_key: &str,
) -> Result<(), SendError> {
    let body = serde_json::to_vec(email).map_err(|e| SendError::Rejected(e.to_string()))?;
    let url = format!("{}/emails", api_url.trim_end_matches('/'));
    let request = http::Request::post(&url)
        .header(http::header::AUTHORIZATION, format!("Bearer {api_key}"))
        .header(http::header::CONTENT_TYPE, "application/json")
        .header("idempotency-key", idempotency_key)
        .body(Bytes::from(body))
        .map_err(|e| SendError::Rejected(format!("cannot build request to {url}: {e}")))?;
    let response = outbound::send(request).map_err(|e| SendError::Retry(e.to_string()))?;
    let status = response.status();
    let detail = || {
        let body = String::from_utf8_lossy(response.body());
        format!(
            "{url} answered {status}: {}",
            body.chars().take(300).collect::<String>()
        )
    };
    match status {
        s if s.is_success() => Ok(()),
        // 409: a request with this idempotency key is still in flight
        // (a concurrent redelivery); 429: rate limited. Both pass.
        s if s.is_server_error()
            || s == StatusCode::CONFLICT
            || s == StatusCode::TOO_MANY_REQUESTS =>
        {
            Err(SendError::Retry(detail()))
        }
        _ => Err(SendError::Rejected(detail())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn html_is_escaped_and_text_is_not() {
        let email = welcome("Acme <hi@acme.test>", "<b>Tom & \"Jerry\"</b>", "t@j.test");
        assert!(
            email
                .html
                .contains("Hi &lt;b&gt;Tom &amp; &quot;Jerry&quot;&lt;/b&gt;,")
        );
        assert!(email.text.starts_with("Hi <b>Tom & \"Jerry\"</b>,"));
        assert_eq!(email.subject, "Welcome, <b>Tom & \"Jerry\"</b>!");
        assert_eq!(email.to, ["t@j.test"]);
        assert_eq!(escape_html("it's"), "it&#39;s");
    }
}
