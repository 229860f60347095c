//! Routing: one function, several routes.
//!
//! `#[function]` on a function without parameters that returns the
//! [`Router`] serves it; handlers take extractors (see
//! [`extract`](crate::extract)), as in axum.
//!
//! ```
//! use fnsdk::extract::{Json, Path};
//! use fnsdk::router::{Router, get, post};
//! use fnsdk::{StatusCode, function, testing};
//!
//! #[derive(serde::Deserialize)]
//! struct NewOrder { sku: String }
//!
//! fn list() -> &'static str { "all orders" }
//! fn create(Json(order): Json<NewOrder>) -> (StatusCode, String) {
//!     (StatusCode::CREATED, format!("ordered {}", order.sku))
//! }
//! fn show(Path(id): Path<u64>) -> String {
//!     format!("order {id}")
//! }
//!
//! #[function]
//! fn orders() -> Router {
//!     Router::new()
//!         .route("/orders", get(list).post(create))
//!         .route("/orders/{id}", get(show))
//! }
//!
//! let router = orders();
//! assert_eq!(router.handle(testing::get("/orders/7")).body(), "order 7");
//! let created = router.handle(testing::post_json("/orders", &serde_json::json!({"sku": "A-1"})));
//! assert_eq!(created.status(), 201);
//! assert_eq!(router.handle(testing::get("/orders/x")).status(), 400);
//! assert_eq!(router.handle(testing::get("/nowhere")).status(), 404);
//! let refused = router.handle(testing::delete("/orders"));
//! assert_eq!(refused.status(), 405);
//! assert_eq!(refused.headers()["allow"], "GET, HEAD, POST");
//! ```
//!
//! Paths use [`matchit`]'s syntax, as axum does: `{name}` matches one
//! segment, `{*name}` the rest of the path. A request whose path matches no
//! route is answered 404; one whose path matches but whose method does not
//! is answered 405 with an `Allow` header listing what does. `HEAD` runs the
//! `GET` handler when there is no `HEAD` handler, and sends no body.
//! Matched segments are percent-decoded and read with
//! [`Path<T>`](crate::extract::Path),
//! [`RequestExt::path_param`](crate::RequestExt::path_param) or
//! [`RequestExt::param`](crate::RequestExt::param). Handlers may be `async`.
//!
//! A component runs one request per instance, so building the router in
//! the handler costs one small table per request; nothing is shared.

use std::fmt;

use http::{Method, StatusCode};

use crate::handler::Handler;
use crate::{Error, IntoResponse, Request, Response};

type Boxed = Box<dyn Fn(Request) -> Response + Send + Sync>;

fn boxed<A, H: Handler<A>>(handler: H) -> Boxed {
    Box::new(move |req| handler.call(req))
}

/// The handlers of one path, by method: made with [`get`], [`post`], ... and
/// chained (`get(list).post(create)`).
#[must_use = "a MethodRouter does nothing until given to Router::route"]
pub struct MethodRouter {
    handlers: Vec<(Method, Boxed)>,
}

impl fmt::Debug for MethodRouter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list()
            .entries(self.handlers.iter().map(|(m, _)| m))
            .finish()
    }
}

macro_rules! method_functions {
    ($($name:ident => $method:ident),* $(,)?) => {
        $(
            #[doc = concat!("A route answering `", stringify!($method), "` with `handler`.")]
            pub fn $name<A, H: Handler<A>>(handler: H) -> MethodRouter {
                MethodRouter { handlers: Vec::new() }.on(Method::$method, handler)
            }
        )*

        impl MethodRouter {
            $(
                #[doc = concat!("Also answers `", stringify!($method), "` with `handler`.")]
                pub fn $name<A, H: Handler<A>>(self, handler: H) -> MethodRouter {
                    self.on(Method::$method, handler)
                }
            )*
        }
    };
}

method_functions! {
    get => GET,
    post => POST,
    put => PUT,
    patch => PATCH,
    delete => DELETE,
    head => HEAD,
    options => OPTIONS,
}

/// A route answering `method` with `handler`, for methods without a
/// function of their own.
pub fn on<A, H: Handler<A>>(method: Method, handler: H) -> MethodRouter {
    MethodRouter {
        handlers: Vec::new(),
    }
    .on(method, handler)
}

