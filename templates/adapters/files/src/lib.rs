//! The files adapter: a component composed in front of an unchanged cargo fn
//! function so that a host that links all of WASI 0.2 but no key-value or
//! config (NGINX Unit, jco) runs a function that imports
//! `wasi:keyvalue@0.2.0-draft` and `wasi:config@0.2.0-rc.1`.
//!
//! - **Key-value** lives under the directory named by `FN_KV_DIR`, which the
//!   host must preopen (Unit: `access.filesystem`). Each store is a folder
//!   there, created by whoever deploys (a store whose folder is missing is
//!   `no-such-store`, as an undeclared store is elsewhere); each key is a
//!   file, its name the key with every byte outside `[A-Za-z0-9_.-]` (and a
//!   leading `.`) written `%XX` (`fn_wit::keyvalue::files`). A value is
//!   replaced by writing a temporary file and renaming it over the old one,
//!   so a reader sees the old value or the new, never half of one.
//! - **Increments** hold a lock file (`<key>~lock`, created exclusively)
//!   while they read, add and write, so concurrent increments from any
//!   number of instances or processes on the same directory lose nothing. A
//!   lock older than [`STALE_LOCK`] is taken to be left by an instance that
//!   died holding it, and broken. Counters are unsigned decimal text, as
//!   `cargo fn serve` stores them (`fn_wit::keyvalue::counter`).
//! - **Config** comes from the environment: key `k` is `FN_CONFIG_K` (the
//!   key upper-cased), as for the native runner.

#![deny(missing_docs)]

use std::fs;
use std::io::ErrorKind;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime};

mod bindings {
    #![allow(missing_docs, clippy::all)]
    include!(concat!(env!("OUT_DIR"), "/bindings.rs"));
}

use bindings::exports::wasi::config0_2_0_rc_1::store as config;
use bindings::exports::wasi::keyvalue0_2_0_draft::{atomics, store};
use fn_wit::keyvalue::{counter, files};
use wasip2::filesystem::types::{Descriptor, DescriptorFlags, ErrorCode, OpenFlags, PathFlags};

/// What a config key's variable starts with.
pub const CONFIG_PREFIX: &str = "FN_CONFIG_";
/// Keys per `list-keys` page.
const PAGE: usize = 1000;
/// How long an increment waits for another one's lock.
const LOCK_WAIT: Duration = Duration::from_secs(10);
/// A lock file older than this is taken to be abandoned.
pub const STALE_LOCK: Duration = Duration::from_secs(30);

struct Adapter;

fn other(message: String) -> store::Error {
    store::Error::Other(message)
}

/// One store: a folder.
pub struct Bucket {
    dir: PathBuf,
    /// The preopened directory the folder is in, and the folder's path in
    /// it, for the files the adapter creates (see [`Bucket::create_new`]).
    preopen: Descriptor,
    in_preopen: PathBuf,
}

/// The preopened directory `dir` lies in (the longest that contains it),
/// and `dir`'s path inside it.
fn preopen_of(dir: &Path) -> Option<(Descriptor, PathBuf)> {
    wasip2::filesystem::preopens::get_directories()
        .into_iter()
        .filter_map(|(preopen, guest)| {
            let inside = dir.strip_prefix(&guest).ok()?.to_path_buf();
            Some((guest.len(), preopen, inside))
        })
        .max_by_key(|(len, ..)| *len)
        .map(|(_, preopen, inside)| (preopen, inside))
}

impl Bucket {
    /// Creates the file `path` of this store, which must not exist,
    /// holding `contents`.
    ///
    /// Through wasi:filesystem itself rather than `std::fs`: wasi-libc
    /// opens every file it writes with `mutate-directory` as well as
    /// `write`, and jco's WASI shim refuses that flag, while a new file
    /// needs only `write`.
    fn create_new(&self, path: &Path, contents: &[u8]) -> std::io::Result<()> {
        let fail = |e: ErrorCode| match e {
            ErrorCode::Exist => std::io::Error::from(ErrorKind::AlreadyExists),
            e => std::io::Error::other(format!("{e:?}")),
        };
        let name = path.file_name().unwrap_or_default();
        let inside = self.in_preopen.join(name);
        let inside = inside
            .to_str()
            .ok_or_else(|| std::io::Error::other("a path that is not UTF-8"))?;
        let file = self
            .preopen
            .open_at(
                PathFlags::empty(),
                inside,
                OpenFlags::CREATE | OpenFlags::EXCLUSIVE,
                DescriptorFlags::WRITE,
            )
            .map_err(fail)?;
        let mut written = 0;
        while written < contents.len() {
            let n = file
                .write(&contents[written..], written as u64)
                .map_err(fail)?;
            written += usize::try_from(n).unwrap_or(usize::MAX).max(1);
        }
        Ok(())
    }

