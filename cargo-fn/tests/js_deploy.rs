//! `cargo fn deploy --provider cloudflare|netlify`: the component
//! transpiled to JavaScript, served by each provider's own local runtime
//! on loopback.
//!
//! - Cloudflare: a function that uses configuration, key-value, atomic
//!   increments and outbound HTTP, published to a loopback registry; the
//!   Worker project is the same bytes twice, `wrangler deploy --dry-run`
//!   takes it as it is, and `wrangler dev` (workerd, with local KV and
//!   Durable Objects) serves it.
//! - Netlify: a function with the same capabilities (key-value and atomic
//!   increments on the local Netlify Blobs, outbound HTTP through the
//!   bundle's worker thread: Node.js has no JSPI) and a schedule is served
//!   by `netlify functions:serve --offline`.
//!
//! - jco: the same function, composed with the files adapter, served by the
//!   project's `server.mjs` on Node.js with jco's WASI shim.
//!
//! wrangler, netlify-cli and the WASI shim come from
//! `<target>/tools/js-hosts`, where `scripts/test` installs
//! scripts/js-hosts/package-lock.json (or `$FN_JS_HOSTS`: a folder with
//! that `node_modules`).

mod common;
#[path = "common/registry.rs"]
mod registry;

use std::io::{Read as _, Write as _};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::*;
use sha2::Digest as _;

const METADATA: &str = r#"
[package.metadata.fn]
route = "/..."
schedule = "*/5 * * * 1-5"
key-value = ["default"]
allowed-outbound-hosts = ["http://127.0.0.1"]
[package.metadata.fn.config]
greeting = { default = "Hello" }
upstream = {}
token = { secret = true }
"#;

/// Greets with the configured greeting; counts with an atomic increment;
/// stores and reads a value; calls the configured upstream; traps on
/// request.
const FUNCTION: &str = r#"
use fnsdk::{Error, Request, RequestExt, Result, StatusCode, config, function, kv::Store};

#[function]
fn handle(req: Request) -> Result<String> {
    let setting = |key: &str| -> Result<String> {
        config::get(key)?.ok_or_else(|| Error::new(StatusCode::INTERNAL_SERVER_ERROR, key.to_owned()))
    };
    match req.uri().path() {
        "/count" => Ok(Store::open_default()?.increment("hits", 1)?.to_string()),
        "/store" => {
            let store = Store::open_default()?;
            store.set("note", req.query_param("v").unwrap_or_default().as_bytes())?;
            let back = store.get("note")?.unwrap_or_default();
            Ok(String::from_utf8_lossy(&back).into_owned())
        }
        "/upstream" => {
            let url = format!("{}/ping", setting("upstream")?);
            let req = fnsdk::http::Request::get(url).body(Default::default()).unwrap();
            let res = fnsdk::outbound::send(req).map_err(|e| Error::new(StatusCode::BAD_GATEWAY, e.to_string()))?;
            Ok(format!("{} {}", res.status().as_u16(), String::from_utf8_lossy(res.body())))
        }
        "/secret" => Ok(setting("token")?.len().to_string()),
        "/trap" => panic!("asked to trap"),
        _ => {
            let name = req.query_param("name").unwrap_or_else(|| "world".into());
            Ok(format!("{}, {name}!", setting("greeting")?))
        }
    }
}
"#;

/// Where wrangler and the shim are installed (as the conformance tests
/// find them).
fn js_hosts() -> PathBuf {
    fn_conformance::js::js_hosts().unwrap_or_else(|e| panic!("{e}"))
}

/// The function published to a loopback registry and deployed twice.
fn deploy_twice(tmp: &Path, project: &Path, registry: &registry::Registry) -> PathBuf {
    let image = format!("oci://{}/workers:v1", registry.addr);
    success(&cargo_fn(project, &["publish", &image]));
    let (a, b) = (tmp.join("a"), tmp.join("b"));
    for out in [&a, &b] {
        let stdout = success(&deploy(project, "cloudflare", &image, out));
        assert!(stdout.contains("wrangler.jsonc"), "{stdout}");
        assert!(
            stdout.contains("wrangler secret put FN_CONFIG_TOKEN"),
            "{stdout}"
        );
        assert!(stdout.contains("FN_CONFIG_UPSTREAM"), "{stdout}");
    }
    assert_eq!(
        tree(&a),
        tree(&b),
        "the same component gives the same project"
    );
    a
}

