//! # fnsdk
//!
//! Write a serverless function in Rust, compile it to **one WASI 0.2 component**
//! that exports `wasi:http/incoming-handler`, and run that artifact on any host
//! that speaks `wasi:http/proxy`: `wasmtime serve`, Spin, wasmCloud, jco, or
//! `cargo fn serve` locally.
//!
//! ```
//! use fnsdk::{function, Request, RequestExt};
//!
//! #[function]
//! fn hello(req: Request) -> String {
//!     let name = req.query_param("name").unwrap_or_else(|| "world".into());
//!     format!("Hello, {name}!")
//! }
//!
//! // The handler is a plain function: unit-test it natively.
//! assert_eq!(hello(fnsdk::testing::get("/?name=Ferris")), "Hello, Ferris!");
//! ```
//!
//! Events (queue messages, storage notifications, ...) arrive as CloudEvents
//! over HTTP, in binary or structured mode:
//!
//! ```
//! use fnsdk::{function, CloudEvent};
//! use serde::Deserialize;
//!
//! #[derive(Deserialize)]
//! struct UserRegistered { email: String }
//!
//! #[function(event = "com.example.user.registered")]
//! fn welcome(event: CloudEvent<UserRegistered>) -> fnsdk::Result<()> {
//!     fnsdk::info!("welcoming {}", event.data.email);
//!     Ok(())
//! }
//! # let ev = CloudEvent::new("com.example.user.registered", "/users", UserRegistered { email: "a@b.c".into() });
//! # welcome(ev).unwrap();
//! ```
//!
//! Outbound HTTP ([`outbound`]), key-value ([`kv`]), configuration and secrets
//! ([`config`]) and structured logs ([`log`]) work the same inside the
//! component and in native tests, where [`testing`] provides in-memory
//! backends and an outbound-HTTP mock. A component imports only the
//! capabilities it actually calls.
#![deny(missing_docs)]

mod error;
mod event;
mod glue;
mod json;
#[cfg(any(test, all(target_arch = "wasm32", feature = "small-alloc")))]
mod malloc;
mod request;
mod request_type;
mod response;
mod response_type;

pub mod config;
pub mod extract;
pub mod handler;
pub mod kv;
pub mod log;
pub mod outbound;
pub mod random;
pub mod router;
pub mod task;
#[cfg(not(target_arch = "wasm32"))]
pub mod testing;
pub mod trace;

#[cfg(target_arch = "wasm32")]
mod wasm;

#[doc(hidden)]
pub mod __private;

pub use bytes::{self, Bytes};
pub use error::{Error, IntoError, Result};
pub use event::{CloudEvent, EventError};
pub use fnsdk_macros::function;
pub use http::{self, StatusCode};
pub use request::RequestExt;
pub use request_type::Request;
pub use response::{IntoResponse, Json, error, json, redirect, text};

pub use response_type::{Builder as ResponseBuilder, Response};

/// Response helpers, also available at the crate root.
pub mod response_helpers {
    pub use crate::response::{error, json, redirect, redirect_with, status, text};
}
