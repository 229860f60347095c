//! A host under test run as a child process on a loopback port: started,
//! its output collected (so it never blocks on a full pipe), its address
//! read from the line it prints once it listens, killed on drop.

use anyhow::{Context as _, bail};
use std::io::{BufRead as _, BufReader};
use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// A running child host. Killed on drop.
pub struct ChildHost {
    child: Child,
    addr: SocketAddr,
    output: Arc<Mutex<String>>,
}

impl ChildHost {
    /// Spawns `cmd` and waits up to `timeout` for a line starting with
    /// `marker` followed by `ADDR` (an optional trailing `/` and anything
    /// after a space are ignored).
    pub fn spawn(
        mut cmd: Command,
        what: &str,
        marker: &'static str,
        timeout: Duration,
    ) -> anyhow::Result<Self> {
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
                    if let Some(rest) = line.split_once(marker).map(|(_, rest)| rest) {
                        let addr = rest.split_whitespace().next().unwrap_or("");
                        let _ = tx.send(addr.trim_end_matches('/').to_owned());
                    }
                    let mut output = output.lock().unwrap_or_else(|e| e.into_inner());
                    output.push_str(&line);
                    output.push('\n');
                }
            });
        }
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
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
