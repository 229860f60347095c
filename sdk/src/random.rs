//! Random bytes from the host (`wasi:random/random`): cryptographically
//! secure, suitable for one-time codes, tokens and keys.
//!
//! On native targets (unit tests of a handler) the operating system's
//! generator is used.

/// Fills `buf` with random bytes.
pub fn fill(buf: &mut [u8]) {
    #[cfg(target_arch = "wasm32")]
    {
        let mut filled = 0;
        while filled < buf.len() {
            let want = (buf.len() - filled) as u64;
            let bytes = crate::wasm::bindings::wasi::random::random::get_random_bytes(want);
            let n = bytes.len().min(buf.len() - filled);
            buf[filled..filled + n].copy_from_slice(&bytes[..n]);
            filled += n;
        }
    }
    #[cfg(not(target_arch = "wasm32"))]
    {
        getrandom::fill(buf).expect("the operating system's random generator failed");
    }
}

/// `len` random bytes.
pub fn bytes(len: usize) -> Vec<u8> {
    let mut buf = vec![0; len];
    fill(&mut buf);
    buf
}

/// A random `u64`.
pub fn u64() -> u64 {
    let mut buf = [0; 8];
    fill(&mut buf);
    u64::from_le_bytes(buf)
}

/// A uniformly distributed number in `0..bound` (no modulo bias).
///
/// # Panics
/// When `bound` is 0.
pub fn below(bound: u64) -> u64 {
    assert!(bound > 0, "random::below needs a bound above 0");
    // Reject the top partial range so every residue is equally likely.
    let zone = u64::MAX - (u64::MAX % bound);
    loop {
        let value = u64();
        if value < zone {
            return value % bound;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fills_whole_buffers_with_varying_bytes() {
        let a = bytes(64);
        let b = bytes(64);
        assert_eq!(a.len(), 64);
        assert_ne!(a, b, "two 64-byte draws were equal");
        assert!(a.iter().any(|&byte| byte != 0));
    }

    #[test]
    fn below_stays_in_range_and_covers_it() {
        let mut seen = [false; 10];
        for _ in 0..1000 {
            let value = below(10);
            assert!(value < 10);
            seen[value as usize] = true;
        }
        assert!(
            seen.iter().all(|&s| s),
            "some digit never came up: {seen:?}"
        );
    }
}
