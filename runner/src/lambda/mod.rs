//! `lambda` mode: an AWS Lambda custom runtime (`bootstrap`), the Runtime
//! API loop of the `lambda_runtime` crate.
//!
//! Lambda hands the runtime one JSON payload per invocation, one at a time
//! per sandbox. HTTP events (API Gateway REST and HTTP APIs, Function URLs,
//! Application Load Balancers) become the function's requests and its
//! response goes back in the shape that origin expects: see
//! [`http_event`]. Every other event reaches the function as CloudEvents
//! 1.0 in structured mode, POSTed to the route of the manifest's first
//! event trigger (`/` when it has none):
//!
//! | event | id | source | type | time | subject | data |
//! |---|---|---|---|---|---|---|
//! | SQS, each message | `messageId` | `eventSourceARN` | `dev.cargo-fn.queue.message` | `attributes.SentTimestamp` as RFC 3339 | | `body` (JSON, or a string) |
//! | SNS, each record | `Sns.MessageId` | `Sns.TopicArn` | `dev.cargo-fn.topic.message` | `Sns.Timestamp` | `Sns.Subject` | `Sns.Message` (JSON, or a string) |
//! | EventBridge schedule (`source` `aws.events`, `detail-type` `Scheduled Event`) | `id` | `aws.events` | `dev.cargo-fn.schedule` | `time` | | `detail` |
//! | EventBridge, any other event | `id` | `source` | `detail-type` | `time` | | `detail` |
//! | S3 notification, each record | `responseElements.x-amz-request-id` `.` `s3.object.sequencer` | `s3.bucket.arn` (`arn:aws:s3:::<bucket>`) | `com.amazonaws.s3.<eventName>` (`com.amazonaws.s3.ObjectCreated:Put`) | `eventTime` | the object key, URL-decoded | the whole record |
//!
//! An SQS or SNS message whose body is itself a structured-mode CloudEvent
//! is delivered as it is.
//!
//! What Lambda gets back:
//!
//! - SQS: a partial batch response, `{"batchItemFailures": [{"itemIdentifier":
//!   <messageId>}]}` naming each message the function did not answer 2xx,
//!   so only those are retried (the event source mapping needs
//!   `FunctionResponseTypes: ["ReportBatchItemFailures"]`); when every
//!   message of the batch failed, an invocation error instead, which
//!   retries the whole batch with or without that setting;
//! - other events: `null` when the function answered 2xx to every event,
//!   else an invocation error (`Function.ErrorStatus`), so Lambda retries
//!   and then sends the event to its dead-letter queue or failure
//!   destination;
//! - an event over the function's body limit: 413 for HTTP events, an
//!   invocation error (`Function.EventTooLarge`) for the others;
//! - a payload of no known shape: an invocation error
//!   (`Runtime.UnknownEvent`) saying what the runner recognises.
//!
//! A start-up failure (no bundle, a digest or signature that does not check
//! out, configuration the runner cannot honour) is reported to
//! `/runtime/init/error` as `Runtime.InitError` before the runner exits
//! non-zero, so the Lambda console and logs show why.

pub mod events;
pub mod http_event;

use std::sync::Arc;

use anyhow::Context as _;
use bytes::Bytes;
use fn_runtime::server::FunctionHandler;
use http_body_util::Full;
use lambda_runtime::{Diagnostic, LambdaEvent};
use serde_json::{Value, json};

use crate::Args;
use crate::cloudevent;
use events::{Delivery, Source};
use http_event::Origin;

/// Instances the runtime keeps: Lambda sends one invocation at a time per
/// sandbox, so a few are plenty.
const MAX_INSTANCES: u32 = 4;

/// How much of a refusing answer's body an invocation error quotes.
const MAX_BODY_IN_ERROR: usize = 1024;

/// Variables Lambda sets for every runtime, which `lambda_runtime` needs.
const LAMBDA_ENV: [&str; 3] = [
    "AWS_LAMBDA_FUNCTION_NAME",
    "AWS_LAMBDA_FUNCTION_VERSION",
    "AWS_LAMBDA_FUNCTION_MEMORY_SIZE",
];

