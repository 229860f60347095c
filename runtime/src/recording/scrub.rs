//! Keeping secret config values out of recordings: wherever a secret's
//! value appears in what a call sent or wrote (an `authorization` header, a
//! form field, a log line, the response), the recording holds
//! `<redacted:KEY>` instead. A replay scrubs its own run the same way before
//! comparing, so a run with the same secret compares equal.

use super::format::{Body, Event, Headers, KvCall, KvResult};

/// Secret values shorter than this are not searched for (a one-character
/// secret would scrub every occurrence of that character); such a secret
/// is still withheld from the config event.
const MIN_LEN: usize = 4;

/// The secrets of a call: each value and its placeholder.
#[derive(Clone, Debug, Default)]
pub(crate) struct Scrub {
    secrets: Vec<(String, String)>,
}

impl Scrub {
    /// Scrubs the values of `secrets` (key, value), longest first.
    pub(crate) fn new<'a>(secrets: impl IntoIterator<Item = (&'a String, &'a String)>) -> Scrub {
        let mut secrets: Vec<(String, String)> = secrets
            .into_iter()
            .filter(|(_, value)| value.len() >= MIN_LEN)
            .map(|(key, value)| (value.clone(), format!("<redacted:{key}>")))
            .collect();
        secrets.sort_by(|a, b| b.0.len().cmp(&a.0.len()).then(a.cmp(b)));
        Scrub { secrets }
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.secrets.is_empty()
    }

    pub(crate) fn text(&self, text: &str) -> String {
        let mut out = text.to_owned();
        for (value, placeholder) in &self.secrets {
            if out.contains(value.as_str()) {
                out = out.replace(value.as_str(), placeholder);
            }
        }
        out
    }

    pub(crate) fn body(&self, body: &Body) -> Body {
        match body {
            Body::Text(text) => Body::Text(self.text(text)),
            Body::Base64(_) => body.clone(),
        }
    }

    pub(crate) fn headers(&self, headers: &Headers) -> Headers {
        headers
            .iter()
            .map(|(name, value)| (name.clone(), self.text(value)))
            .collect()
    }

    fn kv_call(&self, call: &mut KvCall) {
        if let KvCall::Set { value, .. } = call {
            *value = self.body(value);
        }
    }

    /// Scrubs a key-value call for comparison with a recorded one.
    pub(crate) fn kv_call_owned(&self, mut call: KvCall) -> KvCall {
        self.kv_call(&mut call);
        call
    }

    /// Scrubs what an event carries that the function sent or wrote. The
    /// incoming request is left alone (it is fed back to the function).
    pub(crate) fn event(&self, event: &mut Event) {
        match event {
            Event::Outbound {
                headers,
                body,
                response,
                error,
                ..
            } => {
                *headers = self.headers(headers);
                *body = self.body(body);
                if let Some(response) = response {
                    response.headers = self.headers(&response.headers);
                    response.body = self.body(&response.body);
                }
                if let Some(error) = error {
                    *error = self.text(error);
                }
            }
            Event::Kv { call, result } => {
                self.kv_call(call);
                if let KvResult::Value(Some(value)) = result {
                    *value = self.body(value);
                }
            }
            Event::Log { text, .. } => *text = self.text(text),
            Event::Response {
                headers,
                body,
                error,
                ..
            } => {
                *headers = self.headers(headers);
                *body = self.body(body);
                if let Some(error) = error {
                    *error = self.text(error);
                }
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_values_become_placeholders_longest_first() {
        let secrets = [
            ("key".to_owned(), "sk_live_1234".to_owned()),
            ("short".to_owned(), "sk_".to_owned()),
            ("prefix".to_owned(), "sk_live".to_owned()),
        ];
        let scrub = Scrub::new(secrets.iter().map(|(k, v)| (k, v)));
        assert_eq!(
            scrub.text("Bearer sk_live_1234, then sk_live and sk_"),
            "Bearer <redacted:key>, then <redacted:prefix> and sk_"
        );
        assert_eq!(
            scrub.body(&Body::Base64("c2tfbGl2ZQ==".into())),
            Body::Base64("c2tfbGl2ZQ==".into()),
            "binary bodies are not searched"
        );
    }
}
