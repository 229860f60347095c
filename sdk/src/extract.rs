//! Extractors: a handler's parameters, each taken from the request.
//!
//! A `#[function]` handler, or a [`Router`](crate::router::Router) handler,
//! may take any number of parameters whose types implement
//! [`FromRequestRef`], as axum handlers do; the last one may instead take
//! the whole [`Request`](crate::Request) by value.
//!
//! ```
//! use fnsdk::extract::{Json, Query};
//! use fnsdk::{StatusCode, function};
//! use serde::Deserialize;
//!
//! #[derive(Deserialize)]
//! struct Order { sku: String, qty: u32 }
//! #[derive(Deserialize)]
//! struct Opts { dry_run: Option<bool> }
//!
//! #[function]
//! fn create(Query(opts): Query<Opts>, Json(order): Json<Order>) -> (StatusCode, String) {
//!     let verb = if opts.dry_run == Some(true) { "would order" } else { "ordered" };
//!     (StatusCode::CREATED, format!("{verb} {} x {}", order.qty, order.sku))
//! }
//!
//! let req = fnsdk::testing::post_json("/?dry_run=true", &serde_json::json!({"sku": "A-1", "qty": 2}));
//! let resp = fnsdk::testing::call(create, req);
//! assert_eq!(resp.status(), 201);
//! assert_eq!(resp.body(), "would order 2 x A-1");
//! ```
//!
//! | parameter | what it takes | refused with |
//! |---|---|---|
//! | [`Json<T>`] | the body, as JSON (`T: Deserialize`) | 400 naming the field (`items[1].qty`); 415 for a non-JSON `Content-Type` |
//! | [`Query<T>`] | the query string | 400 |
//! | [`Form<T>`] | an `application/x-www-form-urlencoded` body | 400 |
//! | [`Path<T>`] | the router's path parameters: one value, a tuple, or a struct | 400 for a value that does not parse |
//! | [`HeaderMap`], [`Method`], [`Uri`] | those parts of the request | never |
//! | [`Bytes`] | the body | never |
//! | `String` | the body as UTF-8 text | 400 |
//! | [`Request`] (last only) | the whole request | never |
//! | `http::Request<Bytes>` (last only) | the whole request, as the `http` crate's type | never |
//!
//! The body is read into memory before the handler runs (a body over the
//! host's limit is answered 413 without running it), so body extractors may
//! appear anywhere in the list and more than once. Only `Request`, which
//! takes the request itself, must come last.

use bytes::Bytes;
use http::{HeaderMap, Method, Uri};
use serde::de::{self, DeserializeOwned, Visitor};

use crate::{Error, Request, RequestExt, StatusCode};

pub use crate::response::Json;

/// A value a handler parameter can be taken from a borrowed request.
///
/// Implement it for your own types to use them as parameters; the error is
/// the response when extraction fails.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be a handler parameter here",
    label = "not an extractor that borrows the request",
    note = "parameters implement `fnsdk::extract::FromRequestRef`: `Json<T>`, `Query<T>`, `Form<T>`, `Path<T>`, `HeaderMap`, `Method`, `Uri`, `Bytes`, `String`",
    note = "`Request` takes the whole request, so it can only be the last parameter"
)]
pub trait FromRequestRef: Sized {
    /// Takes the value from `request`.
    fn from_request_ref(request: &Request) -> Result<Self, Error>;
}

/// A value the last handler parameter can be taken from the request by:
/// every [`FromRequestRef`] type, and [`Request`] itself.
///
/// `M` only tells the two kinds apart; it is inferred.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be a handler parameter",
    label = "not an extractor",
    note = "parameters are `fnsdk::Request` (last only) or implement `fnsdk::extract::FromRequestRef`: `Json<T>`, `Query<T>`, `Form<T>`, `Path<T>`, `HeaderMap`, `Method`, `Uri`, `Bytes`, `String`"
)]
pub trait FromRequest<M = private::ViaRequest>: Sized {
    /// Takes the value from `request`, consuming it.
    fn from_request(request: Request) -> Result<Self, Error>;
}

#[doc(hidden)]
pub mod private {
    /// Marks [`FromRequest`](super::FromRequest) for `Request` itself.
    pub enum ViaRequest {}
    /// Marks [`FromRequest`](super::FromRequest) for [`FromRequestRef`](super::FromRequestRef) types.
    pub enum ViaRef {}
    /// Marks [`FromRequest`](super::FromRequest) for `http::Request<Bytes>`.
    pub enum ViaHttp {}
}