/// Runs the Runtime API loop until Lambda stops the sandbox.
pub async fn run(args: &Args) -> anyhow::Result<()> {
    std::env::var("AWS_LAMBDA_RUNTIME_API").context(
        "AWS_LAMBDA_RUNTIME_API is not set: lambda mode runs under the Lambda Runtime API (or an emulator such as `cargo lambda watch --only-lambda-apis`); use --mode http to serve HTTP instead",
    )?;
    let invoker = match init(args) {
        Ok(invoker) => Arc::new(invoker),
        Err(err) => {
            report_init_error(&err).await;
            return Err(err);
        }
    };
    let runtime = lambda_runtime::Runtime::new(lambda_runtime::service_fn(
        move |event: LambdaEvent<Value>| {
            let invoker = invoker.clone();
            async move { invoker.invoke(event).await }
        },
    ));
    runtime
        .run()
        .await
        .map_err(|e| anyhow::anyhow!(e))
        .context("the Lambda Runtime API loop failed")
}

/// Checks the environment and loads the bundle.
fn init(args: &Args) -> anyhow::Result<Invoker> {
    for name in LAMBDA_ENV {
        let value = std::env::var(name).with_context(|| {
            format!("{name} is not set: Lambda sets it for every runtime (set it yourself to run under an emulator)")
        })?;
        if name == "AWS_LAMBDA_FUNCTION_MEMORY_SIZE" && value.parse::<i32>().is_err() {
            anyhow::bail!("{name} = {value:?} is not a number of megabytes");
        }
    }
    let loaded = crate::start::load(args.bundle.as_ref(), MAX_INSTANCES)?;
    let route = loaded
        .manifest
        .events
        .first()
        .map_or_else(|| "/".to_owned(), |t| cloudevent::event_route(&t.route));
    Ok(Invoker {
        inner: crate::start::handler(loaded.function, &loaded.manifest, args)?,
        route,
    })
}

/// Tells Lambda why the runtime could not start (best effort: a failure
/// to report is printed, the start-up error stays the one returned).
async fn report_init_error(err: &anyhow::Error) {
    let body = json!({
        "errorMessage": format!("{err:#}"),
        "errorType": "Runtime.InitError",
    });
    let request = lambda_runtime_api_client::build_request()
        .method(http::Method::POST)
        .uri("/2018-06-01/runtime/init/error")
        .header("Lambda-Runtime-Function-Error-Type", "Runtime.InitError")
        .header(http::header::CONTENT_TYPE, "application/json")
        .body(lambda_runtime_api_client::body::Body::from(
            body.to_string(),
        ));
    let outcome = match (
        request,
        lambda_runtime_api_client::Client::builder().build(),
    ) {
        (Ok(request), Ok(client)) => client
            .call(request)
            .await
            .map(|response| response.status())
            .map_err(|e| e.to_string()),
        (Err(e), _) => Err(e.to_string()),
        (_, Err(e)) => Err(e.to_string()),
    };
    match outcome {
        Ok(status) if status.is_success() => {}
        Ok(status) => eprintln!("fn-runner: the Runtime API answered {status} to /init/error"),
        Err(e) => eprintln!("fn-runner: cannot report the start-up error to Lambda: {e}"),
    }
}

/// An invocation's failure, as Lambda records it.
fn failure(error_type: &str, message: impl Into<String>) -> Diagnostic {
    Diagnostic {
        error_type: error_type.to_owned(),
        error_message: message.into(),
    }
}

/// Turns invocations into calls of the function.
struct Invoker {
    inner: FunctionHandler,
    /// Where CloudEvents go.
    route: String,
}

impl Invoker {
    async fn invoke(&self, event: LambdaEvent<Value>) -> Result<Value, Diagnostic> {
        let (payload, context) = event.into_parts();
        if let Some(origin) = Origin::of(&payload) {
            return http_event::handle(origin, payload, context, |request| self.call(request))
                .await
                .map_err(|e| failure("Runtime.InvalidEvent", e));
        }
        let source = Source::of(&payload).map_err(|what| {
            failure(
                "Runtime.UnknownEvent",
                format!(
                    "fn-runner cannot deliver this event, {what}: it handles API Gateway (REST and HTTP APIs), Function URL and ALB requests, SQS, SNS, S3 and EventBridge events"
                ),
            )
        })?;
        let deliveries = events::cloudevents(source, &payload);
        let mut failed = Vec::new();
        for delivery in &deliveries {
            if let Err(e) = self.deliver(delivery).await {
                failed.push((delivery.item.as_str(), e));
            }
        }
        settle(source, deliveries.len(), failed)
    }

