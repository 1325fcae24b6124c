//! Gives a linked patch's exports their versioned names (`step` → `step__hw7`) by rewriting
//! its export section ([`super::rewrite`]).
//!
//! Patches are compiled with `-fvisibility=hidden`, so calls and address-takes between the
//! functions of one patch, and its globals, bind inside the patch; only the names the dynamic
//! linker sees change. Emscripten keeps the first definition of a name forever, so the second
//! `step` would otherwise bind to the first.

use std::collections::HashMap;
use wasm_encoder::reencode::{Reencode, RoundtripReencoder};
use wasm_encoder::ExportSection;
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
    let mut exports = ExportSection::new();
    let mut done = 0;
    for payload in Parser::new(0).parse_all(wasm) {
        if let Payload::ExportSection(reader) = payload? {
            for export in reader {
                let export = export?;
                let name = match renames.get(export.name) {
                    Some(new) if export.kind == ExternalKind::Func => {
                        done += 1;
                        new.as_str()
                    }
                    _ => export.name,
                };
                exports.export(
                    name,
                    RoundtripReencoder.export_kind(export.kind),
                    export.index,
                );
            }
        }
    }
    if done != renames.len() {
        let missing = renames
            .keys()
            .find(|k| !exports_name(wasm, k))
            .cloned()
            .unwrap_or_default();
        return Err(RenameError::Missing(missing));
    }
    Ok(super::rewrite::replace_section(wasm, &exports)?)
}

fn exports_name(wasm: &[u8], name: &str) -> bool {
    Parser::new(0).parse_all(wasm).any(|p| match p {
        Ok(Payload::ExportSection(r)) => r.into_iter().any(|e| e.is_ok_and(|e| e.name == name)),
        _ => false,
    })
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
