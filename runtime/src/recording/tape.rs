//! The live side of recording and replaying: one [`Tape`] per call, which
//! the import hosts (outbound HTTP, key-value, clocks) consult. Recording, it
//! collects what each import answered; replaying, it answers instead of the
//! network, the store and the clock, and notes where this run asks for
//! something other than what was recorded.

use super::format::{Body, Event, KvCall, KvResult, RecordedResponse};
use super::replay::Divergence;
use super::scrub::Scrub;
use crate::function::lock;
use rand::SeedableRng;
use rand::rngs::StdRng;
use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Instant;
use wasmtime_wasi::{HostMonotonicClock, HostWallClock};

/// One call's tape.
pub(crate) enum Tape {
    Record(Mutex<Vec<Event>>),
    Replay(Box<Mutex<Feed>>),
}

/// What a replay feeds back, by kind, and what it noticed.
pub(crate) struct Feed {
    outbound: VecDeque<Event>,
    outbound_seen: usize,
    kv: VecDeque<(KvCall, KvResult)>,
    kv_seen: usize,
    wall: VecDeque<u64>,
    last_wall: u64,
    monotonic: VecDeque<u64>,
    last_monotonic: u64,
    pub(crate) divergences: Vec<Divergence>,
    pub(crate) notes: Vec<String>,
    /// Scrubs this run's secrets as the recording's were, before comparing.
    scrub: Scrub,
}

/// The seeds of a call's random sources.
pub(crate) struct Seeds {
    pub(crate) secure: [u8; 32],
    pub(crate) insecure: [u8; 32],
    pub(crate) insecure_seed: u128,
}

impl Seeds {
    fn fresh() -> Seeds {
        use rand::Rng as _;
        let mut rng = rand::rng();
        let mut secure = [0; 32];
        let mut insecure = [0; 32];
        rng.fill_bytes(&mut secure);
        rng.fill_bytes(&mut insecure);
        let insecure_seed = u128::from(rng.next_u64()) << 64 | u128::from(rng.next_u64());
        Seeds {
            secure,
            insecure,
            insecure_seed,
        }
    }

    fn event(&self) -> Event {
        Event::Random {
            secure: hex(&self.secure),
            insecure: hex(&self.insecure),
            insecure_seed: self.insecure_seed.to_string(),
        }
    }

    fn from_event(event: &Event) -> Option<Seeds> {
        let Event::Random {
            secure,
            insecure,
            insecure_seed,
        } = event
        else {
            return None;
        };
        Some(Seeds {
            secure: unhex(secure)?,
            insecure: unhex(insecure)?,
            insecure_seed: insecure_seed.parse().ok()?,
        })
    }

