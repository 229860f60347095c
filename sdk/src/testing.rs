//! Native backends for unit tests: in-memory key-value and config, an
//! outbound-HTTP mock, captured logs.
//!
//! When a crate is compiled for the host (plain `cargo test`), the SDK's
//! capabilities run in-process against this module instead of WASI. State is
//! per thread, and the test harness runs each `#[test]` on its own thread, so
//! tests are isolated without any setup.
//!
//! ```
//! use fnsdk::{testing, http, Bytes};
//!
//! testing::set_config("api_url", "https://api.example.com");
//! testing::kv_set("default", "stock:A-1", b"3");
//! testing::mock_outbound(|req| {
//!     assert_eq!(req.uri().host(), Some("api.example.com"));
//!     http::Response::builder().status(201).body(Bytes::from("ok")).unwrap()
//! });
//!
//! let resp = fnsdk::outbound::send(
//!     http::Request::post("https://api.example.com/charge").body(Bytes::new()).unwrap(),
//! ).unwrap();
//! assert_eq!(resp.status(), 201);
//! assert_eq!(testing::outbound_requests().len(), 1);
//! ```

use std::cell::RefCell;
use std::collections::BTreeMap;

use bytes::Bytes;
use serde::Serialize;

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
    http::Request::builder()
        .method(method)
        .uri(uri)
        .body(body.into())
        .unwrap_or_else(|e| panic!("invalid test request URI {uri:?}: {e}"))
}

#[track_caller]
fn json_request<T: Serialize + ?Sized>(method: http::Method, uri: &str, body: &T) -> Request {
    let body = serde_json::to_vec(body)
        .unwrap_or_else(|e| panic!("the test body does not serialise as JSON: {e}"));
    let mut req = request(method, uri, body);
    req.headers_mut().insert(
        http::header::CONTENT_TYPE,
        http::HeaderValue::from_static("application/json"),
    );
    req
}

type Mock = Box<dyn FnMut(&Request) -> Response>;

#[derive(Default)]
struct State {
    kv: BTreeMap<String, BTreeMap<String, Vec<u8>>>,
    config: BTreeMap<String, String>,
    mock: Option<Mock>,
    outbound: Vec<Request>,
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
/// [`outbound::send`](crate::outbound::send).
pub fn mock_outbound(mock: impl FnMut(&Request) -> Response + 'static) {
    with(|s| s.mock = Some(Box::new(mock)));
}

/// The outbound requests sent on this thread so far.
pub fn outbound_requests() -> Vec<Request> {
    with(|s| s.outbound.clone())
}

/// The log lines written on this thread so far.
pub fn logs() -> Vec<String> {
    with(|s| s.logs.clone())
}

pub(crate) fn record_log(line: &str) {
    with(|s| s.logs.push(line.to_owned()));
}

pub(crate) fn dispatch_outbound(req: Request) -> Result<Response, crate::outbound::Error> {
    // Take the mock out while it runs so it may itself use the SDK.
    let mock = with(|s| {
        s.outbound.push(req.clone());
        s.mock.take()
    });
    let Some(mut mock) = mock else {
        return Err(crate::outbound::Error::Failed {
            url: req.uri().to_string(),
            reason: "no outbound mock installed; call fnsdk::testing::mock_outbound in the test"
                .into(),
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
