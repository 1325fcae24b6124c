//! The functions the app's own objects define — `static` ones included — with their wasm types
//! in signature letters, read from each relocatable object's symbol table (what decides which
//! functions of the linked host are the app's, and which file defined a `static` name).

use hotwasm_abi::wasm::signature_of;
use std::path::{Path, PathBuf};
use wasmparser::{KnownCustom, Linking, Parser, Payload, SymbolFlags, SymbolInfo, TypeRef};

/// One function an object defines.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Defined {
    /// Its symbol name (mangled for C++).
    pub name: String,
    /// Its signature letters (pointers are `i`); `None` when letters cannot say its type.
    pub signature: Option<String>,
    /// `static` (local binding).
    pub local: bool,
    /// A weak definition (C++ inline functions and templates).
    pub weak: bool,
    /// The source file the object was compiled from.
    pub source: PathBuf,
}

/// Reads the defined functions of the object compiled from `source`.
pub fn defined(object: &Path, source: &Path) -> Result<Vec<Defined>, String> {
    let bytes = std::fs::read(object).map_err(|e| format!("reading {}: {e}", object.display()))?;
    let bad = |e: wasmparser::BinaryReaderError| format!("{}: {e}", object.display());
    let mut types = Vec::new();
    let mut funcs: Vec<u32> = Vec::new();
    let mut imported = 0u32;
    let mut out = Vec::new();
    for payload in Parser::new(0).parse_all(&bytes) {
        match payload.map_err(bad)? {
            Payload::TypeSection(r) => {
                for ty in r.into_iter_err_on_gc_types() {
                    types.push(ty.map_err(bad)?);
                }
            }
            Payload::ImportSection(r) => {
                for import in r {
                    if let TypeRef::Func(t) = import.map_err(bad)?.ty {
                        funcs.push(t);
                        imported += 1;
                    }
                }
            }
            Payload::FunctionSection(r) => {
                for f in r {
                    funcs.push(f.map_err(bad)?);
                }
            }
            Payload::CustomSection(custom) => {
                let KnownCustom::Linking(linking) = custom.as_known() else {
                    continue;
                };
                for sub in linking.subsections() {
                    let Linking::SymbolTable(symbols) = sub.map_err(bad)? else {
                        continue;
                    };
                    for symbol in symbols {
                        let SymbolInfo::Func { flags, index, name } = symbol.map_err(bad)? else {
                            continue;
                        };
                        let (Some(name), false) = (name, flags.contains(SymbolFlags::UNDEFINED))
                        else {
                            continue;
                        };
                        if index < imported {
                            continue;
                        }
                        let signature = funcs
                            .get(index as usize)
                            .and_then(|t| types.get(*t as usize))
                            .and_then(signature_of)
                            .map(|s| s.to_string());
                        out.push(Defined {
                            name: name.to_string(),
                            signature,
                            local: flags.contains(SymbolFlags::BINDING_LOCAL),
                            weak: flags.contains(SymbolFlags::BINDING_WEAK),
                            source: source.to_path_buf(),
                        });
                    }
                }
            }
            _ => {}
        }
    }
    Ok(out)
}
