//! Non-HTTP Lambda events as CloudEvents (the attribute table is in the
//! module docs of [`super`]).

use serde_json::Value;

use crate::cloudevent::{self, CloudEvent, QUEUE_TYPE, SCHEDULE_TYPE};

/// The type of an SNS message that is not a CloudEvent itself.
pub const TOPIC_TYPE: &str = "dev.cargo-fn.topic.message";

/// The prefix of an S3 notification's type; the event name follows
/// (`com.amazonaws.s3.ObjectCreated:Put`).
pub const S3_TYPE_PREFIX: &str = "com.amazonaws.s3.";

/// A non-HTTP event source.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// SQS: a batch of messages, each its own event.
    Sqs,
    /// SNS: one notification per record.
    Sns,
    /// S3 notifications, one per record.
    S3,
    /// EventBridge (a rule's target, schedules included): one event.
    EventBridge,
}

impl Source {
    /// The source of `payload`, or why it is none of them.
    pub fn of(payload: &Value) -> Result<Source, String> {
        if let Some(records) = payload.get("Records").and_then(Value::as_array) {
            let sources: Vec<&str> = records
                .iter()
                .map(|r| {
                    r.get("eventSource")
                        .or_else(|| r.get("EventSource"))
                        .and_then(Value::as_str)
                        .unwrap_or("?")
                })
                .collect();
            let source = match sources.first() {
                Some(&"aws:sqs") => Source::Sqs,
                Some(&"aws:sns") => Source::Sns,
                Some(&"aws:s3") => Source::S3,
                _ => return Err(format!("records from {sources:?}")),
            };
            if sources.iter().any(|s| *s != sources[0]) {
                return Err(format!("a batch mixing records from {sources:?}"));
            }
            return Ok(source);
        }
        if payload.get("detail-type").is_some() && payload.get("source").is_some() {
            return Ok(Source::EventBridge);
        }
        let keys: Vec<&str> = payload
            .as_object()
            .map(|o| o.keys().map(String::as_str).collect())
            .unwrap_or_default();
        Err(format!("an object with the keys {keys:?}"))
    }
}

/// One CloudEvent to deliver, with the name the source knows it by.
#[derive(Debug, Clone, PartialEq)]
pub struct Delivery {
    /// The SQS message id (what `batchItemFailures` names), else the
    /// event's id.
    pub item: String,
    /// The event, structured mode.
    pub event: Value,
}

/// The CloudEvents of an event from `source`, in record order.
pub fn cloudevents(source: Source, payload: &Value) -> Vec<Delivery> {
    let records = || payload["Records"].as_array().into_iter().flatten();
    match source {
        Source::Sqs => records()
            .map(|record| Delivery {
                item: text(&record["messageId"]).unwrap_or_default(),
                event: sqs(record),
            })
            .collect(),
        Source::Sns => records().map(|r| delivery(sns(r))).collect(),
        Source::S3 => records().map(|r| delivery(s3(r))).collect(),
        Source::EventBridge => vec![delivery(eventbridge(payload))],
    }
}

fn delivery(event: Value) -> Delivery {
    Delivery {
        item: text(&event["id"]).unwrap_or_default(),
        event,
    }
}

fn sqs(record: &Value) -> Value {
    let body = text(&record["body"]).unwrap_or_default();
    if let Some(event) = cloudevent::embedded_cloudevent(&body) {
        return event;
    }
    CloudEvent {
        id: text(&record["messageId"]).unwrap_or_else(cloudevent::fresh_id),
        source: text(&record["eventSourceARN"]).unwrap_or_else(|| "aws:sqs".to_owned()),
        ty: QUEUE_TYPE.to_owned(),
        time: text(&record["attributes"]["SentTimestamp"])
            .and_then(|ms| ms.parse().ok())
            .map(rfc3339_from_millis),
        subject: None,
        data: json_or_string(body),
    }
    .to_json()
}

fn sns(record: &Value) -> Value {
    let sns = &record["Sns"];
    let message = text(&sns["Message"]).unwrap_or_default();
    if let Some(event) = cloudevent::embedded_cloudevent(&message) {
        return event;
    }
    CloudEvent {
        id: text(&sns["MessageId"]).unwrap_or_else(cloudevent::fresh_id),
        source: text(&sns["TopicArn"])
            .or_else(|| text(&record["EventSubscriptionArn"]))
            .unwrap_or_else(|| "aws:sns".to_owned()),
        ty: TOPIC_TYPE.to_owned(),
        time: text(&sns["Timestamp"]),
        subject: text(&sns["Subject"]),
        data: json_or_string(message),
    }
    .to_json()
}

fn s3(record: &Value) -> Value {
    let s3 = &record["s3"];
    let bucket = text(&s3["bucket"]["name"]).unwrap_or_default();
    let request_id = text(&record["responseElements"]["x-amz-request-id"]);
    let sequencer = text(&s3["object"]["sequencer"]);
    let id = match (request_id, sequencer) {
        (Some(request), Some(sequencer)) => format!("{request}.{sequencer}"),
        (Some(one), None) | (None, Some(one)) => one,
        (None, None) => cloudevent::fresh_id(),
    };
    CloudEvent {
        id,
        source: text(&s3["bucket"]["arn"]).unwrap_or_else(|| format!("arn:aws:s3:::{bucket}")),
        ty: format!(
            "{S3_TYPE_PREFIX}{}",
            text(&record["eventName"]).unwrap_or_default()
        ),
        time: text(&record["eventTime"]),
        subject: text(&s3["object"]["key"]).map(|key| object_key(&key)),
        data: record.clone(),
    }
    .to_json()
}

