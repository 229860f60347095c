//! Schedules on the laptop: the `schedule` of `[package.metadata.fn]`
//! fired by `cargo fn serve` (and once, now, by `cargo fn invoke
//! --schedule`) as the cloud runners fire it: a structured-mode CloudEvent
//! of type `dev.cargo-fn.schedule`, POSTed to the function's route, with
//! the tick's time and `{"cron": ...}` as data.

use anyhow::Context as _;
use bytes::Bytes;
use chrono::{DateTime, Utc};
use serde_json::json;

use fn_runtime::bundle::event_route;

use crate::metadata::FnMetadata;

/// The type of a schedule tick, the same on every cloud's runner.
pub const SCHEDULE_TYPE: &str = "dev.cargo-fn.schedule";

/// A function's schedule, ready to fire.
#[derive(Debug, Clone)]
pub struct Schedule {
    /// The cron expression as declared.
    pub cron: String,
    /// Where ticks are POSTed: the function's route, wildcard dropped.
    pub route: String,
    /// The ticks' `source`.
    pub source: String,
    parsed: croner::Cron,
}

impl Schedule {
    /// The schedule `meta` declares for the function `name`, if any (UTC,
    /// as on every cloud).
    pub fn of(name: &str, meta: &FnMetadata) -> anyhow::Result<Option<Schedule>> {
        let Some(cron) = &meta.schedule else {
            return Ok(None);
        };
        let parsed = croner::parser::CronParser::builder()
            .seconds(croner::parser::Seconds::Disallowed)
            .year(croner::parser::Year::Disallowed)
            .build()
            .parse(cron.trim())
            .with_context(|| format!("schedule {cron:?}"))?;
        Ok(Some(Schedule {
            cron: cron.clone(),
            route: event_route(meta.route_or_wildcard()),
            source: format!("/cargo-fn/serve/{name}"),
            parsed,
        }))
    }

    /// The first tick strictly after `after`.
    pub fn next_after(&self, after: DateTime<Utc>) -> anyhow::Result<DateTime<Utc>> {
        self.parsed
            .find_next_occurrence(&after, false)
            .with_context(|| format!("no time matches the schedule {:?}", self.cron))
    }

    /// The request delivering the tick of `time`.
    pub fn tick(&self, time: DateTime<Utc>) -> http::Request<Bytes> {
        let id = format!("tick-{}-{}", time.timestamp_millis(), std::process::id());
        let event = json!({
            "specversion": "1.0",
            "id": id,
            "source": self.source,
            "type": SCHEDULE_TYPE,
            "time": time.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
            "datacontenttype": "application/json",
            "data": {"cron": self.cron},
        });
        let body = Bytes::from(event.to_string());
        http::Request::post(&self.route)
            .header(http::header::CONTENT_TYPE, "application/cloudevents+json")
            .header(http::header::CONTENT_LENGTH, body.len())
            .body(body)
            .expect("a POST with valid headers")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone as _;

    fn schedule(cron: &str, route: Option<&str>) -> Schedule {
        let meta = FnMetadata {
            schedule: Some(cron.into()),
            route: route.map(Into::into),
            ..FnMetadata::default()
        };
        Schedule::of("report", &meta).unwrap().unwrap()
    }

    #[test]
    fn ticks_follow_the_cron_in_utc() {
        let every_5 = schedule("*/5 * * * *", None);
        let t = Utc.with_ymd_and_hms(2026, 12, 4, 10, 3, 20).unwrap();
        assert_eq!(
            every_5.next_after(t).unwrap(),
            Utc.with_ymd_and_hms(2026, 12, 4, 10, 5, 0).unwrap()
        );
        let weekdays = schedule("30 9 * * MON-FRI", None);
        // Friday 2026-12-04 after 09:30: the next is Monday the 7th.
        assert_eq!(
            weekdays.next_after(t).unwrap(),
            Utc.with_ymd_and_hms(2026, 12, 7, 9, 30, 0).unwrap()
        );
        let daily = schedule("@daily", None);
        assert_eq!(
            daily.next_after(t).unwrap(),
            Utc.with_ymd_and_hms(2026, 12, 5, 0, 0, 0).unwrap()
        );
    }

    #[test]
    fn a_tick_is_the_runners_structured_cloudevent_on_the_route() {
        let tick = schedule("@hourly", Some("/jobs/..."));
        let time = Utc.with_ymd_and_hms(2026, 12, 4, 11, 0, 0).unwrap();
        let request = tick.tick(time);
        assert_eq!(request.method(), http::Method::POST);
        assert_eq!(request.uri(), "/jobs");
        assert_eq!(
            request.headers()["content-type"],
            "application/cloudevents+json"
        );
        let event: serde_json::Value = serde_json::from_slice(request.body()).unwrap();
        assert_eq!(event["type"], SCHEDULE_TYPE);
        assert_eq!(event["specversion"], "1.0");
        assert_eq!(event["source"], "/cargo-fn/serve/report");
        assert_eq!(event["time"], "2026-12-04T11:00:00.000Z");
        assert_eq!(event["data"]["cron"], "@hourly");
    }
}