    /// The generators of `wasi:random/random` and `wasi:random/insecure`.
    pub(crate) fn generators(&self) -> (StdRng, StdRng) {
        (
            StdRng::from_seed(self.secure),
            StdRng::from_seed(self.insecure),
        )
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn unhex(text: &str) -> Option<[u8; 32]> {
    let mut out = [0; 32];
    if text.len() != 64 {
        return None;
    }
    for (i, byte) in out.iter_mut().enumerate() {
        *byte = u8::from_str_radix(text.get(2 * i..2 * i + 2)?, 16).ok()?;
    }
    Some(out)
}

impl Tape {
    /// A tape that records; the seeds go first.
    pub(crate) fn record() -> (Arc<Tape>, Seeds) {
        let seeds = Seeds::fresh();
        let tape = Tape::Record(Mutex::new(vec![seeds.event()]));
        (Arc::new(tape), seeds)
    }

    /// A tape that feeds `events` back, with the seeds they recorded (fresh
    /// ones, and a note, when they recorded none).
    pub(crate) fn replay(events: &[Event], scrub: Scrub) -> (Arc<Tape>, Seeds) {
        let mut feed = Feed {
            outbound: VecDeque::new(),
            outbound_seen: 0,
            kv: VecDeque::new(),
            kv_seen: 0,
            wall: VecDeque::new(),
            last_wall: 0,
            monotonic: VecDeque::new(),
            last_monotonic: 0,
            divergences: Vec::new(),
            notes: Vec::new(),
            scrub,
        };
        let mut seeds = None;
        for event in events {
            match event {
                Event::Outbound { .. } => feed.outbound.push_back(event.clone()),
                Event::Kv { call, result } => feed.kv.push_back((call.clone(), result.clone())),
                Event::WallClock { ns } => feed.wall.push_back(*ns),
                Event::MonotonicClock { ns } => feed.monotonic.push_back(*ns),
                Event::Random { .. } => seeds = seeds.or_else(|| Seeds::from_event(event)),
                _ => {}
            }
        }
        // A run that reads the clock before any recorded reading was
        // replayed sees the first one (or the epoch, when none was recorded).
        feed.last_wall = feed.wall.front().copied().unwrap_or(0);
        let seeds = seeds.unwrap_or_else(|| {
            feed.notes.push(
                "the recording has no random seeds: this run draws fresh random numbers".into(),
            );
            Seeds::fresh()
        });
        (Arc::new(Tape::Replay(Box::new(Mutex::new(feed)))), seeds)
    }

    /// Adds an event (recording only).
    pub(crate) fn push(&self, event: Event) {
        if let Tape::Record(events) = self {
            lock(events).push(event);
        }
    }

    /// Whether this tape answers instead of the world.
    pub(crate) fn is_replay(&self) -> bool {
        matches!(self, Tape::Replay(_))
    }

    /// The recorded events (recording), or nothing.
    pub(crate) fn take_events(&self) -> Vec<Event> {
        match self {
            Tape::Record(events) => std::mem::take(&mut *lock(events)),
            Tape::Replay(_) => Vec::new(),
        }
    }

    /// What the replay noticed: divergences and notes.
    pub(crate) fn take_findings(&self) -> (Vec<Divergence>, Vec<String>) {
        match self {
            Tape::Record(_) => (Vec::new(), Vec::new()),
            Tape::Replay(feed) => {
                let mut feed = lock(feed);
                let notes = std::mem::take(&mut feed.notes);
                // What the recording did and this run never did.
                if let Some(Event::Outbound { method, url, .. }) = feed.outbound.pop_front() {
                    let at = format!("outbound request {}", feed.outbound_seen + 1);
                    feed.divergences.push(Divergence {
                        at,
                        recorded: format!("{method} {url}"),
                        replayed: "no further outbound request".into(),
                    });
                }
                if let Some((call, _)) = feed.kv.pop_front() {
                    let at = format!("key-value call {}", feed.kv_seen + 1);
                    feed.divergences.push(Divergence {
                        at,
                        recorded: describe_kv(&call),
                        replayed: "no further key-value call".into(),
                    });
                }
                (std::mem::take(&mut feed.divergences), notes)
            }
        }
    }

    /// The recorded answer to a key-value call (replaying; recording,
    /// calls go on the tape with [`Tape::push`]).
    pub(crate) fn replay_kv(&self, call: KvCall) -> KvResult {
        match self {
            Tape::Record(_) => KvResult::Error("not replaying".into()),
            Tape::Replay(feed) => lock(feed).next_kv(call),
        }
    }

    /// The answer to an outbound request, from the recording.
    pub(crate) fn replay_outbound(
        &self,
        method: &str,
        url: &str,
        headers: &[(String, String)],
        body: &Body,
    ) -> Result<RecordedResponse, String> {
        match self {
            Tape::Record(_) => Err("not replaying".into()),
            Tape::Replay(feed) => lock(feed).next_outbound(method, url, headers, body),
        }
    }
}

impl Feed {
    fn next_kv(&mut self, call: KvCall) -> KvResult {
        let call = self.scrub.kv_call_owned(call);
        self.kv_seen += 1;
        let at = format!("key-value call {}", self.kv_seen);
        let Some((recorded, result)) = self.kv.pop_front() else {
            self.divergences.push(Divergence {
                at,
                recorded: "no more key-value calls".into(),
                replayed: describe_kv(&call),
            });
            return KvResult::Error("replay: the recording has no more key-value calls".into());
        };
        if recorded == call {
            return result;
        }
        self.divergences.push(Divergence {
            at,
            recorded: describe_kv(&recorded),
            replayed: describe_kv(&call),
        });
        // The same operation on the same key (a different value written)
        // still gets the recorded answer, so the run goes on as recorded.
        if same_target(&recorded, &call) {
            result
        } else {
            KvResult::Error(format!(
                "replay: this run's {} differs from the recorded {}",
                describe_kv(&call),
                describe_kv(&recorded)
            ))
        }
    }

    fn next_outbound(
        &mut self,
        method: &str,
        url: &str,
        headers: &[(String, String)],
        body: &Body,
    ) -> Result<RecordedResponse, String> {
        let headers = &self.scrub.headers(&headers.to_vec());
        let body = &self.scrub.body(body);
        self.outbound_seen += 1;
        let at = format!("outbound request {} ({method} {url})", self.outbound_seen);
        let Some(Event::Outbound {
            method: r_method,
            url: r_url,
            headers: r_headers,
            body: r_body,
            response,
            error,
        }) = self.outbound.pop_front()
        else {
            self.divergences.push(Divergence {
                at,
                recorded: "no more outbound requests".into(),
                replayed: format!("{method} {url}"),
            });
            return Err("replay: the recording has no more outbound requests".into());
        };
        if (r_method.as_str(), r_url.as_str()) != (method, url) {
            self.divergences.push(Divergence {
                at,
                recorded: format!("{r_method} {r_url}"),
                replayed: format!("{method} {url}"),
            });
            return Err(format!(
                "replay: this run sent {method} {url} where the recording has {r_method} {r_url}"
            ));
        }
        if &r_body != body {
            self.divergences.push(Divergence {
                at: at.clone(),
                recorded: format!("body {}", r_body.display()),
                replayed: format!("body {}", body.display()),
            });
        } else if &r_headers != headers {
            self.divergences.push(Divergence {
                at: at.clone(),
                recorded: format!("headers {}", describe_headers(&r_headers)),
                replayed: format!("headers {}", describe_headers(headers)),
            });
        }
        match (response, error) {
            (Some(response), _) => Ok(response),
            (None, error) => Err(error.unwrap_or_else(|| "the request failed".into())),
        }
    }

    fn wall(&mut self) -> u64 {
        match self.wall.pop_front() {
            Some(ns) => {
                self.last_wall = ns;
                ns
            }
            None => self.last_wall,
        }
    }

    fn monotonic(&mut self) -> u64 {
        match self.monotonic.pop_front() {
            Some(ns) => {
                self.last_monotonic = ns;
                ns
            }
            None => self.last_monotonic,
        }
    }
}

fn same_target(a: &KvCall, b: &KvCall) -> bool {
    use KvCall::*;
    match (a, b) {
        (
            Set { store, key, .. },
            Set {
                store: s, key: k, ..
            },
        )
        | (
            Increment { store, key, .. },
            Increment {
                store: s, key: k, ..
            },
        ) => store == s && key == k,
        _ => false,
    }
}

/// A key-value call as a message shows it.
pub(crate) fn describe_kv(call: &KvCall) -> String {
    match call {
        KvCall::Open { store } => format!("open `{store}`"),
        KvCall::Get { store, key } => format!("get `{store}`/`{key}`"),
        KvCall::Set { store, key, value } => {
            format!("set `{store}`/`{key}` = {}", value.display())
        }
        KvCall::Delete { store, key } => format!("delete `{store}`/`{key}`"),
        KvCall::Exists { store, key } => format!("exists `{store}`/`{key}`"),
        KvCall::ListKeys { store, cursor } => format!("list-keys `{store}` from {cursor:?}"),
        KvCall::Increment { store, key, delta } => {
            format!("increment `{store}`/`{key}` by {delta}")
        }
    }
}

fn describe_headers(headers: &[(String, String)]) -> String {
    let pairs: Vec<String> = headers.iter().map(|(n, v)| format!("{n}: {v}")).collect();
    format!("[{}]", pairs.join(", "))
}

/// `wasi:clocks/wall-clock` of a recorded or replayed call.
pub(crate) struct TapeWallClock<C> {
    pub(crate) live: C,
    pub(crate) tape: Arc<Tape>,
}

impl<C: HostWallClock> HostWallClock for TapeWallClock<C> {
    fn resolution(&self) -> std::time::Duration {
        self.live.resolution()
    }

    fn now(&self) -> std::time::Duration {
        let ns = match &*self.tape {
            Tape::Record(events) => {
                let now = self.live.now();
                let ns = u64::try_from(now.as_nanos()).unwrap_or(u64::MAX);
                lock(events).push(Event::WallClock { ns });
                ns
            }
            Tape::Replay(feed) => lock(feed).wall(),
        };
        std::time::Duration::from_nanos(ns)
    }
}

/// `wasi:clocks/monotonic-clock` of a recorded or replayed call:
/// nanoseconds since the call started.
pub(crate) struct TapeMonotonicClock {
    pub(crate) started: Instant,
    pub(crate) tape: Arc<Tape>,
}

impl HostMonotonicClock for TapeMonotonicClock {
    fn resolution(&self) -> u64 {
        1
    }

    fn now(&self) -> u64 {
        match &*self.tape {
            Tape::Record(events) => {
                let ns = u64::try_from(self.started.elapsed().as_nanos()).unwrap_or(u64::MAX);
                lock(events).push(Event::MonotonicClock { ns });
                ns
            }
            Tape::Replay(feed) => lock(feed).monotonic(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seeds_round_trip_through_their_event() {
        let seeds = Seeds::fresh();
        let back = Seeds::from_event(&seeds.event()).unwrap();
        assert_eq!(back.secure, seeds.secure);
        assert_eq!(back.insecure, seeds.insecure);
        assert_eq!(back.insecure_seed, seeds.insecure_seed);
    }

    #[test]
    fn a_replayed_kv_call_gets_the_recorded_answer_or_a_divergence() {
        let get = |key: &str| KvCall::Get {
            store: "default".into(),
            key: key.into(),
        };
        let events = vec![Event::Kv {
            call: get("a"),
            result: KvResult::Value(Some(Body::new(b"1"))),
        }];
        let (tape, _) = Tape::replay(&events, Scrub::default());
        let Tape::Replay(feed) = &*tape else {
            unreachable!()
        };
        assert_eq!(
            lock(feed).next_kv(get("a")),
            KvResult::Value(Some(Body::new(b"1")))
        );
        assert!(matches!(lock(feed).next_kv(get("b")), KvResult::Error(_)));
        let (divergences, _) = tape.take_findings();
        assert_eq!(divergences.len(), 1);
        assert_eq!(divergences[0].at, "key-value call 2");
    }
}
