//! Reads a patch's exported function types and the imports it needs from the host, with the
//! reader the server uses too (`hotwasm_abi::wasm`), so the loader can refuse a patch whose
//! manifest lies about a signature or that needs a symbol the host lacks — before any of its
//! code can run. (Emscripten reports an unresolved import only when it is first called.)

use crate::error::HotError;
use hotwasm_abi::{wasm, Signature};
use std::collections::{HashMap, HashSet};

/// What a side module exports and imports.
#[derive(Default)]
pub struct PatchTypes {
    /// Exported function name → its signature (pointers read back as `i`).
    pub exports: HashMap<String, Signature>,
    /// Every export's name, functions and globals (a patch's own external globals are both
    /// exported and imported through `GOT.mem`, so the first definition is the storage).
    pub export_names: HashSet<String>,
    /// Functions and data the module needs from the host (`env` and `GOT.*` names, without
    /// what the dynamic linker or the JS runtime provide).
    pub imports: Vec<String>,
}

fn malformed(path: &str, why: impl std::fmt::Display) -> HotError {
    HotError::Load {
        path: path.to_string(),
        dlerror: Some(format!("not a valid wasm side module: {why}")),
    }
}

/// Parses the side module at `bytes` (read from `path`, named in errors).
pub fn read(path: &str, bytes: &[u8]) -> Result<PatchTypes, HotError> {
    let shape = wasm::read_module(bytes).map_err(|e| malformed(path, e))?;
    if !shape.dylink {
        return Err(malformed(
            path,
            "it has no dylink.0 section; build it with -sSIDE_MODULE=1",
        ));
    }
    Ok(PatchTypes {
        imports: shape.host_imports().map(str::to_string).collect(),
        exports: shape.exports,
        export_names: shape.export_names,
    })
}
