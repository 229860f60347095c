//! `cargo fn deploy --provider lambda|azure` on a scaffolded function
//! published to a loopback registry: the packages unzip into bundles the
//! runner they carry serves (the Lambda one also under the Runtime API of
//! cargo-lambda's emulator). The runner is the workspace test build's
//! `fn-runner` for this machine (`$FN_RUNNER`, found as the conformance
//! tests find it); the static musl build is exercised by `cargo fn` itself
//! when `$FN_RUNNER` is not set (cloudrun_deploy.rs).

mod common;
#[path = "common/registry.rs"]
mod registry;

use std::io::{Read as _, Write as _};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use cargo_fn::deploy::files::{self, Entry};
use common::*;

const METADATA: &str = r#"
[package.metadata.fn]
route = "/..."
schedule = "*/5 * * * *"
key-value = ["default"]
[package.metadata.fn.config]
greeting = { default = "Hello" }
"#;

/// A registry, the hello function published to it, and the runner.
struct Fixture {
    registry: registry::Registry,
    tmp: tempfile::TempDir,
    project: PathBuf,
    runner: PathBuf,
    digest: String,
}

fn fixture() -> &'static Fixture {
    static FIXTURE: OnceLock<Fixture> = OnceLock::new();
    FIXTURE.get_or_init(|| {
        let runner = std::thread::spawn(build_runner);
        let registry = registry::start();
        let (tmp, project) = scaffold("hello-fn", "http");
        let manifest = project.join("Cargo.toml");
        let mut toml = std::fs::read_to_string(&manifest).unwrap();
        toml.push_str(METADATA);
        std::fs::write(&manifest, toml).unwrap();
        let image = format!("oci://{}/hello:v1", registry.addr);
        let stdout = success(&cargo_fn(&project, &["publish", &image]));
        let digest = stdout
            .lines()
            .find_map(|l| l.strip_prefix("digest: "))
            .unwrap_or_else(|| panic!("no digest in {stdout}"))
            .trim()
            .to_owned();
        Fixture {
            registry,
            tmp,
            project,
            runner: runner.join().expect("fn-runner builds"),
            digest,
        }
    })
}

/// `cargo build -p fn-runner` for this machine, in the workspace's target
/// directory (cargo has released it by the time tests run).
fn build_runner() -> PathBuf {
    fn_conformance::runner::runner_binary().expect("fn-runner builds")
}

/// `cargo fn deploy --provider <provider> --out <dir>` of `hello:v1` with
/// the test runner. The image is named: the project's last publish may be
/// another test's (`hello:signed`).
fn deploy(provider: &str, out: &Path, extra: &[&str]) -> String {
    let f = fixture();
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_cargo-fn"));
    cmd.arg("fn")
        .args(["deploy", "--provider", provider, "--out"])
        .arg(out)
        .args(["--image", &format!("oci://{}/hello:v1", f.registry.addr)])
        .args(extra)
        .current_dir(&f.project)
        .env("FN_RUNNER", &f.runner)
        .env("DOCKER_CONFIG", f.tmp.path().join("no-docker-config"));
    offline(&mut cmd);
    let stdout = success(&cmd.output().expect("run cargo-fn"));
    assert!(stdout.contains(&f.digest), "{stdout}");
    stdout
}

/// Extracts `zip` into `dir` with the modes it records.
fn unzip(zip: &Path, dir: &Path) -> Vec<Entry> {
    let entries = files::unzip(&std::fs::read(zip).unwrap()).unwrap();
    files::write_all(dir, &entries).unwrap();
    entries
}

/// A runner process, killed when dropped; its stderr goes to a file.
struct Running {
    child: Child,
    log: PathBuf,
    addr: String,
}