/// `cargo fn deploy --provider <provider> --image <image> --out <out>`.
fn deploy(project: &Path, provider: &str, image: &str, out: &Path) -> std::process::Output {
    cargo_fn(
        project,
        &[
            "deploy",
            "--provider",
            provider,
            "--image",
            image,
            "--out",
            out.to_str().unwrap(),
        ],
    )
}

/// A scaffolded function with `metadata` and `source` as its lib.rs.
fn function(name: &str, metadata: &str, source: &str) -> (tempfile::TempDir, PathBuf) {
    let (tmp, project) = scaffold(name, "http");
    let manifest = project.join("Cargo.toml");
    let mut toml = std::fs::read_to_string(&manifest).unwrap();
    toml.push_str(metadata);
    std::fs::write(&manifest, toml).unwrap();
    std::fs::write(project.join("src/lib.rs"), source).unwrap();
    (tmp, project)
}

/// Every file under `dir`, path and bytes, sorted.
fn tree(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let mut files = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else {
                let bytes = std::fs::read(&path).unwrap();
                files.push((path.strip_prefix(dir).unwrap().to_path_buf(), bytes));
            }
        }
    }
    files.sort();
    files
}

fn wrangler(hosts: &Path, project: &Path) -> Command {
    let mut cmd = Command::new(hosts.join("node_modules/.bin/wrangler"));
    cmd.current_dir(project)
        .env("WRANGLER_SEND_METRICS", "false")
        .env("CI", "1")
        .env("NO_UPDATE_NOTIFIER", "1")
        .stdin(Stdio::null());
    cmd
}

/// `wrangler dev` on a loopback port, killed on drop (or only a client of
/// another server: no child).
struct Dev {
    child: Option<Child>,
    addr: String,
    log: PathBuf,
}

impl Dev {
    fn start(hosts: &Path, project: &Path, vars: &[(&str, &str)]) -> Dev {
        let port = registry::free_port();
        let log = project.join("wrangler-dev.log");
        let mut cmd = wrangler(hosts, project);
        cmd.args(["dev", "--ip", "127.0.0.1", "--port", &port.to_string()])
            .arg("--test-scheduled")
            .args(["--inspector-port", &registry::free_port().to_string()]);
        for (k, v) in vars {
            cmd.args(["--var", &format!("{k}:{v}")]);
        }
        let child = cmd
            .stdout(std::fs::File::create(&log).unwrap())
            .stderr(Stdio::from(
                std::fs::OpenOptions::new().append(true).open(&log).unwrap(),
            ))
            .spawn()
            .expect("wrangler dev starts");
        let dev = Dev {
            child: Some(child),
            addr: format!("127.0.0.1:{port}"),
            log,
        };
        let start = Instant::now();
        while !dev.log().contains("Ready on") {
            assert!(
                start.elapsed() < Duration::from_secs(90),
                "wrangler dev did not start:\n{}",
                dev.log()
            );
            std::thread::sleep(Duration::from_millis(200));
        }
        dev
    }

    fn client(addr: &str, log: &Path) -> Dev {
        Dev {
            child: None,
            addr: addr.to_owned(),
            log: log.to_path_buf(),
        }
    }

    fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// An HTTP/1.0 request; status and body.
    fn request(&self, method: &str, path: &str, body: &[u8]) -> (u16, String) {
        self.request_typed(method, path, None, body)
    }

