//! Reading requests: JSON, text, form bodies and query parameters.

use serde::de::DeserializeOwned;

use crate::{Error, Request};

/// Convenience methods on [`Request`](crate::Request).
///
/// Each failure is an [`Error`] with status 400 and a message that says what
/// was wrong, so `?` in a handler answers the client properly.
pub trait RequestExt {
    /// Deserialises the body as JSON.
    fn json<T: DeserializeOwned>(&self) -> Result<T, Error>;
    /// The body as UTF-8 text.
    fn text(&self) -> Result<&str, Error>;
    /// Deserialises an `application/x-www-form-urlencoded` body.
    fn form<T: DeserializeOwned>(&self) -> Result<T, Error>;
    /// Deserialises the query string.
    fn query<T: DeserializeOwned>(&self) -> Result<T, Error>;
    /// The first value of query parameter `name`, percent-decoded.
    fn query_param(&self, name: &str) -> Option<String>;
    /// The path parameter `name` a [`Router`](crate::router::Router)
    /// matched (`{id}` in `/orders/{id}`), percent-decoded.
    fn param(&self, name: &str) -> Option<&str>;
    /// The path parameter `name`, parsed: a value that does not parse is a
    /// 400 naming the parameter; a name the route does not have is a 500
    /// (a bug in the handler, logged, not shown).
    fn path_param<T>(&self, name: &str) -> Result<T, Error>
    where
        T: std::str::FromStr,
        T::Err: std::fmt::Display;
}

impl RequestExt for Request {
    fn json<T: DeserializeOwned>(&self) -> Result<T, Error> {
        let invalid = |at: String, why: &dyn std::fmt::Display| {
            Error::bad_request(format!("invalid JSON body{at}: {why}"))
        };
        let mut de = serde_json::Deserializer::from_slice(self.try_body()?);
        let value = serde_path_to_error::deserialize(&mut de).map_err(|e| {
            // The path of the value that did not fit (`items[0].quantity`);
            // not for a document that is not JSON at all (syntax, end of
            // input), nor for the root.
            let at = match e.path().to_string() {
                path if path != "."
                    && e.inner().classify() == serde_json::error::Category::Data =>
                {
                    format!(" at `{path}`")
                }
                _ => String::new(),
            };
            invalid(at, e.inner())
        })?;
        de.end().map_err(|e| invalid(String::new(), &e))?;
        Ok(value)
    }

    fn text(&self) -> Result<&str, Error> {
        std::str::from_utf8(self.try_body()?)
            .map_err(|e| Error::bad_request(format!("body is not valid UTF-8: {e}")))
    }

    fn form<T: DeserializeOwned>(&self) -> Result<T, Error> {
        serde_urlencoded::from_bytes(self.try_body()?)
            .map_err(|e| Error::bad_request(format!("invalid form body: {e}")))
    }

    fn query<T: DeserializeOwned>(&self) -> Result<T, Error> {
        serde_urlencoded::from_str(self.query_str().unwrap_or(""))
            .map_err(|e| Error::bad_request(format!("invalid query string: {e}")))
    }

    fn query_param(&self, name: &str) -> Option<String> {
        form_urlencoded::parse(self.query_str()?.as_bytes())
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.into_owned())
    }

    fn param(&self, name: &str) -> Option<&str> {
        self.path_params()?.get(name)
    }

    fn path_param<T>(&self, name: &str) -> Result<T, Error>
    where
        T: std::str::FromStr,
        T::Err: std::fmt::Display,
    {
        let value = self.param(name).ok_or_else(|| {
            Error::internal(format!(
                "the handler reads path parameter `{name}`, which its route does not have"
            ))
        })?;
        value.parse().map_err(|e| {
            Error::bad_request(format!(
                "path parameter `{name}`: {value:?} is not valid: {e}"
            ))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Deserialize, Debug, PartialEq)]
    struct Order {
        sku: String,
        qty: u32,
    }

    fn req(uri: &str, body: &str) -> Request {
        Request::new(http::Method::POST, uri).with_body(body.to_owned())
    }

    #[test]
    fn json_body() {
        let r = req("/", r#"{"sku":"a","qty":2}"#);
        assert_eq!(
            r.json::<Order>().unwrap(),
            Order {
                sku: "a".into(),
                qty: 2
            }
        );
        let err = req("/", r#"{"sku":"a"}"#).json::<Order>().unwrap_err();
        assert_eq!(err.status(), 400);
        assert!(err.message().contains("missing field `qty`"), "{err}");
        assert!(err.message().starts_with("invalid JSON body: "), "{err}");
        let err = req("/", r#"{"sku":"a","qty":2} extra"#)
            .json::<Order>()
            .unwrap_err();
        assert!(err.message().contains("trailing characters"), "{err}");
        let err = req("/", r#"{"items":[{"sku":"#)
            .json::<Order>()
            .unwrap_err();
        assert!(err.message().starts_with("invalid JSON body: EOF"), "{err}");
    }

    #[test]
    fn a_json_value_of_the_wrong_type_is_named_by_its_path() {
        #[derive(Deserialize, Debug)]
        #[allow(dead_code)]
        struct Cart {
            items: Vec<Order>,
        }
        let err = req(
            "/",
            r#"{"items":[{"sku":"a","qty":1},{"sku":"b","qty":"two"}]}"#,
        )
        .json::<Cart>()
        .unwrap_err();
        assert_eq!(err.status(), 400);
        assert!(
            err.message()
                .starts_with("invalid JSON body at `items[1].qty`: invalid type: string \"two\""),
            "{err}"
        );
    }

    #[test]
    fn form_and_query() {
        let r = req("/x?sku=b%20c&qty=3&qty=4", "sku=z&qty=9");
        assert_eq!(
            r.form::<Order>().unwrap(),
            Order {
                sku: "z".into(),
                qty: 9
            }
        );
        assert_eq!(r.query_param("sku").as_deref(), Some("b c"));
        assert_eq!(r.query_param("qty").as_deref(), Some("3"));
        assert_eq!(r.query_param("nope"), None);
        let bad = req("/x?qty=many", "");
        assert_eq!(bad.query::<Order>().unwrap_err().status(), 400);
    }

    #[test]
    fn text_rejects_invalid_utf8() {
        let r = Request::new(http::Method::POST, "/").with_body(&[0xff, 0xfe][..]);
        assert_eq!(r.text().unwrap_err().status(), 400);
    }
}
