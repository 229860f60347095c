//! Conformance: one built artifact, several hosts, the same answers.
//!
//! A [`Scenario`] is an example function's artifact (built once by the
//! `cargo fn build` pipeline), its config, a preset key-value store and a list
//! of requests, each with the status it must get. [`Scenario::run`] sends
//! every request to fn-host-test (the embedded runtime behind the test
//! harness, `cargo fn serve` and `cargo fn invoke`), to `wasmtime serve` (the
//! wasmtime project's own CLI, a host this project did not write) and to the
//! native runner of the cloud bundles ([`runner`]: `http` mode as on Cloud
//! Run, `azure` mode as a custom handler, `lambda` mode behind the Function
//! URL of the `cargo lambda` Runtime API emulator, key-value on a real
//! Redis), to the JavaScript bundles on their providers' local runtimes
//! ([`js`]: `wrangler dev`, `netlify functions:serve`), to NGINX Unit's
//! model (the artifact `cargo fn deploy --provider unit` writes, composed
//! with the files adapter, under `wasmtime serve` with all of WASI, a
//! preopened directory and the config as variables), and
//! compares status (with the expected one too), `content-type`, body and
//! the outbound requests each made to the [`providers`] on loopback.
//!
//! `wasmtime serve` gives every request a fresh copy of the preset store, so
//! each request starts from the same key-value state on both hosts: the
//! embedded store is reset to the preset before every request. The
//! JavaScript hosts and Unit's model keep their state, as the providers do: they are compared
//! with a second fn-host-test instance that keeps its state too, so a flow
//! across requests (send a code, then verify it) is compared there. A
//! JavaScript host that cannot run the artifact is skipped, with the reason
//! `cargo fn deploy` refuses it with in the report.

mod child;
pub mod js;
pub mod providers;
pub mod runner;
pub mod wasmtime_serve;

use anyhow::Context as _;
use bytes::Bytes;
use fn_host_test::TestFunction;
use http::{HeaderMap, Method, Request, StatusCode};
use http_body_util::{BodyExt as _, Full};
use hyper_util::rt::TokioIo;
use js::{JsHost, JsProvider};
use providers::{Providers, Received};
use runner::{Runner, RunnerMode};
use std::fmt::Write as _;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use wasmtime_serve::WasmtimeServe;

/// Builds the function package at `dir` (relative to the workspace root,
/// e.g. `examples/checkout`) with [`fn_host_test::build_package`] (the
/// `cargo fn build` pipeline, release, once per process) and returns the
/// artifact both hosts run.
pub fn build_package(dir: &str) -> anyhow::Result<PathBuf> {
    fn_host_test::build_package(workspace().join(dir).join("Cargo.toml"))
}

fn workspace() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("conformance/ lives in the workspace")
}

/// One request and what may legitimately differ in its answer.
pub struct Step {
    /// A short name for the report.
    pub name: String,
    /// The request (path-only URI).
    pub request: Request<Bytes>,
    /// JSON pointers into the response body whose values may differ
    /// (random ids); they must be present on both sides.
    pub masked_body: Vec<String>,
    /// Response headers whose values may differ but must be present on
    /// both sides (`location` with a random id).
    pub masked_headers: Vec<String>,
    /// Whether outbound request bodies and idempotency keys may differ
    /// (they carry random codes or ids); method, path and auth must not.
    pub outbound_random: bool,
    /// The status every host must answer, so that hosts failing alike do
    /// not pass. Every step states one.
    pub expected: Option<StatusCode>,
}

impl Step {
    /// A step sending `request`.
    pub fn new(name: impl Into<String>, request: Request<Bytes>) -> Self {
        Step {
            name: name.into(),
            request,
            masked_body: Vec::new(),
            masked_headers: Vec::new(),
            outbound_random: false,
            expected: None,
        }
    }

    /// `GET path`.
    pub fn get(name: impl Into<String>, path: &str) -> Self {
        Self::new(name, request(Method::GET, path, None, Bytes::new()))
    }

