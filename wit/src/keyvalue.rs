//! Conventions of `wasi:keyvalue` that the WIT leaves open and that guest
//! and host must agree on: the name of the default store, how
//! `atomics.increment` stores a counter, and [`files`], the layout of
//! key-value kept as files.
//!
//! The SDK (guest side, natively and on wasm) and the runtime (host side)
//! both use these definitions, so a counter the SDK's in-memory backend
//! accepts in a native test is exactly one the runtime accepts in the
//! component.
//!
//! ```
//! use fn_wit::keyvalue::counter;
//!
//! assert_eq!(counter::parse(b"41"), Some(41));
//! assert_eq!(counter::increment(Some(b"41"), 1), Ok(42));
//! assert_eq!(counter::format(42), b"42");
//! // Only the bytes `increment` writes are counters: no sign, no spaces.
//! assert_eq!(counter::parse(b" 5"), None);
//! ```

/// The store every function can open without configuration: Spin,
/// wasmCloud, `cargo fn serve` and fn-host-test all call it `"default"`.
pub const DEFAULT_STORE: &str = "default";

/// The counter format of `wasi:keyvalue/atomics.increment`: the value as
/// decimal ASCII digits (`"0"` to `"18446744073709551615"`), nothing else.
///
/// This is what `wasmtime serve -S keyvalue` and Redis (`INCRBY`) accept and
/// write, so a counter means the same on every host: a value with a sign,
/// white space or a fraction is not a counter anywhere.
pub mod counter {
    use std::fmt;

    /// Why a counter could not be incremented.
    #[derive(Clone, Copy, Debug, PartialEq, Eq)]
    pub enum Error {
        /// The stored value is not decimal digits that fit a `u64`.
        NotACounter,
        /// The sum does not fit a `u64`.
        Overflow,
    }

    impl fmt::Display for Error {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str(match self {
                Error::NotACounter => "the value is not a counter (decimal digits only)",
                Error::Overflow => "the counter would overflow a u64",
            })
        }
    }

    impl std::error::Error for Error {}

    /// The counter stored as `bytes`, or `None` if they are not one.
    pub fn parse(bytes: &[u8]) -> Option<u64> {
        if bytes.is_empty() || !bytes.iter().all(u8::is_ascii_digit) {
            return None;
        }
        std::str::from_utf8(bytes).ok()?.parse().ok()
    }

    /// The bytes that store `value`.
    pub fn format(value: u64) -> Vec<u8> {
        value.to_string().into_bytes()
    }

    /// The value after adding `delta` to the counter stored as `current`
    /// (`None`: absent, which counts as 0). Store [`format`] of it.
    pub fn increment(current: Option<&[u8]>, delta: u64) -> Result<u64, Error> {
        let current = match current {
            None => 0,
            Some(bytes) => parse(bytes).ok_or(Error::NotACounter)?,
        };
        current.checked_add(delta).ok_or(Error::Overflow)
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        #[test]
        fn only_plain_decimal_digits_are_counters() {
            assert_eq!(parse(b"0"), Some(0));
            assert_eq!(parse(b"007"), Some(7));
            assert_eq!(parse(b"18446744073709551615"), Some(u64::MAX));
            for bad in [
                &b""[..],
                b" 5",
                b"5 ",
                b"5\n",
                b"+5",
                b"-5",
                b"5.0",
                b"x",
                b"18446744073709551616",
            ] {
                assert_eq!(parse(bad), None, "{:?}", String::from_utf8_lossy(bad));
            }
        }

        #[test]
        fn increment_starts_at_zero_and_reports_bad_values_and_overflow() {
            assert_eq!(increment(None, 3), Ok(3));
            assert_eq!(increment(Some(&format(41)), 1), Ok(42));
            assert_eq!(increment(Some(b" 5"), 1), Err(Error::NotACounter));
            assert_eq!(increment(Some(&format(u64::MAX)), 1), Err(Error::Overflow));
            assert_eq!(format(u64::MAX), u64::MAX.to_string().as_bytes());
        }
    }
}

