//! Just enough of the wasm binary framing to find section boundaries in
//! core modules and components alike (both use section id 0 for custom
//! sections and `id ‖ LEB128 size ‖ contents` for every section).

use std::ops::Range;

use crate::reader::{ReadError, Reader};

/// Name of the custom section that carries the signatures.
pub const SIGNATURE_SECTION_NAME: &str = "signature";

const MAGIC: [u8; 4] = *b"\0asm";
/// Core module: version 1.
const MODULE_VERSION: [u8; 4] = [0x01, 0x00, 0x00, 0x00];
/// Component: version 0x0d, layer 1.
const COMPONENT_VERSION: [u8; 4] = [0x0d, 0x00, 0x01, 0x00];
/// Length of the magic and version/layer bytes.
pub(crate) const HEADER_LEN: usize = 8;

/// What kind of wasm binary a file is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WasmKind {
    /// A core WebAssembly module.
    Module,
    /// A component-model component.
    Component,
}

/// Checks the 8-byte header; the error is a human-readable reason.
pub(crate) fn kind(wasm: &[u8]) -> Result<WasmKind, String> {
    if wasm.len() < HEADER_LEN {
        return Err(format!(
            "{} bytes is shorter than the 8-byte header",
            wasm.len()
        ));
    }
    if wasm[..4] != MAGIC {
        return Err(format!(
            "it starts with {:02x?}, not the `\\0asm` magic",
            &wasm[..4]
        ));
    }
    match <[u8; 4]>::try_from(&wasm[4..HEADER_LEN]).expect("4 bytes") {
        MODULE_VERSION => Ok(WasmKind::Module),
        COMPONENT_VERSION => Ok(WasmKind::Component),
        other => Err(format!(
            "unknown version/layer bytes {other:02x?}; expected {MODULE_VERSION:02x?} (module) or {COMPONENT_VERSION:02x?} (component)"
        )),
    }
}

/// One section as it appears in the file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct RawSection<'a> {
    /// Section id (0 = custom).
    pub id: u8,
    /// The whole section in the file: id, size and contents.
    pub range: Range<usize>,
    /// For custom sections, the name bytes.
    pub custom_name: Option<&'a [u8]>,
    /// The contents after the name (custom) or the whole contents (others).
    pub payload: &'a [u8],
}

impl RawSection<'_> {
    pub fn is_signature(&self) -> bool {
        self.custom_name == Some(SIGNATURE_SECTION_NAME.as_bytes())
    }
}

/// Iterates over the sections after the header. Stops after the first
/// framing error. The caller must have checked the header.
pub(crate) fn sections(wasm: &[u8]) -> Sections<'_> {
    Sections {
        wasm,
        pos: HEADER_LEN.min(wasm.len()),
        failed: false,
    }
}

pub(crate) struct Sections<'a> {
    wasm: &'a [u8],
    pos: usize,
    failed: bool,
}

impl<'a> Sections<'a> {
    fn read_one(&mut self) -> Result<RawSection<'a>, ReadError> {
        let start = self.pos;
        // Errors point at the start of the broken section.
        let at = |e: ReadError| ReadError {
            offset: start,
            what: e.what,
        };
        let mut r = Reader::new(&self.wasm[start..]);
        let id = r.byte().map_err(at)?;
        let contents = r.slice().map_err(at)?;
        let end = start + r.pos();
        let (custom_name, payload) = if id == 0 {
            let mut c = Reader::new(contents);
            let name = c.slice().map_err(|_| ReadError {
                offset: start,
                what: "custom section name runs past the end of the section",
            })?;
            (Some(name), &contents[c.pos()..])
        } else {
            (None, contents)
        };
        Ok(RawSection {
            id,
            range: start..end,
            custom_name,
            payload,
        })
    }
}

impl<'a> Iterator for Sections<'a> {
    type Item = Result<RawSection<'a>, ReadError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.failed || self.pos >= self.wasm.len() {
            return None;
        }
        match self.read_one() {
            Ok(section) => {
                self.pos = section.range.end;
                Some(Ok(section))
            }
            Err(e) => {
                self.failed = true;
                Some(Err(e))
            }
        }
    }
}

/// Encodes a custom section (id, size, name, payload).
pub(crate) fn custom_section(name: &str, payload: &[u8]) -> Vec<u8> {
    let mut contents = Vec::with_capacity(name.len() + payload.len() + 5);
    crate::reader::put_slice(&mut contents, name.as_bytes());
    contents.extend_from_slice(payload);
    let mut out = Vec::with_capacity(contents.len() + 6);
    out.push(0);
    crate::reader::put_slice(&mut out, &contents);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const COMPONENT: [u8; 8] = [0, b'a', b's', b'm', 0x0d, 0, 1, 0];
    const MODULE: [u8; 8] = [0, b'a', b's', b'm', 1, 0, 0, 0];

    #[test]
    fn recognises_modules_and_components() {
        assert_eq!(kind(&MODULE), Ok(WasmKind::Module));
        assert_eq!(kind(&COMPONENT), Ok(WasmKind::Component));
        assert!(kind(b"\0asm").unwrap_err().contains("shorter"));
        assert!(
            kind(b"\x7fELF\x02\x01\x01\0")
                .unwrap_err()
                .contains("magic")
        );
        assert!(
            kind(&[0, b'a', b's', b'm', 2, 0, 0, 0])
                .unwrap_err()
                .contains("version")
        );
    }

    #[test]
    fn splits_sections_with_their_ranges_and_names() {
        let mut wasm = COMPONENT.to_vec();
        wasm.extend(custom_section("hello", b"xyz"));
        let custom_end = wasm.len();
        wasm.extend([1, 2, 0xaa, 0xbb]);
        let all: Vec<_> = sections(&wasm).collect::<Result<_, _>>().unwrap();
        assert_eq!(all.len(), 2);
        assert_eq!(all[0].id, 0);
        assert_eq!(all[0].custom_name, Some(&b"hello"[..]));
        assert_eq!(all[0].payload, b"xyz");
        assert_eq!(all[0].range, 8..custom_end);
        assert_eq!(all[1].id, 1);
        assert_eq!(all[1].custom_name, None);
        assert_eq!(all[1].payload, [0xaa, 0xbb]);
        assert_eq!(all[1].range, custom_end..wasm.len());
        assert!(!all[0].is_signature());
    }

    #[test]
    fn reports_truncation_with_the_file_offset_and_stops() {
        let mut wasm = MODULE.to_vec();
        wasm.extend([1, 1, 0]);
        wasm.extend([10, 9, 0]);
        let items: Vec<_> = sections(&wasm).collect();
        assert_eq!(items.len(), 2);
        assert!(items[0].is_ok());
        let err = items[1].clone().unwrap_err();
        assert_eq!(err.offset, 11, "the start of the broken section");
    }

    #[test]
    fn custom_section_name_must_fit_in_the_section() {
        let mut wasm = MODULE.to_vec();
        wasm.extend([0, 2, 9, b'a']);
        let err = sections(&wasm).next().unwrap().unwrap_err();
        assert!(err.what.contains("name"), "{err:?}");
    }
}
