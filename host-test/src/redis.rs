//! A throwaway `redis-server` for tests of the Redis key-value backend
//! ([`KeyValue::redis`](fn_runtime::KeyValue::redis)), in this crate's tests
//! and in any other crate's.
//!
//! ```no_run
//! use fn_host_test::redis::RedisServer;
//! use fn_host_test::{KeyValue, RedisConfig};
//!
//! let server = RedisServer::start().unwrap();
//! let kv = KeyValue::redis(RedisConfig::new(server.url(), "my-function")).unwrap();
//! # drop(kv);
//! ```

use anyhow::{Context as _, bail};
use std::io::{Read, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// How long a starting server may take to answer `PING`.
const STARTUP: Duration = Duration::from_secs(10);

/// A `redis-server` on a free loopback port, without persistence, killed
/// when dropped.
///
/// The binary is `$FN_REDIS_SERVER`, else `redis-server` on `PATH` (the
/// Debian package `redis-server`; `.ci/run` installs it). A missing binary
/// is an error, so a test that needs Redis fails instead of passing
/// silently.
#[derive(Debug)]
pub struct RedisServer {
    port: u16,
    child: Option<Child>,
    log: PathBuf,
}

impl RedisServer {
    /// Starts a server on a free port of 127.0.0.1 and waits until it
    /// answers `PING`.
    pub fn start() -> anyhow::Result<RedisServer> {
        let port = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
            .and_then(|listener| listener.local_addr())
            .context("finding a free port for redis-server")?
            .port();
        let log = std::env::temp_dir().join(format!("fn-host-test-redis-{port}.log"));
        let mut server = RedisServer {
            port,
            child: None,
            log,
        };
        server.restart()?;
        Ok(server)
    }

    /// The port it listens on (the same across [`Self::restart`]).
    pub fn port(&self) -> u16 {
        self.port
    }

    /// `redis://127.0.0.1:{port}`.
    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    /// Kills the server (its data is gone); [`Self::restart`] brings it
    /// back on the same port.
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Starts the server again on the same port (stopping it first if it
    /// runs), empty, and waits until it answers `PING`.
    pub fn restart(&mut self) -> anyhow::Result<()> {
        self.stop();
        let binary = std::env::var_os("FN_REDIS_SERVER").unwrap_or_else(|| "redis-server".into());
        let child = Command::new(&binary)
            .args(["--port", &self.port.to_string()])
            .args(["--bind", "127.0.0.1", "--save", "", "--appendonly", "no"])
            .arg("--dir")
            .arg(std::env::temp_dir())
            .arg("--logfile")
            .arg(&self.log)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn();
        let child = match child {
            Ok(child) => child,
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => bail!(
                "`{}` not found: these tests need a real Redis; install the Debian package \
                 `redis-server` (`apt-get install redis-server`, as `.ci/run` does) or set \
                 FN_REDIS_SERVER to the binary",
                binary.to_string_lossy()
            ),
            Err(err) => {
                return Err(err).with_context(|| format!("starting `{}`", binary.display()));
            }
        };
        self.child = Some(child);
        self.wait_until_ready()
    }

    fn wait_until_ready(&mut self) -> anyhow::Result<()> {
        let started = Instant::now();
        loop {
            if ping(self.port) {
                return Ok(());
            }
            let exited = match &mut self.child {
                Some(child) => child.try_wait()?,
                None => bail!("redis-server is not running"),
            };
            if exited.is_some() || started.elapsed() > STARTUP {
                let log = std::fs::read_to_string(&self.log).unwrap_or_default();
                self.stop();
                bail!(
                    "redis-server on port {} did not answer PING within {STARTUP:?} \
                     ({exited:?}); its log:\n{log}",
                    self.port
                );
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Freezes the server (`SIGSTOP`): connections stay open, nothing is
    /// answered, as with an overloaded or partitioned Redis.
    pub fn pause(&self) -> anyhow::Result<()> {
        self.signal("-STOP")
    }

    /// Lets a [paused](Self::pause) server run again (`SIGCONT`).
    pub fn resume(&self) -> anyhow::Result<()> {
        self.signal("-CONT")
    }

    fn signal(&self, signal: &str) -> anyhow::Result<()> {
        let child = self.child.as_ref().context("redis-server is not running")?;
        let status = Command::new("kill")
            .args([signal, &child.id().to_string()])
            .status()
            .context("running `kill`")?;
        anyhow::ensure!(status.success(), "`kill {signal}` failed: {status}");
        Ok(())
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        self.stop();
        let _ = std::fs::remove_file(&self.log);
    }
}

/// Whether a Redis on `port` answers `PING` (within 200 ms).
fn ping(port: u16) -> bool {
    let timeout = Duration::from_millis(200);
    let address = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
    let Ok(mut stream) = TcpStream::connect_timeout(&address, timeout) else {
        return false;
    };
    let mut answer = [0; 7];
    stream.set_read_timeout(Some(timeout)).is_ok()
        && stream.write_all(b"PING\r\n").is_ok()
        && stream.read_exact(&mut answer).is_ok()
        && &answer == b"+PONG\r\n"
}