    /// `POST path` with a JSON body.
    pub fn post_json(name: impl Into<String>, path: &str, body: &serde_json::Value) -> Self {
        Self::post(name, path, "application/json", body.to_string())
    }

    /// `POST path` with `content_type` and `body`.
    pub fn post(
        name: impl Into<String>,
        path: &str,
        content_type: &str,
        body: impl Into<Bytes>,
    ) -> Self {
        Self::new(
            name,
            request(Method::POST, path, Some(content_type), body.into()),
        )
    }

    /// Adds a request header.
    pub fn header(mut self, name: &'static str, value: &str) -> Self {
        self.request.headers_mut().insert(
            name,
            value.parse().expect("a valid header value in a scenario"),
        );
        self
    }

    /// Lets the value at JSON pointer `pointer` differ.
    pub fn mask(mut self, pointer: &str) -> Self {
        self.masked_body.push(pointer.to_owned());
        self
    }

    /// Lets header `name` differ (it must be present on both sides).
    pub fn mask_header(mut self, name: &str) -> Self {
        self.masked_headers.push(name.to_owned());
        self
    }

    /// The status every host must answer.
    pub fn expect(mut self, status: u16) -> Self {
        self.expected = Some(StatusCode::from_u16(status).expect("a valid status in a scenario"));
        self
    }

    /// Lets outbound bodies and idempotency keys differ.
    pub fn outbound_random(mut self) -> Self {
        self.outbound_random = true;
        self
    }
}

fn request(method: Method, path: &str, content_type: Option<&str>, body: Bytes) -> Request<Bytes> {
    let mut builder = Request::builder().method(method).uri(path);
    if let Some(content_type) = content_type {
        builder = builder.header("content-type", content_type);
    }
    builder.body(body).expect("a valid request in a scenario")
}

/// What one host answered to one step.
#[derive(Debug, Clone)]
pub struct Observed {
    /// Status.
    pub status: StatusCode,
    /// Headers.
    pub headers: HeaderMap,
    /// Body.
    pub body: Bytes,
    /// The outbound requests the providers received.
    pub outbound: Vec<Received>,
}

impl Observed {
    fn summary(&self) -> String {
        let mut out = format!(
            "{} content-type={:?} body={}",
            self.status,
            self.headers.get("content-type"),
            String::from_utf8_lossy(&self.body)
        );
        for r in &self.outbound {
            let _ = write!(out, "\n      -> {} {} {}", r.method, r.path, r.body_str());
        }
        out
    }
}

/// A function, its setup and the requests to compare.
pub struct Scenario {
    /// The package directory, relative to the workspace root.
    pub package_dir: String,
    /// `wasi:config` values (no commas: see [`WasmtimeServe::start`]).
    pub config: Vec<(String, String)>,
    /// The key-value store every request starts from.
    pub kv: Vec<(String, String)>,
    /// The requests.
    pub steps: Vec<Step>,
}

/// The outcome of one step on fn-host-test and one other host.
pub struct Compared {
    /// The step's name.
    pub name: String,
    /// The other host's name.
    pub host: String,
    /// fn-host-test's answer.
    pub embedded: Observed,
    /// The other host's answer.
    pub independent: Observed,
    /// Differences; empty when the hosts agreed.
    pub differences: Vec<String>,
}

/// Every step's comparison.
pub struct Report {
    /// The package directory the artifact was built from.
    pub example: String,
    /// Per step and host.
    pub steps: Vec<Compared>,
    /// What each other host printed (for diagnosing a difference).
    pub outputs: Vec<(String, String)>,
    /// The hosts that cannot run the artifact, each with why (what
    /// `cargo fn deploy` says when it refuses).
    pub skipped: Vec<(String, String)>,
}