impl Running {
    fn start(exe: &Path, envs: &[(&str, String)], log: PathBuf, addr: String) -> Running {
        let mut cmd = Command::new(exe);
        cmd.current_dir(exe.parent().unwrap())
            .env_remove("FN_BUNDLE")
            .env_remove("LAMBDA_TASK_ROOT")
            .env_remove("AWS_LAMBDA_RUNTIME_API")
            .env_remove("FUNCTIONS_CUSTOMHANDLER_PORT")
            .env_remove("FN_RUNNER_MODE")
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).unwrap());
        for (k, v) in envs {
            cmd.env(k, v);
        }
        let mut running = Running {
            child: cmd.spawn().expect("start the runner"),
            log,
            addr,
        };
        let deadline = Instant::now() + Duration::from_secs(120);
        while TcpStream::connect(&running.addr).is_err() {
            if let Some(status) = running.child.try_wait().unwrap() {
                panic!("the runner exited ({status}):\n{}", running.log());
            }
            assert!(Instant::now() < deadline, "no listener:\n{}", running.log());
            std::thread::sleep(Duration::from_millis(50));
        }
        running
    }

    fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// An HTTP/1.0 request; status and body.
    fn request(&self, method: &str, path: &str, body: &str) -> (u16, String) {
        let mut stream = TcpStream::connect(&self.addr).unwrap();
        stream
            .set_read_timeout(Some(Duration::from_secs(30)))
            .unwrap();
        write!(
            stream,
            "{method} {path} HTTP/1.0\r\nHost: {}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
            self.addr,
            body.len()
        )
        .unwrap();
        let mut reply = String::new();
        stream.read_to_string(&mut reply).unwrap();
        let (head, body) = reply.split_once("\r\n\r\n").unwrap_or((&reply, ""));
        let status = head
            .split_whitespace()
            .nth(1)
            .and_then(|s| s.parse().ok())
            .unwrap_or_else(|| panic!("bad reply {reply:?}"));
        (status, body.to_owned())
    }
}

/// `cargo lambda watch --only-lambda-apis` on a free loopback port (the
/// `cargo-lambda` wheel: `$FN_CARGO_LAMBDA`, else on PATH), killed on drop.
struct Emulator {
    child: Child,
    log: PathBuf,
    addr: String,
}