impl<T: FromRequestRef> FromRequest<private::ViaRef> for T {
    fn from_request(request: Request) -> Result<Self, Error> {
        T::from_request_ref(&request)
    }
}

impl FromRequest<private::ViaRequest> for Request {
    fn from_request(request: Request) -> Result<Self, Error> {
        Ok(request)
    }
}

/// For handlers written against the `http` crate (`lambda_http`, axum): the
/// request converted, its headers parsed into a `HeaderMap`.
impl FromRequest<private::ViaHttp> for http::Request<Bytes> {
    fn from_request(request: Request) -> Result<Self, Error> {
        Ok(request.into_http())
    }
}

impl<T: DeserializeOwned> FromRequestRef for Json<T> {
    /// A body that is not JSON, or whose values do not fit `T`, is a 400
    /// naming the path of the bad value; a `Content-Type` that is present
    /// and not JSON (`application/json`, `*/*+json`) is a 415. A missing
    /// `Content-Type` is accepted.
    fn from_request_ref(request: &Request) -> Result<Self, Error> {
        if let Some(ty) = request.header_bytes("content-type") {
            let ty = String::from_utf8_lossy(ty);
            let essence = ty
                .split(';')
                .next()
                .unwrap_or("")
                .trim()
                .to_ascii_lowercase();
            if essence != "application/json" && !essence.ends_with("+json") {
                return Err(Error::new(
                    StatusCode::UNSUPPORTED_MEDIA_TYPE,
                    format!("expected a JSON body (Content-Type: application/json), got {ty:?}"),
                ));
            }
        }
        request.json().map(Json)
    }
}

/// The query string, deserialised: `Query(opts): Query<Opts>`. A query that
/// does not fit `T` is a 400.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Query<T>(pub T);

impl<T: DeserializeOwned> FromRequestRef for Query<T> {
    fn from_request_ref(request: &Request) -> Result<Self, Error> {
        request.query().map(Query)
    }
}

/// An `application/x-www-form-urlencoded` body, deserialised. A body that
/// does not fit `T` is a 400.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Form<T>(pub T);

impl<T: DeserializeOwned> FromRequestRef for Form<T> {
    fn from_request_ref(request: &Request) -> Result<Self, Error> {
        request.form().map(Form)
    }
}

/// The path parameters a [`Router`](crate::router::Router) matched,
/// deserialised: one value (`Path(id): Path<u64>` for `/orders/{id}`), a
/// tuple in the order of the pattern (`Path((user, post)): Path<(String,
/// u32)>`), or a struct or map by name.
///
/// A value that does not parse is a 400 naming the parameter. Reading a
/// name the route does not have, or a handler no router called, is a 500:
/// a bug in the function, logged and not shown.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Path<T>(pub T);

impl<T: DeserializeOwned> FromRequestRef for Path<T> {
    fn from_request_ref(request: &Request) -> Result<Self, Error> {
        let Some(params) = request.path_params() else {
            return Err(Error::internal(
                "`Path<T>` is only filled in by a Router: this handler was not called by one",
            ));
        };
        T::deserialize(Params(params.as_slice()))
            .map(Path)
            .map_err(PathError::into_error)
    }
}

/// Parts of the request taken as a copy (cheap for the body: `Bytes` is
/// reference-counted); never refused.
macro_rules! cloned_parts {
    ($($ty:ty => $part:ident),* $(,)?) => {
        $(
            impl FromRequestRef for $ty {
                fn from_request_ref(request: &Request) -> Result<Self, Error> {
                    Ok(request.$part().clone())
                }
            }
        )*
    };
}

cloned_parts! {
    HeaderMap => headers,
    Method => method,
    Uri => uri,
}

impl FromRequestRef for Bytes {
    /// The body; 400 when it could not be read.
    fn from_request_ref(request: &Request) -> Result<Self, Error> {
        request.try_body().cloned()
    }
}

impl FromRequestRef for String {
    /// The body as UTF-8 text; 400 otherwise.
    fn from_request_ref(request: &Request) -> Result<Self, Error> {
        request.text().map(str::to_owned)
    }
}

/// Why path parameters did not deserialise.
#[derive(Debug)]
enum PathError {
    /// The client sent a value that does not parse: 400.
    Value {
        name: String,
        value: String,
        reason: String,
    },
    /// The handler asks for something the route does not give: 500.
    Handler(String),
}

