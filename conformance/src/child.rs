//! A host under test run as a child process on a loopback port: started,
//! its output collected (so it never blocks on a full pipe), its address
//! read from the line it prints once it listens, killed on drop with every
//! process it started (`wrangler dev` runs workerd as a child).

use anyhow::{Context as _, bail};
use std::io::{BufRead as _, BufReader};
use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// A spawned child, its collected output, and what followed its marker.
type Started = (Child, Arc<Mutex<String>>, mpsc::Receiver<String>);

/// A running child host. Killed on drop.
pub struct ChildHost {
    child: Child,
    addr: SocketAddr,
    output: Arc<Mutex<String>>,
}

impl ChildHost {
    /// Spawns `cmd` and waits up to `timeout` until `addr` accepts
    /// connections (for hosts that print no address, or listen on a port
    /// they were given).
    pub fn spawn_listening(
        cmd: Command,
        what: &str,
        addr: SocketAddr,
        timeout: Duration,
    ) -> anyhow::Result<Self> {
        let (mut child, output, _) = Self::start(cmd, what, None)?;
        let deadline = std::time::Instant::now() + timeout;
        while std::net::TcpStream::connect(addr).is_err() {
            if std::time::Instant::now() > deadline || child.try_wait()?.is_some() {
                let _ = child.kill();
                let status = child.wait().ok();
                let output = output.lock().unwrap_or_else(|e| e.into_inner()).clone();
                bail!(
                    "{what} did not listen on {addr} within {timeout:?} (exit: {status:?}); its output:\n{output}"
                );
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        Ok(ChildHost {
            child,
            addr,
            output,
        })
    }

    /// Spawns `cmd` and waits up to `timeout` for a line starting with
    /// `marker` followed by `ADDR` (an optional trailing `/` and anything
    /// after a space are ignored).
    pub fn spawn(
        cmd: Command,
        what: &str,
        marker: &'static str,
        timeout: Duration,
    ) -> anyhow::Result<Self> {
        let (mut child, output, rx) = Self::start(cmd, what, Some(marker))?;
        let addr = match rx.recv_timeout(timeout) {
            Ok(addr) => addr
                .parse()
                .with_context(|| format!("{what} printed an odd address {addr:?}"))?,
            Err(_) => {
                let _ = child.kill();
                let status = child.wait().ok();
                let output = output.lock().unwrap_or_else(|e| e.into_inner()).clone();
                bail!(
                    "{what} did not start listening within {timeout:?} (exit: {status:?}); its output:\n{output}"
                );
            }
        };
        Ok(ChildHost {
            child,
            addr,
            output,
        })
    }

    /// Spawns `cmd` with its output collected; lines containing `marker`
    /// send what follows it on the channel.
    fn start(cmd: Command, what: &str, marker: Option<&'static str>) -> anyhow::Result<Started> {
        use std::os::unix::process::CommandExt as _;
        let mut cmd = cmd;
        // Its own process group, so that drop kills what it spawned too.
        cmd.process_group(0);
        cmd.stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = cmd.spawn().with_context(|| format!("starting {what}"))?;
        let output = Arc::new(Mutex::new(String::new()));
        let (tx, rx) = mpsc::channel();
        let stdout = child.stdout.take().expect("piped");
        let stderr = child.stderr.take().expect("piped");
        for (stream, tx) in [
            (
                Box::new(stdout) as Box<dyn std::io::Read + Send>,
                tx.clone(),
            ),
            (Box::new(stderr), tx),
        ] {
            let output = output.clone();
            std::thread::spawn(move || {
                for line in BufReader::new(stream).lines() {
                    let Ok(line) = line else { break };
                    if let Some(rest) = marker
                        .and_then(|m| line.split_once(m))
                        .map(|(_, rest)| rest)
                    {
                        let addr = rest.split_whitespace().next().unwrap_or("");
                        let _ = tx.send(addr.trim_end_matches('/').to_owned());
                    }
                    let mut output = output.lock().unwrap_or_else(|e| e.into_inner());
                    output.push_str(&line);
                    output.push('\n');
                }
            });
        }
        Ok((child, output, rx))
    }

    /// Whether its output contains `needle` within `timeout`; false at once
    /// when it exits first.
    pub fn wait_for_output(&mut self, needle: &str, timeout: Duration) -> bool {
        let deadline = std::time::Instant::now() + timeout;
        loop {
            if self.output().contains(needle) {
                return true;
            }
            let exited = !matches!(self.child.try_wait(), Ok(None));
            if exited || std::time::Instant::now() > deadline {
                return false;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// The address it listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// What it printed so far (the guest's log lines included).
    pub fn output(&self) -> String {
        self.output
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }
}

impl Drop for ChildHost {
    fn drop(&mut self) {
        let _ = Command::new("kill")
            .args(["-KILL", "--", &format!("-{}", self.child.id())])
            .stderr(Stdio::null())
            .status();
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
