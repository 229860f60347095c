//! A loaded function: its pre-linked component and the state its calls share
//! (key-value, config, mocks, limits). `handle` is the async core used by the
//! test harness and by `cargo fn serve`.

use crate::call::{CallError, CallResult, Metrics};
use crate::clock::ClockOffset;
use crate::error::Error;
use crate::invoke::{RunError, Stage, Timings, classify, rejected, run};
use crate::kv::KeyValue;
use crate::limits::{Limits, TimeoutExceeded};
use crate::logs::{self, LogPipe};
use crate::outbound::{HttpMocks, OutboundHooks, Outcome, unmatched_message};
use crate::runtime::Runtime;
use crate::state::HostState;
use bytes::Bytes;
use http_body_util::{BodyExt, Limited};
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Instant;
use wasmtime::component::Component;
use wasmtime::{Store, UpdateDeadline};
use wasmtime_wasi_config::WasiConfigVariables;
use wasmtime_wasi_http::p2::bindings::ProxyPre;

/// A function ready to be called: compiled, linked, with its own key-value
/// store, config, outbound mocks and limits. Cheap to clone (clones share all
/// of it) and safe to call concurrently.
#[derive(Clone)]
pub struct Function {
    inner: Arc<Inner>,
}

struct Inner {
    runtime: Runtime,
    name: String,
    pre: ProxyPre<HostState>,
    kv: KeyValue,
    config: Mutex<ConfigState>,
    mocks: HttpMocks,
    limits: Mutex<Limits>,
    clock: ClockOffset,
}

#[derive(Default)]
struct ConfigState {
    values: BTreeMap<String, String>,
    /// What calls see: rebuilt on every change, shared by calls.
    snapshot: Arc<WasiConfigVariables>,
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|e| e.into_inner())
}

impl std::fmt::Debug for Function {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Function")
            .field("name", &self.inner.name)
            .field("limits", &self.limits())
            .finish_non_exhaustive()
    }
}

impl Function {
    pub(crate) fn new(runtime: Runtime, name: &str, component: &Component) -> Result<Self, Error> {
        let pre = runtime
            .linker()
            .instantiate_pre(component)
            .map_err(Error::link)?;
        let pre = ProxyPre::new(pre).map_err(Error::link)?;
        Ok(Function {
            inner: Arc::new(Inner {
                runtime,
                name: name.to_owned(),
                pre,
                kv: KeyValue::new(),
                config: Mutex::default(),
                mocks: HttpMocks::default(),
                limits: Mutex::new(Limits::default()),
                clock: ClockOffset::default(),
            }),
        })
    }

    /// The function's name (the artifact's file stem).
    pub fn name(&self) -> &str {
        &self.inner.name
    }

    /// The runtime the function runs on.
    pub fn runtime(&self) -> &Runtime {
        &self.inner.runtime
    }

    /// The key-value store its calls see (seed it, read it).
    pub fn kv(&self) -> &KeyValue {
        &self.inner.kv
    }

    /// The outbound HTTP mocks its calls see.
    pub fn mocks(&self) -> &HttpMocks {
        &self.inner.mocks
    }

    /// Sets a config value (`wasi:config/store`) for the following calls.
    pub fn set_config(&self, key: impl Into<String>, value: impl Into<String>) {
        let mut config = lock(&self.inner.config);
        config.values.insert(key.into(), value.into());
        config.snapshot = Arc::new(config.values.iter().collect());
    }

    /// Removes a config value.
    pub fn remove_config(&self, key: &str) {
        let mut config = lock(&self.inner.config);
        config.values.remove(key);
        config.snapshot = Arc::new(config.values.iter().collect());
    }

    /// The config values calls see.
    pub fn config(&self) -> BTreeMap<String, String> {
        lock(&self.inner.config).values.clone()
    }

    /// Moves the wall clock the following calls see
    /// (`wasi:clocks/wall-clock`, so `SystemTime::now()` in the guest) forward
    /// by `by`: tests of expiry run without sleeping. Offsets add up; the
    /// monotonic clock and the host's timeouts are not affected.
    pub fn advance_clock(&self, by: std::time::Duration) {
        self.inner.clock.advance(by);
    }

    /// How far the guest's wall clock runs ahead of the host's.
    pub fn clock_offset(&self) -> std::time::Duration {
        self.inner.clock.get()
    }

    /// Puts the guest's wall clock back in step with the host's.
    pub fn reset_clock(&self) {
        self.inner.clock.reset();
    }

    /// The limits of the following calls.
    pub fn limits(&self) -> Limits {
        *lock(&self.inner.limits)
    }

    /// Changes the limits of the following calls.
    pub fn set_limits(&self, limits: Limits) -> Result<(), Error> {
        let max = self.inner.runtime.config().max_memory;
        if limits.memory > max {
            return Err(Error::Limits(format!(
                "a memory cap of {} bytes is over the runtime's maximum of {max} bytes; \
                 raise `RuntimeConfig::max_memory`",
                limits.memory
            )));
        }
        if limits.fuel.is_some() && !self.inner.runtime.config().fuel {
            return Err(Error::Limits(
                "a fuel cap needs a runtime with fuel metering (`RuntimeConfig::fuel`)".into(),
            ));
        }
        *lock(&self.inner.limits) = limits;
        Ok(())
    }