impl PathError {
    fn into_error(self) -> Error {
        match self {
            PathError::Value {
                name,
                value,
                reason,
            } => Error::bad_request(format!(
                "path parameter `{name}`: {value:?} is not valid: {reason}"
            )),
            PathError::Handler(message) => Error::internal(format!(
                "the handler's `Path<T>` does not fit the route: {message}"
            )),
        }
    }
}

impl std::fmt::Display for PathError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            PathError::Value { name, reason, .. } => write!(f, "`{name}`: {reason}"),
            PathError::Handler(message) => f.write_str(message),
        }
    }
}

impl std::error::Error for PathError {}

impl de::Error for PathError {
    fn custom<T: std::fmt::Display>(msg: T) -> Self {
        PathError::Handler(msg.to_string())
    }
}

/// All the path parameters: a map, a sequence, or a single value.
struct Params<'a>(&'a [(String, String)]);

impl<'a> Params<'a> {
    fn single(&self) -> Result<Value<'a>, PathError> {
        match self.0 {
            [(name, value)] => Ok(Value { name, value }),
            params => Err(PathError::Handler(format!(
                "it reads one value, but the route has {} parameters; use a tuple or a struct",
                params.len()
            ))),
        }
    }
}

macro_rules! forward_to_single {
    ($($method:ident)*) => {
        $(
            fn $method<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, PathError> {
                self.single()?.$method(visitor)
            }
        )*
    };
}

impl<'de> de::Deserializer<'de> for Params<'de> {
    type Error = PathError;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, PathError> {
        self.deserialize_map(visitor)
    }

    fn deserialize_map<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, PathError> {
        visitor.visit_map(ParamMap {
            params: self.0.iter(),
            value: None,
        })
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, PathError> {
        self.deserialize_map(visitor)
    }

    fn deserialize_seq<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, PathError> {
        visitor.visit_seq(ParamSeq(self.0.iter()))
    }

    fn deserialize_tuple<V: Visitor<'de>>(
        self,
        len: usize,
        visitor: V,
    ) -> Result<V::Value, PathError> {
        if len != self.0.len() {
            return Err(PathError::Handler(format!(
                "it reads a tuple of {len}, but the route has {} parameters",
                self.0.len()
            )));
        }
        self.deserialize_seq(visitor)
    }

    fn deserialize_tuple_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        len: usize,
        visitor: V,
    ) -> Result<V::Value, PathError> {
        self.deserialize_tuple(len, visitor)
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, PathError> {
        visitor.visit_newtype_struct(self)
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        name: &'static str,
        variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, PathError> {
        self.single()?.deserialize_enum(name, variants, visitor)
    }

    fn deserialize_unit_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, PathError> {
        visitor.visit_unit()
    }

    fn deserialize_unit<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, PathError> {
        visitor.visit_unit()
    }

    forward_to_single! {
        deserialize_bool deserialize_i8 deserialize_i16 deserialize_i32 deserialize_i64
        deserialize_i128 deserialize_u8 deserialize_u16 deserialize_u32 deserialize_u64
        deserialize_u128 deserialize_f32 deserialize_f64 deserialize_char deserialize_str
        deserialize_string deserialize_bytes deserialize_byte_buf deserialize_option
        deserialize_identifier deserialize_ignored_any
    }
}

struct ParamMap<'a> {
    params: std::slice::Iter<'a, (String, String)>,
    value: Option<Value<'a>>,
}

impl<'de> de::MapAccess<'de> for ParamMap<'de> {
    type Error = PathError;

    fn next_key_seed<K: de::DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, PathError> {
        let Some((name, value)) = self.params.next() else {
            return Ok(None);
        };
        self.value = Some(Value { name, value });
        let key = de::value::BorrowedStrDeserializer::<PathError>::new(name);
        seed.deserialize(key).map(Some)
    }

    fn next_value_seed<V: de::DeserializeSeed<'de>>(
        &mut self,
        seed: V,
    ) -> Result<V::Value, PathError> {
        let value = self
            .value
            .take()
            .ok_or_else(|| PathError::Handler("a value without a key".into()))?;
        seed.deserialize(value)
    }
}

struct ParamSeq<'a>(std::slice::Iter<'a, (String, String)>);

impl<'de> de::SeqAccess<'de> for ParamSeq<'de> {
    type Error = PathError;

    fn next_element_seed<T: de::DeserializeSeed<'de>>(
        &mut self,
        seed: T,
    ) -> Result<Option<T::Value>, PathError> {
        match self.0.next() {
            Some((name, value)) => seed.deserialize(Value { name, value }).map(Some),
            None => Ok(None),
        }
    }
}