impl Emulator {
    fn start(dir: &Path) -> Emulator {
        // It reads the package it would build, even with --only-lambda-apis.
        std::fs::create_dir_all(dir.join("src")).unwrap();
        std::fs::write(
            dir.join("Cargo.toml"),
            "[package]\nname = \"emulated\"\nversion = \"0.0.0\"\nedition = \"2021\"\n",
        )
        .unwrap();
        std::fs::write(dir.join("src/main.rs"), "fn main() {}\n").unwrap();
        let exe = std::env::var_os("FN_CARGO_LAMBDA")
            .map(PathBuf::from)
            .unwrap_or_else(|| PathBuf::from("cargo-lambda"));
        let port = registry::free_port();
        let log = dir.join("emulator.log");
        let child = Command::new(&exe)
            .args(["lambda", "watch", "--only-lambda-apis", "--invoke-address"])
            .arg("127.0.0.1")
            .arg("--invoke-port")
            .arg(port.to_string())
            .current_dir(dir)
            .stdin(Stdio::null())
            .stdout(std::fs::File::create(&log).unwrap())
            .stderr(std::fs::File::create(dir.join("emulator.err")).unwrap())
            .spawn()
            .unwrap_or_else(|e| {
                panic!(
                    "cannot run {} ({e}): install the emulator with `pip install cargo-lambda==1.9.2` (.ci/run does) or point $FN_CARGO_LAMBDA at it",
                    exe.display()
                )
            });
        let emulator = Emulator {
            child,
            log,
            addr: format!("127.0.0.1:{port}"),
        };
        let deadline = Instant::now() + Duration::from_secs(60);
        while TcpStream::connect(&emulator.addr).is_err() {
            assert!(
                Instant::now() < deadline,
                "the emulator did not listen:\n{}",
                emulator.log()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        emulator
    }

    fn log(&self) -> String {
        let err = self.log.with_file_name("emulator.err");
        format!(
            "{}{}",
            std::fs::read_to_string(&self.log).unwrap_or_default(),
            std::fs::read_to_string(err).unwrap_or_default()
        )
    }
}

impl Drop for Emulator {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn lambda_bootstrap_zip_serves_the_published_function() {
    let f = fixture();
    let out = f.tmp.path().join("lambda");
    let stdout = deploy("lambda", &out, &[]);
    assert!(stdout.contains("sam deploy --guided"), "{stdout}");

    let template: serde_json::Value =
        serde_norway::from_str(&std::fs::read_to_string(out.join("template.yaml")).unwrap())
            .unwrap();
    let p = &template["Resources"]["HelloFn"]["Properties"];
    assert_eq!(p["Runtime"], "provided.al2023");
    assert_eq!(p["Handler"], "bootstrap");
    assert_eq!(p["CodeUri"], "bootstrap.zip");
    assert_eq!(p["Architectures"][0], "x86_64");
    assert_eq!(p["FunctionUrlConfig"]["AuthType"], "NONE");
    assert_eq!(
        p["Events"]["Schedule"]["Properties"]["Schedule"],
        "cron(*/5 * * * ? *)"
    );
    assert_eq!(p["Environment"]["Variables"]["FN_CONFIG_GREETING"], "Hello");

    let zip = out.join("bootstrap.zip");
    let dir = f.tmp.path().join("lambda-unzipped");
    let entries = unzip(&zip, &dir);
    let listing: Vec<(&str, u32)> = entries.iter().map(|e| (e.path.as_str(), e.mode)).collect();
    assert_eq!(
        listing,
        [
            ("bootstrap", 0o755),
            ("fn-bundle.json", 0o644),
            ("fn.cwasm", 0o644),
            ("fn.wasm", 0o644)
        ]
    );
    assert_eq!(entries[0].contents, std::fs::read(&f.runner).unwrap());
    let manifest: serde_json::Value = serde_json::from_slice(&entries[1].contents).unwrap();
    let layer = manifest["component"]["digest"].as_str().unwrap();
    assert_eq!(
        fn_runtime::bundle::sha256_digest(&entries[3].contents),
        layer
    );
    assert_eq!(manifest["events"][0]["name"], "Schedule");
    eprintln!(
        "bootstrap.zip: {} bytes (runner {} bytes)",
        std::fs::metadata(&zip).unwrap().len(),
        entries[0].contents.len()
    );

    // The same inputs give the same zip, byte for byte.
    let again = f.tmp.path().join("lambda-again");
    deploy("lambda", &again, &[]);
    assert_eq!(
        std::fs::read(&zip).unwrap(),
        std::fs::read(again.join("bootstrap.zip")).unwrap(),
        "bootstrap.zip is deterministic"
    );

    // The bootstrap serves the bundle next to it, from fn.cwasm.
    let port = registry::free_port();
    let runner = Running::start(
        &dir.join("bootstrap"),
        &[
            ("FN_RUNNER_MODE", "http".into()),
            ("PORT", port.to_string()),
            ("FN_KEY_VALUE_URL", "memory:".into()),
        ],
        f.tmp.path().join("lambda.log"),
        format!("127.0.0.1:{port}"),
    );
    let (status, body) = runner.request("GET", "/?name=Lambda", "");
    assert_eq!(
        (status, body.as_str()),
        (200, "Hello, Lambda!"),
        "{}",
        runner.log()
    );
    let log = runner.log();
    assert!(log.contains("precompiled code"), "{log}");
    assert!(log.contains(layer), "{log}");

    drop(runner);

    // The same bootstrap as Lambda runs it: under the Runtime API of
    // cargo-lambda's emulator, lambda mode chosen by the environment,
    // a request through the emulator's Function URL.
    let emulator = Emulator::start(&f.tmp.path().join("emulator"));
    let runtime = Running::start(
        &dir.join("bootstrap"),
        &[
            (
                "AWS_LAMBDA_RUNTIME_API",
                format!("http://{}/.rt", emulator.addr),
            ),
            ("AWS_LAMBDA_FUNCTION_NAME", "_".into()),
            ("AWS_LAMBDA_FUNCTION_VERSION", "1".into()),
            ("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128".into()),
            ("FN_KEY_VALUE_URL", "memory:".into()),
        ],
        f.tmp.path().join("lambda-runtime.log"),
        emulator.addr.clone(),
    );
    let (status, body) = runtime.request("GET", "/lambda-url/_/?name=Lambda", "");
    assert_eq!(
        (status, body.as_str()),
        (200, "Hello, Lambda!"),
        "{}\n--- emulator:\n{}",
        runtime.log(),
        emulator.log()
    );
    drop(runtime);

    // --no-precompile leaves fn.cwasm out.
    let lean = f.tmp.path().join("lambda-lean");
    deploy("lambda", &lean, &["--no-precompile"]);
    let entries = files::unzip(&std::fs::read(lean.join("bootstrap.zip")).unwrap()).unwrap();
    assert!(!entries.iter().any(|e| e.path == "fn.cwasm"));
}

#[test]
fn azure_app_runs_as_a_custom_handler() {
    let f = fixture();
    let out = f.tmp.path().join("azure");
    let stdout = deploy("azure", &out, &[]);
    assert!(stdout.contains("config-zip"), "{stdout}");
    assert!(stdout.contains("FN_KEY_VALUE_URL"), "{stdout}");
    assert!(!out.join("hello-fn/local.settings.json").exists());
    let host: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("hello-fn/host.json")).unwrap()).unwrap();
    assert_eq!(
        host["customHandler"]["description"]["defaultExecutablePath"],
        "fn-runner"
    );
    let timer: serde_json::Value = serde_json::from_slice(
        &std::fs::read(out.join("hello-fn/schedule/function.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(timer["bindings"][0]["schedule"], "0 */5 * * * *");

    let dir = f.tmp.path().join("azure-unzipped");
    let entries = unzip(&out.join("hello-fn.zip"), &dir);
    for entry in &entries {
        assert_eq!(
            std::fs::read(out.join("hello-fn").join(&entry.path)).unwrap(),
            entry.contents,
            "{} differs between the folder and the zip",
            entry.path
        );
    }

    // Azure runs custom handlers on x86_64 only: refused before any build.
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_cargo-fn"));
    cmd.args(["fn", "deploy", "--provider", "azure", "--arch", "arm64"])
        .current_dir(&f.project)
        .env("FN_RUNNER", "/nonexistent/fn-runner");
    offline(&mut cmd);
    let stderr = failure(&cmd.output().unwrap());
    assert!(stderr.contains("x86_64 Linux only"), "{stderr}");

    let port = registry::free_port();
    let runner = Running::start(
        &dir.join("fn-runner"),
        &[
            ("FUNCTIONS_CUSTOMHANDLER_PORT", port.to_string()),
            ("FN_KEY_VALUE_URL", "memory:".into()),
        ],
        f.tmp.path().join("azure.log"),
        format!("127.0.0.1:{port}"),
    );
    // HTTP is forwarded as it came.
    let (status, body) = runner.request("GET", "/?name=Azure", "");
    assert_eq!(
        (status, body.as_str()),
        (200, "Hello, Azure!"),
        "{}",
        runner.log()
    );
    // A timer invocation of the `schedule` function.
    let payload = serde_json::json!({
        "Data": {"timer": {"Schedule": {"AdjustForDST": true}, "IsPastDue": false}},
        "Metadata": {"sys": {"MethodName": "schedule", "UtcNow": "2026-12-03T10:00:00Z", "RandGuid": "6a1b2c3d"}}
    });
    let (status, body) = runner.request("POST", "/schedule", &payload.to_string());
    assert_eq!(status, 200, "{body}\n{}", runner.log());
    let reply: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(reply["Outputs"], serde_json::json!({}));
    assert!(reply["Logs"].is_array(), "{reply}");
    assert!(reply["ReturnValue"].is_null(), "{reply}");
}

#[test]
fn trusted_keys_are_checked_at_deploy_and_by_the_runner() {
    let f = fixture();
    let keys = f.tmp.path().join("keys");
    let keys_arg = keys.to_str().unwrap();
    success(&cargo_fn(
        &f.project,
        &["keygen", "--out-dir", keys_arg, "--name", "release"],
    ));
    success(&cargo_fn(
        &f.project,
        &["keygen", "--out-dir", keys_arg, "--name", "other"],
    ));
    let (release, other) = (keys.join("release.pub"), keys.join("other.pub"));
    let signed = format!("oci://{}/hello:signed", f.registry.addr);
    let key = keys.join("release.key");
    success(&cargo_fn(
        &f.project,
        &["publish", &signed, "--sign", key.to_str().unwrap()],
    ));

    let deploy = |out: &Path, image: &str, key: &Path| {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_cargo-fn"));
        cmd.arg("fn")
            .args(["deploy", "--provider", "lambda", "--no-precompile", "--out"])
            .arg(out)
            .args(["--image", image, "--trusted-key"])
            .arg(key)
            .current_dir(&f.project)
            .env("FN_RUNNER", &f.runner)
            .env("DOCKER_CONFIG", f.tmp.path().join("no-docker-config"));
        offline(&mut cmd);
        cmd.output().expect("run cargo-fn")
    };
    // Unsigned, or signed by another key: refused, nothing written.
    let refused = f.tmp.path().join("lambda-refused");
    let unsigned = format!("oci://{}/hello:v1", f.registry.addr);
    let stderr = failure(&deploy(&refused, &unsigned, &release));
    assert!(stderr.contains("--sign"), "{stderr}");
    let stderr = failure(&deploy(&refused, &signed, &other));
    assert!(stderr.contains("trusted key"), "{stderr}");
    assert!(!refused.join("bootstrap.zip").exists());
    // Only runners check signatures.
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_cargo-fn"));
    cmd.args(["fn", "deploy", "--provider", "spin", "--trusted-key"])
        .arg(&release)
        .current_dir(&f.project);
    offline(&mut cmd);
    let stderr = failure(&cmd.output().unwrap());
    assert!(
        stderr.contains("spin does not check signatures"),
        "{stderr}"
    );

    // Signed by the trusted key: the bundle trusts it, and the runner
    // checks it at start-up.
    let out = f.tmp.path().join("lambda-signed");
    let stderr = String::from_utf8(deploy(&out, &signed, &release).stderr).unwrap();
    assert!(stderr.contains("signed by trusted key"), "{stderr}");
    let dir = f.tmp.path().join("lambda-signed-unzipped");
    let entries = unzip(&out.join("bootstrap.zip"), &dir);
    let manifest: serde_json::Value = serde_json::from_slice(
        &entries
            .iter()
            .find(|e| e.path == "fn-bundle.json")
            .unwrap()
            .contents,
    )
    .unwrap();
    let trusted = manifest["trusted-keys"][0].as_str().unwrap();
    assert!(
        trusted.starts_with("-----BEGIN PUBLIC KEY-----"),
        "{manifest}"
    );
    let port = registry::free_port();
    let envs = [
        ("FN_RUNNER_MODE", "http".to_owned()),
        ("PORT", port.to_string()),
        ("FN_KEY_VALUE_URL", "memory:".to_owned()),
    ];
    let runner = Running::start(
        &dir.join("bootstrap"),
        &envs,
        f.tmp.path().join("signed.log"),
        format!("127.0.0.1:{port}"),
    );
    let (status, body) = runner.request("GET", "/?name=Signed", "");
    assert_eq!(
        (status, body.as_str()),
        (200, "Hello, Signed!"),
        "{}",
        runner.log()
    );
    drop(runner);

    // The same bundle trusting another key: the runner refuses to start.
    let mut tampered = manifest.clone();
    tampered["trusted-keys"] =
        serde_json::json!([fn_sign::PublicKey::from_file(&other).unwrap().to_pem()]);
    std::fs::write(
        dir.join("fn-bundle.json"),
        serde_json::to_vec(&tampered).unwrap(),
    )
    .unwrap();
    let output = Command::new(dir.join("bootstrap"))
        .envs(envs.iter().map(|(k, v)| (k, v)))
        .env_remove("AWS_LAMBDA_RUNTIME_API")
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success(), "{stderr}");
    assert!(
        stderr.contains("not by any of the 1 trusted key"),
        "{stderr}"
    );
}
