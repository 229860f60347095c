//! `azure` mode: an Azure Functions custom handler.
//!
//! The Functions host starts the runner with `FUNCTIONS_CUSTOMHANDLER_PORT`
//! set and talks to it on loopback:
//!
//! - HTTP triggers are forwarded as they came (`host.json` sets
//!   `enableForwardingHttpRequest`), path and all: they go straight to the
//!   function, and its response goes straight back;
//! - every other trigger is a POST to `/<function name>` whose JSON body is
//!   the invocation payload `{"Data": {...}, "Metadata": {...}}`; the
//!   function gets it as a CloudEvent (mapping below) on the trigger's
//!   route, and the host gets `{"Outputs": {}, "Logs": [...],
//!   "ReturnValue": null}`: 200 when the function answered 2xx, 500
//!   otherwise (so the host retries a queue message, then poisons it).
//!
//! CloudEvent attributes:
//!
//! | trigger | id | source | type | time | data |
//! |---|---|---|---|---|---|
//! | timer | `Metadata.sys.RandGuid` | `/azure/functions/<name>` | `dev.cargo-fn.schedule` | `Metadata.sys.UtcNow` | the timer object |
//! | queue | `Metadata.Id` | `/azure/queues/<queue>` | `dev.cargo-fn.queue.message` | `Metadata.InsertionTime` | the message (JSON, or a string) |
//!
//! A queue message that is itself a structured-mode CloudEvent is delivered
//! as it is.

use std::net::SocketAddr;
use std::sync::Arc;

use anyhow::Context as _;
use bytes::Bytes;
use fn_runtime::bundle::EventTrigger;
use fn_runtime::server::{self, FunctionHandler, Handler, Response};
use http::StatusCode;
use http_body_util::{BodyExt as _, Full, Limited};
use hyper::body::Incoming;
use serde_json::{Value, json};
use tokio::net::TcpListener;

use crate::Args;
use crate::cloudevent::{self, CloudEvent, QUEUE_TYPE, SCHEDULE_TYPE};

/// Serves the custom-handler protocol until SIGTERM or Ctrl-C.
pub async fn run(args: &Args) -> anyhow::Result<()> {
    let loaded = crate::start::load(args.bundle.as_ref(), args.max_instances)?;
    let addr = match args.addr {
        Some(addr) => addr,
        None => {
            let port = std::env::var("FUNCTIONS_CUSTOMHANDLER_PORT")
                .context("FUNCTIONS_CUSTOMHANDLER_PORT is not set (the Functions host sets it); pass --addr to run by hand")?;
            let port: u16 = port.parse().with_context(|| {
                format!("FUNCTIONS_CUSTOMHANDLER_PORT = {port:?} is not a port number")
            })?;
            SocketAddr::from(([127, 0, 0, 1], port))
        }
    };
    let listener = TcpListener::bind(addr)
        .await
        .with_context(|| format!("cannot listen on {addr}"))?;
    eprintln!(
        "fn-runner: Azure custom handler on http://{}",
        listener.local_addr()?
    );
    let handler = AzureHandler {
        inner: crate::start::handler(loaded.function, &loaded.manifest, args)?,
        triggers: Arc::new(loaded.manifest.events),
    };
    server::serve(listener, handler, server::shutdown_signal()).await;
    Ok(())
}

/// Forwards HTTP, turns invocations of event triggers into CloudEvents.
#[derive(Clone)]
struct AzureHandler {
    inner: FunctionHandler,
    triggers: Arc<Vec<EventTrigger>>,
}

impl Handler for AzureHandler {
    async fn handle(self, request: http::Request<Incoming>) -> Response {
        let trigger = (request.method() == http::Method::POST)
            .then(|| request.uri().path().trim_start_matches('/'))
            .and_then(|name| self.triggers.iter().find(|t| t.name == name))
            .cloned();
        match trigger {
            Some(trigger) => self.invoke(trigger, request).await,
            None => self.inner.handle(request).await,
        }
    }
}

impl AzureHandler {
    async fn invoke(&self, trigger: EventTrigger, request: http::Request<Incoming>) -> Response {
        let function = self.inner.function();
        let limit = function.limits().max_request_body;
        let body = match Limited::new(request.into_body(), limit).collect().await {
            Ok(body) => body.to_bytes(),
            Err(err) => {
                let status = if err.is::<http_body_util::LengthLimitError>() {
                    StatusCode::PAYLOAD_TOO_LARGE
                } else {
                    StatusCode::BAD_REQUEST
                };
                return reply(status, &[format!("cannot read the invocation: {err}")]);
            }
        };
        let payload: Value = match serde_json::from_slice(&body) {
            Ok(payload) => payload,
            Err(err) => {
                return reply(
                    StatusCode::BAD_REQUEST,
                    &[format!("the invocation payload is not JSON: {err}")],
                );
            }
        };
        let event = to_cloudevent(&trigger, &payload);
        let route = cloudevent::event_route(&trigger.route);
        let label = format!("/{} (as {route})", trigger.name);
        let result = self
            .inner
            .call_as(&label, cloudevent::request(&route, &event))
            .await;
        let mut logs: Vec<String> = [&result.logs.stdout, &result.logs.stderr]
            .iter()
            .flat_map(|bytes| {
                String::from_utf8_lossy(bytes)
                    .lines()
                    .map(str::to_owned)
                    .collect::<Vec<_>>()
            })
            .collect();
        let status = result.status();
        if let Some(error) = &result.error {
            logs.push(format!("error: {error}"));
        }
        if status.is_success() {
            reply(StatusCode::OK, &logs)
        } else {
            logs.push(format!(
                "the function answered {status}: {}",
                String::from_utf8_lossy(result.response.body())
            ));
            reply(StatusCode::INTERNAL_SERVER_ERROR, &logs)
        }
    }
}

