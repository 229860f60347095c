//! The call path, in the order a call takes it: [`Function::handle`] checks
//! the request against the limits and builds the call's store
//! ([`state`]: WASI, HTTP, key-value, config, the memory limiter), arms the
//! timeout, runs the guest on a fresh instance ([`run`]), classifies a
//! failure into a [`CallError`], and gathers logs, metrics and outbound
//! requests into a [`CallResult`] ([`result`]).

mod result;
mod run;
mod state;

pub use result::{CallError, CallResult, Metrics};
pub(crate) use state::{ConfigSnapshot, HostState, linker};

use crate::function::{Function, lock};
use crate::limits::TimeoutExceeded;
use crate::logs::{self, LogPipe};
use crate::outbound::{OutboundHooks, Outcome, unmatched_message};
use crate::recording::tape::{Seeds, Tape};
use bytes::Bytes;
use http_body_util::{BodyExt, Limited};
use run::{RunError, Stage, Timings, classify};
use std::sync::{Arc, Mutex};
use std::time::Instant;
use wasmtime::{Store, UpdateDeadline};

impl Function {
    /// Calls the function with a request whose body may still be streaming
    /// (a hyper server's). A body over the cap is refused with 413 before
    /// the guest runs, by `content-length` or while reading; a body that has
    /// not arrived within [`Limits::body_timeout`](crate::Limits::body_timeout)
    /// with 408.
    pub async fn handle_incoming<B>(&self, request: http::Request<B>) -> CallResult
    where
        B: http_body::Body<Data = Bytes>,
        B::Error: std::error::Error + Send + Sync + 'static,
    {
        match self.collect_body(request).await {
            Ok(request) => self.handle(request).await,
            Err(rejected) => rejected,
        }
    }

    /// [`Function::handle_incoming`], recorded as
    /// [`Function::handle_recorded`] records: the recording is `None` when
    /// the request was refused before the guest ran (413, 408, 400).
    pub async fn handle_incoming_recorded<B>(
        &self,
        request: http::Request<B>,
        options: &crate::RecordOptions,
    ) -> (CallResult, Option<crate::Recording>)
    where
        B: http_body::Body<Data = Bytes>,
        B::Error: std::error::Error + Send + Sync + 'static,
    {
        match self.collect_body(request).await {
            Ok(request) => {
                let (result, recording) = self.handle_recorded(request, options).await;
                (result, Some(recording))
            }
            Err(rejected) => (rejected, None),
        }
    }

    /// Reads a streaming body whole, under the size cap and the body
    /// timeout; a refusal is the call's result.
    async fn collect_body<B>(
        &self,
        request: http::Request<B>,
    ) -> Result<http::Request<Bytes>, CallResult>
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
            return Err(CallResult::rejected(too_large(size), started));
        }
        let (parts, body) = request.into_parts();
        let body_timeout = self.limits().body_timeout;
        let collected = tokio::time::timeout(body_timeout, Limited::new(body, limit).collect());
        let Ok(collected) = collected.await else {
            return Err(CallResult::rejected(
                CallError::BodyTimeout(body_timeout),
                started,
            ));
        };
        let body = match collected {
            Ok(collected) => collected.to_bytes(),
            Err(err) if err.is::<http_body_util::LengthLimitError>() => {
                return Err(CallResult::rejected(too_large(limit as u64 + 1), started));
            }
            Err(err) => {
                let error = CallError::BadRequest(format!("reading the body: {err}"));
                return Err(CallResult::rejected(error, started));
            }
        };
        Ok(http::Request::from_parts(parts, body))
    }

    /// Calls the function: a fresh instance, this request, the limits in
    /// force. Never fails: a failed call is a 4xx/5xx response with
    /// [`CallResult::error`] saying why.
    ///
    /// Must run inside a tokio runtime with timers enabled (`enable_time` or
    /// `enable_all`). Long computations yield to the runtime at every epoch
    /// tick, so concurrent calls on a multi-threaded runtime share it fairly.
    pub async fn handle(&self, request: http::Request<Bytes>) -> CallResult {
        self.call(request, None, self.config_snapshot()).await
    }

    /// [`Function::handle`], with the imports going through `tape` when the
    /// call is recorded or replayed, and `config` the values it reads.
    pub(crate) async fn call(
        &self,
        request: http::Request<Bytes>,
        tape: Option<(Arc<Tape>, Seeds)>,
        config: Arc<ConfigSnapshot>,
    ) -> CallResult {
        let started = Instant::now();
        let limits = self.limits();
        let size = request.body().len();
        if size > limits.max_request_body {
            let error = CallError::BodyTooLarge {
                size: size as u64,
                limit: limits.max_request_body as u64,
            };
            return CallResult::rejected(error, started);
        }

        let stdout = LogPipe::new(limits.max_log_bytes);
        let stderr = LogPipe::new(limits.max_log_bytes);
        let recorded = Arc::new(Mutex::new(Vec::new()));
        let hooks = OutboundHooks {
            mocks: self.inner.mocks.clone(),
            recorded: recorded.clone(),
            tape: tape.as_ref().map(|(tape, _)| tape.clone()),
        };
        let state = HostState::new(
            (&stdout, &stderr),
            hooks,
            self.inner.kv.clone(),
            config,
            limits.memory,
            self.inner.clock.wall_clock(),
            tape,
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
        let run = run::run(&mut store, &self.inner.pre, request, &mut timings);
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
