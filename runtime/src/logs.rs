//! Capture of the guest's stdout and stderr, one pair of buffers per call.

use bytes::Bytes;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use wasmtime_wasi::cli::{IsTerminal, StdoutStream};
use wasmtime_wasi::p2::{OutputStream, Pollable, StreamResult};

/// What a call wrote to stdout and stderr.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Logs {
    /// Everything the guest wrote to stdout (up to the cap).
    pub stdout: Bytes,
    /// Everything the guest wrote to stderr (up to the cap). The SDK's
    /// `fnsdk::log` writes one JSON object per line here.
    pub stderr: Bytes,
    /// Bytes dropped because a stream went past
    /// [`Limits::max_log_bytes`](crate::Limits::max_log_bytes).
    pub dropped: u64,
}

impl Logs {
    /// Stdout as text (invalid UTF-8 replaced).
    pub fn stdout_str(&self) -> String {
        String::from_utf8_lossy(&self.stdout).into_owned()
    }

    /// Stderr as text (invalid UTF-8 replaced).
    pub fn stderr_str(&self) -> String {
        String::from_utf8_lossy(&self.stderr).into_owned()
    }

    /// The stderr lines that are JSON objects, the format of `fnsdk::log`
    /// (`{"level":"info","msg":"..."}`); other lines are skipped.
    pub fn records(&self) -> Vec<serde_json::Value> {
        self.stderr
            .split(|b| *b == b'\n')
            .filter_map(|line| serde_json::from_slice::<serde_json::Value>(line).ok())
            .filter(serde_json::Value::is_object)
            .collect()
    }
}

#[derive(Debug, Default)]
struct Buffer {
    bytes: Vec<u8>,
    dropped: u64,
}

/// An output stream that keeps the first `cap` bytes and counts the rest.
/// Unlike `MemoryOutputPipe` it never fails the guest's write.
#[derive(Clone, Debug)]
pub(crate) struct LogPipe {
    cap: usize,
    buffer: Arc<Mutex<Buffer>>,
}

/// How much a guest may write in one go; writes are never refused.
const PERMIT: usize = 64 * 1024;

impl LogPipe {
    pub(crate) fn new(cap: usize) -> Self {
        LogPipe {
            cap,
            buffer: Arc::default(),
        }
    }

    fn push(&self, bytes: &[u8]) {
        let mut buffer = self.buffer.lock().unwrap_or_else(|e| e.into_inner());
        let room = self.cap.saturating_sub(buffer.bytes.len());
        let kept = room.min(bytes.len());
        buffer.bytes.extend_from_slice(&bytes[..kept]);
        buffer.dropped += (bytes.len() - kept) as u64;
    }

    /// The captured bytes and the number of bytes dropped.
    pub(crate) fn take(&self) -> (Bytes, u64) {
        let mut buffer = self.buffer.lock().unwrap_or_else(|e| e.into_inner());
        let dropped = buffer.dropped;
        (Bytes::from(std::mem::take(&mut buffer.bytes)), dropped)
    }
}

/// Collects a call's stdout and stderr into [`Logs`].
pub(crate) fn collect(stdout: &LogPipe, stderr: &LogPipe) -> Logs {
    let (stdout, out_dropped) = stdout.take();
    let (stderr, err_dropped) = stderr.take();
    Logs {
        stdout,
        stderr,
        dropped: out_dropped + err_dropped,
    }
}

impl IsTerminal for LogPipe {
    fn is_terminal(&self) -> bool {
        false
    }
}

impl StdoutStream for LogPipe {
    fn p2_stream(&self) -> Box<dyn OutputStream> {
        Box::new(self.clone())
    }

    fn async_stream(&self) -> Box<dyn tokio::io::AsyncWrite + Send + Sync> {
        Box::new(self.clone())
    }
}

#[wasmtime_wasi::async_trait]
impl OutputStream for LogPipe {
    fn write(&mut self, bytes: Bytes) -> StreamResult<()> {
        self.push(&bytes);
        Ok(())
    }

    fn flush(&mut self) -> StreamResult<()> {
        Ok(())
    }

    fn check_write(&mut self) -> StreamResult<usize> {
        Ok(PERMIT)
    }
}

#[wasmtime_wasi::async_trait]
impl Pollable for LogPipe {
    async fn ready(&mut self) {}
}

impl tokio::io::AsyncWrite for LogPipe {
    fn poll_write(
        self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        self.push(buf);
        Poll::Ready(Ok(buf.len()))
    }

    fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pipe_keeps_up_to_cap_and_counts_the_rest() {
        let mut pipe = LogPipe::new(8);
        pipe.write(Bytes::from_static(b"hello ")).unwrap();
        pipe.write(Bytes::from_static(b"world")).unwrap();
        assert_eq!(pipe.check_write().unwrap(), PERMIT);
        let (bytes, dropped) = pipe.take();
        assert_eq!(&bytes[..], b"hello wo");
        assert_eq!(dropped, 3);
    }

    #[test]
    fn records_parses_json_lines_only() {
        let logs = Logs {
            stderr: Bytes::from_static(
                b"{\"level\":\"info\",\"msg\":\"a\"}\nnot json\n{\"level\":\"warn\",\"msg\":\"b\"}\n",
            ),
            ..Logs::default()
        };
        let records = logs.records();
        assert_eq!(records.len(), 2);
        assert_eq!(records[1]["level"], "warn");
    }
}