/// The custom handler's answer to an invocation.
fn reply(status: StatusCode, logs: &[String]) -> Response {
    let body = json!({ "Outputs": {}, "Logs": logs, "ReturnValue": null });
    http::Response::builder()
        .status(status)
        .header(http::header::CONTENT_TYPE, "application/json")
        .body(Full::new(Bytes::from(body.to_string())))
        .expect("a response with valid headers")
}

/// The CloudEvent of an invocation of `trigger` (see the module docs).
pub fn to_cloudevent(trigger: &EventTrigger, payload: &Value) -> Value {
    let metadata = &payload["Metadata"];
    let sys = &metadata["sys"];
    // The one binding of the trigger, whatever its name.
    let data = payload["Data"]
        .as_object()
        .and_then(|data| data.values().next())
        .cloned()
        .unwrap_or(Value::Null);
    let text = |v: &Value| match v {
        Value::String(s) => Some(s.trim_matches('"').to_owned()),
        Value::Null => None,
        other => Some(other.to_string()),
    };
    if trigger.kind == "queue" {
        let message = match &data {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        };
        if let Some(event) = cloudevent::embedded_cloudevent(&message) {
            return event;
        }
        return CloudEvent {
            id: text(&metadata["Id"]).unwrap_or_else(cloudevent::fresh_id),
            source: format!("/azure/queues/{}", trigger.source),
            ty: QUEUE_TYPE.to_owned(),
            time: text(&metadata["InsertionTime"]),
            subject: None,
            data: serde_json::from_str(&message).unwrap_or(Value::String(message)),
        }
        .to_json();
    }
    CloudEvent {
        id: text(&sys["RandGuid"]).unwrap_or_else(cloudevent::fresh_id),
        source: format!("/azure/functions/{}", trigger.name),
        ty: SCHEDULE_TYPE.to_owned(),
        time: text(&sys["UtcNow"]),
        subject: None,
        data,
    }
    .to_json()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn trigger(kind: &str) -> EventTrigger {
        EventTrigger {
            name: "orders".into(),
            kind: kind.into(),
            source: "orders-queue".into(),
            route: "/...".into(),
        }
    }

    #[test]
    fn timer_invocations_become_schedule_events() {
        let payload = json!({
            "Data": {"timer": {"Schedule": {"AdjustForDST": true}, "IsPastDue": false}},
            "Metadata": {"sys": {"MethodName": "tick", "UtcNow": "2026-12-03T10:00:00.123Z", "RandGuid": "0f8fad5b"}}
        });
        let event = to_cloudevent(&trigger("schedule"), &payload);
        assert_eq!(event["type"], SCHEDULE_TYPE);
        assert_eq!(event["id"], "0f8fad5b");
        assert_eq!(event["time"], "2026-12-03T10:00:00.123Z");
        assert_eq!(event["source"], "/azure/functions/orders");
        assert_eq!(event["data"]["IsPastDue"], false);
    }

    #[test]
    fn queue_messages_are_wrapped_unless_they_are_cloudevents() {
        let payload = json!({
            "Data": {"msg": "{\"order\": 7}"},
            "Metadata": {"Id": "\"abc\"", "InsertionTime": "2026-12-03T10:00:00+00:00", "DequeueCount": 1}
        });
        let event = to_cloudevent(&trigger("queue"), &payload);
        assert_eq!(event["type"], QUEUE_TYPE);
        assert_eq!(event["id"], "abc");
        assert_eq!(event["source"], "/azure/queues/orders-queue");
        assert_eq!(event["data"]["order"], 7);

        let inner = json!({"specversion": "1.0", "id": "e1", "source": "/shop", "type": "com.example.order"});
        let payload = json!({"Data": {"msg": inner.to_string()}, "Metadata": {}});
        assert_eq!(to_cloudevent(&trigger("queue"), &payload), inner);

        let payload = json!({"Data": {"msg": "hello"}, "Metadata": {}});
        let event = to_cloudevent(&trigger("queue"), &payload);
        assert_eq!(event["data"], "hello");
        assert!(!event["id"].as_str().unwrap().is_empty());
    }
}
