//! Structured logging: one JSON object per line on stderr.
//!
//! Hosts collect a component's stderr (`cargo fn serve`, `wasmtime serve`,
//! Spin and the test harness all do), so a JSON line per record is the
//! portable way to log. Use the macros:
//!
//! ```
//! fnsdk::info!("order {} charged", 42);
//! fnsdk::warn!("stock low");
//! ```
//!
//! or build a record with fields:
//!
//! ```
//! use fnsdk::log::{Level, Record};
//! Record::new(Level::Info, "charged").field("order", 42).field("sku", "A-1").emit();
//! ```

use std::fmt;

use serde_json::Value;

/// The severity of a record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Level {
    /// Detail for debugging.
    Debug,
    /// Normal operation.
    Info,
    /// Something unexpected that the function handled.
    Warn,
    /// A failure.
    Error,
}

impl Level {
    fn as_str(self) -> &'static str {
        match self {
            Level::Debug => "debug",
            Level::Info => "info",
            Level::Warn => "warn",
            Level::Error => "error",
        }
    }
}

impl fmt::Display for Level {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A log record with structured fields.
#[derive(Debug, Clone)]
#[must_use = "a record does nothing until `.emit()`"]
pub struct Record {
    line: String,
}

impl Record {
    /// A record at `level` with message `msg`.
    pub fn new(level: Level, msg: impl Into<String>) -> Self {
        let msg = msg.into();
        let mut line = String::with_capacity(msg.len() + 32);
        line.push_str("{\"level\":\"");
        line.push_str(level.as_str());
        line.push_str("\",\"msg\":");
        crate::json::push_str(&mut line, &msg);
        Self { line }
    }

    /// Adds a field. `level` and `msg` are reserved: use other names.
    pub fn field(mut self, key: &str, value: impl Into<Value>) -> Self {
        self.line.push(',');
        crate::json::push_str(&mut self.line, key);
        self.line.push(':');
        self.line.push_str(&value.into().to_string());
        self
    }

    /// Writes the record as one JSON line to stderr.
    ///
    /// Inside a traced call ([`trace`](crate::trace)) the line carries
    /// `trace_id` and `span_id`.
    pub fn emit(self) {
        let mut line = self.line;
        if let Some(trace) = crate::trace::current() {
            line.push_str(",\"trace_id\":\"");
            line.push_str(&trace.trace_id());
            line.push_str("\",\"span_id\":\"");
            line.push_str(&trace.span_id());
            line.push('"');
        }
        line.push_str("}\n");
        write_line(&line);
    }
}

/// Writes one finished line (newline included) to stderr: inside a
/// component straight to `wasi:cli/stderr`, not through `eprintln!`, whose
/// locking and panic-on-failure machinery (the `io::Error` messages, the
/// C library's `strerror` table) would add about 5 KB to every function.
/// A line the host does not take is dropped: logging never fails a call.
#[cfg(target_arch = "wasm32")]
fn write_line(line: &str) {
    use crate::wasm::bindings::wasi::cli::stderr::get_stderr;
    use crate::wasm::bindings::wasi::io::streams::OutputStream;
    use std::mem::ManuallyDrop;
    thread_local! {
        // One stream for the instance's life, never dropped, as wasi-libc
        // keeps its own. Some hosts hand out one shared stderr stream and
        // close it for good when any handle to it is dropped: jco's
        // preview2-shim (its browser build, in the Netlify and Cloudflare
        // bundles) did, and the second log line of a call trapped.
        static STDERR: ManuallyDrop<OutputStream> = ManuallyDrop::new(get_stderr());
    }
    STDERR.with(|stderr| {
        let _ = crate::wasm::http_glue::write_stream(stderr, line.as_bytes());
    });
}

#[cfg(not(target_arch = "wasm32"))]
fn write_line(line: &str) {
    crate::testing::record_log(line.trim_end_matches('\n'));
    eprint!("{line}");
}

/// Logs `msg` at debug level.
pub fn debug(msg: &str) {
    Record::new(Level::Debug, msg).emit()
}

/// Logs `msg` at info level.
pub fn info(msg: &str) {
    Record::new(Level::Info, msg).emit()
}

/// Logs `msg` at warn level.
pub fn warn(msg: &str) {
    Record::new(Level::Warn, msg).emit()
}

/// Logs `msg` at error level.
pub fn error(msg: &str) {
    Record::new(Level::Error, msg).emit()
}

/// Logs a formatted message at debug level.
#[macro_export]
macro_rules! debug {
    ($($arg:tt)+) => { $crate::log::debug(&::std::format!($($arg)+)) };
}

/// Logs a formatted message at info level.
#[macro_export]
macro_rules! info {
    ($($arg:tt)+) => { $crate::log::info(&::std::format!($($arg)+)) };
}

/// Logs a formatted message at warn level.
#[macro_export]
macro_rules! warn {
    ($($arg:tt)+) => { $crate::log::warn(&::std::format!($($arg)+)) };
}

/// Logs a formatted message at error level.
#[macro_export]
macro_rules! error {
    ($($arg:tt)+) => { $crate::log::error(&::std::format!($($arg)+)) };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_are_json_lines() {
        crate::info!("hello {}", "there");
        Record::new(Level::Warn, "low")
            .field("sku", "A")
            .field("left", 2)
            .emit();
        let logs = crate::testing::logs();
        let parsed: Vec<Value> = logs
            .iter()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(parsed[0]["level"], "info");
        assert_eq!(parsed[0]["msg"], "hello there");
        assert_eq!(parsed[1]["level"], "warn");
        assert_eq!(parsed[1]["left"], 2);
    }
}
