//! The zero bytes at the end of a HOT_RELOAD host's data, taken out of its wasm after the link.
//!
//! A HOT_RELOAD host is a MAIN_MODULE: its memory is imported and its data is placed at
//! `__memory_base`, so wasm-ld writes the app's zero-initialised globals (`.bss`, the last part
//! of the one data segment) into the file as zeros, and binaryen cannot drop them (the offset is
//! not a constant). Measured (issue 18): 253 KB of zeros in `examples/cpp-host` (a static pixel
//! buffer), 2–4 KB in the other examples; a plain build has none. The memory a main module's
//! data goes into is new, so already zero, when the module is instantiated (Emscripten's JS
//! creates it; side modules and the heap come later): the trailing zeros of each active segment
//! can go. Passive segments (a threaded host's, copied by `memory.init` into shared memory) are
//! left as they are.

use std::ops::Range;
use wasmparser::{BinaryReader, DataKind, DataSectionReader};

/// `wasm` without the trailing zero bytes of its active data segments, and how many bytes went;
/// `None` when there is nothing to take out.
pub fn trim_trailing_zeros(wasm: &[u8]) -> Result<Option<(Vec<u8>, usize)>, String> {
    let Some((section, payload)) = data_section(wasm)? else {
        return Ok(None);
    };
    let reader = DataSectionReader::new(BinaryReader::new(&wasm[payload.clone()], payload.start))
        .map_err(|e| e.to_string())?;
    let mut body = Vec::new();
    let mut copied = payload.start;
    let mut removed = 0;
    for data in reader {
        let data = data.map_err(|e| e.to_string())?;
        if !matches!(data.kind, DataKind::Active { .. }) {
            continue;
        }
        let zeros = data.data.iter().rev().take_while(|b| **b == 0).count();
        if zeros == 0 {
            continue;
        }
        let data_start = data.range.end - data.data.len();
        // The segment's byte count (a LEB128) ends where its bytes begin; the byte before it (the
        // offset expression's `end`) has its high bit clear.
        let mut len_start = data_start - 1;
        while wasm[len_start - 1] & 0x80 != 0 {
            len_start -= 1;
        }
        body.extend_from_slice(&wasm[copied..len_start]);
        leb128(&mut body, (data.data.len() - zeros) as u64);
        body.extend_from_slice(&data.data[..data.data.len() - zeros]);
        copied = data.range.end;
        removed += zeros;
    }
    if removed == 0 {
        return Ok(None);
    }
    body.extend_from_slice(&wasm[copied..payload.end]);
    let mut out = Vec::with_capacity(wasm.len() - removed);
    out.extend_from_slice(&wasm[..section.start]);
    out.push(11);
    leb128(&mut out, body.len() as u64);
    out.extend_from_slice(&body);
    out.extend_from_slice(&wasm[section.end..]);
    Ok(Some((out, removed)))
}

/// Where a section lies: the whole section (id, size, payload), and its payload.
type SectionRanges = (Range<usize>, Range<usize>);

/// The data section's ranges, if the module has one.
fn data_section(wasm: &[u8]) -> Result<Option<SectionRanges>, String> {
    if wasm.len() < 8 || &wasm[..4] != b"\0asm" {
        return Err("not a wasm module".into());
    }
    let mut at = 8;
    while at < wasm.len() {
        let id = wasm[at];
        let (size, payload_start) = read_leb128(wasm, at + 1)?;
        let end = payload_start + size as usize;
        if end > wasm.len() {
            return Err(format!("section {id} runs past the end of the module"));
        }
        if id == 11 {
            return Ok(Some((at..end, payload_start..end)));
        }
        at = end;
    }
    Ok(None)
}

fn read_leb128(bytes: &[u8], mut at: usize) -> Result<(u64, usize), String> {
    let mut value = 0u64;
    let mut shift = 0;
    loop {
        let b = *bytes.get(at).ok_or("a LEB128 runs past the end")?;
        at += 1;
        value |= u64::from(b & 0x7f) << shift;
        if b & 0x80 == 0 {
            return Ok((value, at));
        }
        shift += 7;
        if shift > 35 {
            return Err("a section size is not a valid LEB128".into());
        }
    }
}

fn leb128(out: &mut Vec<u8>, mut value: u64) {
    loop {
        let byte = (value & 0x7f) as u8;
        value >>= 7;
        if value == 0 {
            out.push(byte);
            return;
        }
        out.push(byte | 0x80);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A module importing its memory with one active segment at `global.get 0` (as a MAIN_MODULE's)
    /// holding `bytes`, and one passive segment holding `passive`.
    fn module(bytes: &[u8], passive: &[u8]) -> Vec<u8> {
        let mut m = b"\0asm\x01\0\0\0".to_vec();
        // import section: "env" "m" memory 0, "env" "b" global i32 immutable
        let import = [
            &[2u8][..],
            &[3, b'e', b'n', b'v', 1, b'm', 2, 0, 1],
            &[3, b'e', b'n', b'v', 1, b'b', 3, 0x7f, 0],
        ]
        .concat();
        m.push(2);
        leb128(&mut m, import.len() as u64);
        m.extend(import);
        m.extend([12, 1, 2]); // datacount: 2
        let mut data = vec![2u8, 0, 0x23, 0, 0x0b];
        leb128(&mut data, bytes.len() as u64);
        data.extend(bytes);
        data.push(1);
        leb128(&mut data, passive.len() as u64);
        data.extend(passive);
        m.push(11);
        leb128(&mut m, data.len() as u64);
        m.extend(data);
        m.extend([0, 4, 3, b'e', b'n', b'd']); // a custom section after the data
        m
    }

    #[test]
    fn trailing_zeros_of_active_segments_go_and_the_module_still_validates() {
        let mut bytes = vec![7u8, 0, 9];
        bytes.extend(std::iter::repeat_n(0, 300));
        let wasm = module(&bytes, &[0, 0, 0]);
        wasmparser::Validator::new().validate_all(&wasm).unwrap();
        let (trimmed, removed) = trim_trailing_zeros(&wasm).unwrap().unwrap();
        assert_eq!(removed, 300);
        assert_eq!(
            trimmed.len(),
            wasm.len() - 300 - 2,
            "the segment's and the section's 2-byte lengths became 1 byte each"
        );
        wasmparser::Validator::new().validate_all(&trimmed).unwrap();
        assert_eq!(trimmed, module(&[7, 0, 9], &[0, 0, 0]));
    }

    #[test]
    fn a_module_without_trailing_zeros_is_left_alone() {
        assert_eq!(trim_trailing_zeros(&module(&[1, 2], &[0])).unwrap(), None);
        assert!(trim_trailing_zeros(b"not wasm").is_err());
    }
}