impl MethodRouter {
    /// Also answers `method` with `handler`. Panics if `method` already has
    /// a handler here: two handlers for one route is a programming error.
    #[track_caller]
    pub fn on<A, H: Handler<A>>(mut self, method: Method, handler: H) -> MethodRouter {
        assert!(
            !self.handlers.iter().any(|(m, _)| *m == method),
            "{method} has two handlers on the same route"
        );
        self.handlers.push((method, boxed(handler)));
        self
    }

    /// The methods answered, for `Allow`: the standard ones in alphabetical
    /// order (`HEAD` whenever `GET` is answered), then any others as added.
    /// A fixed order rather than a sort: sorting strings would bring a
    /// sort routine into every function that routes.
    fn allowed(&self) -> String {
        const ORDER: [Method; 7] = [
            Method::DELETE,
            Method::GET,
            Method::HEAD,
            Method::OPTIONS,
            Method::PATCH,
            Method::POST,
            Method::PUT,
        ];
        let answered = |m: &Method| {
            self.find(m).is_some() || (*m == Method::HEAD && self.find(&Method::GET).is_some())
        };
        let standard = ORDER.iter().filter(|m| answered(m));
        let others = self
            .handlers
            .iter()
            .map(|(m, _)| m)
            .filter(|m| !ORDER.contains(m));
        let mut allow = String::new();
        for method in standard.chain(others) {
            if !allow.is_empty() {
                allow.push_str(", ");
            }
            allow.push_str(method.as_str());
        }
        allow
    }

    fn find(&self, method: &Method) -> Option<&Boxed> {
        self.handlers
            .iter()
            .find(|(m, _)| m == method)
            .map(|(_, h)| h)
    }
}

/// The path parameters a [`Router`] matched, percent-decoded, in the order
/// of the pattern ([`Request::path_params`]).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PathParams(pub(crate) Vec<(String, String)>);

impl PathParams {
    /// The value of parameter `name`.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    pub(crate) fn as_slice(&self) -> &[(String, String)] {
        &self.0
    }

    /// Every `(name, value)`, in the order of the pattern.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.0.iter().map(|(n, v)| (n.as_str(), v.as_str()))
    }
}

/// Routes requests to handlers by path and method; see the
/// [module documentation](self).
#[derive(Default)]
pub struct Router {
    table: matchit::Router<usize>,
    routes: Vec<(String, MethodRouter)>,
    fallback: Option<Boxed>,
}

impl fmt::Debug for Router {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map()
            .entries(self.routes.iter().map(|(p, m)| (p, m)))
            .finish()
    }
}

