//! Conventions of `wasi:keyvalue` that the WIT leaves open and that guest
//! and host must agree on: the name of the default store, and how
//! `atomics.increment` stores a counter.
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
