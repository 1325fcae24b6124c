//! Reads a relocatable wasm object (what clang or rustc wrote before linking): its function
//! symbols with their wasm types, defined or undefined, and the external data symbols it defines
//! or uses. This is what decides which vars a patch defines and calls.

use hotwasm_abi::wasm::signature_of;
use hotwasm_abi::Signature;
use wasmparser::{KnownCustom, Linking, Parser, Payload, SymbolFlags, SymbolInfo, TypeRef};

/// A function symbol with external linkage.
#[derive(Debug, Clone, PartialEq)]
pub struct Function {
    /// Its symbol name.
    pub name: String,
    /// Defined in this object (else imported).
    pub defined: bool,
    /// A weak definition (C++ inline functions, templates): never a var.
    pub weak: bool,
    /// Marked hidden (`__attribute__((visibility("hidden")))`): private to the patch.
    pub hidden: bool,
    /// Its wasm type in signature letters (pointers are `i`); `None` if letters cannot say it.
    pub signature: Option<Signature>,
}

/// A data symbol with external linkage.
#[derive(Debug, Clone, PartialEq)]
pub struct Data {
    /// Its symbol name.
    pub name: String,
    /// Its size in bytes when defined here; `None` when only used (`extern`).
    pub size: Option<u64>,
    /// A weak or hidden definition: not shared between patches.
    pub private: bool,
}

/// The external symbols of one object, in symbol-table order.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Symbols {
    /// Functions.
    pub functions: Vec<Function>,
    /// Data.
    pub data: Vec<Data>,
}

impl Symbols {
    /// Whether the object defines function `name`.
    pub fn defines(&self, name: &str) -> bool {
        self.functions.iter().any(|f| f.defined && f.name == name)
    }

    /// Names of the functions defined with external linkage whose names pass `keep`.
    pub fn defined_functions(&self, keep: impl Fn(&Function) -> bool) -> Vec<String> {
        self.functions
            .iter()
            .filter(|f| f.defined && keep(f))
            .map(|f| f.name.clone())
            .collect()
    }
}

/// The object is not readable wasm.
#[derive(Debug, thiserror::Error, PartialEq)]
#[error(
    "the compiled patch is not valid wasm: {0}; this is a toolchain bug, retry with --plain-emcc"
)]
pub struct ObjectError(String);

fn invalid(e: impl std::fmt::Display) -> ObjectError {
    ObjectError(e.to_string())
}

/// Reads the external function and data symbols of a relocatable object.
pub fn read(object: &[u8]) -> Result<Symbols, ObjectError> {
    let mut types = Vec::new();
    // Function index space: imported functions first (with their import names), then defined.
    let mut funcs: Vec<(u32, Option<String>)> = Vec::new();
    let mut out = Symbols::default();
    for payload in Parser::new(0).parse_all(object) {
        match payload.map_err(invalid)? {
            Payload::TypeSection(r) => {
                for ty in r.into_iter_err_on_gc_types() {
                    types.push(ty.map_err(invalid)?);
                }
            }
            Payload::ImportSection(r) => {
                for import in r {
                    let import = import.map_err(invalid)?;
                    if let TypeRef::Func(t) = import.ty {
                        funcs.push((t, Some(import.name.to_string())));
                    }
                }
            }
            Payload::FunctionSection(r) => {
                for f in r {
                    funcs.push((f.map_err(invalid)?, None));
                }
            }
            Payload::CustomSection(custom) => {
                let KnownCustom::Linking(linking) = custom.as_known() else {
                    continue;
                };
                for sub in linking.subsections() {
                    let Linking::SymbolTable(symbols) = sub.map_err(invalid)? else {
                        continue;
                    };
                    for symbol in symbols {
                        add_symbol(&mut out, symbol.map_err(invalid)?, &funcs, &types);
                    }
                }
            }
            _ => {}
        }
    }
    Ok(out)
}

fn add_symbol(
    out: &mut Symbols,
    symbol: SymbolInfo<'_>,
    funcs: &[(u32, Option<String>)],
    types: &[wasmparser::FuncType],
) {
    match symbol {
        SymbolInfo::Func { flags, index, name } => {
            if flags.contains(SymbolFlags::BINDING_LOCAL) {
                return;
            }
            let entry = funcs.get(index as usize);
            let Some(name) = name
                .map(str::to_string)
                .or_else(|| entry.and_then(|(_, n)| n.clone()))
            else {
                return;
            };
            if out.functions.iter().any(|f| f.name == name) {
                return;
            }
            let signature = entry
                .and_then(|(t, _)| types.get(*t as usize))
                .and_then(signature_of);
            out.functions.push(Function {
                name,
                defined: !flags.contains(SymbolFlags::UNDEFINED),
                weak: flags.contains(SymbolFlags::BINDING_WEAK),
                hidden: flags.contains(SymbolFlags::VISIBILITY_HIDDEN),
                signature,
            });
        }
        SymbolInfo::Data {
            flags,
            name,
            symbol,
        } => {
            if flags.contains(SymbolFlags::BINDING_LOCAL) || out.data.iter().any(|d| d.name == name)
            {
                return;
            }
            out.data.push(Data {
                name: name.to_string(),
                size: symbol.map(|s| u64::from(s.size)),
                private: flags.contains(SymbolFlags::BINDING_WEAK)
                    || flags.contains(SymbolFlags::VISIBILITY_HIDDEN),
            });
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn garbage_is_not_an_object() {
        assert!(read(b"nope").is_err());
    }
}
