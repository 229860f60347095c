//! W3C Trace Context, continued through a call.
//!
//! When a request arrives with a `traceparent` header (or a CloudEvent with
//! the `traceparent` extension: a `ce-traceparent` header in binary mode, a
//! `traceparent` attribute in structured mode), the call belongs to that
//! trace:
//!
//! - every outbound request ([`outbound::send`](crate::outbound::send),
//!   [`fetch`](crate::outbound::fetch)) carries a `traceparent` with the
//!   same trace id and a fresh span id of its own (unless the request
//!   already has one), so the service it calls continues the trace;
//! - every log record ([`log`](crate::log)) carries `trace_id` and
//!   `span_id`, so the lines of one call can be found among all others.
//!
//! Without an incoming `traceparent` nothing is added. `cargo fn serve
//! --otlp URL` gives every call a span of its own and exports it with the
//! outbound requests' spans.

use std::cell::RefCell;

use crate::Request;

/// A position in a trace: the `traceparent` of W3C Trace Context, version
/// `00`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TraceContext {
    trace_id: [u8; 16],
    span_id: [u8; 8],
    flags: u8,
}

/// The trace of the call being handled: the raw `traceparent` value the
/// request carried, parsed on first use, so a call that never logs or calls
/// out pays nothing for it.
#[derive(Clone, Default)]
struct State {
    /// The request's header fields, not yet looked at.
    #[cfg(target_arch = "wasm32")]
    source: Option<std::sync::Arc<crate::request_type::Parts>>,
    raw: Option<String>,
    parsed: Option<Option<TraceContext>>,
}

impl State {
    /// Reads the raw value from the request's fields, the first time.
    fn resolve(&mut self) {
        #[cfg(target_arch = "wasm32")]
        if let Some(parts) = self.source.take() {
            self.raw = crate::glue::traceparent(parts.fields());
        }
    }
}

thread_local! {
    static CURRENT: RefCell<State> = RefCell::default();
}

fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        out.push(DIGITS[usize::from(b >> 4)] as char);
        out.push(DIGITS[usize::from(b & 15)] as char);
    }
    out
}

fn unhex<const N: usize>(text: &[u8]) -> Option<[u8; N]> {
    if text.len() != 2 * N {
        return None;
    }
    let digit = |c: u8| match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        _ => None,
    };
    let mut out = [0; N];
    for (i, byte) in out.iter_mut().enumerate() {
        *byte = digit(text[2 * i])? << 4 | digit(text[2 * i + 1])?;
    }
    Some(out)
}

impl TraceContext {
    /// Parses a `traceparent` value: `00-<32 hex trace id>-<16 hex span
    /// id>-<2 hex flags>`, lower-case, ids not all zero. Later versions are
    /// read by their first four fields, as the spec asks; version `ff` is
    /// invalid.
    pub fn parse(value: &str) -> Option<TraceContext> {
        // Fixed positions: `vv-` then 32, 16 and 2 hex digits, each after a
        // dash. (Splitting on `-` works too, and is 0.5 KB more in every
        // function.)
        let value = value.trim_ascii().as_bytes();
        let field = |at: usize, len: usize| {
            let dash = at == 0 || value.get(at - 1) == Some(&b'-');
            value.get(at..at + len).filter(|_| dash)
        };
        let version = unhex::<1>(field(0, 2)?)?[0];
        let trace_id = unhex::<16>(field(3, 32)?)?;
        let span_id = unhex::<8>(field(36, 16)?)?;
        let flags = unhex::<1>(field(53, 2)?)?[0];
        // Nothing more, or (a later version) more fields after a dash.
        let more = match value.get(55) {
            None => false,
            Some(b'-') => true,
            Some(_) => return None,
        };
        let valid_version = match version {
            0 => !more,
            0xff => false,
            _ => true,
        };
        (valid_version && trace_id != [0; 16] && span_id != [0; 8]).then_some(TraceContext {
            trace_id,
            span_id,
            flags,
        })
    }

    /// The start of a new trace: random trace and span ids, sampled.
    pub fn root() -> TraceContext {
        let mut trace_id = [0; 16];
        while trace_id == [0; 16] {
            crate::random::fill(&mut trace_id);
        }
        TraceContext {
            trace_id,
            span_id: [0; 8],
            flags: 1,
        }
        .child()
    }

    /// The trace id, 32 hex digits.
    pub fn trace_id(&self) -> String {
        hex(&self.trace_id)
    }

    /// The span id, 16 hex digits.
    pub fn span_id(&self) -> String {
        hex(&self.span_id)
    }

    /// Whether the caller samples this trace (flag `01`).
    pub fn sampled(&self) -> bool {
        self.flags & 1 == 1
    }

    /// The same trace, with a fresh random span id: what an outbound
    /// request made from this span carries.
    pub fn child(&self) -> TraceContext {
        let mut span_id = [0; 8];
        while span_id == [0; 8] {
            crate::random::fill(&mut span_id);
        }
        TraceContext { span_id, ..*self }
    }

    /// The `traceparent` header value.
    pub fn traceparent(&self) -> String {
        format!(
            "00-{}-{}-{:02x}",
            self.trace_id(),
            self.span_id(),
            self.flags
        )
    }
}

/// The trace context of the call being handled, if the request carried one.
pub fn current() -> Option<TraceContext> {
    CURRENT.with(|state| {
        let mut state = state.borrow_mut();
        if state.parsed.is_none() {
            state.resolve();
            let parsed = state.raw.as_deref().and_then(TraceContext::parse);
            state.parsed = Some(parsed);
        }
        state.parsed.flatten()
    })
}

