//! Recording a call of a [`Function`], and replaying one.

use super::format::{self, Body, Event, Header, Recording, RecordingError};
use super::replay::{Divergence, Replay};
use super::scrub::Scrub;
use super::tape::Tape;
use super::{FORMAT, RecordOptions, VERSION};
use crate::call::{CallResult, ConfigSnapshot};
use crate::function::Function;
use bytes::Bytes;
use std::collections::BTreeMap;
use std::sync::Arc;

impl Function {
    /// Calls the function as [`Function::handle`] does, and records
    /// everything that crossed its boundary: the request, the config it
    /// could read (secrets withheld), the seeds of its random sources, each
    /// clock reading, outbound request and key-value call with its answer,
    /// its logs and its response.
    ///
    /// Outbound responses are read whole before the guest sees them, so
    /// they can be written down.
    pub async fn handle_recorded(
        &self,
        request: http::Request<Bytes>,
        options: &RecordOptions,
    ) -> (CallResult, Recording) {
        let recorded_at = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
        let snapshot = self.config_snapshot();
        let mut redacted = Vec::new();
        let values = snapshot
            .values
            .iter()
            .map(|(key, value)| {
                let secret = options.secrets.contains(key);
                if secret {
                    redacted.push(key.clone());
                }
                (key.clone(), (!secret).then(|| value.clone()))
            })
            .collect();
        let mut events = vec![
            Event::Request {
                method: request.method().to_string(),
                uri: request.uri().to_string(),
                headers: format::headers(request.headers()),
                body: Body::new(request.body()),
            },
            Event::Config { values },
        ];

        let snapshot_secrets: Vec<(String, String)> = snapshot
            .values
            .iter()
            .filter(|(key, _)| options.secrets.contains(*key))
            .map(|(key, value)| (key.clone(), value.clone()))
            .collect();
        let (tape, seeds) = Tape::record();
        let result = self
            .call(request, Some((tape.clone(), seeds)), snapshot)
            .await;

        events.extend(tape.take_events());
        for (stream, bytes) in [
            ("stdout", &result.logs.stdout),
            ("stderr", &result.logs.stderr),
        ] {
            if !bytes.is_empty() {
                events.push(Event::Log {
                    stream: stream.into(),
                    text: String::from_utf8_lossy(bytes).into_owned(),
                });
            }
        }
        events.push(response_event(&result));
        let scrub = Scrub::new(snapshot_secrets.iter().map(|(key, value)| (key, value)));
        if !scrub.is_empty() {
            events.iter_mut().for_each(|event| scrub.event(event));
        }
        let header = Header {
            format: FORMAT.into(),
            version: VERSION,
            function: self.name().to_owned(),
            artifact: self.digest().to_owned(),
            recorded_at,
            redacted,
        };
        (result, Recording { header, events })
    }

    /// Runs a recorded call again on this function: the recorded request,
    /// with every import answered from the recording (outbound HTTP,
    /// key-value, config, clocks, random numbers) instead of the network,
    /// the stores and the clock. Redacted secrets come from this function's
    /// own config.
    ///
    /// Refuses a recording of another function (by name). With the recorded
    /// artifact the run is the recorded one, response byte for byte; with a
    /// changed artifact, [`Replay::divergences`] says where it first asked
    /// for something else (an outbound request, a key-value call) or
    /// answered differently.
    pub async fn replay(&self, recording: &Recording) -> Result<Replay, RecordingError> {
        if recording.header.function != self.name() {
            return Err(RecordingError::OtherFunction {
                recorded: recording.header.function.clone(),
                loaded: self.name().to_owned(),
            });
        }
        let request = recording.request()?;
        let mut notes = Vec::new();
        if recording.header.artifact != self.digest() {
            notes.push(format!(
                "the artifact differs from the recorded one ({} now, {} recorded)",
                self.digest(),
                recording.header.artifact
            ));
        }

        let local = self.config_values();
        let mut values = BTreeMap::new();
        for event in &recording.events {
            let Event::Config { values: recorded } = event else {
                continue;
            };
            for (key, value) in recorded {
                match value.clone().or_else(|| local.get(key).cloned()) {
                    Some(value) => {
                        values.insert(key.clone(), value);
                    }
                    None => notes.push(format!(
                        "the secret `{key}` was redacted and is not set here: this run \
                         reads it as unset"
                    )),
                }
            }
        }
        let scrub = Scrub::new(
            recording
                .header
                .redacted
                .iter()
                .filter_map(|key| Some((key, values.get(key)?))),
        );
        let snapshot = Arc::new(ConfigSnapshot::new(&values));

        let (tape, seeds) = Tape::replay(&recording.events, scrub.clone());
        let result = self
            .call(request, Some((tape.clone(), seeds)), snapshot)
            .await;
        // What the run did differently, then what it left undone, then how
        // its answer differs.
        let (mut divergences, findings) = tape.take_findings();
        notes.extend(findings);
        if let Some(recorded) = recording.response() {
            let mut now = response_event(&result);
            scrub.event(&mut now);
            divergences.extend(compare_response(recorded, &now));
        }
        Ok(Replay {
            result,
            divergences,
            notes,
        })
    }
}

fn response_event(result: &CallResult) -> Event {
    Event::Response {
        status: result.response.status().as_u16(),
        headers: format::headers(result.response.headers()),
        body: Body::new(result.response.body()),
        error: result.error.as_ref().map(ToString::to_string),
    }
}

fn compare_response(recorded: &Event, now: &Event) -> Vec<Divergence> {
    let (
        Event::Response {
            status: r_status,
            headers: r_headers,
            body: r_body,
            error: r_error,
        },
        Event::Response {
            status,
            headers,
            body,
            error,
        },
    ) = (recorded, now)
    else {
        return Vec::new();
    };
    let mut out = Vec::new();
    let mut differ = |at: &str, recorded: String, replayed: String| {
        out.push(Divergence {
            at: at.into(),
            recorded,
            replayed,
        })
    };
    if r_status != status {
        differ("response status", r_status.to_string(), status.to_string());
    }
    if r_headers != headers {
        let show = |h: &format::Headers| {
            let pairs: Vec<String> = h.iter().map(|(n, v)| format!("{n}: {v}")).collect();
            format!("[{}]", pairs.join(", "))
        };
        differ("response headers", show(r_headers), show(headers));
    }
    if r_body != body {
        differ("response body", r_body.display(), body.display());
    }
    if r_error != error {
        let show = |e: &Option<String>| e.clone().unwrap_or_else(|| "no error".into());
        differ("call error", show(r_error), show(error));
    }
    out
}