impl Report {
    /// Panics with a readable table when any step differs.
    #[track_caller]
    pub fn assert_same(&self) {
        let mut failures = String::new();
        for step in &self.steps {
            if !step.differences.is_empty() {
                let _ = writeln!(failures, "  {} on {}:", step.name, step.host);
                for d in &step.differences {
                    let _ = writeln!(failures, "    - {d}");
                }
                let _ = writeln!(failures, "    fn-host-test:  {}", step.embedded.summary());
                let _ = writeln!(
                    failures,
                    "    {}: {}",
                    step.host,
                    step.independent.summary()
                );
            }
        }
        let mut outputs = String::new();
        for (host, output) in &self.outputs {
            let _ = writeln!(outputs, "{host} output:\n{output}");
        }
        assert!(
            failures.is_empty(),
            "{}: the hosts answered differently\n{failures}\n{outputs}",
            self.example
        );
    }

    /// One line per step and host: name, host, statuses, outbound request
    /// counts (embedded / other), and whether the hosts agreed.
    pub fn table(&self) -> String {
        let mut out = String::new();
        for (host, why) in &self.skipped {
            let _ = writeln!(
                out,
                "{:<24} skipped on {host}: {}",
                self.example,
                why.replace('\n', " ")
            );
        }
        for step in &self.steps {
            let _ = writeln!(
                out,
                "{:<24} {:<36} {:<18} {} / {}  outbound {} / {}  {}",
                self.example,
                step.name,
                step.host,
                step.embedded.status.as_u16(),
                step.independent.status.as_u16(),
                step.embedded.outbound.len(),
                step.independent.outbound.len(),
                if step.differences.is_empty() {
                    "same"
                } else {
                    "DIFFERENT"
                }
            );
        }
        out
    }
}

impl Scenario {
    /// A scenario for the package at `dir` (relative to the workspace root).
    pub fn new(dir: &str) -> Self {
        Scenario {
            package_dir: dir.to_owned(),
            config: Vec::new(),
            kv: Vec::new(),
            steps: Vec::new(),
        }
    }

    /// Adds a config value.
    pub fn config(mut self, key: &str, value: impl Into<String>) -> Self {
        self.config.push((key.to_owned(), value.into()));
        self
    }

    /// Adds a preset key-value entry.
    pub fn kv(mut self, key: &str, value: impl Into<String>) -> Self {
        self.kv.push((key.to_owned(), value.into()));
        self
    }

    /// Adds a step.
    pub fn step(mut self, step: Step) -> Self {
        self.steps.push(step);
        self
    }