    fn path(&self, key: &str) -> Result<PathBuf, store::Error> {
        let name = files::file_name(key).map_err(|e| other(format!("{key:?}: {e}")))?;
        Ok(self.dir.join(name))
    }

    fn failed(&self, what: &str, path: &Path, err: std::io::Error) -> store::Error {
        other(format!("{what} {}: {err}", path.display()))
    }

    fn read(&self, path: &Path) -> Result<Option<Vec<u8>>, store::Error> {
        match fs::read(path) {
            Ok(bytes) => Ok(Some(bytes)),
            Err(e) if e.kind() == ErrorKind::NotFound => Ok(None),
            Err(e) => Err(self.failed("reading", path, e)),
        }
    }

    /// Replaces the value at `path` by renaming a complete temporary file
    /// over it.
    fn write(&self, path: &Path, value: &[u8]) -> Result<(), store::Error> {
        static COUNTER: AtomicU64 = AtomicU64::new(0);
        let stamp = SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or_default();
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("key");
        loop {
            let n = COUNTER.fetch_add(1, Ordering::Relaxed);
            let temp = self
                .dir
                .join(format!("{name}{}{stamp:x}{n:x}", files::TEMP_SUFFIX));
            match self.create_new(&temp, value) {
                Ok(()) => {}
                Err(e) if e.kind() == ErrorKind::AlreadyExists => continue,
                Err(e) => {
                    let _ = fs::remove_file(&temp);
                    return Err(self.failed("creating", &temp, e));
                }
            }
            return fs::rename(&temp, path).map_err(|e| {
                let _ = fs::remove_file(&temp);
                self.failed("writing", path, e)
            });
        }
    }
}

impl store::Guest for Adapter {
    type Bucket = Bucket;

    fn open(identifier: String) -> Result<store::Bucket, store::Error> {
        let root = std::env::var_os(files::DIR_ENV).ok_or_else(|| {
            other(format!(
                "{} is not set: it names the directory of the key-value stores (a folder per store), which the host must preopen",
                files::DIR_ENV
            ))
        })?;
        if identifier.is_empty()
            || identifier == "."
            || identifier == ".."
            || identifier.contains(['/', '\\', '\0'])
        {
            return Err(store::Error::NoSuchStore);
        }
        let dir = Path::new(&root).join(&identifier);
        let (preopen, in_preopen) = preopen_of(&dir).ok_or_else(|| {
            other(format!(
                "{} is {}, which is in no directory the host preopened: preopen it (NGINX Unit: the application's access.filesystem)",
                files::DIR_ENV,
                Path::new(&root).display()
            ))
        })?;
        match fs::metadata(&dir) {
            Ok(meta) if meta.is_dir() => Ok(store::Bucket::new(Bucket {
                dir,
                preopen,
                in_preopen,
            })),
            Ok(_) => Err(store::Error::NoSuchStore),
            Err(e) if e.kind() == ErrorKind::NotFound => Err(store::Error::NoSuchStore),
            Err(e) => Err(other(format!("opening the store {}: {e}", dir.display()))),
        }
    }
}

impl store::GuestBucket for Bucket {
    fn get(&self, key: String) -> Result<Option<Vec<u8>>, store::Error> {
        self.read(&self.path(&key)?)
    }

    fn set(&self, key: String, value: Vec<u8>) -> Result<(), store::Error> {
        self.write(&self.path(&key)?, &value)
    }

