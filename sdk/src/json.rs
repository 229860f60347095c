//! Minimal JSON string writing for the always-linked paths (error bodies,
//! log lines), so a function that never touches JSON does not carry
//! serde_json's formatter in its component.

/// Appends `s` as a JSON string literal (with quotes) to `out`.
pub(crate) fn push_str(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => {
                const HEX: &[u8; 16] = b"0123456789abcdef";
                out.push_str("\\u00");
                out.push(HEX[(c as usize) >> 4] as char);
                out.push(HEX[(c as usize) & 0xf] as char);
            }
            c => out.push(c),
        }
    }
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
        ] {
            let mut out = String::new();
            super::push_str(&mut out, s);
            assert_eq!(out, serde_json::to_string(s).unwrap());
        }
    }
}
