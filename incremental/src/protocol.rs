//! The framed protocol between [`crate::Session`] and its `hotwasm-clang-session` child.
//!
//! Every frame is a little-endian `u32` byte length followed by that many bytes; nothing is
//! ever found by scanning text. The child's arguments are the `clang -cc1` arguments.
//!
//! - child → parent, once at start: a [`Ready`] frame (JSON) carrying the child's
//!   [`PROTOCOL_VERSION`]; the parent refuses a child of another version.
//! - parent → child: a [`Request`]: one frame whose first byte is the op, the rest its operand.
//! - child → parent, per request: `Eval` → a report frame (JSON, [`crate::EvalOutput`] without
//!   its object) then an object frame (the wasm32 object, empty when the eval failed);
//!   `Undo` → a JSON frame [`Undone`]; `Link` and `Assemble` → a JSON frame [`Linked`].
//!
//! Closing the child's stdin ends the session.

use serde::{Deserialize, Serialize};
use std::io::{self, Read, Write};

#[path = "protocol_version.rs"]
mod version;
pub use version::PROTOCOL_VERSION;

/// Largest frame either side accepts (an eval text, a report or an object).
pub const MAX_FRAME: usize = 64 << 20;

/// A request to the session child.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Request {
    /// Compile this text as the next input of the translation unit.
    Eval(String),
    /// Forget the last `n` successful inputs.
    Undo(u32),
    /// Run wasm-ld in the child's process with these arguments (`argv[0]` = `wasm-ld`).
    Link(Vec<String>),
    /// Run llvm-mc's `-filetype=obj` assembly in the child's process with these arguments
    /// (`argv[0]` = llvm-mc; `-triple=`, `-mattr=`, the input and `-o` output files).
    Assemble(Vec<String>),
}

const OP_EVAL: u8 = 1;
const OP_UNDO: u8 = 2;
const OP_LINK: u8 = 3;
const OP_ASSEMBLE: u8 = 4;

impl Request {
    /// The request as one frame's payload.
    pub fn encode(&self) -> Vec<u8> {
        match self {
            Request::Eval(text) => [&[OP_EVAL][..], text.as_bytes()].concat(),
            Request::Undo(n) => [&[OP_UNDO][..], &n.to_le_bytes()].concat(),
            Request::Link(args) => {
                let json = serde_json::to_vec(args).expect("strings serialise");
                [&[OP_LINK][..], &json].concat()
            }
            Request::Assemble(args) => {
                let json = serde_json::to_vec(args).expect("strings serialise");
                [&[OP_ASSEMBLE][..], &json].concat()
            }
        }
    }

    /// Reads a request back from a frame's payload.
    pub fn decode(payload: &[u8]) -> io::Result<Request> {
        let bad = |what: &str| io::Error::new(io::ErrorKind::InvalidData, what.to_string());
        let (&op, rest) = payload
            .split_first()
            .ok_or_else(|| bad("an empty request"))?;
        match op {
            OP_EVAL => String::from_utf8(rest.to_vec())
                .map(Request::Eval)
                .map_err(|_| bad("an eval that is not UTF-8")),
            OP_UNDO => rest
                .try_into()
                .map(|b| Request::Undo(u32::from_le_bytes(b)))
                .map_err(|_| bad("an undo without a 4-byte count")),
            OP_LINK => serde_json::from_slice(rest)
                .map(Request::Link)
                .map_err(|_| bad("a link request that is not a JSON list of strings")),
            OP_ASSEMBLE => serde_json::from_slice(rest)
                .map(Request::Assemble)
                .map_err(|_| bad("an assemble request that is not a JSON list of strings")),
            _ => Err(bad("an unknown request op")),
        }
    }
}

/// The child's first frame.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Ready {
    /// The protocol version the child speaks (its C++ half's, from the build); missing, i.e. 0,
    /// in a program from before the handshake.
    #[serde(default)]
    pub protocol: u32,
    /// Whether the compiler started.
    pub ok: bool,
    /// Why it did not.
    #[serde(default)]
    pub error: String,
    /// Milliseconds the set-up took.
    #[serde(default)]
    pub setup_ms: f64,
}

/// The answer to [`Request::Undo`].
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Undone {
    /// How many inputs were undone (fewer than asked when the session had fewer).
    pub undone: u32,
}

/// The answer to [`Request::Link`] and [`Request::Assemble`].
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Linked {
    /// Whether the link succeeded.
    pub ok: bool,
    /// What the linker (or assembler) printed.
    pub messages: String,
}

/// Writes one frame.
pub fn write_frame(w: &mut impl Write, payload: &[u8]) -> io::Result<()> {
    let len = u32::try_from(payload.len())
        .ok()
        .filter(|&n| n as usize <= MAX_FRAME)
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "frame over MAX_FRAME"))?;
    w.write_all(&len.to_le_bytes())?;
    w.write_all(payload)?;
    w.flush()
}

/// Reads one frame; `Ok(None)` at a clean end of stream.
pub fn read_frame(r: &mut impl Read) -> io::Result<Option<Vec<u8>>> {
    let mut len = [0u8; 4];
    match r.read_exact(&mut len) {
        Ok(()) => {}
        Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => return Ok(None),
        Err(e) => return Err(e),
    }
    let len = u32::from_le_bytes(len) as usize;
    if len > MAX_FRAME {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            format!("a frame of {len} bytes (at most {MAX_FRAME})"),
        ));
    }
    let mut buf = vec![0u8; len];
    r.read_exact(&mut buf)?;
    Ok(Some(buf))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_survive_a_frame_round_trip() {
        let requests = [
            Request::Eval("int x = 1;\r\n#define A \\\r\n 2\nA".into()),
            Request::Undo(3),
            Request::Link(vec!["wasm-ld".into(), "-o".into(), "a b.so".into()]),
            Request::Assemble(vec!["llvm-mc".into(), "-o".into(), "t.o".into()]),
        ];
        let mut wire = Vec::new();
        for r in &requests {
            write_frame(&mut wire, &r.encode()).unwrap();
        }
        let mut rd = &wire[..];
        for r in &requests {
            let payload = read_frame(&mut rd).unwrap().unwrap();
            assert_eq!(&Request::decode(&payload).unwrap(), r);
        }
        assert!(read_frame(&mut rd).unwrap().is_none());
    }

    #[test]
    fn an_oversized_frame_is_refused_before_it_is_read() {
        let wire = u32::MAX.to_le_bytes();
        let err = read_frame(&mut &wire[..]).unwrap_err();
        assert!(err.to_string().contains("at most"), "{err}");
    }
}