    /// Builds the example, starts every host and compares every step's
    /// answer on each with fn-host-test's, and with the expected status.
    pub fn run(self, providers: &Providers) -> anyhow::Result<Report> {
        if let Some(step) = self.steps.iter().find(|s| s.expected.is_none()) {
            anyhow::bail!(
                "{}: step {:?} states no expected status (Step::expect)",
                self.package_dir,
                step.name
            );
        }
        let artifact = build_package(&self.package_dir)?;
        let mut hosts = vec![
            Host::Wasmtime(WasmtimeServe::start(&artifact, &self.config, &self.kv)?),
            Host::Runner(
                RunnerMode::Http,
                Runner::start(&artifact, &self.config, RunnerMode::Http)?,
            ),
            Host::Runner(
                RunnerMode::Azure,
                Runner::start(&artifact, &self.config, RunnerMode::Azure)?,
            ),
            Host::Runner(
                RunnerMode::Lambda,
                Runner::start(&artifact, &self.config, RunnerMode::Lambda)?,
            ),
        ];
        let manifest = workspace().join(&self.package_dir).join("Cargo.toml");
        // NGINX Unit's model: the artifact `cargo fn deploy --provider unit`
        // writes (composed with the files adapter when it uses key-value or
        // config), its stores a folder each under a preopened directory.
        let unit_dir = tempfile::tempdir()?;
        let store = unit_dir.path().join(fn_host_test::DEFAULT_STORE);
        std::fs::create_dir(&store)?;
        for (key, value) in &self.kv {
            let name = fn_wit::keyvalue::files::file_name(key)?;
            std::fs::write(store.join(name), value)?;
        }
        let unit_artifact = fn_host_test::build_package_for(&manifest, "nginx-unit")?;
        hosts.push(Host::Unit {
            serve: WasmtimeServe::start_as_unit(&unit_artifact, &self.config, unit_dir.path())?,
            _files: unit_dir,
        });
        let mut skipped = Vec::new();
        for provider in JsProvider::ALL {
            match JsHost::start(provider, &manifest, &artifact, &self.config, &self.kv)? {
                Ok(host) => hosts.push(Host::Js(provider, host)),
                Err(why) => skipped.push((provider.name().to_owned(), why)),
            }
        }
        let load = || -> anyhow::Result<TestFunction> {
            let function = TestFunction::load(&artifact)?;
            for (key, value) in &self.config {
                function.set_config(key.clone(), value.clone());
            }
            // Outbound requests go to the loopback providers, like the others'.
            function.function().mocks().allow_network(true);
            Ok(function)
        };
        let embedded = load()?;
        // The baseline of the hosts that keep their state.
        let stateful = load()?;
        let store = stateful.kv().store(fn_host_test::DEFAULT_STORE);
        for (key, value) in &self.kv {
            store.set(key, value.as_bytes());
        }
        let client = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        providers.take();

        let mut steps = Vec::new();
        for step in &self.steps {
            let store = embedded.kv().store(fn_host_test::DEFAULT_STORE);
            store.clear();
            for (key, value) in &self.kv {
                store.set(key, value.as_bytes());
            }
            let call = |function: &TestFunction| {
                let result = function.call(step.request.clone());
                Observed {
                    status: result.status(),
                    headers: result.response.headers().clone(),
                    body: result.response.body().clone(),
                    outbound: providers.take(),
                }
            };
            let embedded_seen = call(&embedded);
            let stateful_seen = hosts.iter().any(Host::keeps_state).then(|| call(&stateful));
            for host in &hosts {
                host.reset_kv(&self.kv)?;
                let response = client
                    .block_on(send(host.addr(), &host.path_prefix(), step.request.clone()))
                    .with_context(|| {
                        format!(
                            "{} {}: sending to {}; its output:\n{}",
                            self.package_dir,
                            step.name,
                            host.name(),
                            host.output()
                        )
                    })?;
                let independent_seen = Observed {
                    status: response.status(),
                    headers: response.headers().clone(),
                    body: response.into_body(),
                    outbound: providers.take(),
                };
                let baseline = match (&stateful_seen, host.keeps_state()) {
                    (Some(stateful), true) => stateful,
                    _ => &embedded_seen,
                };
                let differences = compare(step, baseline, &independent_seen);
                steps.push(Compared {
                    name: step.name.clone(),
                    host: host.name(),
                    embedded: baseline.clone(),
                    independent: independent_seen,
                    differences,
                });
            }
        }
        Ok(Report {
            example: self.package_dir,
            steps,
            outputs: hosts.iter().map(|h| (h.name(), h.output())).collect(),
            skipped,
        })
    }
}

/// A host compared with fn-host-test.
enum Host {
    /// The wasmtime project's CLI.
    Wasmtime(WasmtimeServe),
    /// The native runner in one of its modes.
    Runner(RunnerMode, Runner),
    /// A JavaScript provider's local runtime.
    Js(JsProvider, JsHost),
    /// `wasmtime serve` as NGINX Unit runs a component, on the artifact
    /// for Unit, with the directory of its key-value files.
    Unit {
        serve: WasmtimeServe,
        /// Removed when the host is dropped.
        _files: tempfile::TempDir,
    },
}

impl Host {
    fn name(&self) -> String {
        match self {
            Host::Wasmtime(_) => "wasmtime serve".into(),
            Host::Runner(mode, _) => format!("fn-runner {}", mode.name()),
            Host::Js(provider, _) => provider.name().into(),
            Host::Unit { .. } => "NGINX Unit model".into(),
        }
    }

    fn addr(&self) -> SocketAddr {
        match self {
            Host::Wasmtime(host) => host.addr(),
            Host::Runner(_, host) => host.addr(),
            Host::Js(_, host) => host.addr(),
            Host::Unit { serve, .. } => serve.addr(),
        }
    }