    /// An HTTP/1.0 request with a `Content-Type`; status and body.
    fn request_typed(
        &self,
        method: &str,
        path: &str,
        content_type: Option<&str>,
        body: &[u8],
    ) -> (u16, String) {
        let mut stream = TcpStream::connect(&self.addr).unwrap();
        stream
            .set_read_timeout(Some(Duration::from_secs(60)))
            .unwrap();
        let content_type = content_type
            .map(|t| format!("Content-Type: {t}\r\n"))
            .unwrap_or_default();
        write!(
            stream,
            "{method} {path} HTTP/1.0\r\nHost: {}\r\n{content_type}Content-Length: {}\r\n\r\n",
            self.addr,
            body.len()
        )
        .unwrap();
        // The server may answer before it has read a body it refuses.
        let _ = stream.write_all(body);
        let mut reply = Vec::new();
        let _ = stream.read_to_end(&mut reply);
        let reply = String::from_utf8_lossy(&reply).into_owned();
        let (head, body) = reply.split_once("\r\n\r\n").unwrap_or((&reply, ""));
        let status = head
            .split_whitespace()
            .nth(1)
            .and_then(|s| s.parse().ok())
            .unwrap_or_else(|| panic!("bad reply {reply:?}\n{}", self.log()));
        (status, body.to_owned())
    }

    fn get(&self, path: &str) -> (u16, String) {
        self.request("GET", path, b"")
    }
}

