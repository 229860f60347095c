//! Running an image the way Cloud Run would, with real tools: an OCI image
//! layout unpacked by umoci and run by runc (as root, sharing the host's
//! network), then called over HTTP on `$PORT`.
//!
//! Running containers needs root, `umoci` and `runc` (`.ci/run` installs
//! them); where that is impossible a container test fails saying why,
//! unless `FN_SKIP_CONTAINERS=1` says to skip it.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Whether `elf` is an ELF executable without a program interpreter.
pub fn is_static_elf(elf: &[u8]) -> bool {
    const PT_INTERP: u32 = 3;
    let u16_at = |at: usize| {
        elf.get(at..at + 2)
            .map(|b| u16::from_le_bytes([b[0], b[1]]))
    };
    let u64_at = |at: usize| {
        elf.get(at..at + 8)
            .map(|b| u64::from_le_bytes(b.try_into().unwrap()))
    };
    // 64-bit little-endian ELF only: what an amd64 image runs.
    if elf.get(..6) != Some(b"\x7fELF\x02\x01") {
        return false;
    }
    let (Some(phoff), Some(size), Some(count)) = (u64_at(0x20), u16_at(0x36), u16_at(0x38)) else {
        return false;
    };
    (0..count as usize).all(|i| {
        let at = phoff as usize + i * size as usize;
        elf.get(at..at + 4)
            .is_some_and(|t| u32::from_le_bytes(t.try_into().unwrap()) != PT_INTERP)
    })
}

/// Whether containers can run here; panics saying why not, unless
/// `FN_SKIP_CONTAINERS=1` (then false, announced on stderr).
pub fn containers_can_run() -> bool {
    if std::env::var("FN_SKIP_CONTAINERS").is_ok_and(|v| v == "1") {
        eprintln!("SKIPPED: FN_SKIP_CONTAINERS=1, the image is not run in a container");
        return false;
    }
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let root = status
        .lines()
        .find_map(|l| l.strip_prefix("Uid:"))
        .and_then(|ids| ids.split_whitespace().nth(1))
        == Some("0");
    assert!(
        root,
        "the container test runs runc, which needs root to create namespaces and cgroups; \
         run the tests as root, or set FN_SKIP_CONTAINERS=1 to skip it"
    );
    for tool in ["umoci", "runc"] {
        let found = Command::new(tool)
            .arg("--version")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        assert!(
            found,
            "the container test needs {tool}: install it with `apt-get install umoci runc` \
             (`.ci/run` does), or set FN_SKIP_CONTAINERS=1 to skip it"
        );
    }
    true
}

/// Runs `cmd`, panicking with its output unless it succeeds.
pub fn run(cmd: &mut Command, what: &str) {
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("cannot {what}: {e}"));
    assert!(
        out.status.success(),
        "cannot {what} ({}):\n{}{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// `umoci unpack --image LAYOUT:TAG BUNDLE`: the runtime bundle of the
/// image (`config.json` and `rootfs/`).
pub fn unpack(layout: &Path, tag: &str, bundle: &Path) {
    run(
        Command::new("umoci")
            .arg("unpack")
            .arg("--image")
            .arg(format!("{}:{tag}", layout.display()))
            .arg(bundle),
        "unpack the image with umoci",
    );
}

/// Makes the unpacked bundle run here: no terminal, the host's network
/// (loopback included) instead of a namespace without interfaces, and
/// `$PORT` set to `port` and `env` set, as the platform would. Returns the
/// runtime config.
pub fn share_host_network(bundle: &Path, port: u16, env: &[(&str, &str)]) -> serde_json::Value {
    let path = bundle.join("config.json");
    let mut config: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    config["process"]["terminal"] = false.into();
    let port = port.to_string();
    let vars = env.iter().copied().chain([("PORT", port.as_str())]);
    let process_env = config["process"]["env"].as_array_mut().unwrap();
    for (name, value) in vars {
        let prefix = format!("{name}=");
        process_env.retain(|e| !e.as_str().unwrap().starts_with(&prefix));
        process_env.push(format!("{name}={value}").into());
    }
    config["linux"]["namespaces"]
        .as_array_mut()
        .unwrap()
        .retain(|ns| ns["type"] != "network");
    std::fs::write(&path, serde_json::to_vec_pretty(&config).unwrap()).unwrap();
    config
}

/// A runc container, deleted (killed first) when dropped.
pub struct Container {
    pub id: String,
    log: PathBuf,
}

impl Container {
    /// `runc run --detach` of the unpacked `bundle`, its output to `log`.
    pub fn start(bundle: &Path, log: PathBuf) -> Container {
        let container = Container {
            id: format!(
                "cargo-fn-test-{}-{}",
                std::process::id(),
                std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .unwrap()
                    .as_nanos()
            ),
            log,
        };
        let log_file = std::fs::File::create(&container.log).unwrap();
        run(
            Command::new("runc")
                .args(["run", "--detach", "--bundle"])
                .arg(bundle)
                .arg(&container.id)
                .stdin(Stdio::null())
                .stdout(log_file.try_clone().unwrap())
                .stderr(log_file),
            "start the container with runc",
        );
        container
    }

    /// What the container printed so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// `GET path` on `addr`, retried until something answers (at most
    /// `wait`); status, headers and body.
    pub fn get(
        &self,
        addr: &str,
        path: &str,
        wait: Duration,
    ) -> (u16, std::collections::HashMap<String, String>, Vec<u8>) {
        let deadline = Instant::now() + wait;
        loop {
            match super::registry::get(addr, path, &[]) {
                Ok(reply) => return reply,
                Err(e) => {
                    assert!(
                        Instant::now() < deadline,
                        "nothing answers on {addr} {wait:?} after `runc run` ({e}); container output:\n{}",
                        self.log()
                    );
                    std::thread::sleep(Duration::from_millis(100));
                }
            }
        }
    }
}

impl Drop for Container {
    fn drop(&mut self) {
        let _ = Command::new("runc")
            .args(["delete", "--force", &self.id])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
    }
}