/// Makes the raw `traceparent` value of the call's request current.
#[cfg(test)]
pub(crate) fn enter_raw(raw: Option<String>) -> Entered {
    let state = State {
        raw,
        ..State::default()
    };
    let previous = CURRENT.with(|c| c.replace(state));
    Entered { previous }
}

/// Makes the call's request current: its `traceparent` (or
/// `ce-traceparent`) field is looked for when the call first needs it.
#[cfg(target_arch = "wasm32")]
pub(crate) fn enter_lazy(parts: std::sync::Arc<crate::request_type::Parts>) -> Entered {
    let state = State {
        source: Some(parts),
        ..State::default()
    };
    let previous = CURRENT.with(|c| c.replace(state));
    Entered { previous }
}

/// A structured CloudEvent's `traceparent` attribute, when the request had
/// no `traceparent` header of its own.
pub(crate) fn adopt(raw: &str) {
    CURRENT.with(|state| {
        let mut state = state.borrow_mut();
        state.resolve();
        if state.raw.is_none() {
            *state = State {
                raw: Some(raw.to_owned()),
                ..State::default()
            };
        }
    });
}

/// The trace context `request` carries: its `traceparent` header, else a
/// CloudEvent's `traceparent` extension (binary or structured mode).
pub fn of_request(request: &Request) -> Option<TraceContext> {
    let header = |name: &str| request.header(name);
    if let Some(value) = header("traceparent").or_else(|| header("ce-traceparent")) {
        return TraceContext::parse(value);
    }
    let structured =
        header("content-type").is_some_and(|ct| ct.starts_with("application/cloudevents+json"));
    if !structured {
        return None;
    }
    #[derive(serde::Deserialize)]
    struct Attributes {
        traceparent: Option<String>,
    }
    let attributes: Attributes = serde_json::from_slice(request.body()).ok()?;
    TraceContext::parse(&attributes.traceparent?)
}

/// Makes `context` the current one until the guard drops. The generated
/// export does the same for every request; a native test of a handler can
/// do it to check what the handler sends or logs inside a trace.
pub fn enter(context: Option<TraceContext>) -> Entered {
    let state = State {
        parsed: Some(context),
        ..State::default()
    };
    let previous = CURRENT.with(|c| c.replace(state));
    Entered { previous }
}

/// Restores the previous trace context when dropped.
#[must_use = "the context is current only while the guard lives"]
pub struct Entered {
    previous: State,
}

impl Drop for Entered {
    fn drop(&mut self) {
        let previous = std::mem::take(&mut self.previous);
        CURRENT.with(|c| c.replace(previous));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const PARENT: &str = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

    #[test]
    fn traceparent_parses_and_prints_back() {
        let ctx = TraceContext::parse(PARENT).unwrap();
        assert_eq!(ctx.trace_id(), "4bf92f3577b34da6a3ce929d0e0e4736");
        assert_eq!(ctx.span_id(), "00f067aa0ba902b7");
        assert!(ctx.sampled());
        assert_eq!(ctx.traceparent(), PARENT);
        let child = ctx.child();
        assert_eq!(child.trace_id(), ctx.trace_id());
        assert_ne!(child.span_id(), ctx.span_id());
        assert!(child.traceparent().ends_with("-01"));
    }

    #[test]
    fn invalid_traceparents_are_ignored() {
        for bad in [
            "",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7",
            "00-00000000000000000000000000000000-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",
            "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",
            "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra",
            "00-4bf92f3577b34da6a3ce929d0e0e473-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01x",
            "00-4bf92f3577b34da6a3ce929d0e0e4736+00f067aa0ba902b7-01",
            "004bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-",
            "01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01x",
        ] {
            assert_eq!(TraceContext::parse(bad), None, "{bad:?}");
        }
        // A later version with more fields is read by its first four.
        assert!(
            TraceContext::parse("01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-x")
                .is_some()
        );
    }

    #[test]
    fn requests_carry_it_in_a_header_or_a_cloudevent() {
        let with = |name: &str| Request::new(http::Method::POST, "/").with_header(name, PARENT);
        assert!(of_request(&with("traceparent")).is_some());
        assert!(of_request(&with("ce-traceparent")).is_some());
        let structured = Request::new(http::Method::POST, "/")
            .with_header("content-type", "application/cloudevents+json")
            .with_body(format!(
                r#"{{"specversion":"1.0","id":"1","source":"/s","type":"t","traceparent":"{PARENT}"}}"#
            ));
        assert_eq!(of_request(&structured).unwrap().traceparent(), PARENT);
        let plain = Request::default();
        assert_eq!(of_request(&plain), None);
    }

    #[test]
    fn a_raw_header_is_parsed_on_first_use_and_an_event_fills_in_only_a_missing_one() {
        {
            let _entered = enter_raw(Some(PARENT.to_owned()));
            adopt("00-11111111111111111111111111111111-2222222222222222-01");
            assert_eq!(current().unwrap().traceparent(), PARENT);
        }
        {
            let _entered = enter_raw(None);
            assert_eq!(current(), None);
            adopt(PARENT);
            assert_eq!(current().unwrap().traceparent(), PARENT);
        }
        let _entered = enter_raw(Some("garbage".to_owned()));
        assert_eq!(current(), None);
    }

    #[test]
    fn entering_sets_the_current_context_until_the_guard_drops() {
        assert_eq!(current(), None);
        {
            let _entered = enter(TraceContext::parse(PARENT));
            assert_eq!(current().unwrap().traceparent(), PARENT);
        }
        assert_eq!(current(), None);
    }
}