impl Drop for Dev {
    fn drop(&mut self) {
        if let Some(child) = &mut self.child {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

#[test]
fn the_worker_project_deploys_unchanged_and_serves_on_workerd() {
    let hosts = js_hosts();
    let registry = registry::start();
    let (tmp, project) = function("workers-fn", METADATA, FUNCTION);
    let out = deploy_twice(tmp.path(), &project, &registry);

    let config: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("wrangler.jsonc")).unwrap()).unwrap();
    assert_eq!(config["triggers"]["crons"][0], "*/5 * * * MON-FRI");
    assert_eq!(config["vars"]["FN_CONFIG_GREETING"], "Hello");
    // The bundle pins the published component: the release build's bytes.
    let wasm = std::fs::read(artifact(&build_json(&project, &[]))).unwrap();
    let digest = format!("sha256:{:x}", sha2::Sha256::digest(&wasm));
    let bundle = std::fs::read_to_string(out.join("fn-bundle.js")).unwrap();
    assert!(
        bundle.contains(&digest),
        "fn-bundle.js pins {digest}:\n{bundle}"
    );

    // The shim the bundle imports, as `npm install` would put it.
    std::os::unix::fs::symlink(hosts.join("node_modules"), out.join("node_modules")).unwrap();

    // `wrangler deploy` takes the project as written (it stops before
    // uploading): config, bindings, the module graph and the wasm rules.
    let dry = wrangler(&hosts, &out)
        .args(["deploy", "--dry-run", "--outdir", "dist"])
        .output()
        .unwrap();
    let (stdout, stderr) = text(&dry);
    assert!(dry.status.success(), "{stdout}\n{stderr}");
    assert!(stdout.contains("env.FN_KV_DEFAULT"), "{stdout}");
    assert!(stdout.contains("env.FN_ATOMICS"), "{stdout}");

    // Without its secret and its required variable, the first request
    // names what is missing.
    let upstream = registry::fake(
        vec![(
            "/ping".into(),
            registry::Reply {
                status: 200,
                headers: vec![],
                body: b"pong".to_vec(),
            },
        )],
        registry::Reply {
            status: 404,
            headers: vec![],
            body: Vec::new(),
        },
    );
    {
        let dev = Dev::start(&hosts, &out, &[]);
        let (status, body) = dev.get("/");
        assert_eq!(status, 500, "{body}");
        assert!(
            body.contains("FN_CONFIG_TOKEN") && body.contains("wrangler secret put"),
            "{body}"
        );
        assert!(body.contains("FN_CONFIG_UPSTREAM"), "{body}");
    }

    let upstream_url = format!("http://{upstream}");
    let dev = Dev::start(
        &hosts,
        &out,
        &[
            ("FN_CONFIG_TOKEN", "s3cret"),
            ("FN_CONFIG_UPSTREAM", &upstream_url),
        ],
    );
    assert_eq!(
        dev.get("/?name=Workers"),
        (200, "Hello, Workers!".into()),
        "{}",
        dev.log()
    );
    assert_eq!(dev.get("/secret"), (200, "6".into()));
    // Atomic increments through the Durable Object: none lost, in order.
    for n in 1..=3 {
        assert_eq!(dev.get("/count"), (200, n.to_string()), "{}", dev.log());
    }
    assert_eq!(dev.get("/store?v=kept"), (200, "kept".into()));
    // Outbound HTTP through fetch, waited for under JSPI.
    assert_eq!(
        dev.get("/upstream"),
        (200, "200 pong".into()),
        "{}",
        dev.log()
    );

    // A trap answers 500, and the next request gets a fresh instance.
    let (status, _) = dev.get("/trap");
    assert_eq!(status, 500);
    assert_eq!(dev.get("/?name=again"), (200, "Hello, again!".into()));

    // A body over the limit (10 MiB, as `cargo fn serve`) answers 413.
    let big = vec![b'x'; 10 * 1024 * 1024 + 1];
    let (status, _) = dev.request("POST", "/", &big);
    assert_eq!(status, 413);
    assert_eq!(dev.get("/?name=still"), (200, "Hello, still!".into()));

    // A cron tick reaches the function as a CloudEvent (wrangler's
    // /__scheduled endpoint runs the scheduled handler).
    let (status, body) = dev.get("/__scheduled?cron=*/5+*+*+*+MON-FRI");
    assert_eq!(status, 200, "{body}\n{}", dev.log());
}

/// A function with configuration, key-value, atomic increments, outbound
/// HTTP and a schedule, for Netlify.
const NETLIFY_FUNCTION: &str = r#"
use fnsdk::{Error, Request, RequestExt, Result, StatusCode, config, function, kv::Store};

#[function]
fn handle(req: Request) -> Result<String> {
    let greeting = config::get("greeting")?
        .ok_or_else(|| Error::new(StatusCode::INTERNAL_SERVER_ERROR, "no greeting"))?;
    if req.headers().get("content-type").is_some_and(|v| v == "application/cloudevents+json") {
        // A schedule tick: keep its type and source.
        let event: fnsdk::CloudEvent = fnsdk::CloudEvent::from_request(&req)
            .map_err(|e| Error::new(StatusCode::BAD_REQUEST, e.to_string()))?;
        let tick = format!("{} {}", event.ty, event.source);
        Store::open_default()?.set("tick", tick.as_bytes())?;
        return Ok(tick);
    }
    match req.uri().path() {
        "/trap" => panic!("asked to trap"),
        "/tick" => {
            let tick = Store::open_default()?.get("tick")?.unwrap_or_default();
            Ok(String::from_utf8_lossy(&tick).into_owned())
        }
        "/store" => {
            let store = Store::open_default()?;
            store.set("note", req.query_param("v").unwrap_or_default().as_bytes())?;
            let back = store.get("note")?.unwrap_or_default();
            Ok(String::from_utf8_lossy(&back).into_owned())
        }
        "/read" => {
            let store = Store::open_default()?;
            let note = store.get("note")?.unwrap_or_default();
            Ok(format!("{} {:?}", String::from_utf8_lossy(&note), store.keys()?))
        }
        "/secret" => Ok(config::get("token")?.unwrap_or_default().len().to_string()),
        "/count" => Ok(Store::open_default()?.increment("hits", 1)?.to_string()),
        "/sleep" => {
            // A timer the component blocks on (wasi:clocks, then poll).
            let start = std::time::Instant::now();
            std::thread::sleep(std::time::Duration::from_millis(200));
            Ok((start.elapsed().as_millis() >= 200).to_string())
        }
        "/upstream" => {
            let upstream = config::get("upstream")?.unwrap_or_default();
            let sent = req.body().clone();
            let out = fnsdk::http::Request::post(format!("{upstream}/echo"))
                .header("x-sent-by", "netlify-fn")
                .body(sent.clone())
                .unwrap();
            let res = fnsdk::outbound::send(out).map_err(|e| Error::new(StatusCode::BAD_GATEWAY, e.to_string()))?;
            let seen = res.headers().get("x-seen").map(|v| v.to_str().unwrap_or("").to_owned());
            Ok(format!("{} {} {:?} {}", res.status().as_u16(), String::from_utf8_lossy(res.body()), seen, sent.len()))
        }
        "/down" => {
            // A port nothing listens on.
            let port = req.query_param("port").unwrap_or_default();
            let req = fnsdk::http::Request::get(format!("http://127.0.0.1:{port}/")).body(Default::default()).unwrap();
            match fnsdk::outbound::send(req) {
                Ok(res) => Ok(format!("answered {}", res.status())),
                Err(e) => Err(Error::new(StatusCode::BAD_GATEWAY, e.to_string())),
            }
        }
        _ => {
            let name = req.query_param("name").unwrap_or_else(|| "world".into());
            Ok(format!("{greeting}, {name}! ({} {})", req.method(), req.uri().path()))
        }
    }
}
"#;

const NETLIFY_METADATA: &str = r#"
[package.metadata.fn]
route = "/..."
schedule = "@hourly"
key-value = ["default"]
allowed-outbound-hosts = ["http://127.0.0.1"]
[package.metadata.fn.config]
greeting = { default = "Hello" }
token = { secret = true }
upstream = { default = "http://127.0.0.1:9" }
"#;

/// What `NETLIFY_FUNCTION` answers wherever it runs with the secret
/// `s3cret` and the echo server as its upstream: config, key-value whose
/// value outlives the instance that wrote it, increments in order, an
/// outbound POST (method, header and body arrive; status, body and a header
/// come back), and a trap, after which the next request gets a fresh
/// instance. (netlify-cli's local server drops the body of a request
/// without a Content-Type; curl sends one.)
fn serves_the_capabilities(client: &Dev, name: &str) {
    assert_eq!(
        client.get(&format!("/hi?name={name}")),
        (200, format!("Hello, {name}! (GET /hi)")),
        "{}",
        client.log()
    );
    assert_eq!(client.get("/secret"), (200, "6".into()));
    assert_eq!(
        client.get("/store?v=kept"),
        (200, "kept".into()),
        "{}",
        client.log()
    );
    assert_eq!(client.get("/read"), (200, r#"kept ["note"]"#.into()));
    for n in 1..=3 {
        assert_eq!(
            client.get("/count"),
            (200, n.to_string()),
            "{}",
            client.log()
        );
    }
    assert_eq!(
        client.request_typed("POST", "/upstream", Some("text/plain"), b"ping"),
        (200, r#"201 POST netlify-fn ping Some("yes") 4"#.into()),
        "{}",
        client.log()
    );
    let (status, _) = client.get("/trap");
    assert_eq!(status, 500, "{}", client.log());
    assert_eq!(
        client.get("/?name=again"),
        (200, "Hello, again! (GET /)".into())
    );
}

/// A local server (`netlify functions:serve`, `node server.mjs`) run in
/// `dir` on a loopback port, its output in `dir/<log>`; killed on drop.
struct Served {
    child: Child,
    addr: String,
    log: PathBuf,
}

impl Served {
    /// Starts `cmd` (which must listen on `port`) and waits until it
    /// accepts connections.
    fn start(mut cmd: Command, dir: &Path, log: &str, port: u16) -> Served {
        let log = dir.join(log);
        cmd.current_dir(dir)
            .stdin(Stdio::null())
            .stdout(std::fs::File::create(&log).unwrap())
            .stderr(Stdio::from(
                std::fs::OpenOptions::new().append(true).open(&log).unwrap(),
            ));
        let what = format!("{cmd:?}");
        let served = Served {
            child: cmd.spawn().unwrap_or_else(|e| panic!("{what}: {e}")),
            addr: format!("127.0.0.1:{port}"),
            log,
        };
        let start = Instant::now();
        while TcpStream::connect(&served.addr).is_err() {
            assert!(
                start.elapsed() < Duration::from_secs(90),
                "{what} did not start:\n{}",
                std::fs::read_to_string(&served.log).unwrap_or_default()
            );
            std::thread::sleep(Duration::from_millis(200));
        }
        served
    }

    /// `netlify functions:serve --offline` of the site `site`.
    fn netlify(hosts: &Path, site: &Path, env: &[(&str, &str)]) -> Served {
        let port = registry::free_port();
        let mut cmd = Command::new(hosts.join("node_modules/.bin/netlify"));
        cmd.args(["functions:serve", "--offline", "--port", &port.to_string()])
            .env("NETLIFY_TELEMETRY_DISABLED", "1")
            .env("CI", "1")
            .env("NO_UPDATE_NOTIFIER", "1")
            .envs(env.iter().copied());
        Served::start(cmd, site, "netlify-serve.log", port)
    }

    /// `node server.mjs` of the jco project `project`.
    fn node(project: &Path, env: &[(&str, &str)]) -> Served {
        let port = registry::free_port();
        let mut cmd = Command::new("node");
        cmd.arg("server.mjs")
            .env("PORT", port.to_string())
            .envs(env.iter().copied());
        Served::start(cmd, project, "node-server.log", port)
    }

    fn dev(&self) -> Dev {
        // The same HTTP/1.0 client; the child stays owned here.
        Dev::client(&self.addr, &self.log)
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn the_netlify_site_serves_the_function_on_netlify_cli() {
    let hosts = js_hosts();
    let registry = registry::start();
    let (tmp, project) = function("netlify-fn", NETLIFY_METADATA, NETLIFY_FUNCTION);
    let image = format!("oci://{}/netlify:v1", registry.addr);
    success(&cargo_fn(&project, &["publish", &image]));
    let site = tmp.path().join("site");
    let stdout = success(&deploy(&project, "netlify", &image, &site));
    assert!(
        stdout.contains("netlify env:set FN_CONFIG_TOKEN VALUE --secret"),
        "{stdout}"
    );
    let entry =
        std::fs::read_to_string(site.join("netlify/functions/netlify-fn/netlify-fn.mjs")).unwrap();
    assert!(
        entry.contains(r#"export const config = {"path":["/*"]};"#),
        "{entry}"
    );
    let schedule =
        std::fs::read_to_string(site.join("netlify/functions/netlify-fn-schedule.mjs")).unwrap();
    assert!(schedule.contains(r#"{"schedule":"@hourly"}"#), "{schedule}");
    std::os::unix::fs::symlink(hosts.join("node_modules"), site.join("node_modules")).unwrap();

    // Without the secret, the first request names it.
    {
        let serve = Served::netlify(&hosts, &site, &[]);
        let (status, body) = serve.dev().get("/");
        assert_eq!(status, 500, "{body}");
        assert!(
            body.contains("FN_CONFIG_TOKEN") && body.contains("netlify env:set"),
            "{body}"
        );
    }

    let upstream = format!("http://{}", echo_server());
    let serve = Served::netlify(
        &hosts,
        &site,
        &[
            ("FN_CONFIG_TOKEN", "s3cret"),
            ("FN_CONFIG_UPSTREAM", &upstream),
        ],
    );
    let client = serve.dev();
    // Key-value on the local Netlify Blobs and outbound HTTP, both through
    // the worker thread; increments as conditional writes.
    serves_the_capabilities(&client, "Netlify");
    assert_eq!(
        client.get("/sleep"),
        (200, "true".into()),
        "{}",
        client.log()
    );
    // A refused connection is the component's error to handle: here a 502,
    // with the wasi:http error code in the function's log.
    let closed = registry::free_port();
    let (status, body) = client.get(&format!("/down?port={closed}"));
    assert_eq!(status, 502, "{body}");
    assert!(
        client.log().contains("ErrorCode::ConnectionRefused"),
        "{}",
        client.log()
    );
    // A schedule tick: the scheduled function (no route of its own; netlify
    // functions:serve serves every function under /.netlify/functions/)
    // hands the component a CloudEvent, as the native runners do.
    let (status, body) = client.request("POST", "/.netlify/functions/netlify-fn-schedule", b"{}");
    assert!(status < 300, "{status} {body}\n{}", client.log());
    assert_eq!(
        client.get("/tick"),
        (
            200,
            "dev.cargo-fn.schedule /netlify/functions/netlify-fn".into()
        ),
        "{}",
        client.log()
    );
    // Over Netlify's 6 MB: 413.
    let (status, _) = client.request("POST", "/", &vec![b'x'; (6 << 20) + 1]);
    assert_eq!(status, 413);
}

/// jco on Node.js: the same function (key-value, atomic increments, config,
/// outbound HTTP), composed with the files adapter, transpiled and served
/// by `server.mjs` on jco's WASI shim (its Node.js build).
#[test]
fn the_jco_project_serves_the_function_on_node_with_jco_s_shim() {
    let hosts = js_hosts();
    let registry = registry::start();
    let (tmp, project) = function("jco-fn", NETLIFY_METADATA, NETLIFY_FUNCTION);
    let image = format!("oci://{}/jco:v1", registry.addr);
    success(&cargo_fn(&project, &["publish", &image]));
    let out = tmp.path().join("jco");
    let stdout = success(&deploy(&project, "jco", &image, &out));
    assert!(stdout.contains("files adapter"), "{stdout}");
    assert!(stdout.contains("FN_CONFIG_TOKEN"), "{stdout}");
    std::os::unix::fs::symlink(hosts.join("node_modules"), out.join("node_modules")).unwrap();

    // Without its secret, the server refuses to start, naming it.
    let refused = Command::new("node")
        .arg("server.mjs")
        .current_dir(&out)
        .env_remove("FN_CONFIG_TOKEN")
        .output()
        .unwrap();
    assert!(!refused.status.success());
    let (_, stderr) = text(&refused);
    assert!(stderr.contains("FN_CONFIG_TOKEN"), "{stderr}");

    let upstream = format!("http://{}", echo_server());
    let server = Served::node(
        &out,
        &[
            ("FN_CONFIG_TOKEN", "s3cret"),
            ("FN_CONFIG_UPSTREAM", &upstream),
        ],
    );
    let client = server.dev();
    // Key-value in files under kv/ next to the server.
    serves_the_capabilities(&client, "Jco");
    assert_eq!(
        std::fs::read_to_string(out.join("kv/default/note")).unwrap(),
        "kept"
    );
    // A body over the limit (10 MiB, as `cargo fn serve`) answers 413.
    let (status, body) = client.request("POST", "/", &vec![b'x'; 10 * 1024 * 1024 + 1]);
    assert_eq!(status, 413, "{body}");
    assert_eq!(
        client.get("/?name=still"),
        (200, "Hello, still! (GET /)".into())
    );
}

/// An HTTP server on loopback that answers every request with 201, an
/// `x-seen` header and `<method> <x-sent-by> <body>`.
fn echo_server() -> String {
    use std::io::{BufRead as _, BufReader};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut line = String::new();
            let _ = reader.read_line(&mut line);
            let method = line.split_whitespace().next().unwrap_or("").to_owned();
            let (mut length, mut sent_by) = (0, String::new());
            loop {
                let mut header = String::new();
                if reader.read_line(&mut header).is_err() || header.trim_end().is_empty() {
                    break;
                }
                let (name, value) = header.split_once(':').unwrap_or((&header, ""));
                match name.trim().to_ascii_lowercase().as_str() {
                    "content-length" => length = value.trim().parse().unwrap_or(0),
                    "x-sent-by" => sent_by = value.trim().to_owned(),
                    _ => {}
                }
            }
            let mut body = vec![0; length];
            let _ = reader.read_exact(&mut body);
            let reply = format!("{method} {sent_by} {}", String::from_utf8_lossy(&body));
            let _ = write!(
                stream,
                "HTTP/1.1 201 Created\r\nx-seen: yes\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{reply}",
                reply.len()
            );
        }
    });
    addr
}

/// The bundles pin the versions the tests run them with.
#[test]
fn bundles_pin_the_packages_the_tests_install() {
    let hosts: serde_json::Value = serde_json::from_slice(
        &std::fs::read(workspace().join("scripts/js-hosts/package.json")).unwrap(),
    )
    .unwrap();
    for (name, version) in [
        cargo_fn::deploy::js::PREVIEW2_SHIM,
        cargo_fn::deploy::js::NETLIFY_BLOBS,
    ] {
        assert_eq!(hosts["dependencies"][name], version, "{name}");
    }
}