    /// Calls the function with a request whose body may still be streaming
    /// (a hyper server's). A body over the cap is refused with 413 before
    /// the guest runs, by `content-length` or while reading.
    pub async fn handle_incoming<B>(&self, request: http::Request<B>) -> CallResult
    where
        B: http_body::Body<Data = Bytes>,
        B::Error: std::error::Error + Send + Sync + 'static,
    {
        let started = Instant::now();
        let limit = self.limits().max_request_body;
        let too_large = |size: u64| CallError::BodyTooLarge {
            size,
            limit: limit as u64,
        };
        let declared = request
            .headers()
            .get(http::header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok()?.parse::<u64>().ok());
        if let Some(size) = declared.filter(|&size| size > limit as u64) {
            return rejected(too_large(size), started);
        }
        let (parts, body) = request.into_parts();
        let body = match Limited::new(body, limit).collect().await {
            Ok(collected) => collected.to_bytes(),
            Err(err) if err.is::<http_body_util::LengthLimitError>() => {
                return rejected(too_large(limit as u64 + 1), started);
            }
            Err(err) => {
                return rejected(
                    CallError::BadRequest(format!("reading the body: {err}")),
                    started,
                );
            }
        };
        self.handle(http::Request::from_parts(parts, body)).await
    }

    /// Calls the function: a fresh instance, this request, the limits in
    /// force. Never fails: a failed call is a 4xx/5xx response with
    /// [`CallResult::error`] saying why.
    ///
    /// Must run inside a tokio runtime with timers enabled (`enable_time` or
    /// `enable_all`). Long computations yield to the runtime at every epoch
    /// tick, so concurrent calls on a multi-threaded runtime share it fairly.
    pub async fn handle(&self, request: http::Request<Bytes>) -> CallResult {
        let started = Instant::now();
        let limits = self.limits();
        let size = request.body().len();
        if size > limits.max_request_body {
            let error = CallError::BodyTooLarge {
                size: size as u64,
                limit: limits.max_request_body as u64,
            };
            return rejected(error, started);
        }

        let stdout = LogPipe::new(limits.max_log_bytes);
        let stderr = LogPipe::new(limits.max_log_bytes);
        let recorded = Arc::new(Mutex::new(Vec::new()));
        let hooks = OutboundHooks {
            mocks: self.inner.mocks.clone(),
            recorded: recorded.clone(),
        };
        let config = lock(&self.inner.config).snapshot.clone();
        let state = HostState::new(
            &stdout,
            &stderr,
            hooks,
            self.inner.kv.clone(),
            config,
            limits.memory,
            self.inner.clock.wall_clock(),
        );
        let mut store = Store::new(self.inner.runtime.engine(), state);
        store.limiter(|state| &mut state.limiter);
        let fuel = self.inner.runtime.config().fuel.then(|| {
            let fuel = limits.fuel.unwrap_or(u64::MAX);
            store
                .set_fuel(fuel)
                .expect("the runtime meters fuel, so setting it cannot fail");
            fuel
        });
        let deadline = started + limits.timeout;
        store.set_epoch_deadline(1);
        store.epoch_deadline_callback(move |_| {
            if Instant::now() >= deadline {
                Err(TimeoutExceeded(limits.timeout).into())
            } else {
                // tokio's yield_now lets the scheduler poll its timers and
                // sockets before resuming a long computation.
                Ok(UpdateDeadline::YieldCustom(
                    1,
                    Box::pin(tokio::task::yield_now()),
                ))
            }
        });

        let mut timings = Timings::default();
        let run = run(&mut store, &self.inner.pre, request, &mut timings);
        let outcome = tokio::time::timeout(limits.timeout, run)
            .await
            .unwrap_or_else(|_| {
                let err = wasmtime::Error::new(TimeoutExceeded(limits.timeout));
                Err(RunError::Wasm(Stage::Call, err))
            });

        let handler = timings.called.map(|at| at.elapsed()).unwrap_or_default();
        let mut host_log = Vec::new();
        let result = outcome.map_err(|err| classify(err, &store, &limits, &mut host_log));
        let metrics = Metrics {
            instantiate: timings.instantiate,
            handler,
            total: started.elapsed(),
            peak_memory: store.data().limiter.peak(),
            fuel: fuel.and_then(|start| Some(start - store.get_fuel().ok()?)),
        };
        drop(store);

        let outbound = std::mem::take(&mut *lock(&recorded));
        let mut first_unmatched = None;
        for request in outbound.iter().filter(|r| r.outcome == Outcome::Unmatched) {
            host_log.push(unmatched_message(&request.method, &request.url));
            first_unmatched.get_or_insert_with(|| CallError::UnmatchedOutbound {
                method: request.method.clone(),
                url: request.url.clone(),
            });
        }
        let logs = logs::collect(&stdout, &stderr);
        if logs.dropped > 0 {
            host_log.push(format!(
                "{} bytes of guest output were dropped (cap: {} bytes per stream)",
                logs.dropped, limits.max_log_bytes
            ));
        }
        let (response, error) = match result {
            Ok(response) => (response, first_unmatched),
            Err(error) => (error.response(), Some(error)),
        };
        CallResult {
            response,
            logs,
            host_log,
            metrics,
            outbound,
            error,
        }
    }
}
