//! Delivering the code: SMS through a Twilio-style API, e-mail through a
//! Resend-style API. Both are one outbound HTTP request.

use base64::Engine as _;
use fnsdk::{Bytes, Error, Result, StatusCode, http, outbound};
use serde::Deserialize;

use crate::settings::{
    EMAIL_API_KEY, EMAIL_API_URL, EMAIL_FROM, SMS_ACCOUNT_SID, SMS_API_KEY, SMS_API_URL, SMS_FROM,
    Settings, base_url,
};

/// How the code travels; `"sms"` or `"email"` in the request.
#[derive(Clone, Copy, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Channel {
    Sms,
    Email,
}

impl Channel {
    pub fn name(self) -> &'static str {
        match self {
            Channel::Sms => "sms",
            Channel::Email => "email",
        }
    }

    /// Checks `to` is a phone number (E.164) or an e-mail address.
    pub fn validate_destination(self, to: &str) -> Result<()> {
        let valid = match self {
            Channel::Sms => to.strip_prefix('+').is_some_and(|digits| {
                (8..=15).contains(&digits.len()) && digits.bytes().all(|b| b.is_ascii_digit())
            }),
            Channel::Email => {
                to.len() <= 254
                    && !to.chars().any(|c| c.is_whitespace() || c.is_control())
                    && to.split_once('@').is_some_and(|(local, domain)| {
                        !local.is_empty() && domain.contains('.') && !domain.contains('@')
                    })
            }
        };
        if valid {
            Ok(())
        } else {
            Err(Error::bad_request(match self {
                Channel::Sms => "`to` must be a phone number in E.164 form, like +15551234567",
                Channel::Email => "`to` must be an e-mail address, like alice@example.com",
            }))
        }
    }

    /// Sends `code` to `to`. A provider that cannot be reached or answers
    /// with an error status is a 502: the client may retry.
    pub fn send(self, settings: &Settings, to: &str, code: &str) -> Result<()> {
        let minutes = settings.code_ttl_seconds.div_ceil(60);
        let text = format!("Your verification code is {code}. It expires in {minutes} min.");
        let request = match self {
            Channel::Sms => sms_request(to, &text)?,
            Channel::Email => email_request(to, &text)?,
        };
        let url = request.uri().to_string();
        let response = outbound::send(request)
            .map_err(|e| Error::from(e).with_status(StatusCode::BAD_GATEWAY))?;
        if !response.status().is_success() {
            // The provider's body may echo the message, and so the code:
            // log only the status.
            return Err(Error::new(
                StatusCode::BAD_GATEWAY,
                format!(
                    "{} provider answered {} for {url}",
                    self.name(),
                    response.status()
                ),
            ));
        }
        Ok(())
    }
}

/// `POST {sms_api_url}/2010-04-01/Accounts/{sid}/Messages.json`, a form
/// with `To`, `From`, `Body`, HTTP basic auth `sid:sms_api_key`.
fn sms_request(to: &str, text: &str) -> Result<http::Request<Bytes>> {
    let base = base_url(SMS_API_URL)?;
    let sid = SMS_ACCOUNT_SID.get()?;
    let key = SMS_API_KEY.get()?;
    let from = SMS_FROM.get()?;
    let form = form_urlencoded::Serializer::new(String::new())
        .append_pair("To", to)
        .append_pair("From", &from)
        .append_pair("Body", text)
        .finish();
    let credentials = base64::engine::general_purpose::STANDARD.encode(format!("{sid}:{key}"));
    build(
        http::Request::post(format!("{base}/2010-04-01/Accounts/{sid}/Messages.json"))
            .header("authorization", format!("Basic {credentials}"))
            .header("content-type", "application/x-www-form-urlencoded"),
        form.into(),
    )
}

/// `POST {email_api_url}/emails`, JSON, bearer `email_api_key`.
fn email_request(to: &str, text: &str) -> Result<http::Request<Bytes>> {
    let base = base_url(EMAIL_API_URL)?;
    let key = EMAIL_API_KEY.get()?;
    let from = EMAIL_FROM.get()?;
    let body = serde_json::json!({
        "from": from,
        "to": [to],
        "subject": "Your verification code",
        "text": text,
    });
    build(
        http::Request::post(format!("{base}/emails"))
            .header("authorization", format!("Bearer {key}"))
            .header("content-type", "application/json"),
        serde_json::to_vec(&body)?.into(),
    )
}

fn build(builder: http::request::Builder, body: Bytes) -> Result<http::Request<Bytes>> {
    // Without a length the body goes out chunked, which some servers refuse.
    let builder = builder.header("content-length", body.len());
    builder.body(body).map_err(|e| {
        Error::internal(format!(
            "cannot build the provider request (check the *_api_url config): {e}"
        ))
    })
}