impl Router {
    /// A router without routes (it answers 404 to everything).
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds the route `path` (matchit syntax: `/orders/{id}`,
    /// `/files/{*path}`). Panics, naming both, when `path` is invalid or
    /// conflicts with an earlier route: a router is built from literals, so
    /// that is a programming error, found by the first test that builds it.
    #[track_caller]
    pub fn route(mut self, path: &str, methods: MethodRouter) -> Self {
        let index = self.routes.len();
        if let Err(err) = self.table.insert(path, index) {
            panic!("cannot add the route {path:?}: {err}");
        }
        self.routes.push((path.to_owned(), methods));
        self
    }

    /// Answers requests that match no route with `handler` instead of 404.
    pub fn fallback<A, H: Handler<A>>(mut self, handler: H) -> Self {
        self.fallback = Some(boxed(handler));
        self
    }

    /// Runs the handler of the route `req` matches, with its path
    /// parameters set ([`Request::path_params`]); 404 or 405 otherwise.
    pub fn handle(&self, mut req: Request) -> Response {
        let path = req.path().to_owned();
        let Ok(matched) = self.table.at(&path) else {
            return match &self.fallback {
                Some(fallback) => fallback(req),
                None => Error::not_found(format!("no route for {path}")).into_response(),
            };
        };
        let (_, methods) = &self.routes[*matched.value];
        let mut params = Vec::new();
        for (name, raw) in matched.params.iter() {
            match percent_encoding::percent_decode_str(raw).decode_utf8() {
                Ok(value) => params.push((name.to_owned(), value.into_owned())),
                Err(_) => {
                    return Error::bad_request(format!(
                        "path parameter `{name}` is not valid UTF-8 once percent-decoded"
                    ))
                    .into_response();
                }
            }
        }
        req.set_path_params(PathParams(params));
        let method = req.method().clone();
        if let Some(handler) = methods.find(&method) {
            return handler(req);
        }
        if method == Method::HEAD
            && let Some(get) = methods.find(&Method::GET)
        {
            let mut response = get(req);
            *response.body_mut() = Default::default();
            return response;
        }
        let allow = methods.allowed();
        let response = Error::new(
            StatusCode::METHOD_NOT_ALLOWED,
            format!("{method} is not allowed on {path}; allowed: {allow}"),
        )
        .into_response();
        response.with_header("allow", allow)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::RequestExt;
    use http::header;

    fn req(method: &str, uri: &str) -> Request {
        Request::new(Method::from_bytes(method.as_bytes()).unwrap(), uri)
    }

    fn body(response: &Response) -> &str {
        std::str::from_utf8(response.body()).unwrap()
    }

    fn files() -> Router {
        Router::new()
            .route("/", get(|_: Request| "home"))
            .route(
                "/files/{*path}",
                get(|r: Request| r.param("path").unwrap().to_owned()),
            )
            .route(
                "/users/{id}/posts/{post}",
                get(|r: Request| {
                    let params = r.path_params().unwrap().clone();
                    params
                        .iter()
                        .map(|(n, v)| format!("{n}={v}"))
                        .collect::<Vec<_>>()
                        .join("&")
                })
                .delete(|_: Request| StatusCode::NO_CONTENT),
            )
    }

    #[test]
    fn parameters_are_matched_and_percent_decoded() {
        let router = files();
        assert_eq!(body(&router.handle(req("GET", "/"))), "home");
        assert_eq!(
            body(&router.handle(req("GET", "/users/ada%20l/posts/3?x=1"))),
            "id=ada l&post=3"
        );
        assert_eq!(
            body(&router.handle(req("GET", "/files/a/b%2Fc.txt"))),
            "a/b/c.txt"
        );
        assert_eq!(
            router.handle(req("DELETE", "/users/1/posts/2")).status(),
            204
        );
        let bad = router.handle(req("GET", "/users/%FF/posts/1"));
        assert_eq!(bad.status(), 400);
        assert!(body(&bad).contains("`id`"), "{}", body(&bad));
    }

    #[test]
    fn unknown_paths_are_404_and_wrong_methods_405_with_allow() {
        let router = files();
        let missing = router.handle(req("GET", "/nope"));
        assert_eq!(missing.status(), 404);
        assert!(body(&missing).contains("/nope"), "{}", body(&missing));
        let refused = router.handle(req("POST", "/users/1/posts/2"));
        assert_eq!(refused.status(), 405);
        assert_eq!(refused.headers()[header::ALLOW], "DELETE, GET, HEAD");
        assert!(body(&refused).contains("POST"), "{}", body(&refused));
        let purge = Method::from_bytes(b"PURGE").unwrap();
        let cache = Router::new().route(
            "/c",
            on(purge, |_: Request| "purged")
                .put(|_: Request| "")
                .get(|_: Request| ""),
        );
        let refused = cache.handle(req("POST", "/c"));
        assert_eq!(refused.headers()[header::ALLOW], "GET, HEAD, PUT, PURGE");
        let with_fallback = files().fallback(|_: Request| (StatusCode::IM_A_TEAPOT, "teapot"));
        assert_eq!(with_fallback.handle(req("GET", "/nope")).status(), 418);
    }

    #[test]
    fn head_runs_get_without_a_body() {
        let router = files();
        let head = router.handle(req("HEAD", "/"));
        assert_eq!(head.status(), 200);
        assert!(head.body().is_empty());
        assert_eq!(
            head.headers()[header::CONTENT_TYPE],
            "text/plain; charset=utf-8"
        );
    }

    #[test]
    fn path_params_parse_or_answer_400() {
        let router = Router::new().route(
            "/orders/{id}",
            get(|r: Request| r.path_param::<u32>("id").map(|id| format!("#{id}"))),
        );
        assert_eq!(body(&router.handle(req("GET", "/orders/42"))), "#42");
        let bad = router.handle(req("GET", "/orders/forty-two"));
        assert_eq!(bad.status(), 400);
        assert!(body(&bad).contains("`id`"), "{}", body(&bad));
    }

    #[test]
    #[should_panic(expected = "cannot add the route")]
    fn conflicting_routes_are_refused_when_built() {
        let _ = Router::new()
            .route("/a/{x}", get(|_: Request| ""))
            .route("/a/{y}", get(|_: Request| ""));
    }

    #[test]
    #[should_panic(expected = "two handlers")]
    fn two_handlers_for_one_method_are_refused() {
        let _ = get(|_: Request| "").get(|_: Request| "");
    }
}
