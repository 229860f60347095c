//! Native backends for unit tests: in-memory key-value and config, an
//! outbound-HTTP mock, captured logs.
//!
//! When a crate is compiled for the host (plain `cargo test`), the SDK's
//! capabilities run in-process against this module instead of WASI. State is
//! per thread, and the test harness runs each `#[test]` on its own thread, so
//! tests are isolated without any setup.
//!
//! The verbs are those of `fn_host_test::TestFunction`, which runs the built
//! component: `set_config`, `kv().set(..)`, `mock_http(method, url, response)`,
//! so a test moves between the two unchanged in shape.
//!
//! ```
//! use fnsdk::{testing, http};
//!
//! testing::set_config("api_url", "https://api.example.com");
//! testing::kv().set("stock:A-1", "3");
//! testing::mock_http(
//!     http::Method::POST,
//!     "https://api.example.com/charge",
//!     http::Response::builder().status(201).body("ok").unwrap(),
//! );
//!
//! let resp = fnsdk::outbound::send(testing::post("https://api.example.com/charge", "{}")).unwrap();
//! assert_eq!(resp.status(), 201);
//! assert_eq!(testing::outbound_requests().len(), 1);
//! assert_eq!(testing::kv().get_str("stock:A-1").as_deref(), Some("3"));
//! ```

use std::cell::RefCell;
use std::collections::BTreeMap;

use bytes::Bytes;
use serde::Serialize;

use crate::outbound::OutboundRequest;
use crate::{Request, Response};

pub use crate::handler::call;
pub use crate::task::block_on;

/// A `GET` request for `uri` (a path, `/orders?limit=2`, or a full URL).
pub fn get(uri: &str) -> Request {
    request(http::Method::GET, uri, Bytes::new())
}

/// A `DELETE` request for `uri`.
pub fn delete(uri: &str) -> Request {
    request(http::Method::DELETE, uri, Bytes::new())
}

/// A `POST` of `body` serialised as JSON, with `Content-Type: application/json`.
pub fn post_json<T: Serialize + ?Sized>(uri: &str, body: &T) -> Request {
    json_request(http::Method::POST, uri, body)
}

/// A `PUT` of `body` serialised as JSON, with `Content-Type: application/json`.
pub fn put_json<T: Serialize + ?Sized>(uri: &str, body: &T) -> Request {
    json_request(http::Method::PUT, uri, body)
}

/// A `POST` of raw `body` bytes (no `Content-Type`).
pub fn post(uri: &str, body: impl Into<Bytes>) -> Request {
    request(http::Method::POST, uri, body.into())
}

/// A request with any method and body.
///
/// Panics on a URI that does not parse: it is a test's literal.
#[track_caller]
pub fn request(method: http::Method, uri: &str, body: impl Into<Bytes>) -> Request {
    Request::new(method, uri).with_body(body)
}

#[track_caller]
fn json_request<T: Serialize + ?Sized>(method: http::Method, uri: &str, body: &T) -> Request {
    let body = serde_json::to_vec(body)
        .unwrap_or_else(|e| panic!("the test body does not serialise as JSON: {e}"));
    request(method, uri, body).with_header("content-type", "application/json")
}

type Mock = Box<dyn FnMut(&OutboundRequest) -> Response>;

#[derive(Default)]
struct State {
    kv: BTreeMap<String, BTreeMap<String, Vec<u8>>>,
    config: BTreeMap<String, String>,
    mock: Option<Mock>,
    /// Canned answers by method and URL, tried before `mock`.
    canned: Vec<Canned>,
    outbound: Vec<OutboundRequest>,
    logs: Vec<String>,
}

thread_local! {
    static STATE: RefCell<State> = RefCell::default();
}

fn with<R>(f: impl FnOnce(&mut State) -> R) -> R {
    STATE.with(|s| f(&mut s.borrow_mut()))
}

/// Clears this thread's key-value, config, mock, recorded requests and logs.
pub fn reset() {
    with(|s| *s = State::default());
}

/// Sets a configuration value for this thread.
pub fn set_config(key: &str, value: &str) {
    with(|s| s.config.insert(key.to_owned(), value.to_owned()));
}

/// Seeds a key-value entry in `store` for this thread.
pub fn kv_set(store: &str, key: &str, value: &[u8]) {
    with(|s| {
        s.kv.entry(store.to_owned())
            .or_default()
            .insert(key.to_owned(), value.to_vec())
    });
}

/// Reads a key-value entry of `store` for this thread.
pub fn kv_get(store: &str, key: &str) -> Option<Vec<u8>> {
    with(|s| s.kv.get(store).and_then(|b| b.get(key).cloned()))
}

