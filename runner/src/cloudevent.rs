//! Non-HTTP triggers (queues, schedules, storage notifications) reach the
//! function as CloudEvents 1.0 in structured mode
//! (`application/cloudevents+json`), POSTed to the trigger's route.
//!
//! A message whose body already is a structured CloudEvent (it has a
//! `specversion`) is passed on as it is: producers that speak CloudEvents
//! keep their ids, types and sources. Anything else is wrapped, and its
//! attributes come from the trigger: see each mode's mapping.

use std::sync::atomic::{AtomicU64, Ordering};

use bytes::Bytes;
use serde_json::{Map, Value, json};

/// The type of a schedule tick, whichever cloud's scheduler fired it.
pub const SCHEDULE_TYPE: &str = "dev.cargo-fn.schedule";

/// The type of a queue message that is not a CloudEvent itself, whichever
/// cloud's queue it came from.
pub const QUEUE_TYPE: &str = "dev.cargo-fn.queue.message";

/// A CloudEvent to deliver.
#[derive(Debug, Clone, PartialEq)]
pub struct CloudEvent {
    /// `id`: unique per event of a source.
    pub id: String,
    /// `source`: a URI reference naming where it comes from.
    pub source: String,
    /// `type`.
    pub ty: String,
    /// `time`, RFC 3339, when known.
    pub time: Option<String>,
    /// `subject`, when the source has one (an object key, say).
    pub subject: Option<String>,
    /// `data`, as JSON.
    pub data: Value,
}

impl CloudEvent {
    /// The event in structured mode.
    pub fn to_json(&self) -> Value {
        let mut event = Map::new();
        event.insert("specversion".into(), json!("1.0"));
        event.insert("id".into(), json!(self.id));
        event.insert("source".into(), json!(self.source));
        event.insert("type".into(), json!(self.ty));
        if let Some(time) = &self.time {
            event.insert("time".into(), json!(time));
        }
        if let Some(subject) = &self.subject {
            event.insert("subject".into(), json!(subject));
        }
        event.insert("datacontenttype".into(), json!("application/json"));
        event.insert("data".into(), self.data.clone());
        Value::Object(event)
    }
}

/// Whether `value` is a structured-mode CloudEvent already.
pub fn is_cloudevent(value: &Value) -> bool {
    value.get("specversion").is_some_and(Value::is_string)
}

/// A string message that holds a CloudEvent in structured mode, parsed.
pub fn embedded_cloudevent(message: &str) -> Option<Value> {
    serde_json::from_str::<Value>(message)
        .ok()
        .filter(is_cloudevent)
}

/// A POST of `event` (a structured-mode CloudEvent) to `route`.
pub fn request(route: &str, event: &Value) -> http::Request<Bytes> {
    let body = Bytes::from(serde_json::to_vec(event).expect("JSON values serialize"));
    http::Request::post(route)
        .header(http::header::CONTENT_TYPE, "application/cloudevents+json")
        .header(http::header::CONTENT_LENGTH, body.len())
        .body(body)
        .expect("a POST with valid headers")
}

pub use fn_runtime::bundle::event_route;

/// An id for an event whose trigger gave none: unique within the process.
pub fn fresh_id() -> String {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    format!(
        "{}-{}-{}",
        std::process::id(),
        now.as_nanos(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn structured_mode_has_the_required_attributes() {
        let event = CloudEvent {
            id: "1".into(),
            source: "/azure/queues/orders".into(),
            ty: "dev.cargo-fn.queue.message".into(),
            time: Some("2026-12-03T10:00:00Z".into()),
            subject: None,
            data: json!({"a": 1}),
        }
        .to_json();
        assert_eq!(event["specversion"], "1.0");
        assert_eq!(event["type"], "dev.cargo-fn.queue.message");
        assert_eq!(event["data"]["a"], 1);
        assert!(event.get("subject").is_none());
        assert!(is_cloudevent(&event));
        let req = request("/events", &event);
        assert_eq!(
            req.headers()[http::header::CONTENT_TYPE],
            "application/cloudevents+json"
        );
    }

    #[test]
    fn messages_that_are_cloudevents_are_recognised() {
        assert!(
            embedded_cloudevent(r#"{"specversion":"1.0","id":"x","source":"/s","type":"t"}"#)
                .is_some()
        );
        assert!(embedded_cloudevent(r#"{"id":"x"}"#).is_none());
        assert!(embedded_cloudevent("plain text").is_none());
    }

    #[test]
    fn event_routes_drop_the_wildcard() {
        assert_eq!(event_route("/..."), "/");
        assert_eq!(event_route("/orders/..."), "/orders");
        assert_eq!(event_route("/hook"), "/hook");
    }
}
