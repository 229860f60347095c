//! The synchronous test harness: [`TestFunction`] for plain `#[test]`s.

use crate::build::{build_package, build_package_for};
use anyhow::Context as _;
use bytes::Bytes;
use fn_runtime::{
    CallResult, Function, KeyValue, Limits, RecordOptions, Recording, Replay, Runtime,
};
use fnsdk::CloudEvent;
use http::Method;
use serde::Serialize;
use std::collections::BTreeMap;
use std::path::Path;

/// A function under test, with a blocking API.
///
/// ```no_run
/// use fn_host_test::TestFunction;
///
/// let f = TestFunction::load("target/fn/hello.wasm").unwrap();
/// f.set_config("greeting", "hi");
/// let res = f.get("/?name=Ada");
/// assert_eq!(res.status(), 200, "{}", res.describe());
/// assert_eq!(res.text(), "hi, Ada");
/// ```
///
/// Every call gets a fresh instance; key-value, config, mocks and limits
/// carry over between calls. Inside an async test use [`Self::function`]
/// and `.handle(..).await` instead: the blocking calls here would panic
/// inside a tokio runtime.
///
/// Setters are named `set_*` and getters after what they return, as on
/// [`Function`]. To require signatures, load on a runtime whose
/// [`RuntimeConfig::trusted_keys`](fn_runtime::RuntimeConfig::trusted_keys)
/// are set ([`Self::load_on`]).
#[derive(Debug)]
pub struct TestFunction {
    function: Function,
    tokio: tokio::runtime::Runtime,
}

impl TestFunction {
    /// Loads the component at `path` on the process-wide [`Runtime`].
    pub fn load(path: impl AsRef<Path>) -> anyhow::Result<Self> {
        let runtime = Runtime::shared().context("starting the wasmtime runtime")?;
        Self::load_on(&runtime, path)
    }

    /// Loads the component at `path` on the process-wide runtime that meters
    /// fuel ([`Metrics::fuel`](fn_runtime::Metrics::fuel) is then set).
    pub fn load_with_fuel(path: impl AsRef<Path>) -> anyhow::Result<Self> {
        let runtime = Runtime::shared_with_fuel().context("starting the wasmtime runtime")?;
        Self::load_on(&runtime, path)
    }

    /// Builds the package whose `Cargo.toml` is `manifest_path` with
    /// [`build_package`] (the `cargo fn build --release` pipeline, once per
    /// test process) and loads the artifact. Every call gets a fresh
    /// function with its own key-value, config and mocks. In a function's own
    /// tests:
    /// `TestFunction::from_package(concat!(env!("CARGO_MANIFEST_DIR"), "/Cargo.toml"))`.
    pub fn from_package(manifest_path: impl AsRef<Path>) -> anyhow::Result<Self> {
        let artifact = build_package(manifest_path)?;
        Self::load(&artifact)
    }

    /// Like [`from_package`](Self::from_package), but loads what the host
    /// `host_id` runs ([`build_package_for`]): for `"spin"`, the function
    /// composed with the Spin adapter, so the same test runs against what
    /// `cargo fn deploy --provider spin` ships.
    pub fn from_package_for(
        manifest_path: impl AsRef<Path>,
        host_id: &str,
    ) -> anyhow::Result<Self> {
        let artifact = build_package_for(manifest_path, host_id)?;
        Self::load(&artifact)
    }

    /// Loads the component at `path` on `runtime`.
    pub fn load_on(runtime: &Runtime, path: impl AsRef<Path>) -> anyhow::Result<Self> {
        let path = path.as_ref();
        let function = runtime
            .load(path)
            .with_context(|| format!("loading `{}`", path.display()))?;
        Self::new(function)
    }

    /// Wraps an already loaded function.
    pub fn new(function: Function) -> anyhow::Result<Self> {
        let tokio = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .context("starting a tokio runtime for the test harness")?;
        Ok(TestFunction { function, tokio })
    }

    /// The underlying function (async API, shared state).
    pub fn function(&self) -> &Function {
        &self.function
    }

    /// Calls the function with `request`.
    /// `request` is an `http::Request` with any body that converts to
    /// `Bytes`, or one of `fnsdk::testing`'s (`get("/")`, `post_json(..)`),
    /// so native and component tests build requests the same way.
    pub fn call(&self, request: impl IntoRequest) -> CallResult {
        let request = request.into_request();
        self.tokio.block_on(self.function.handle(request))
    }

    /// Calls the function with `request`, as [`Self::call`] does, and
    /// records everything that crossed its boundary (see
    /// [`Function::handle_recorded`]). Config values named in
    /// `options.secrets` are withheld from the recording.
    ///
    /// `recording.write(path)` keeps it; [`Self::replay`] runs it again.
    pub fn record(
        &self,
        request: impl IntoRequest,
        options: &RecordOptions,
    ) -> (CallResult, Recording) {
        let request = request.into_request();
        self.tokio
            .block_on(self.function.handle_recorded(request, options))
    }

    /// Replays the recording in the file at `path` (from `cargo fn serve
    /// --record`, a cloud runner, or [`Self::record`]) on this function: the
    /// recorded request, every import answered from the recording. A
    /// production failure becomes a regression test in one step:
    ///
    /// ```no_run
    /// # let f = fn_host_test::TestFunction::load("target/fn/checkout.wasm").unwrap();
    /// let replay = f.replay("tests/recordings/declined.jsonl").unwrap();
    /// assert!(replay.is_identical(), "{:?}", replay.divergences);
    /// assert_eq!(replay.result.status(), 402);
    /// ```
    ///
    /// Fails when the file is not a complete recording, is of a newer
    /// format, or records another function.
    pub fn replay(&self, path: impl AsRef<Path>) -> anyhow::Result<Replay> {
        let path = path.as_ref();
        let recording = Recording::from_file(path)?;
        self.replay_recording(&recording)
            .with_context(|| format!("replaying `{}`", path.display()))
    }