/// Installs the outbound-HTTP mock for this thread; it answers every
/// [`outbound::send`](crate::outbound::send) with anything a handler may
/// return ([`IntoResponse`](crate::IntoResponse): a `Response`, a string,
/// `(StatusCode, Json(..))`, an `http::Response`, ...).
pub fn mock_outbound<R: crate::IntoResponse>(
    mut mock: impl FnMut(&OutboundRequest) -> R + 'static,
) {
    with(|s| s.mock = Some(Box::new(move |req| mock(req).into_response())));
}

/// The outbound requests sent on this thread so far.
pub fn outbound_requests() -> Vec<OutboundRequest> {
    with(|s| s.outbound.clone())
}

/// The log lines written on this thread so far.
pub fn logs() -> Vec<String> {
    with(|s| s.logs.clone())
}

pub(crate) fn record_log(line: &str) {
    with(|s| s.logs.push(line.to_owned()));
}

/// A canned outbound answer, as `TestFunction::mock_http` registers them.
struct Canned {
    method: http::Method,
    url: String,
    prefix: bool,
    response: Response,
}

/// Answers outbound `method url` requests (the exact URL, query included)
/// with `response`: the same call as `fn_host_test::TestFunction::mock_http`.
/// Mocks match in registration order, before any [`mock_outbound`] closure.
pub fn mock_http<B: Into<Bytes>>(method: http::Method, url: &str, response: http::Response<B>) {
    canned(method, url, false, response.into());
}

/// Answers outbound `method` requests whose URL starts with `prefix`, like
/// `TestFunction::mock_http_prefix`.
pub fn mock_http_prefix<B: Into<Bytes>>(
    method: http::Method,
    prefix: &str,
    response: http::Response<B>,
) {
    canned(method, prefix, true, response.into());
}

fn canned(method: http::Method, url: &str, prefix: bool, response: Response) {
    // As the runtime prints URLs: `https://a.test` is `https://a.test/`.
    let url = match url.parse::<http::Uri>() {
        Ok(uri) if uri.scheme().is_some() && !prefix => uri.to_string(),
        _ => url.to_owned(),
    };
    with(|s| {
        s.canned.push(Canned {
            method,
            url,
            prefix,
            response,
        })
    });
}

/// Key-value, with the verbs of `fn_host_test::TestFunction::kv()`: the
/// default store's `set`, `get`, `get_str`, `set_json`, `get_json`,
/// `delete`, `keys`, and `store(name)` for another.
pub fn kv() -> Store {
    Store(crate::kv::DEFAULT_STORE.to_owned())
}

/// One key-value store of this thread (see [`kv`]).
#[derive(Debug, Clone)]
pub struct Store(String);

impl Store {
    /// The store `name`.
    pub fn store(&self, name: &str) -> Store {
        Store(name.to_owned())
    }

    /// Sets `key`.
    pub fn set(&self, key: &str, value: impl Into<Vec<u8>>) {
        kv_set(&self.0, key, &value.into());
    }

    /// The value of `key`.
    pub fn get(&self, key: &str) -> Option<Vec<u8>> {
        kv_get(&self.0, key)
    }

    /// The value of `key` as text (lossy UTF-8).
    pub fn get_str(&self, key: &str) -> Option<String> {
        self.get(key)
            .map(|v| String::from_utf8_lossy(&v).into_owned())
    }

    /// Sets `key` to `value` as JSON.
    pub fn set_json<T: Serialize>(&self, key: &str, value: &T) -> serde_json::Result<()> {
        self.set(key, serde_json::to_vec(value)?);
        Ok(())
    }

    /// The value of `key` read as JSON (`None` when absent).
    pub fn get_json<T: serde::de::DeserializeOwned>(
        &self,
        key: &str,
    ) -> serde_json::Result<Option<T>> {
        self.get(key)
            .map(|v| serde_json::from_slice(&v))
            .transpose()
    }

    /// Deletes `key`; true if it was there.
    pub fn delete(&self, key: &str) -> bool {
        with(|s| {
            s.kv.get_mut(&self.0)
                .is_some_and(|b| b.remove(key).is_some())
        })
    }

    /// Every key, sorted.
    pub fn keys(&self) -> Vec<String> {
        with(|s| {
            s.kv.get(&self.0)
                .map(|b| b.keys().cloned().collect())
                .unwrap_or_default()
        })
    }
}

pub(crate) fn dispatch_outbound(req: OutboundRequest) -> Result<Response, crate::outbound::Error> {
    let url = req.uri().to_string();
    let canned = with(|s| {
        s.outbound.push(req.clone());
        s.canned
            .iter()
            .find(|c| {
                c.method == req.method()
                    && if c.prefix {
                        url.starts_with(&c.url)
                    } else {
                        c.url == url
                    }
            })
            .map(|c| c.response.clone())
    });
    if let Some(response) = canned {
        return Ok(response);
    }
    // Take the mock out while it runs so it may itself use the SDK.
    let mock = with(|s| s.mock.take());
    let Some(mut mock) = mock else {
        return Err(crate::outbound::Error::Failed {
            url: req.uri().to_string(),
            reason: format!(
                "no mock for {} {url}; add one with fnsdk::testing::mock_http (or mock_outbound)",
                req.method()
            ),
        });
    };
    let resp = mock(&req);
    with(|s| {
        s.mock.get_or_insert(mock);
    });
    Ok(resp)
}