    fn output(&self) -> String {
        match self {
            Host::Wasmtime(host) => host.output(),
            Host::Runner(_, host) => host.output(),
            Host::Js(_, host) => host.output(),
            Host::Unit { serve, .. } => serve.output(),
        }
    }

    /// What the paths of requests to it start with.
    fn path_prefix(&self) -> String {
        match self {
            Host::Wasmtime(_) | Host::Js(..) | Host::Unit { .. } => String::new(),
            Host::Runner(_, host) => host.path_prefix(),
        }
    }

    /// Puts the preset back. `wasmtime serve` starts every request from a
    /// fresh copy of it by itself.
    fn reset_kv(&self, preset: &[(String, String)]) -> anyhow::Result<()> {
        match self {
            Host::Wasmtime(_) | Host::Js(..) | Host::Unit { .. } => Ok(()),
            Host::Runner(_, host) => host.reset_kv(preset),
        }
    }

    /// Whether its key-value state carries over from one request to the
    /// next (it is compared with the fn-host-test instance that keeps its
    /// state).
    fn keeps_state(&self) -> bool {
        matches!(self, Host::Js(..) | Host::Unit { .. })
    }
}

/// Sends `request` to `addr` over HTTP/1.1, its path after `prefix`.
async fn send(
    addr: SocketAddr,
    prefix: &str,
    request: Request<Bytes>,
) -> anyhow::Result<http::Response<Bytes>> {
    let stream = tokio::net::TcpStream::connect(addr).await?;
    let (mut sender, connection) =
        hyper::client::conn::http1::handshake(TokioIo::new(stream)).await?;
    tokio::spawn(connection);
    let (mut parts, body) = request.into_parts();
    if !prefix.is_empty() {
        let target = parts.uri.path_and_query().map_or("/", |p| p.as_str());
        parts.uri = format!("{prefix}{target}")
            .parse()
            .context("a prefixed request target")?;
    }
    parts
        .headers
        .insert("host", addr.to_string().parse().expect("an address"));
    let request = Request::from_parts(parts, Full::new(body));
    let response = tokio::time::timeout(
        std::time::Duration::from_secs(60),
        sender.send_request(request),
    )
    .await
    .context("no answer within 60 s")??;
    let (parts, body) = response.into_parts();
    let body = body.collect().await?.to_bytes();
    Ok(http::Response::from_parts(parts, body))
}

fn compare(step: &Step, a: &Observed, b: &Observed) -> Vec<String> {
    let mut differences = Vec::new();
    if let Some(expected) = step.expected {
        for (who, seen) in [("fn-host-test", a), ("the other host", b)] {
            if seen.status != expected {
                differences.push(format!(
                    "expected status {expected}, {who} answered {}",
                    seen.status
                ));
            }
        }
    }
    if a.status != b.status {
        differences.push(format!("status {} vs {}", a.status, b.status));
    }
    for name in ["content-type", "location", "idempotent-replayed", "allow"] {
        let (x, y) = (a.headers.get(name), b.headers.get(name));
        let masked = step.masked_headers.iter().any(|m| m == name);
        let differs = if masked {
            x.is_some() != y.is_some()
        } else {
            x != y
        };
        if differs {
            differences.push(format!("header {name}: {x:?} vs {y:?}"));
        }
    }
    differences.extend(compare_bodies(step, &a.body, &b.body));
    if a.outbound.len() != b.outbound.len() {
        differences.push(format!(
            "{} outbound requests vs {}",
            a.outbound.len(),
            b.outbound.len()
        ));
    }
    for (i, (x, y)) in a.outbound.iter().zip(&b.outbound).enumerate() {
        let same = x.method == y.method
            && x.path == y.path
            && x.authorization == y.authorization
            && x.content_type == y.content_type
            && (step.outbound_random
                || (x.body == y.body && x.idempotency_key == y.idempotency_key));
        if !same {
            differences.push(format!("outbound request {i}: {x:?} vs {y:?}"));
        }
    }
    differences
}

