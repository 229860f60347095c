//! What the server benches share: starting a server process and waiting
//! for the line that says where it listens.

use std::io::{BufRead as _, BufReader};
use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// A server child process, its address, and a thread draining its stderr.
pub struct Server {
    pub child: Child,
    pub addr: SocketAddr,
}

impl Server {
    /// SIGINT, then a kill if it is still up after 5 s.
    #[allow(dead_code)] // not every bench stops its servers gracefully
    pub fn stop(&mut self) {
        let _ = Command::new("kill")
            .args(["-INT", &self.child.id().to_string()])
            .status();
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Spawns `cmd` with stderr piped; lines go to `on_line` until it returns
/// `Some`, then are drained (and dropped) so the server never blocks on
/// a full pipe. Returns the child and what `on_line` found, or the stderr
/// so far if the child exits or nothing is found within 120 s.
pub fn spawn<T: Send + 'static>(
    mut cmd: Command,
    on_line: impl Fn(&str) -> Option<T> + Send + 'static,
) -> Result<(Child, T), String> {
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("could not start {cmd:?}: {e}"))?;
    let stderr = child.stderr.take().unwrap();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let mut found = false;
        for line in BufReader::new(stderr).lines() {
            let Ok(line) = line else { break };
            if !found {
                let _ = tx.send(Err(line.clone()));
                if let Some(value) = on_line(&line) {
                    found = true;
                    let _ = tx.send(Ok(value));
                }
            }
        }
    });
    let deadline = Instant::now() + Duration::from_secs(120);
    let mut seen = String::new();
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match rx.recv_timeout(left) {
            Ok(Ok(value)) => return Ok((child, value)),
            Ok(Err(line)) => {
                seen.push_str(&line);
                seen.push('\n');
            }
            Err(_) => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(seen);
            }
        }
    }
}
