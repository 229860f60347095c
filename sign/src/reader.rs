//! A bounds-checked cursor over bytes with the LEB128 and length-prefixed
//! reads both the wasm framing and the signature section use.

/// Why a read failed, with the byte offset it failed at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ReadError {
    pub offset: usize,
    pub what: &'static str,
}

pub(crate) struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    pub fn new(buf: &'a [u8]) -> Self {
        Self { buf, pos: 0 }
    }

    pub fn pos(&self) -> usize {
        self.pos
    }

    pub fn is_empty(&self) -> bool {
        self.pos == self.buf.len()
    }

    fn err(&self, what: &'static str) -> ReadError {
        ReadError {
            offset: self.pos,
            what,
        }
    }

    pub fn byte(&mut self) -> Result<u8, ReadError> {
        let b = *self
            .buf
            .get(self.pos)
            .ok_or_else(|| self.err("unexpected end of data"))?;
        self.pos += 1;
        Ok(b)
    }

    /// An unsigned LEB128 value that must fit in 32 bits (at most 5 bytes,
    /// no bits set past bit 31).
    pub fn u32(&mut self) -> Result<u32, ReadError> {
        let start = self.pos;
        let mut value: u32 = 0;
        for i in 0..5 {
            let b = self.byte()?;
            if i == 4 && b & 0x70 != 0 {
                self.pos = start;
                return Err(self.err("LEB128 value does not fit in 32 bits"));
            }
            value |= u32::from(b & 0x7f) << (7 * i);
            if b & 0x80 == 0 {
                return Ok(value);
            }
        }
        self.pos = start;
        Err(self.err("LEB128 value longer than 5 bytes"))
    }

    pub fn bytes(&mut self, len: usize) -> Result<&'a [u8], ReadError> {
        if self.buf.len() - self.pos < len {
            return Err(self.err("length runs past the end of the data"));
        }
        let out = &self.buf[self.pos..self.pos + len];
        self.pos += len;
        Ok(out)
    }

    /// A LEB128 u32 length followed by that many bytes.
    pub fn slice(&mut self) -> Result<&'a [u8], ReadError> {
        let len = self.u32()? as usize;
        self.bytes(len)
    }
}

/// Appends `v` as unsigned LEB128.
pub(crate) fn put_u32(out: &mut Vec<u8>, mut v: u32) {
    loop {
        let byte = (v & 0x7f) as u8;
        v >>= 7;
        if v == 0 {
            out.push(byte);
            return;
        }
        out.push(byte | 0x80);
    }
}

/// Appends a LEB128 length and the bytes.
pub(crate) fn put_slice(out: &mut Vec<u8>, bytes: &[u8]) {
    put_u32(
        out,
        u32::try_from(bytes.len()).expect("slice longer than 4 GiB"),
    );
    out.extend_from_slice(bytes);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn leb128_round_trips_edge_values() {
        for v in [0, 1, 0x7f, 0x80, 0x3fff, 0x4000, u32::MAX - 1, u32::MAX] {
            let mut buf = Vec::new();
            put_u32(&mut buf, v);
            let mut r = Reader::new(&buf);
            assert_eq!(r.u32().unwrap(), v, "{buf:02x?}");
            assert!(r.is_empty());
        }
    }

    #[test]
    fn leb128_rejects_overlong_and_overflowing_values() {
        // Sixth byte needed.
        assert!(
            Reader::new(&[0x80, 0x80, 0x80, 0x80, 0x80, 0x00])
                .u32()
                .is_err()
        );
        // Fifth byte sets bits past bit 31.
        assert!(Reader::new(&[0xff, 0xff, 0xff, 0xff, 0x1f]).u32().is_err());
        // Non-minimal but in range is accepted (the wasm spec allows it).
        assert_eq!(Reader::new(&[0x81, 0x80, 0x00]).u32().unwrap(), 1);
        // Truncated.
        let err = Reader::new(&[0x80]).u32().unwrap_err();
        assert_eq!(err.what, "unexpected end of data");
    }

    #[test]
    fn slice_checks_the_length_against_the_remaining_bytes() {
        let mut r = Reader::new(&[3, b'a', b'b', b'c', 5, b'x']);
        assert_eq!(r.slice().unwrap(), b"abc");
        let err = r.slice().unwrap_err();
        assert_eq!(err.offset, 5);
        assert_eq!(err.what, "length runs past the end of the data");
    }
}