fn eventbridge(payload: &Value) -> Value {
    let source = text(&payload["source"]).unwrap_or_default();
    let detail_type = text(&payload["detail-type"]).unwrap_or_default();
    let ty = if source == "aws.events" && detail_type == "Scheduled Event" {
        SCHEDULE_TYPE.to_owned()
    } else {
        detail_type
    };
    CloudEvent {
        id: text(&payload["id"]).unwrap_or_else(cloudevent::fresh_id),
        source,
        ty,
        time: text(&payload["time"]),
        subject: None,
        data: payload.get("detail").cloned().unwrap_or(Value::Null),
    }
    .to_json()
}

/// A string field, `None` when absent, null or empty.
fn text(value: &Value) -> Option<String> {
    value.as_str().filter(|s| !s.is_empty()).map(str::to_owned)
}

/// A message body: its JSON when it is JSON, else the string.
fn json_or_string(body: String) -> Value {
    serde_json::from_str(&body).unwrap_or(Value::String(body))
}

/// An S3 notification's object key as it is in the bucket: notifications
/// carry it URL-encoded, spaces as `+`.
fn object_key(encoded: &str) -> String {
    let spaced = encoded.replace('+', " ");
    percent_encoding::percent_decode_str(&spaced)
        .decode_utf8_lossy()
        .into_owned()
}