    /// Replays `recording` on this function (see [`Self::replay`]).
    pub fn replay_recording(&self, recording: &Recording) -> anyhow::Result<Replay> {
        Ok(self.tokio.block_on(self.function.replay(recording))?)
    }

    /// `GET path`.
    pub fn get(&self, path: &str) -> CallResult {
        self.call(request(Method::GET, path, Bytes::new()))
    }

    /// `POST path` with `body`.
    pub fn post(&self, path: &str, body: impl Into<Bytes>) -> CallResult {
        self.call(request(Method::POST, path, body.into()))
    }

    /// `POST path` with `value` as a JSON body (`content-type:
    /// application/json`).
    pub fn post_json<T: Serialize>(&self, path: &str, value: &T) -> CallResult {
        let body = serde_json::to_vec(value).expect("the value serializes to JSON");
        let mut req = request(Method::POST, path, body.into());
        req.headers_mut().insert(
            http::header::CONTENT_TYPE,
            http::HeaderValue::from_static("application/json"),
        );
        self.call(req)
    }

    /// Delivers `event` as a binary-mode CloudEvent (`ce-*` headers), the way
    /// Knative, Eventarc and Dapr do.
    pub fn send_event<T: Serialize>(&self, event: &CloudEvent<T>) -> CallResult {
        let req = event
            .to_binary_request()
            .expect("the event data serializes to JSON");
        self.call(req)
    }

    /// Delivers `event` as a structured-mode CloudEvent
    /// (`application/cloudevents+json`).
    pub fn send_event_structured<T: Serialize>(&self, event: &CloudEvent<T>) -> CallResult {
        let req = event
            .to_structured_request()
            .expect("the event data serializes to JSON");
        self.call(req)
    }

    /// The key-value store (seed before a call, read after).
    pub fn kv(&self) -> &KeyValue {
        self.function.kv()
    }

    /// Sets a config value (`wasi:config/store`) for the following calls.
    pub fn set_config(&self, key: impl Into<String>, value: impl Into<String>) -> &Self {
        self.function.set_config(key, value);
        self
    }

    /// The config values the following calls see.
    pub fn config_values(&self) -> BTreeMap<String, String> {
        self.function.config_values()
    }

    /// Answers outbound `method url` requests (exact URL) with `response`.
    pub fn mock_http<B: Into<Bytes>>(
        &self,
        method: Method,
        url: &str,
        response: http::Response<B>,
    ) -> &Self {
        self.function
            .mocks()
            .mock(Some(method), url, response.map(Into::into));
        self
    }

    /// Answers outbound `method url` requests (exact URL) with `response`
    /// after `delay`, like a slow upstream: for tests of requests that run
    /// concurrently.
    pub fn mock_http_delayed<B: Into<Bytes>>(
        &self,
        method: Method,
        url: &str,
        response: http::Response<B>,
        delay: std::time::Duration,
    ) -> &Self {
        self.function
            .mocks()
            .mock_delayed(Some(method), url, response.map(Into::into), delay);
        self
    }

    /// Answers outbound `method` requests whose URL starts with `prefix`.
    pub fn mock_http_prefix<B>(
        &self,
        method: Method,
        prefix: &str,
        response: http::Response<B>,
    ) -> &Self
    where
        B: Into<Bytes>,
    {
        self.function
            .mocks()
            .mock_prefix(Some(method), prefix, response.map(Into::into));
        self
    }

    /// Removes every outbound mock (to register different answers for the
    /// following calls: mocks match in registration order).
    pub fn clear_mocks(&self) -> &Self {
        self.function.mocks().clear();
        self
    }

    /// Moves the wall clock the following calls see forward by `by` (see
    /// [`Function::advance_clock`]).
    pub fn advance_clock(&self, by: std::time::Duration) -> &Self {
        self.function.advance_clock(by);
        self
    }

    /// Replaces the per-call limits. Panics when they exceed what the
    /// runtime allows (see [`Function::set_limits`]).
    #[track_caller]
    pub fn set_limits(&self, limits: Limits) -> &Self {
        if let Err(err) = self.function.set_limits(limits) {
            panic!("{err}");
        }
        self
    }

    /// The per-call limits in force.
    pub fn limits(&self) -> Limits {
        self.function.limits()
    }
}

fn request(method: Method, path: &str, body: Bytes) -> http::Request<Bytes> {
    http::Request::builder()
        .method(method)
        .uri(path)
        .body(body)
        .unwrap_or_else(|err| panic!("invalid request path {path:?}: {err}"))
}

/// What [`TestFunction::call`] takes: an `http::Request` whose body converts
/// to `Bytes` (`String`, `&str`, `Vec<u8>`, ...), or an `fnsdk::Request`.
pub trait IntoRequest {
    /// The request the runtime hands the component.
    fn into_request(self) -> http::Request<Bytes>;
}

impl<B: Into<Bytes>> IntoRequest for http::Request<B> {
    fn into_request(self) -> http::Request<Bytes> {
        self.map(Into::into)
    }
}

impl IntoRequest for fnsdk::Request {
    fn into_request(self) -> http::Request<Bytes> {
        self.into_http()
    }
}