    /// Calls the function with `request` and logs the call.
    async fn call(&self, request: http::Request<Bytes>) -> http::Response<Bytes> {
        self.inner.call(request.map(Full::new)).await.response
    }

    /// POSTs one CloudEvent to the function: `Err` with the reason when it
    /// does not answer 2xx.
    async fn deliver(&self, delivery: &Delivery) -> Result<(), Diagnostic> {
        let request = cloudevent::request(&self.route, &delivery.event);
        let limit = self.inner.function().limits().max_request_body;
        let size = request.body().len();
        if size > limit {
            return Err(failure(
                "Function.EventTooLarge",
                format!(
                    "event {} is {size} bytes, over the function's limit of {limit} bytes (limits.max-body)",
                    delivery.item
                ),
            ));
        }
        let ty = delivery.event["type"].as_str().unwrap_or("?");
        let target = format!("{} ({ty} {})", self.route, delivery.item);
        let result = self.inner.call_as(&target, request).await;
        let status = result.status();
        if status.is_success() {
            return Ok(());
        }
        let mut why = format!(
            "the function answered {status} to event {} ({ty})",
            delivery.item
        );
        if let Some(error) = &result.error {
            why.push_str(&format!(": {error}"));
        } else if !result.response.body().is_empty() {
            let body = result.response.body();
            let shown = &body[..body.len().min(MAX_BODY_IN_ERROR)];
            why.push_str(&format!(": {}", String::from_utf8_lossy(shown)));
            if shown.len() < body.len() {
                why.push_str(&format!("... ({} bytes)", body.len()));
            }
        }
        Err(failure("Function.ErrorStatus", why))
    }
}

/// What Lambda gets for a non-HTTP invocation of `total` events of which
/// `failed` were not delivered (see the module docs).
fn settle(
    source: Source,
    total: usize,
    failed: Vec<(&str, Diagnostic)>,
) -> Result<Value, Diagnostic> {
    if failed.is_empty() {
        return Ok(match source {
            Source::Sqs => json!({ "batchItemFailures": [] }),
            _ => Value::Null,
        });
    }
    if source == Source::Sqs && failed.len() < total {
        for (item, why) in &failed {
            eprintln!(
                "fn-runner: message {item} goes back to the queue: {}",
                why.error_message
            );
        }
        let items: Vec<Value> = failed
            .iter()
            .map(|(item, _)| json!({ "itemIdentifier": item }))
            .collect();
        return Ok(json!({ "batchItemFailures": items }));
    }
    let error_type = failed[0].1.error_type.clone();
    let messages: Vec<String> = failed.into_iter().map(|(_, d)| d.error_message).collect();
    Err(failure(&error_type, messages.join("; ")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sqs_failures_are_reported_per_message() {
        let ok = settle(Source::Sqs, 2, vec![]).unwrap();
        assert_eq!(ok, json!({"batchItemFailures": []}));
        let partial = settle(
            Source::Sqs,
            3,
            vec![("m2", failure("Function.ErrorStatus", "500"))],
        )
        .unwrap();
        assert_eq!(
            partial,
            json!({"batchItemFailures": [{"itemIdentifier": "m2"}]})
        );
        let all = settle(
            Source::Sqs,
            1,
            vec![(
                "m1",
                failure("Function.ErrorStatus", "the function answered 500"),
            )],
        )
        .unwrap_err();
        assert_eq!(all.error_type, "Function.ErrorStatus");
        assert!(all.error_message.contains("500"));
    }

    #[test]
    fn other_failures_fail_the_invocation() {
        assert_eq!(settle(Source::EventBridge, 1, vec![]).unwrap(), Value::Null);
        let err = settle(
            Source::S3,
            2,
            vec![
                ("a", failure("Function.EventTooLarge", "event a is big")),
                ("b", failure("Function.ErrorStatus", "b got 500")),
            ],
        )
        .unwrap_err();
        assert_eq!(err.error_type, "Function.EventTooLarge");
        assert_eq!(err.error_message, "event a is big; b got 500");
    }
}