/// Milliseconds since the Unix epoch as RFC 3339 UTC
/// (`2026-12-03T10:00:00.123Z`), the form of SQS's `SentTimestamp`.
pub fn rfc3339_from_millis(millis: i64) -> String {
    let (days, ms_of_day) = (millis.div_euclid(86_400_000), millis.rem_euclid(86_400_000));
    // Civil date from days since 1970-01-01, over 400-year eras of 146097
    // days that start on March 1st (so leap days end a year).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let day_of_era = z.rem_euclid(146_097);
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let march_month = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * march_month + 2) / 5 + 1;
    let month = if march_month < 10 {
        march_month + 3
    } else {
        march_month - 9
    };
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    let (h, m, s, ms) = (
        ms_of_day / 3_600_000,
        ms_of_day / 60_000 % 60,
        ms_of_day / 1000 % 60,
        ms_of_day % 1000,
    );
    format!("{year:04}-{month:02}-{day:02}T{h:02}:{m:02}:{s:02}.{ms:03}Z")
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn sqs_record(id: &str, body: &str) -> Value {
        json!({
            "messageId": id,
            "receiptHandle": "AQEB...",
            "body": body,
            "attributes": {"ApproximateReceiveCount": "1", "SentTimestamp": "1796292000123", "SenderId": "AID", "ApproximateFirstReceiveTimestamp": "1796292000200"},
            "messageAttributes": {},
            "md5OfBody": "x",
            "eventSource": "aws:sqs",
            "eventSourceARN": "arn:aws:sqs:eu-west-1:123456789012:orders",
            "awsRegion": "eu-west-1"
        })
    }

    #[test]
    fn sqs_messages_become_one_event_each() {
        let inner = json!({"specversion": "1.0", "id": "e1", "source": "/shop", "type": "com.example.order"});
        let payload = json!({"Records": [
            sqs_record("m1", r#"{"order": 7}"#),
            sqs_record("m2", "plain words"),
            sqs_record("m3", &inner.to_string()),
        ]});
        assert_eq!(Source::of(&payload), Ok(Source::Sqs));
        let deliveries = cloudevents(Source::Sqs, &payload);
        let items: Vec<&str> = deliveries.iter().map(|d| d.item.as_str()).collect();
        assert_eq!(items, ["m1", "m2", "m3"]);
        let first = &deliveries[0].event;
        assert_eq!(first["specversion"], "1.0");
        assert_eq!(first["id"], "m1");
        assert_eq!(first["source"], "arn:aws:sqs:eu-west-1:123456789012:orders");
        assert_eq!(first["type"], QUEUE_TYPE);
        assert_eq!(first["time"], "2026-12-03T10:00:00.123Z");
        assert_eq!(first["data"]["order"], 7);
        assert_eq!(deliveries[1].event["data"], "plain words");
        // A CloudEvent passes through, and failures still name the message.
        assert_eq!(deliveries[2].event, inner);
        assert_eq!(deliveries[2].item, "m3");
    }

    #[test]
    fn sns_notifications_become_events() {
        let record = |message: &str| {
            json!({
                "EventVersion": "1.0",
                "EventSubscriptionArn": "arn:aws:sns:eu-west-1:123456789012:alerts:sub",
                "EventSource": "aws:sns",
                "Sns": {
                    "Type": "Notification", "MessageId": "n1",
                    "TopicArn": "arn:aws:sns:eu-west-1:123456789012:alerts",
                    "Subject": "disk", "Message": message,
                    "Timestamp": "2026-12-03T10:00:00.000Z", "MessageAttributes": {}
                }
            })
        };
        let payload = json!({"Records": [record(r#"{"level": "high"}"#)]});
        assert_eq!(Source::of(&payload), Ok(Source::Sns));
        let event = &cloudevents(Source::Sns, &payload)[0].event;
        assert_eq!(event["id"], "n1");
        assert_eq!(event["source"], "arn:aws:sns:eu-west-1:123456789012:alerts");
        assert_eq!(event["type"], TOPIC_TYPE);
        assert_eq!(event["subject"], "disk");
        assert_eq!(event["time"], "2026-12-03T10:00:00.000Z");
        assert_eq!(event["data"]["level"], "high");

        let inner = json!({"specversion": "1.0", "id": "e9", "source": "/mon", "type": "com.example.alert"});
        let payload = json!({"Records": [record(&inner.to_string())]});
        assert_eq!(cloudevents(Source::Sns, &payload)[0].event, inner);
    }

    #[test]
    fn eventbridge_schedules_and_custom_events() {
        let scheduled = json!({
            "version": "0", "id": "53dc4d37", "detail-type": "Scheduled Event", "source": "aws.events",
            "account": "123456789012", "time": "2026-12-03T10:00:00Z", "region": "eu-west-1",
            "resources": ["arn:aws:events:eu-west-1:123456789012:rule/every-5-minutes"], "detail": {}
        });
        assert_eq!(Source::of(&scheduled), Ok(Source::EventBridge));
        let event = &cloudevents(Source::EventBridge, &scheduled)[0].event;
        assert_eq!(event["type"], SCHEDULE_TYPE);
        assert_eq!(event["id"], "53dc4d37");
        assert_eq!(event["source"], "aws.events");
        assert_eq!(event["time"], "2026-12-03T10:00:00Z");
        assert_eq!(event["data"], json!({}));

        let custom = json!({
            "version": "0", "id": "c1", "detail-type": "OrderPlaced", "source": "com.example.shop",
            "time": "2026-12-03T10:00:01Z", "resources": [], "detail": {"order": 7}
        });
        let event = &cloudevents(Source::EventBridge, &custom)[0].event;
        assert_eq!(event["type"], "OrderPlaced");
        assert_eq!(event["source"], "com.example.shop");
        assert_eq!(event["data"]["order"], 7);
    }

    #[test]
    fn s3_notifications_name_the_bucket_and_key() {
        let record = json!({
            "eventVersion": "2.1", "eventSource": "aws:s3", "awsRegion": "eu-west-1",
            "eventTime": "2026-12-03T10:00:00.000Z", "eventName": "ObjectCreated:Put",
            "responseElements": {"x-amz-request-id": "C3D13FE58DE4C810", "x-amz-id-2": "FMyUVURI"},
            "s3": {
                "s3SchemaVersion": "1.0", "configurationId": "upload",
                "bucket": {"name": "photos", "arn": "arn:aws:s3:::photos"},
                "object": {"key": "2026/summer+trip%C3%A9.jpg", "size": 1024, "sequencer": "0A1B2C3D4E5F678901"}
            }
        });
        let payload = json!({"Records": [record]});
        assert_eq!(Source::of(&payload), Ok(Source::S3));
        let event = &cloudevents(Source::S3, &payload)[0].event;
        assert_eq!(event["id"], "C3D13FE58DE4C810.0A1B2C3D4E5F678901");
        assert_eq!(event["source"], "arn:aws:s3:::photos");
        assert_eq!(event["type"], "com.amazonaws.s3.ObjectCreated:Put");
        assert_eq!(event["subject"], "2026/summer tripé.jpg");
        assert_eq!(event["time"], "2026-12-03T10:00:00.000Z");
        assert_eq!(event["data"]["s3"]["object"]["size"], 1024);
    }

    #[test]
    fn unknown_shapes_say_what_they_are() {
        let err = Source::of(&json!({"foo": 1, "bar": 2})).unwrap_err();
        assert!(err.contains("\"bar\"") && err.contains("\"foo\""), "{err}");
        let err = Source::of(&json!({"Records": [{"eventSource": "aws:kinesis"}]})).unwrap_err();
        assert!(err.contains("aws:kinesis"), "{err}");
        let mixed = json!({"Records": [{"eventSource": "aws:sqs"}, {"eventSource": "aws:s3"}]});
        assert!(Source::of(&mixed).unwrap_err().contains("mixing"));
    }

    #[test]
    fn timestamps_are_rfc3339() {
        assert_eq!(rfc3339_from_millis(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(
            rfc3339_from_millis(951_782_400_000),
            "2000-02-29T00:00:00.000Z"
        );
        assert_eq!(
            rfc3339_from_millis(1_796_292_000_123),
            "2026-12-03T10:00:00.123Z"
        );
        assert_eq!(rfc3339_from_millis(-1), "1969-12-31T23:59:59.999Z");
    }
}
