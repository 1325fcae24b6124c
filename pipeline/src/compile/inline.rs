//! After linking: every `call $__wrap_<var>` in the patch becomes the trampoline's own body
//! (`global.get $slot; i32.load; call_indirect`), so a late-bound call costs one load and one
//! indirect call, like a host's hot call, instead of a call to a trampoline that then calls
//! indirectly. The trampolines themselves stay (a pointer to a var is a trampoline's table slot).
//!
//! The rewrite splices bytes inside function bodies only: wasm branches name block depths, not
//! byte offsets, and a linked module has no relocations, so nothing else moves; the code
//! section around the bodies is written by wasm-encoder ([`super::rewrite`]).

use std::collections::HashMap;
use std::ops::Range;
use wasm_encoder::CodeSection;
use wasmparser::{KnownCustom, Name, Operator, Parser, Payload};

/// Why a linked patch could not be rewritten.
#[derive(Debug, thiserror::Error)]
#[error("inlining the patch's late-bound calls failed ({0}); this is a hotwasm bug, retry with --plain-emcc")]
pub struct InlineError(String);

fn err(e: impl std::fmt::Display) -> InlineError {
    InlineError(e.to_string())
}

/// The patch with each call to a trampoline replaced by the trampoline's indirect call.
pub fn inline_trampoline_calls(wasm: &[u8]) -> Result<Vec<u8>, InlineError> {
    let trampolines = trampoline_indices(wasm)?;
    if trampolines.is_empty() {
        return Ok(wasm.to_vec());
    }
    let mut imported = 0u32;
    let mut code: Option<Vec<Range<usize>>> = None;
    for payload in Parser::new(0).parse_all(wasm) {
        match payload.map_err(err)? {
            Payload::ImportSection(r) => {
                for i in r {
                    if matches!(i.map_err(err)?.ty, wasmparser::TypeRef::Func(_)) {
                        imported += 1;
                    }
                }
            }
            Payload::CodeSectionStart { .. } => code = Some(Vec::new()),
            Payload::CodeSectionEntry(body) => {
                if let Some(bodies) = code.as_mut() {
                    bodies.push(body.range());
                }
            }
            _ => {}
        }
    }
    let Some(bodies) = code else {
        return Ok(wasm.to_vec());
    };
    // The replacement of a call to each trampoline: its body from `global.get` to before `end`.
    let mut replacement: HashMap<u32, &[u8]> = HashMap::new();
    for (k, body) in bodies.iter().enumerate() {
        let index = imported + k as u32;
        if trampolines.contains(&index) {
            replacement.insert(index, trampoline_tail(wasm, body.clone())?);
        }
    }
    let mut new_bodies = Vec::with_capacity(bodies.len());
    for (k, body) in bodies.iter().enumerate() {
        let index = imported + k as u32;
        if replacement.contains_key(&index) {
            new_bodies.push(wasm[body.clone()].to_vec());
        } else {
            new_bodies.push(rewrite_body(wasm, body.clone(), &replacement)?);
        }
    }
    let mut section = CodeSection::new();
    for b in &new_bodies {
        section.raw(b);
    }
    super::rewrite::replace_section(wasm, &section).map_err(err)
}

/// Function indices named `__wrap_*` in the name section.
fn trampoline_indices(wasm: &[u8]) -> Result<Vec<u32>, InlineError> {
    let mut out = Vec::new();
    for payload in Parser::new(0).parse_all(wasm) {
        let Payload::CustomSection(c) = payload.map_err(err)? else {
            continue;
        };
        let KnownCustom::Name(names) = c.as_known() else {
            continue;
        };
        for name in names {
            if let Name::Function(map) = name.map_err(err)? {
                for naming in map {
                    let naming = naming.map_err(err)?;
                    if naming.name.starts_with("__wrap_") {
                        out.push(naming.index);
                    }
                }
            }
        }
    }
    Ok(out)
}

/// The bytes of a trampoline body from its `global.get` to (not including) its final `end`,
/// checking it is `local.get`s, then `global.get`, `i32.load`, `call_indirect`, `end` (the slot's
/// address in a wasm global) or `global.get`, `i32.const`, `i32.add`, `i32.load`, `i32.load`,
/// `call_indirect`, `end` (in linear memory at `__memory_base` + offset: hosts with threads).
fn trampoline_tail(wasm: &[u8], body: Range<usize>) -> Result<&[u8], InlineError> {
    let fb = wasmparser::FunctionBody::new(wasmparser::BinaryReader::new(
        &wasm[body.clone()],
        body.start,
    ));
    let mut ops = fb.get_operators_reader().map_err(err)?;
    let mut start = None;
    let mut shape = Vec::new();
    while !ops.eof() {
        let (op, at) = ops.read_with_offset().map_err(err)?;
        match op {
            Operator::LocalGet { .. } if start.is_none() => {}
            Operator::GlobalGet { .. } if start.is_none() => {
                start = Some(at);
                shape.push("global.get");
            }
            Operator::I32Const { .. } if start.is_some() => shape.push("i32.const"),
            Operator::I32Add if start.is_some() => shape.push("i32.add"),
            Operator::I32Load { memarg } if memarg.offset == 0 => shape.push("i32.load"),
            Operator::CallIndirect { .. } => shape.push("call_indirect"),
            Operator::End
                if shape == ["global.get", "i32.load", "call_indirect"]
                    || shape
                        == [
                            "global.get",
                            "i32.const",
                            "i32.add",
                            "i32.load",
                            "i32.load",
                            "call_indirect",
                        ] =>
            {
                return Ok(&wasm[start.unwrap_or(at)..at]);
            }
            other => return Err(err(format!("unexpected {other:?} in a trampoline"))),
        }
    }
    Err(err("a trampoline without end"))
}

/// One function body with each `call` of a trampoline replaced.
fn rewrite_body(
    wasm: &[u8],
    body: Range<usize>,
    replacement: &HashMap<u32, &[u8]>,
) -> Result<Vec<u8>, InlineError> {
    let fb = wasmparser::FunctionBody::new(wasmparser::BinaryReader::new(
        &wasm[body.clone()],
        body.start,
    ));
    let mut ops = fb.get_operators_reader().map_err(err)?;
    let mut out = Vec::with_capacity(body.len() + 16);
    let mut copied = body.start;
    let mut pending: Option<(usize, &[u8])> = None;
    while !ops.eof() {
        let (op, at) = ops.read_with_offset().map_err(err)?;
        if let Some((call_at, with)) = pending.take() {
            out.extend_from_slice(&wasm[copied..call_at]);
            out.extend_from_slice(with);
            copied = at;
        }
        if let Operator::Call { function_index } = op {
            if let Some(with) = replacement.get(&function_index) {
                pending = Some((at, with));
            }
        }
    }
    out.extend_from_slice(&wasm[copied..body.end]);
    Ok(out)
}
