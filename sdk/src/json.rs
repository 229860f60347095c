//! Minimal JSON string writing for the always-linked paths (error bodies,
//! log lines), so a function that never touches JSON does not carry
//! serde_json's formatter in its component.

/// Appends `s` as a JSON string literal (with quotes) to `out`.
///
/// Every byte to escape is ASCII, so runs of other bytes (multi-byte
/// characters included) are copied whole: no per-character UTF-8 decoding
/// and encoding, which is half the code.
pub(crate) fn push_str(out: &mut String, s: &str) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    out.push('"');
    let mut run = 0;
    for (i, b) in s.bytes().enumerate() {
        let short = match b {
            b'"' => "\\\"",
            b'\\' => "\\\\",
            b'\n' => "\\n",
            b'\r' => "\\r",
            b'\t' => "\\t",
            0..0x20 => "",
            _ => continue,
        };
        // `i` is an ASCII byte, so a character boundary: `get` cannot fail,
        // and unlike `&s[..]` brings no panic formatting.
        out.push_str(s.get(run..i).unwrap_or_default());
        if short.is_empty() {
            out.push_str("\\u00");
            out.push(char::from(HEX[usize::from(b >> 4)]));
            out.push(char::from(HEX[usize::from(b & 0xf)]));
        } else {
            out.push_str(short);
        }
        run = i + 1;
    }
    out.push_str(s.get(run..).unwrap_or_default());
    out.push('"');
}

#[cfg(test)]
mod tests {
    #[test]
    fn escapes_like_serde_json() {
        for s in [
            "plain",
            "quote \" back \\ slash",
            "ctl \u{1}\u{1f}\n\t\r",
            "ünï €",
            "é\u{1}€\"x\u{7f}",
            "\"",
            "",
        ] {
            let mut out = String::new();
            super::push_str(&mut out, s);
            assert_eq!(out, serde_json::to_string(s).unwrap());
        }
    }
}