    fn delete(&self, key: String) -> Result<(), store::Error> {
        let path = self.path(&key)?;
        match fs::remove_file(&path) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == ErrorKind::NotFound => Ok(()),
            Err(e) => Err(self.failed("deleting", &path, e)),
        }
    }

    fn exists(&self, key: String) -> Result<bool, store::Error> {
        let path = self.path(&key)?;
        match fs::metadata(&path) {
            Ok(_) => Ok(true),
            Err(e) if e.kind() == ErrorKind::NotFound => Ok(false),
            Err(e) => Err(self.failed("reading", &path, e)),
        }
    }

    // The cursor is the number of keys already listed, in key order.
    fn list_keys(&self, cursor: Option<u64>) -> Result<store::KeyResponse, store::Error> {
        let entries = fs::read_dir(&self.dir).map_err(|e| self.failed("listing", &self.dir, e))?;
        let mut keys = Vec::new();
        for entry in entries {
            let entry = entry.map_err(|e| self.failed("listing", &self.dir, e))?;
            if let Some(key) = entry.file_name().to_str().and_then(files::key) {
                keys.push(key);
            }
        }
        keys.sort();
        let skip = usize::try_from(cursor.unwrap_or(0)).unwrap_or(usize::MAX);
        let page: Vec<String> = keys.iter().skip(skip).take(PAGE).cloned().collect();
        let next = skip.saturating_add(page.len());
        Ok(store::KeyResponse {
            keys: page,
            cursor: (next < keys.len()).then_some(next as u64),
        })
    }
}

/// Holds the lock of one key until dropped.
struct Lock(PathBuf);

impl Lock {
    fn take(bucket: &Bucket, key_path: &Path) -> Result<Lock, store::Error> {
        let mut name = key_path.file_name().unwrap_or_default().to_os_string();
        name.push(files::LOCK_SUFFIX);
        let path = bucket.dir.join(name);
        let start = Instant::now();
        loop {
            match bucket.create_new(&path, &[]) {
                Ok(()) => return Ok(Lock(path)),
                Err(e) if e.kind() == ErrorKind::AlreadyExists => {}
                Err(e) => return Err(bucket.failed("locking", &path, e)),
            }
            let age = fs::metadata(&path)
                .and_then(|m| m.modified())
                .ok()
                .and_then(|t| SystemTime::now().duration_since(t).ok());
            if age.is_some_and(|age| age > STALE_LOCK) {
                // Left by an instance that died holding it.
                let _ = fs::remove_file(&path);
                continue;
            }
            if start.elapsed() > LOCK_WAIT {
                return Err(other(format!(
                    "{} is held by another increment for over {} s",
                    path.display(),
                    LOCK_WAIT.as_secs()
                )));
            }
            std::thread::sleep(Duration::from_millis(2));
        }
    }
}

impl Drop for Lock {
    fn drop(&mut self) {
        let _ = fs::remove_file(&self.0);
    }
}

impl atomics::Guest for Adapter {
    fn increment(
        bucket: store::BucketBorrow<'_>,
        key: String,
        delta: u64,
    ) -> Result<u64, store::Error> {
        let bucket: &Bucket = bucket.get();
        let path = bucket.path(&key)?;
        let _lock = Lock::take(bucket, &path)?;
        let current = bucket.read(&path)?;
        let next = counter::increment(current.as_deref(), delta)
            .map_err(|e| other(format!("incrementing {key:?} by {delta}: {e}")))?;
        bucket.write(&path, &counter::format(next))?;
        Ok(next)
    }
}

/// The variable of config key `key`.
fn variable(key: &str) -> String {
    format!("{CONFIG_PREFIX}{}", key.to_ascii_uppercase())
}

impl config::Guest for Adapter {
    fn get(key: String) -> Result<Option<String>, config::Error> {
        match std::env::var(variable(&key)) {
            Ok(value) => Ok(Some(value)),
            Err(std::env::VarError::NotPresent) => Ok(None),
            Err(std::env::VarError::NotUnicode(_)) => Err(config::Error::Upstream(format!(
                "{} is not UTF-8",
                variable(&key)
            ))),
        }
    }

    // Every FN_CONFIG_ variable, its key lower-cased.
    fn get_all() -> Result<Vec<(String, String)>, config::Error> {
        Ok(std::env::vars()
            .filter_map(|(name, value)| {
                let key = name.strip_prefix(CONFIG_PREFIX)?;
                (!key.is_empty()).then(|| (key.to_ascii_lowercase(), value))
            })
            .collect())
    }
}

bindings::export!(Adapter with_types_in bindings);