/// Key-value as files, the layout of the files adapter (fn-templates'
/// `adapters/files`, for hosts with a filesystem but no key-value): under
/// the directory named by [`DIR_ENV`](files::DIR_ENV), a folder per store
/// and a file per key, its name [`file_name`](files::file_name) of the key.
/// Files whose names hold `~` (locks, values being written) are no keys.
///
/// ```
/// use fn_wit::keyvalue::files;
///
/// assert_eq!(files::file_name("user:42").unwrap(), "user%3A42");
/// assert_eq!(files::key("user%3A42").as_deref(), Some("user:42"));
/// assert_eq!(files::key("hits~lock"), None);
/// ```
pub mod files {
    use std::fmt;

    /// The variable naming the directory of the stores, which the host
    /// must preopen.
    pub const DIR_ENV: &str = "FN_KV_DIR";
    /// What a key's lock file adds to its file name.
    pub const LOCK_SUFFIX: &str = "~lock";
    /// What a value being written adds to its file name (then a unique
    /// part).
    pub const TEMP_SUFFIX: &str = "~tmp";
    /// The longest file name of a key: names stop at 255 bytes, and the
    /// lock and temporary files add a suffix.
    pub const MAX_NAME: usize = 200;

    /// Why a key cannot be a file name.
    #[derive(Clone, Debug, PartialEq, Eq)]
    pub enum Error {
        /// The empty key.
        Empty,
        /// Its file name would be this long, over [`MAX_NAME`].
        TooLong(usize),
    }

    impl fmt::Display for Error {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            match self {
                Error::Empty => f.write_str("an empty key cannot be stored"),
                Error::TooLong(n) => write!(
                    f,
                    "the key is too long to be a file name ({n} bytes encoded, at most {MAX_NAME})"
                ),
            }
        }
    }

    impl std::error::Error for Error {}

    fn safe(byte: u8, first: bool) -> bool {
        byte.is_ascii_alphanumeric() || byte == b'_' || byte == b'-' || (byte == b'.' && !first)
    }

    /// The file name of `key`: the key with every byte outside
    /// `[A-Za-z0-9_.-]`, and a leading `.`, written `%XX`.
    pub fn file_name(key: &str) -> Result<String, Error> {
        if key.is_empty() {
            return Err(Error::Empty);
        }
        let mut name = String::with_capacity(key.len());
        for (i, byte) in key.bytes().enumerate() {
            if safe(byte, i == 0) {
                name.push(char::from(byte));
            } else {
                name.push_str(&format!("%{byte:02X}"));
            }
        }
        if name.len() > MAX_NAME {
            return Err(Error::TooLong(name.len()));
        }
        Ok(name)
    }

    /// The key a file name stands for, or `None` for a file that is no key
    /// (a lock, a value being written, anything else put there).
    pub fn key(file_name: &str) -> Option<String> {
        // `file_name` never starts one with a dot (`.keep`, `.DS_Store`).
        if file_name.starts_with('.') {
            return None;
        }
        let mut bytes = Vec::with_capacity(file_name.len());
        let mut rest = file_name.as_bytes();
        while let Some((&byte, tail)) = rest.split_first() {
            if byte == b'%' {
                let hex = std::str::from_utf8(tail.get(..2)?).ok()?;
                bytes.push(u8::from_str_radix(hex, 16).ok()?);
                rest = &tail[2..];
            } else if safe(byte, false) {
                bytes.push(byte);
                rest = tail;
            } else {
                return None;
            }
        }
        String::from_utf8(bytes).ok().filter(|k| !k.is_empty())
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        #[test]
        fn keys_round_trip_through_file_names() {
            for k in [
                "hits", "user:42", "a/b", ".hidden", "é", "a.b-c_d", "%", "a~b", "A",
            ] {
                let name = file_name(k).unwrap();
                assert!(!name.contains(['/', '~', '\\']), "{name}");
                assert!(!name.starts_with('.'), "{name}");
                assert_eq!(key(&name).as_deref(), Some(k), "{name}");
            }
            assert_eq!(key("hits~lock"), None);
            assert_eq!(key("hits~tmp1a2b"), None);
            assert_eq!(key("%zz"), None);
            assert_eq!(key(".keep"), None);
            assert_eq!(file_name(""), Err(Error::Empty));
            assert_eq!(
                file_name(&"x".repeat(MAX_NAME + 1)),
                Err(Error::TooLong(MAX_NAME + 1))
            );
        }
    }
}
