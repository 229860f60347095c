//! Recording a server's calls into a directory: which calls, and under
//! which names (`cargo fn serve --record`, the runner's `FN_RECORD_DIR`).

use super::{RecordOptions, Recording};
use crate::call::CallResult;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

/// Which calls a [`Recorder`] keeps.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum RecordWhen {
    /// Every call.
    All,
    /// Calls that failed: a 5xx response or a [`CallError`](crate::CallError).
    /// Every call is recorded in memory, only failures are written.
    Errors,
    /// A random fraction of the calls (0 < rate ≤ 1), chosen before the
    /// call, so the others run without recording.
    Sample(f64),
}

impl FromStr for RecordWhen {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "all" => Ok(RecordWhen::All),
            "errors" => Ok(RecordWhen::Errors),
            rate => match rate.parse::<f64>() {
                Ok(rate) if rate > 0.0 && rate <= 1.0 => Ok(RecordWhen::Sample(rate)),
                _ => Err(format!(
                    "`{s}` is not `all`, `errors` or a sampling rate in (0, 1] such as 0.05"
                )),
            },
        }
    }
}

/// Writes recordings of a server's calls into a directory, one file per
/// call: `<UTC time>-<sequence>-<METHOD>-<status>.jsonl`.
#[derive(Clone, Debug)]
pub struct Recorder {
    dir: PathBuf,
    when: RecordWhen,
    options: RecordOptions,
    sequence: Arc<AtomicU64>,
}

impl Recorder {
    /// A recorder into `dir` (created if missing), keeping the calls `when`
    /// says, with `options` (the secrets to withhold).
    pub fn new(
        dir: impl Into<PathBuf>,
        when: RecordWhen,
        options: RecordOptions,
    ) -> std::io::Result<Recorder> {
        let dir = dir.into();
        std::fs::create_dir_all(&dir)?;
        Ok(Recorder {
            dir,
            when,
            options,
            sequence: Arc::default(),
        })
    }

    /// The directory recordings go to.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// What recorded calls withhold.
    pub fn options(&self) -> &RecordOptions {
        &self.options
    }

    /// Whether the next call should run recorded.
    pub fn wants_call(&self) -> bool {
        match self.when {
            RecordWhen::All | RecordWhen::Errors => true,
            RecordWhen::Sample(rate) => rand::random::<f64>() < rate,
        }
    }

    /// Writes `recording` of a call that gave `result`, when the policy
    /// keeps it; returns the file written.
    pub fn keep(
        &self,
        recording: &Recording,
        method: &http::Method,
        result: &CallResult,
    ) -> std::io::Result<Option<PathBuf>> {
        let failed = result.error.is_some() || result.status().is_server_error();
        if self.when == RecordWhen::Errors && !failed {
            return Ok(None);
        }
        let sequence = self.sequence.fetch_add(1, Ordering::Relaxed) + 1;
        let time = chrono::Utc::now().format("%Y%m%dT%H%M%S%.3fZ");
        let name = format!(
            "{time}-{sequence:06}-{method}-{}.jsonl",
            result.status().as_u16()
        );
        let path = self.dir.join(name);
        recording.write(&path)?;
        Ok(Some(path))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn policies_parse_and_bad_ones_say_what_is_allowed() {
        assert_eq!("all".parse::<RecordWhen>(), Ok(RecordWhen::All));
        assert_eq!("errors".parse::<RecordWhen>(), Ok(RecordWhen::Errors));
        assert_eq!("0.25".parse::<RecordWhen>(), Ok(RecordWhen::Sample(0.25)));
        for bad in ["0", "1.5", "-1", "some", "NaN"] {
            let err = bad.parse::<RecordWhen>().unwrap_err();
            assert!(err.contains("sampling rate"), "{bad}: {err}");
        }
    }
}