fn compare_bodies(step: &Step, a: &Bytes, b: &Bytes) -> Option<String> {
    let parsed = (
        serde_json::from_slice::<serde_json::Value>(a),
        serde_json::from_slice::<serde_json::Value>(b),
    );
    let (Ok(mut x), Ok(mut y)) = parsed else {
        return (a != b).then(|| {
            format!(
                "body {:?} vs {:?}",
                String::from_utf8_lossy(a),
                String::from_utf8_lossy(b)
            )
        });
    };
    for pointer in &step.masked_body {
        match (x.pointer_mut(pointer), y.pointer_mut(pointer)) {
            (Some(p), Some(q)) => {
                *p = serde_json::Value::Null;
                *q = serde_json::Value::Null;
            }
            (None, None) => {}
            _ => return Some(format!("{pointer} present on one side only")),
        }
    }
    (x != y).then(|| format!("JSON body {x} vs {y}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seen(status: u16, body: &str) -> Observed {
        let mut headers = HeaderMap::new();
        headers.insert("content-type", "application/json".parse().unwrap());
        Observed {
            status: StatusCode::from_u16(status).unwrap(),
            headers,
            body: Bytes::copy_from_slice(body.as_bytes()),
            outbound: Vec::new(),
        }
    }

    fn outbound(body: &str) -> Received {
        Received {
            method: Method::POST,
            path: "/emails".into(),
            authorization: Some("Bearer k".into()),
            content_type: Some("application/json".into()),
            idempotency_key: None,
            body: Bytes::copy_from_slice(body.as_bytes()),
        }
    }

    #[test]
    fn equal_answers_agree_and_json_key_order_does_not_matter() {
        let step = Step::get("s", "/");
        let a = seen(200, r#"{"a":1,"b":2}"#);
        let b = seen(200, r#"{"b":2,"a":1}"#);
        assert!(compare(&step, &a, &b).is_empty());
    }

    #[test]
    fn status_body_and_header_differences_are_reported() {
        let step = Step::get("s", "/");
        let d = compare(&step, &seen(200, r#"{"a":1}"#), &seen(201, r#"{"a":2}"#));
        assert_eq!(d.len(), 2, "{d:?}");
        let mut c = seen(200, "x");
        c.headers
            .insert("content-type", "text/plain".parse().unwrap());
        let d = compare(&step, &seen(200, "x"), &c);
        assert_eq!(d.len(), 1, "{d:?}");
        assert!(d[0].contains("content-type"));
    }

    #[test]
    fn hosts_that_fail_alike_do_not_pass() {
        let step = Step::get("s", "/").expect(200);
        let d = compare(&step, &seen(500, "{}"), &seen(500, "{}"));
        assert_eq!(d.len(), 2, "{d:?}");
        assert!(d[0].contains("expected status 200 OK"), "{d:?}");
        assert!(compare(&step, &seen(200, "{}"), &seen(200, "{}")).is_empty());
    }

    #[test]
    fn masked_fields_may_differ_but_must_exist_on_both_sides() {
        let step = Step::get("s", "/").mask("/id");
        let a = seen(201, r#"{"id":"ord_1","total":5}"#);
        assert!(compare(&step, &a, &seen(201, r#"{"id":"ord_2","total":5}"#)).is_empty());
        assert_eq!(compare(&step, &a, &seen(201, r#"{"total":5}"#)).len(), 1);
        assert_eq!(
            compare(&step, &a, &seen(201, r#"{"id":"ord_2","total":6}"#)).len(),
            1
        );
    }

    #[test]
    fn outbound_requests_are_compared_unless_declared_random() {
        let mut a = seen(200, "{}");
        let mut b = seen(200, "{}");
        a.outbound.push(outbound("code 123456"));
        b.outbound.push(outbound("code 654321"));
        assert_eq!(compare(&Step::get("s", "/"), &a, &b).len(), 1);
        assert!(compare(&Step::get("s", "/").outbound_random(), &a, &b).is_empty());
        b.outbound.push(outbound("again"));
        assert_eq!(
            compare(&Step::get("s", "/").outbound_random(), &a, &b).len(),
            1
        );
    }
}