/// One path parameter's value: text, parsed into whatever is asked for.
struct Value<'a> {
    name: &'a str,
    value: &'a str,
}

impl Value<'_> {
    fn parse<T>(&self) -> Result<T, PathError>
    where
        T: std::str::FromStr,
        T::Err: std::fmt::Display,
    {
        self.value.parse().map_err(|e: T::Err| PathError::Value {
            name: self.name.to_owned(),
            value: self.value.to_owned(),
            reason: e.to_string(),
        })
    }

    fn unsupported(&self, what: &str) -> PathError {
        PathError::Handler(format!(
            "path parameter `{}` is one segment and cannot be read as {what}",
            self.name
        ))
    }
}

macro_rules! parse_value {
    ($($method:ident => $visit:ident),* $(,)?) => {
        $(
            fn $method<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, PathError> {
                visitor.$visit(self.parse()?)
            }
        )*
    };
}

impl<'de> de::Deserializer<'de> for Value<'de> {
    type Error = PathError;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, PathError> {
        visitor.visit_borrowed_str(self.value)
    }

    parse_value! {
        deserialize_bool => visit_bool,
        deserialize_i8 => visit_i8,
        deserialize_i16 => visit_i16,
        deserialize_i32 => visit_i32,
        deserialize_i64 => visit_i64,
        deserialize_i128 => visit_i128,
        deserialize_u8 => visit_u8,
        deserialize_u16 => visit_u16,
        deserialize_u32 => visit_u32,
        deserialize_u64 => visit_u64,
        deserialize_u128 => visit_u128,
        deserialize_f32 => visit_f32,
        deserialize_f64 => visit_f64,
        deserialize_char => visit_char,
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, PathError> {
        visitor.visit_some(self)
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, PathError> {
        visitor.visit_newtype_struct(self)
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        name: &'static str,
        variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, PathError> {
        let value = de::value::BorrowedStrDeserializer::<de::value::Error>::new(self.value);
        de::Deserializer::deserialize_enum(value, name, variants, visitor).map_err(|e| {
            PathError::Value {
                name: self.name.to_owned(),
                value: self.value.to_owned(),
                reason: e.to_string(),
            }
        })
    }

    fn deserialize_seq<V: Visitor<'de>>(self, _visitor: V) -> Result<V::Value, PathError> {
        Err(self.unsupported("a sequence"))
    }

    fn deserialize_map<V: Visitor<'de>>(self, _visitor: V) -> Result<V::Value, PathError> {
        Err(self.unsupported("a map"))
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _fields: &'static [&'static str],
        _visitor: V,
    ) -> Result<V::Value, PathError> {
        Err(self.unsupported("a struct"))
    }

    fn deserialize_tuple<V: Visitor<'de>>(
        self,
        _len: usize,
        _visitor: V,
    ) -> Result<V::Value, PathError> {
        Err(self.unsupported("a tuple"))
    }

    fn deserialize_tuple_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _len: usize,
        _visitor: V,
    ) -> Result<V::Value, PathError> {
        Err(self.unsupported("a tuple"))
    }

    serde::forward_to_deserialize_any! {
        str string bytes byte_buf unit unit_struct identifier ignored_any
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::router::PathParams;
    use serde::Deserialize;

    fn with_params(params: &[(&str, &str)]) -> Request {
        let mut req = Request::new(Method::GET, "/");
        req.set_path_params(PathParams(
            params
                .iter()
                .map(|(n, v)| ((*n).to_owned(), (*v).to_owned()))
                .collect(),
        ));
        req
    }

    fn path<T: DeserializeOwned>(params: &[(&str, &str)]) -> Result<T, Error> {
        Path::<T>::from_request_ref(&with_params(params)).map(|Path(t)| t)
    }

    #[derive(Deserialize, Debug, PartialEq)]
    struct Post {
        user: String,
        post: u32,
    }

    #[derive(Deserialize, Debug, PartialEq)]
    #[serde(rename_all = "lowercase")]
    enum Color {
        Red,
        Green,
    }

    #[test]
    fn path_reads_one_value_a_tuple_or_a_struct() {
        assert_eq!(path::<u64>(&[("id", "42")]).unwrap(), 42);
        assert_eq!(path::<String>(&[("id", "a b")]).unwrap(), "a b");
        assert_eq!(path::<Color>(&[("c", "green")]).unwrap(), Color::Green);
        assert_eq!(
            path::<(String, u32)>(&[("user", "ada"), ("post", "3")]).unwrap(),
            ("ada".to_owned(), 3)
        );
        assert_eq!(
            path::<Post>(&[("user", "ada"), ("post", "3")]).unwrap(),
            Post {
                user: "ada".into(),
                post: 3
            }
        );
        let map: std::collections::BTreeMap<String, String> =
            path(&[("a", "1"), ("b", "2")]).unwrap();
        assert_eq!(map.len(), 2);
    }

    #[test]
    fn a_bad_value_is_400_naming_the_parameter() {
        let err = path::<u64>(&[("id", "x")]).err().unwrap();
        assert_eq!(err.status(), StatusCode::BAD_REQUEST);
        assert!(err.message().contains("`id`"), "{}", err.message());
        let err = path::<Post>(&[("user", "ada"), ("post", "-1")])
            .err()
            .unwrap();
        assert_eq!(err.status(), StatusCode::BAD_REQUEST);
        assert!(err.message().contains("`post`"), "{}", err.message());
        let err = path::<Color>(&[("c", "blue")]).err().unwrap();
        assert_eq!(err.status(), StatusCode::BAD_REQUEST);
    }

    #[test]
    fn a_path_that_does_not_fit_the_route_is_500() {
        for err in [
            path::<u64>(&[("a", "1"), ("b", "2")]).err().unwrap(),
            path::<(u64, u64)>(&[("a", "1")]).err().unwrap(),
            path::<Post>(&[("user", "ada")]).err().unwrap(),
            Path::<u64>::from_request_ref(&Request::new(Method::GET, "/"))
                .err()
                .unwrap(),
        ] {
            assert_eq!(err.status(), StatusCode::INTERNAL_SERVER_ERROR, "{err}");
        }
    }

    #[derive(Deserialize, Debug)]
    struct Order {
        #[allow(dead_code)]
        qty: u32,
    }

    #[test]
    fn json_checks_the_content_type_and_names_the_bad_field() {
        let req = |ty: Option<&str>, body: &'static str| {
            let mut b = Request::new(Method::POST, "/");
            if let Some(ty) = ty {
                b = b.with_header("content-type", ty);
            }
            b.with_body(body)
        };
        assert!(Json::<Order>::from_request_ref(&req(None, r#"{"qty":1}"#)).is_ok());
        assert!(
            Json::<Order>::from_request_ref(&req(
                Some("application/json; charset=utf-8"),
                r#"{"qty":1}"#
            ))
            .is_ok()
        );
        assert!(
            Json::<Order>::from_request_ref(&req(
                Some("application/cloudevents+json"),
                r#"{"qty":1}"#
            ))
            .is_ok()
        );
        let err = Json::<Order>::from_request_ref(&req(Some("text/plain"), r#"{"qty":1}"#))
            .err()
            .unwrap();
        assert_eq!(err.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);
        let err = Json::<Order>::from_request_ref(&req(None, r#"{"qty":"two"}"#))
            .err()
            .unwrap();
        assert_eq!(err.status(), StatusCode::BAD_REQUEST);
        assert!(err.message().contains("`qty`"), "{}", err.message());
    }

    #[test]
    fn parts_and_bodies() {
        let req = Request::new(Method::POST, "/x?a=1")
            .with_header("x-k", "v")
            .with_body("hi");
        assert_eq!(HeaderMap::from_request_ref(&req).unwrap()["x-k"], "v");
        assert_eq!(Method::from_request_ref(&req).unwrap(), Method::POST);
        assert_eq!(Uri::from_request_ref(&req).unwrap().path(), "/x");
        assert_eq!(Bytes::from_request_ref(&req).unwrap(), "hi");
        assert_eq!(String::from_request_ref(&req).unwrap(), "hi");
        #[derive(Deserialize)]
        struct Q {
            a: u8,
        }
        assert_eq!(Query::<Q>::from_request_ref(&req).unwrap().0.a, 1);
        let bad = Request::new(Method::POST, "/").with_body(&b"\xff"[..]);
        assert_eq!(
            String::from_request_ref(&bad).err().unwrap().status(),
            StatusCode::BAD_REQUEST
        );
        let owned = <Request as FromRequest<_>>::from_request(req.clone()).unwrap();
        assert_eq!(owned.uri().path(), "/x");
        let as_http = <http::Request<Bytes> as FromRequest<_>>::from_request(req).unwrap();
        assert_eq!(as_http.headers()["x-k"], "v");
    }
}