pub(crate) mod kv {
    use super::with;
    use crate::kv::Error;

    #[derive(Debug)]
    pub(crate) struct Bucket(String);

    impl Bucket {
        pub(crate) fn open(name: &str) -> Result<Self, Error> {
            Ok(Self(name.to_owned()))
        }

        fn map<R>(
            &self,
            f: impl FnOnce(&mut std::collections::BTreeMap<String, Vec<u8>>) -> R,
        ) -> R {
            with(|s| f(s.kv.entry(self.0.clone()).or_default()))
        }

        pub(crate) fn get(&self, key: &str) -> Result<Option<Vec<u8>>, Error> {
            Ok(self.map(|m| m.get(key).cloned()))
        }

        pub(crate) fn set(&self, key: &str, value: &[u8]) -> Result<(), Error> {
            self.map(|m| m.insert(key.to_owned(), value.to_vec()));
            Ok(())
        }

        pub(crate) fn delete(&self, key: &str) -> Result<(), Error> {
            self.map(|m| m.remove(key));
            Ok(())
        }

        pub(crate) fn exists(&self, key: &str) -> Result<bool, Error> {
            Ok(self.map(|m| m.contains_key(key)))
        }

        pub(crate) fn list_keys(
            &self,
            _cursor: Option<u64>,
        ) -> Result<(Vec<String>, Option<u64>), Error> {
            Ok((self.map(|m| m.keys().cloned().collect()), None))
        }

        /// Counters are in the format the runtime's host uses
        /// ([`fn_wit::keyvalue::counter`]), so they read back as text and a
        /// value is a counter here exactly when it is one in the component.
        pub(crate) fn increment(&self, key: &str, delta: u64) -> Result<u64, Error> {
            use fn_wit::keyvalue::counter;
            self.map(|m| {
                let next =
                    counter::increment(m.get(key).map(Vec::as_slice), delta).map_err(|err| {
                        match err {
                            counter::Error::NotACounter => Error::NotACounter(key.to_owned()),
                            counter::Error::Overflow => {
                                Error::Other(format!("overflow incrementing {key:?}"))
                            }
                        }
                    })?;
                m.insert(key.to_owned(), counter::format(next));
                Ok(next)
            })
        }
    }
}

pub(crate) mod config {
    use super::with;
    use crate::config::Error;

    pub(crate) fn get(key: &str) -> Result<Option<String>, Error> {
        Ok(with(|s| s.config.get(key).cloned()))
    }

    pub(crate) fn get_all() -> Result<Vec<(String, String)>, Error> {
        Ok(with(|s| {
            s.config
                .iter()
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect()
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canned_mocks_match_by_method_and_url_like_test_function() {
        mock_http(
            http::Method::POST,
            "https://pay.test",
            http::Response::builder().status(201).body("paid").unwrap(),
        );
        mock_http_prefix(
            http::Method::GET,
            "https://stock.test/items/",
            http::Response::new("3"),
        );
        let send = |method: http::Method, url: &str| {
            crate::outbound::send(request(method, url, Bytes::new()))
        };
        let paid = send(http::Method::POST, "https://pay.test/").unwrap();
        assert_eq!(
            (paid.status().as_u16(), paid.body().as_ref()),
            (201, &b"paid"[..])
        );
        assert_eq!(
            send(http::Method::GET, "https://stock.test/items/7")
                .unwrap()
                .body(),
            "3"
        );
        let err = send(http::Method::GET, "https://pay.test/")
            .unwrap_err()
            .to_string();
        assert!(err.contains("no mock for GET https://pay.test/"), "{err}");
        assert_eq!(outbound_requests().len(), 3);
    }

    #[test]
    fn kv_has_the_verbs_of_test_function() {
        kv().set("a", "1");
        kv().set_json("order", &serde_json::json!({"id": 7}))
            .unwrap();
        kv().store("other").set("b", b"2".to_vec());
        assert_eq!(kv().get_str("a").as_deref(), Some("1"));
        let order: serde_json::Value = kv().get_json("order").unwrap().unwrap();
        assert_eq!(order["id"], 7);
        assert_eq!(kv().keys(), ["a", "order"]);
        assert_eq!(kv_get("other", "b").as_deref(), Some(&b"2"[..]));
        assert!(kv().delete("a"));
        assert!(!kv().delete("a"));
        // What the SDK's own key-value client reads is the same data.
        let store = crate::kv::Store::open_default().unwrap();
        assert!(store.get("order").unwrap().is_some());
    }
}
