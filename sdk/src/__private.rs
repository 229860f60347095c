//! Support code for `#[function]`'s expansion. Not a public API.

pub use crate::glue::{RawRequest, RawScheme, assemble as assemble_request};
pub use crate::handler::Respond;
pub use crate::task::block_on;
pub use crate::{CloudEvent, IntoResponse, Request, Response};

#[cfg(target_arch = "wasm32")]
pub use crate::__fnsdk_export as export;
#[cfg(target_arch = "wasm32")]
pub use crate::wasm::{bindings, serve};

use crate::{Error, IntoError, StatusCode, response};
use serde::de::DeserializeOwned;

/// Implemented by the type `#[function]` generates for the export.
pub trait Export {
    /// Handles one request.
    fn handle(request: Request) -> Response;
}

/// Turns an HTTP handler's return value into the response.
pub fn respond_http<R: IntoResponse>(result: R) -> Response {
    result.into_response()
}

/// What an event handler may return: `Result<(), E>`.
#[diagnostic::on_unimplemented(
    message = "an event handler must return `Result<(), E>`, not `{Self}`",
    label = "return `Ok(())` when the event is handled, `Err(..)` to have the provider retry it",
    note = "`E` is `fnsdk::Error` or any other error (`std::error::Error`, `anyhow::Error`, `Box<dyn Error>`): see `fnsdk::IntoError`"
)]
pub trait EventOutcome {
    /// Converts into the SDK's result.
    fn into_outcome(self) -> Result<(), Error>;
}

impl<E: IntoError> EventOutcome for Result<(), E> {
    fn into_outcome(self) -> Result<(), Error> {
        self.map_err(IntoError::into_error)
    }
}

/// Runs an event handler: parses the CloudEvent, applies the type filter,
/// and maps the outcome to a status: 204; the handler's 4xx (the event is
/// refused, providers do not retry); the handler's 5xx, such as 503 for a
/// dependency that is down (providers retry); 500 for any other error.
pub fn handle_event<T, R>(
    request: Request,
    filter: Option<&'static str>,
    handler: impl FnOnce(CloudEvent<T>) -> R,
) -> Response
where
    T: DeserializeOwned,
    R: EventOutcome,
{
    let event = match CloudEvent::<T>::from_request(&request) {
        Ok(event) => event,
        Err(e) => {
            crate::log::warn(&format!("rejected event: {e}"));
            return response::error(StatusCode::BAD_REQUEST, &e.to_string());
        }
    };
    if let Some(expected) = filter
        && event.ty != expected
    {
        let msg = format!(
            "this function accepts events of type {expected:?}, not {:?}",
            event.ty
        );
        crate::log::warn(&format!("rejected event {}: {msg}", event.id));
        return response::error(StatusCode::BAD_REQUEST, &msg);
    }
    let id = event.id.clone();
    match handler(event).into_outcome() {
        Ok(()) => response::status(StatusCode::NO_CONTENT),
        Err(e) => {
            let status = e.status();
            let status = if status.is_client_error() || status.is_server_error() {
                status
            } else {
                StatusCode::INTERNAL_SERVER_ERROR
            };
            let message = format!("event {id} failed: {}", e.log_message());
            if status.is_client_error() {
                crate::log::warn(&message);
            } else {
                crate::log::error(&message);
            }
            response::error(status, e.with_status(status).public_message())
        }
    }
}

/// Exports `$ty` (an [`Export`]) as `wasi:http/incoming-handler`.
#[cfg(target_arch = "wasm32")]
#[doc(hidden)]
#[macro_export]
macro_rules! __fnsdk_export {
    ($ty:ident) => {
        impl $crate::__private::bindings::exports::wasi::http::incoming_handler::Guest for $ty {
            fn handle(
                request: $crate::__private::bindings::wasi::http::types::IncomingRequest,
                response_out: $crate::__private::bindings::wasi::http::types::ResponseOutparam,
            ) {
                $crate::__private::serve::<$ty>(request, response_out)
            }
        }
        $crate::__private::bindings::__fnsdk_world_export!($ty with_types_in $crate::__private::bindings);
    };
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Deserialize, serde::Serialize)]
    struct Ping {
        n: u32,
    }

    fn ping(n: u32, ty: &str) -> Request {
        CloudEvent::new(ty, "/test", Ping { n })
            .to_binary_request()
            .unwrap()
    }

    fn run(req: Request) -> Response {
        handle_event(req, Some("ping"), |ev: CloudEvent<Ping>| {
            if ev.data.n == 0 {
                Err(Error::internal("zero"))
            } else if ev.data.n == 7 {
                Err(Error::new(StatusCode::SERVICE_UNAVAILABLE, "down"))
            } else if ev.data.n == 8 {
                Err(Error::new(StatusCode::FOUND, "not an error status"))
            } else if ev.data.n > 100 {
                Err(Error::bad_request("too big"))
            } else {
                Ok(())
            }
        })
    }

    #[test]
    fn event_outcomes_map_to_statuses() {
        assert_eq!(run(ping(1, "ping")).status(), StatusCode::NO_CONTENT);
        assert_eq!(
            run(ping(0, "ping")).status(),
            StatusCode::INTERNAL_SERVER_ERROR
        );
        assert_eq!(run(ping(101, "ping")).status(), StatusCode::BAD_REQUEST);
        // A handler's own 5xx is kept (503: retry later); a non-error
        // status on an error becomes 500.
        assert_eq!(
            run(ping(7, "ping")).status(),
            StatusCode::SERVICE_UNAVAILABLE
        );
        assert_eq!(
            run(ping(8, "ping")).status(),
            StatusCode::INTERNAL_SERVER_ERROR
        );
        let wrong = run(ping(1, "pong"));
        assert_eq!(wrong.status(), StatusCode::BAD_REQUEST);
        assert!(
            std::str::from_utf8(wrong.body())
                .unwrap()
                .contains("accepts events of type")
        );
        let not_event = run(Request::new(http::Method::POST, "/"));
        assert_eq!(not_event.status(), StatusCode::BAD_REQUEST);
    }
}
