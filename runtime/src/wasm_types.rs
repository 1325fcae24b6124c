//! Reads a patch's exported function types and its imports, so the loader can refuse a patch
//! whose manifest lies about a signature or that needs a symbol the host lacks — before any
//! of its code can run. (Emscripten reports an unresolved import only when it is first called.)

use crate::error::HotError;
use hotwasm_abi::{Signature, ValType};
use std::collections::HashMap;
use wasmparser::{ExternalKind, Parser, Payload, TypeRef};

/// What a side module exports and imports.
#[derive(Default)]
pub struct PatchTypes {
    /// Exported function name → its signature (pointers read back as `i`).
    pub exports: HashMap<String, Signature>,
    /// Functions and data the module imports from the host (`env` and `GOT.*` names).
    pub imports: Vec<String>,
}

/// Names every side module imports that the dynamic linker itself provides.
const LINKER_PROVIDED: &[&str] = &[
    "memory",
    "__indirect_function_table",
    "__stack_pointer",
    "__memory_base",
    "__table_base",
    "__heap_base",
];

fn val_type(t: wasmparser::ValType) -> Option<ValType> {
    Some(match t {
        wasmparser::ValType::I32 => ValType::I32,
        wasmparser::ValType::I64 => ValType::I64,
        wasmparser::ValType::F32 => ValType::F32,
        wasmparser::ValType::F64 => ValType::F64,
        _ => return None,
    })
}

fn malformed(path: &str, why: impl std::fmt::Display) -> HotError {
    HotError::Load {
        path: path.to_string(),
        dlerror: Some(format!("not a valid wasm side module: {why}")),
    }
}

/// Parses the module at `bytes`.
pub fn read(path: &str, bytes: &[u8]) -> Result<PatchTypes, HotError> {
    let mut types: Vec<Option<Signature>> = Vec::new();
    let mut funcs: Vec<u32> = Vec::new();
    let mut out = PatchTypes::default();
    let mut saw_dylink = false;
    for payload in Parser::new(0).parse_all(bytes) {
        match payload.map_err(|e| malformed(path, e))? {
            Payload::CustomSection(c) if c.name() == "dylink.0" => saw_dylink = true,
            Payload::TypeSection(reader) => {
                for rec in reader.into_iter_err_on_gc_types() {
                    let f = rec.map_err(|e| malformed(path, e))?;
                    let params: Option<Vec<ValType>> =
                        f.params().iter().map(|&t| val_type(t)).collect();
                    let ret = match f.results() {
                        [] => Some(None),
                        [one] => val_type(*one).map(Some),
                        _ => None,
                    };
                    types.push(
                        params
                            .zip(ret)
                            .map(|(params, ret)| Signature { ret, params }),
                    );
                }
            }
            Payload::ImportSection(reader) => {
                for import in reader {
                    let import = import.map_err(|e| malformed(path, e))?;
                    if let TypeRef::Func(t) = import.ty {
                        funcs.push(t);
                    }
                    // Exception tags (`__cpp_exception`, `__c_longjmp`) come from the JS runtime,
                    // which the dynamic linker consults itself.
                    let is_tag = matches!(import.ty, TypeRef::Tag(_));
                    let wanted = !is_tag
                        && match import.module {
                            "env" => !LINKER_PROVIDED.contains(&import.name),
                            m => m.starts_with("GOT."),
                        };
                    if wanted {
                        out.imports.push(import.name.to_string());
                    }
                }
            }
            Payload::FunctionSection(reader) => {
                for f in reader {
                    funcs.push(f.map_err(|e| malformed(path, e))?);
                }
            }
            Payload::ExportSection(reader) => {
                for export in reader {
                    let export = export.map_err(|e| malformed(path, e))?;
                    if export.kind != ExternalKind::Func {
                        continue;
                    }
                    let sig = funcs
                        .get(export.index as usize)
                        .and_then(|&t| types.get(t as usize).cloned().flatten());
                    if let Some(sig) = sig {
                        out.exports.insert(export.name.to_string(), sig);
                    }
                }
            }
            _ => {}
        }
    }
    if !saw_dylink {
        return Err(malformed(
            path,
            "it has no dylink.0 section; build it with -sSIDE_MODULE=1",
        ));
    }
    Ok(out)
}
