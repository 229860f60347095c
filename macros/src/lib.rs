//! The `#[function]` attribute of [fnsdk](https://docs.rs/fnsdk).
//!
//! Use it through its re-export, `fnsdk::function`; this crate is an
//! implementation detail of `fnsdk` and the code it generates refers to `::fnsdk`.
//!
//! `#[function]` marks the one handler of a function crate. It checks the handler's
//! signature, leaves the function itself untouched (so native unit tests can call
//! it directly) and, when compiling for `wasm32`, exports it as the component's
//! `wasi:http/incoming-handler`. Two shapes are accepted:
//!
//! - **HTTP**: one parameter of type `fnsdk::Request`, returning anything that
//!   implements `fnsdk::IntoResponse`;
//! - **events**: one parameter of type `fnsdk::CloudEvent<T>`, returning
//!   `Result<(), E>`. `#[function(event = "com.example.type")]` refuses events of
//!   any other type with a 400.
//!
//! Mistakes (an `async fn`, a second parameter, a missing return type on an event
//! handler, ...) are reported at the offending tokens, with what to write instead.
//!
//! ```
//! use fnsdk::{Request, function};
//!
//! #[function]
//! fn hello(_req: Request) -> &'static str {
//!     "hello"
//! }
//!
//! # fn main() {
//! // Natively the handler is an ordinary function.
//! assert_eq!(hello(Request::default()), "hello");
//! # }
//! ```
#![deny(missing_docs)]

mod expand;
mod parse;
mod validate;

use proc_macro::TokenStream;

/// Exports a function as the component's HTTP or CloudEvents handler.
///
/// An HTTP handler takes the request and returns anything that implements
/// `fnsdk::IntoResponse`:
///
/// ```
/// use fnsdk::{Request, function};
///
/// #[function]
/// fn greet(req: Request) -> String {
///     format!("hello from {}", req.uri().path())
/// }
/// # fn main() {}
/// ```
///
/// An event handler takes a `CloudEvent<T>`, where `T` is the deserialized event
/// data, and returns `Result<(), E>`: `Ok` answers 204, `Err` answers 500 so the
/// sender retries. `event = "..."` accepts only events of that `type`:
///
/// ```
/// use fnsdk::{CloudEvent, function};
///
/// #[derive(serde::Deserialize)]
/// struct Registered {
///     email: String,
/// }
///
/// #[function(event = "com.example.user.registered")]
/// fn welcome(event: CloudEvent<Registered>) -> Result<(), fnsdk::Error> {
///     let _ = event.data.email;
///     Ok(())
/// }
/// # fn main() {}
/// ```
///
/// The handler must be a free, synchronous, non-generic `fn` with exactly one
/// parameter, and a crate has exactly one handler.
#[proc_macro_attribute]
pub fn function(attr: TokenStream, item: TokenStream) -> TokenStream {
    let item = proc_macro2::TokenStream::from(item);
    expand::function(attr.into(), item.clone())
        .unwrap_or_else(|error| {
            let mut tokens = error.into_compile_error();
            tokens.extend(expand::fallback(item));
            tokens
        })
        .into()
}
