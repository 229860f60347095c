//! An event function: events (queue messages, storage notifications, ...)
//! arrive as CloudEvents over HTTP, in binary (`ce-*` headers) or structured
//! (`application/cloudevents+json`) mode. Other event types get a 400.

use fnsdk::{CloudEvent, function};
use serde::Deserialize;

/// The event's data.
#[derive(Debug, Deserialize)]
pub struct OrderPlaced {
    /// The order's id.
    pub order_id: String,
    /// The order's total, in cents.
    pub total_cents: u64,
}

/// Handles `com.example.order.placed`: 204 when accepted, 400 for an empty order.
#[function(event = "com.example.order.placed")]
fn on_order_placed(event: CloudEvent<OrderPlaced>) -> fnsdk::Result<()> {
    let order = &event.data;
    if order.total_cents == 0 {
        return Err(fnsdk::Error::bad_request(format!("order {} is empty", order.order_id)));
    }
    fnsdk::info!("order {} placed: {} cents", order.order_id, order.total_cents);
    Ok(())
}

// The handler is a plain Rust function: test it natively with `cargo test`.
#[cfg(test)]
mod tests {
    use super::*;

    fn event(total_cents: u64) -> CloudEvent<OrderPlaced> {
        let data = OrderPlaced { order_id: "o-1".into(), total_cents };
        CloudEvent::new("com.example.order.placed", "/shop", data)
    }

    #[test]
    fn accepts_an_order() {
        assert!(on_order_placed(event(1250)).is_ok());
    }

    #[test]
    fn refuses_an_empty_order() {
        let err = on_order_placed(event(0)).unwrap_err();
        assert_eq!(err.status(), fnsdk::StatusCode::BAD_REQUEST);
        assert!(err.message().contains("o-1"), "{err}");
    }
}
