//! The one way a linked patch is rewritten: every section is copied as it is except the one a
//! caller replaces, which wasm-encoder writes (sizes and LEB128 included). Used to rename
//! exports ([`super::rename`]) and to inline late-bound calls ([`super::inline`]).

use wasm_encoder::{Module, RawSection, Section};
use wasmparser::{BinaryReaderError, Parser};

/// `wasm` with its section of id `section.id()` replaced by `section` (there is at most one of
/// each known section in a module); `wasm` unchanged but re-framed if it has none.
pub fn replace_section(wasm: &[u8], section: &impl Section) -> Result<Vec<u8>, BinaryReaderError> {
    let mut module = Module::new();
    for payload in Parser::new(0).parse_all(wasm) {
        let Some((id, range)) = payload?.as_section() else {
            continue;
        };
        if id == section.id() {
            module.section(section);
        } else {
            module.section(&RawSection {
                id,
                data: &wasm[range],
            });
        }
    }
    Ok(module.finish())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_unchanged_section_round_trips_byte_for_byte_when_sizes_are_minimal() {
        let mut module = Module::new();
        let mut types = wasm_encoder::TypeSection::new();
        types.ty().function([], []);
        module.section(&types);
        module.section(&wasm_encoder::CustomSection {
            name: "hotwasm.vars".into(),
            data: b"step vi\n".as_slice().into(),
        });
        let wasm = module.finish();
        let again = replace_section(&wasm, &types).unwrap();
        assert_eq!(again, wasm);
    }
}
