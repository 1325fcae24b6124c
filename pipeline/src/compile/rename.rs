//! Gives a linked patch's exports their versioned names (`step` → `step__hw7`) by rewriting
//! the export section in place.
//!
//! Patches are compiled with `-fvisibility=hidden`, so calls and address-takes between the
//! functions of one patch, and its globals, bind inside the patch; only the names the dynamic
//! linker sees change. Emscripten keeps the first definition of a name forever, so the second
//! `step` would otherwise bind to the first.

use std::collections::HashMap;
use wasmparser::{ExternalKind, Parser, Payload};

/// Why a patch could not be renamed.
#[derive(Debug, thiserror::Error)]
pub enum RenameError {
    /// The linker produced something wasmparser cannot read.
    #[error("the linked patch is not valid wasm ({0}); this is a toolchain bug, retry with --plain-emcc")]
    Parse(#[from] wasmparser::BinaryReaderError),
    /// A name to rename is not exported.
    #[error(
        "the linked patch does not export `{0}`; this is a toolchain bug, retry with --plain-emcc"
    )]
    Missing(String),
}

/// Returns `wasm` with every export named by a key of `renames` renamed to its value.
pub fn rename_exports(
    wasm: &[u8],
    renames: &HashMap<String, String>,
) -> Result<Vec<u8>, RenameError> {
    let mut out = Vec::with_capacity(wasm.len() + 16 * renames.len());
    let mut done = 0;
    let mut copied_to = 0;
    for payload in Parser::new(0).parse_all(wasm) {
        if let Payload::ExportSection(reader) = payload? {
            let range = reader.range();
            // The section starts with its id byte and LEB size just before `range.start`.
            let header_start = section_header_start(wasm, range.start, range.end - range.start);
            out.extend_from_slice(&wasm[copied_to..header_start]);
            let mut body = Vec::new();
            write_u32(&mut body, reader.count());
            for export in reader {
                let export = export?;
                let name = match renames.get(export.name) {
                    Some(new) if export.kind == ExternalKind::Func => {
                        done += 1;
                        new.as_str()
                    }
                    _ => export.name,
                };
                write_u32(&mut body, name.len() as u32);
                body.extend_from_slice(name.as_bytes());
                body.push(kind_byte(export.kind));
                write_u32(&mut body, export.index);
            }
            out.push(7);
            write_u32(&mut out, body.len() as u32);
            out.extend_from_slice(&body);
            copied_to = range.end;
        }
    }
    out.extend_from_slice(&wasm[copied_to..]);
    if done != renames.len() {
        let missing = renames
            .keys()
            .find(|k| !exports_name(wasm, k))
            .cloned()
            .unwrap_or_default();
        return Err(RenameError::Missing(missing));
    }
    Ok(out)
}

fn exports_name(wasm: &[u8], name: &str) -> bool {
    Parser::new(0).parse_all(wasm).any(|p| match p {
        Ok(Payload::ExportSection(r)) => r.into_iter().any(|e| e.is_ok_and(|e| e.name == name)),
        _ => false,
    })
}

/// Finds where the section whose body is `wasm[body_start..body_start+len]` begins (its id byte).
fn section_header_start(wasm: &[u8], body_start: usize, len: usize) -> usize {
    let mut leb = Vec::new();
    write_u32(&mut leb, len as u32);
    // The size may have been written with padding (wasm-ld pads to 5 bytes), so try each width.
    for width in leb.len()..=5 {
        let start = body_start - width - 1;
        if wasm[start] == 7 && read_u32(&wasm[start + 1..body_start]) == Some(len as u32) {
            return start;
        }
    }
    body_start - leb.len() - 1
}

fn read_u32(bytes: &[u8]) -> Option<u32> {
    let mut value: u64 = 0;
    for (i, b) in bytes.iter().enumerate() {
        value |= u64::from(b & 0x7f) << (7 * i);
        if b & 0x80 == 0 {
            return (i + 1 == bytes.len()).then_some(value as u32);
        }
    }
    None
}

fn write_u32(out: &mut Vec<u8>, mut v: u32) {
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

fn kind_byte(kind: ExternalKind) -> u8 {
    match kind {
        ExternalKind::Func => 0,
        ExternalKind::Table => 1,
        ExternalKind::Memory => 2,
        ExternalKind::Global => 3,
        ExternalKind::Tag => 4,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A module exporting function 0 as `f` and its memory as `m`.
    fn module() -> Vec<u8> {
        let mut m = b"\0asm\x01\0\0\0".to_vec();
        m.extend_from_slice(&[1, 4, 1, 0x60, 0, 0]); // type: () -> ()
        m.extend_from_slice(&[3, 2, 1, 0]); // func 0: type 0
        m.extend_from_slice(&[5, 3, 1, 0, 1]); // memory min 1
        m.extend_from_slice(&[7, 9, 2, 1, b'f', 0, 0, 1, b'm', 2, 0]); // exports
        m.extend_from_slice(&[10, 4, 1, 2, 0, 0x0b]); // code
        m
    }

    #[test]
    fn renames_function_exports_and_keeps_the_module_valid() {
        let renames = HashMap::from([("f".to_string(), "f__hw12".to_string())]);
        let out = rename_exports(&module(), &renames).unwrap();
        wasmparser::Validator::new().validate_all(&out).unwrap();
        assert!(exports_name(&out, "f__hw12"));
        assert!(exports_name(&out, "m"));
        assert!(!exports_name(&out, "f"));
    }

    #[test]
    fn a_missing_export_is_an_error() {
        let renames = HashMap::from([("g".to_string(), "g__hw1".to_string())]);
        assert!(
            matches!(rename_exports(&module(), &renames), Err(RenameError::Missing(n)) if n == "g")
        );
    }
}
