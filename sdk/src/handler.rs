//! Handlers as values: what [`Router`](crate::router::Router) routes to and
//! [`testing::call`](crate::testing) runs.
//!
//! Any `fn` or closure, sync or `async`, whose parameters are extractors
//! (see [`extract`](crate::extract)) and whose result is an
//! [`IntoResponse`] is a [`Handler`]: the parameters are taken from the
//! request in order, a refused one answers at once with its error, and the
//! result becomes the response.

use std::future::Future;

use crate::extract::{FromRequest, FromRequestRef};
use crate::{IntoResponse, Request, Response};

/// A function that answers a request; implemented for every `fn` and
/// closure whose parameters are extractors and whose result is an
/// [`IntoResponse`] (or a future of one).
///
/// `Args` only tells the implementations apart; it is inferred.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a handler",
    label = "its parameters must be extractors and its result must implement `IntoResponse`",
    note = "a handler takes extractors (`Json<T>`, `Query<T>`, `Path<T>`, `HeaderMap`, ..., and `Request` last) and returns an `IntoResponse` (or is `async` and does)",
    note = "a closure needs its parameter types written out: `|req: Request| ...`"
)]
pub trait Handler<Args>: Send + Sync + 'static {
    /// Answers `request`.
    fn call(&self, request: Request) -> Response;
}

#[doc(hidden)]
pub mod private {
    /// Marks handlers that return their response.
    pub enum Sync {}
    /// Marks handlers that return a future of it.
    pub enum Async {}
}

/// Takes a parameter or answers with its error.
macro_rules! extract {
    ($ty:ident, ref $request:ident) => {
        match <$ty as FromRequestRef>::from_request_ref(&$request) {
            Ok(value) => value,
            Err(e) => return e.into_response(),
        }
    };
    ($ty:ident, owned $request:ident) => {
        match <$ty as FromRequest<_>>::from_request($request) {
            Ok(value) => value,
            Err(e) => return e.into_response(),
        }
    };
}

impl<F, R> Handler<(private::Sync,)> for F
where
    F: Fn() -> R + Send + Sync + 'static,
    R: IntoResponse,
{
    fn call(&self, _request: Request) -> Response {
        self().into_response()
    }
}

impl<F, Fut> Handler<(private::Async,)> for F
where
    F: Fn() -> Fut + Send + Sync + 'static,
    Fut: Future,
    Fut::Output: IntoResponse,
{
    fn call(&self, _request: Request) -> Response {
        crate::task::block_on(self()).into_response()
    }
}

macro_rules! handlers {
    ($($ty:ident),* ; $last:ident) => {
        #[allow(non_snake_case)]
        impl<F, R, M, $($ty,)* $last> Handler<(private::Sync, M, $($ty,)* $last,)> for F
        where
            F: Fn($($ty,)* $last) -> R + Send + Sync + 'static,
            R: IntoResponse,
            $($ty: FromRequestRef,)*
            $last: FromRequest<M>,
        {
            fn call(&self, request: Request) -> Response {
                $(let $ty = extract!($ty, ref request);)*
                let $last = extract!($last, owned request);
                self($($ty,)* $last).into_response()
            }
        }

        #[allow(non_snake_case)]
        impl<F, Fut, M, $($ty,)* $last> Handler<(private::Async, M, $($ty,)* $last,)> for F
        where
            F: Fn($($ty,)* $last) -> Fut + Send + Sync + 'static,
            Fut: Future,
            Fut::Output: IntoResponse,
            $($ty: FromRequestRef,)*
            $last: FromRequest<M>,
        {
            fn call(&self, request: Request) -> Response {
                $(let $ty = extract!($ty, ref request);)*
                let $last = extract!($last, owned request);
                crate::task::block_on(self($($ty,)* $last)).into_response()
            }
        }
    };
}

handlers!(; T1);
handlers!(T1; T2);
handlers!(T1, T2; T3);
handlers!(T1, T2, T3; T4);
handlers!(T1, T2, T3, T4; T5);
handlers!(T1, T2, T3, T4, T5; T6);
handlers!(T1, T2, T3, T4, T5, T6; T7);
handlers!(T1, T2, T3, T4, T5, T6, T7; T8);

/// Runs `handler` on `request` (extraction included) and returns its
/// response.
pub fn call<A, H: Handler<A>>(handler: H, request: Request) -> Response {
    handler.call(request)
}

/// What a zero-parameter `#[function]` returns: a response (it answers
/// every request the same way) or a [`Router`](crate::router::Router),
/// which routes the request.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot answer a request",
    label = "a handler without parameters returns an `IntoResponse` or a `Router`",
    note = "return a `fnsdk::router::Router` to route, or any `IntoResponse` (`String`, `Json<T>`, `StatusCode`, `Result<R, E>`, ...)"
)]
pub trait Respond {
    /// Answers `request` with `self`.
    fn respond(self, request: Request) -> Response;
}

impl<R: IntoResponse> Respond for R {
    fn respond(self, _request: Request) -> Response {
        self.into_response()
    }
}

impl Respond for crate::router::Router {
    fn respond(self, request: Request) -> Response {
        self.handle(request)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::extract::{Json, Path, Query};
    use crate::{Bytes, StatusCode};
    use http::{HeaderMap, Method};
    use serde::Deserialize;

    #[derive(Deserialize)]
    struct Q {
        n: u32,
    }

    fn req(uri: &str, body: &'static str) -> Request {
        Request::new(Method::POST, uri).with_body(body)
    }

    fn text(r: &Response) -> &str {
        std::str::from_utf8(r.body()).unwrap()
    }

    #[test]
    fn several_extractors_in_any_order_and_request_last() {
        fn h(Query(q): Query<Q>, m: Method, Json(v): Json<Vec<u8>>, r: Request) -> String {
            format!("{} {m} {v:?} {}", q.n, r.uri().path())
        }
        assert_eq!(text(&call(h, req("/p?n=3", "[1,2]"))), "3 POST [1, 2] /p");
        fn none() -> &'static str {
            "constant"
        }
        assert_eq!(text(&call(none, req("/", ""))), "constant");
        let closure = |h: HeaderMap, body: Bytes| format!("{} {}", h.len(), body.len());
        assert_eq!(text(&call(closure, req("/", "abc"))), "0 3");
    }

    #[test]
    fn a_refused_parameter_answers_before_the_handler_runs() {
        fn h(Query(_): Query<Q>, Json(_): Json<Vec<u8>>) -> &'static str {
            panic!("must not run")
        }
        let r = call(h, req("/?n=x", "[]"));
        assert_eq!(r.status(), StatusCode::BAD_REQUEST);
        assert!(text(&r).contains("query"), "{}", text(&r));
        let r = call(h, req("/?n=1", r#"[1, "two"]"#));
        assert_eq!(r.status(), StatusCode::BAD_REQUEST);
        assert!(text(&r).contains("[1]"), "{}", text(&r));
        fn p(Path(id): Path<u32>) -> String {
            id.to_string()
        }
        // No router: the handler asks for something nothing filled in.
        assert_eq!(call(p, req("/", "")).status(), 500);
    }

    #[test]
    fn async_handlers_run_to_completion() {
        async fn h(Query(q): Query<Q>) -> String {
            let twice = async { q.n * 2 }.await;
            twice.to_string()
        }
        assert_eq!(text(&call(h, req("/?n=21", ""))), "42");
        async fn none() -> StatusCode {
            StatusCode::ACCEPTED
        }
        assert_eq!(call(none, req("/", "")).status(), 202);
    }
}
