//! Reads wasm: the functions an object file defines (its `linking` symbol table), a linked
//! patch's exports with their types and its imports, and the check of a patch against the
//! host manifest that decides whether it may be sent.

use hotwasm_abi::{HostManifest, PatchEntry, Signature, ValType};
use std::collections::HashMap;
use wasmparser::{
    KnownCustom, Linking, Parser, Payload, SymbolFlags, SymbolInfo, TypeRef, ValType as WasmType,
};

/// The function a patch may define to run statements once per page after it applies.
pub const RUN_ONCE: &str = "hotwasm_main";

/// Imports every side module may have, satisfied by the dynamic linker itself.
const LINKER_IMPORTS: [&str; 6] = [
    "memory",
    "__indirect_function_table",
    "__memory_base",
    "__table_base",
    "__stack_pointer",
    "__heap_base",
];

/// Why a wasm file or a patch was refused.
#[derive(Debug, thiserror::Error, PartialEq)]
#[allow(missing_docs)] // Each variant's fields are what its message names.
pub enum InspectError {
    /// Not readable wasm.
    #[error("the compiled patch is not valid wasm: {0}; this is a toolchain bug, retry with --plain-emcc")]
    Invalid(String),
    /// A function type we cannot express in signature letters.
    #[error("`{name}` has a wasm type ({ty}) that Emscripten signature letters cannot express: use only int, long long, float, double and pointers, and return at most one value")]
    Unsupported { name: String, ty: String },
    /// A redefined var with another signature.
    #[error("`{var}` is declared with signature `{expected}` but the patch defines it as `{found}`: keep the declared parameter and return types (letters: i i32, j i64, f f32, d f64, p pointer, v void; return first)")]
    SignatureMismatch {
        var: String,
        expected: Signature,
        found: Signature,
    },
    /// An import the host does not export.
    #[error("the patch uses `{symbol}`{module}, which the host does not export: define it in the patch (as `static` if it is a helper), or export it from the host and rebuild the bundle with scripts/emscripten-bundle.sh")]
    UnknownImport { symbol: String, module: String },
    /// `hotwasm_main` with a signature other than `void(void)`.
    #[error("`hotwasm_main` must be `void hotwasm_main(void)` (signature `v`), not `{found}`")]
    BadRunOnce { found: Signature },
    /// Nothing to apply.
    #[error("the patch defines no non-static function: write at least one function definition (statements to run once go in `void hotwasm_main(void)`)")]
    Empty,
}

fn invalid(e: impl std::fmt::Display) -> InspectError {
    InspectError::Invalid(e.to_string())
}

/// The global (non-`static`) functions an object file defines, in symbol-table order.
pub fn defined_functions(object: &[u8]) -> Result<Vec<String>, InspectError> {
    defined_functions_where(object, |_, _| true)
}

/// The global, visible (not hidden) functions an object defines whose name passes `keep`:
/// for Rust objects, the user's `#[no_mangle]` functions.
pub fn visible_functions(
    object: &[u8],
    keep: impl Fn(&str) -> bool,
) -> Result<Vec<String>, InspectError> {
    defined_functions_where(object, |name, flags| {
        !flags.contains(SymbolFlags::VISIBILITY_HIDDEN) && keep(name)
    })
}

fn defined_functions_where(
    object: &[u8],
    keep: impl Fn(&str, SymbolFlags) -> bool,
) -> Result<Vec<String>, InspectError> {
    let mut names = Vec::new();
    for payload in Parser::new(0).parse_all(object) {
        let Payload::CustomSection(custom) = payload.map_err(invalid)? else {
            continue;
        };
        let KnownCustom::Linking(linking) = custom.as_known() else {
            continue;
        };
        for sub in linking.subsections() {
            let Linking::SymbolTable(symbols) = sub.map_err(invalid)? else {
                continue;
            };
            for symbol in symbols {
                if let SymbolInfo::Func {
                    flags,
                    name: Some(name),
                    ..
                } = symbol.map_err(invalid)?
                {
                    let local = flags.contains(SymbolFlags::BINDING_LOCAL);
                    let undefined = flags.contains(SymbolFlags::UNDEFINED);
                    if !local && !undefined && keep(name, flags) && !names.iter().any(|n| n == name)
                    {
                        names.push(name.to_string());
                    }
                }
            }
        }
    }
    Ok(names)
}

/// What a linked patch exports and imports.
#[derive(Debug, Default)]
pub struct PatchShape {
    /// Exported functions with their signatures as wasm sees them (pointers are `i`).
    pub exports: HashMap<String, Signature>,
    /// Exported functions whose types letters cannot express, with the type.
    pub unsupported: HashMap<String, String>,
    /// Imports as `(module, name)`.
    pub imports: Vec<(String, String)>,
    /// Every export's name (functions, globals, ...).
    pub export_names: std::collections::HashSet<String>,
}

/// Validates a linked patch and reads its shape.
pub fn read_patch(wasm: &[u8]) -> Result<PatchShape, InspectError> {
    validator().validate_all(wasm).map_err(invalid)?;
    let mut types = Vec::new();
    let mut funcs: Vec<u32> = Vec::new();
    let mut shape = PatchShape::default();
    for payload in Parser::new(0).parse_all(wasm) {
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
                        funcs.push(t);
                    }
                    shape
                        .imports
                        .push((import.module.to_string(), import.name.to_string()));
                }
            }
            Payload::FunctionSection(r) => {
                for f in r {
                    funcs.push(f.map_err(invalid)?);
                }
            }
            Payload::ExportSection(r) => {
                for export in r {
                    let export = export.map_err(invalid)?;
                    shape.export_names.insert(export.name.to_string());
                    if export.kind != wasmparser::ExternalKind::Func {
                        continue;
                    }
                    let ty = funcs
                        .get(export.index as usize)
                        .and_then(|t| types.get(*t as usize));
                    let ty =
                        ty.ok_or_else(|| invalid(format!("export `{}` has no type", export.name)))?;
                    match signature_of(ty) {
                        Some(sig) => {
                            shape.exports.insert(export.name.to_string(), sig);
                        }
                        None => {
                            shape
                                .unsupported
                                .insert(export.name.to_string(), format!("{ty:?}"));
                        }
                    }
                }
            }
            _ => {}
        }
    }
    Ok(shape)
}

/// A validator for what patches may use: the default features plus the legacy exception
/// instructions that Rust's panic=unwind target (`-fwasm-exceptions`) emits.
pub fn validator() -> wasmparser::Validator {
    wasmparser::Validator::new_with_features(
        wasmparser::WasmFeatures::default() | wasmparser::WasmFeatures::LEGACY_EXCEPTIONS,
    )
}

fn signature_of(ty: &wasmparser::FuncType) -> Option<Signature> {
    let letter = |t: &WasmType| match t {
        WasmType::I32 => Some(ValType::I32),
        WasmType::I64 => Some(ValType::I64),
        WasmType::F32 => Some(ValType::F32),
        WasmType::F64 => Some(ValType::F64),
        _ => None,
    };
    let ret = match ty.results() {
        [] => None,
        [one] => Some(letter(one)?),
        _ => return None,
    };
    let params = ty.params().iter().map(letter).collect::<Option<Vec<_>>>()?;
    Some(Signature { ret, params })
}

/// A patch that passed the check: its manifest and the symbol to run once, if any.
#[derive(Debug, Clone, PartialEq)]
pub struct Checked {
    /// One entry per var the patch defines.
    pub entries: Vec<PatchEntry>,
    /// The renamed `hotwasm_main`, if defined.
    pub run: Option<String>,
}

/// Checks a renamed patch: every defined function (`defined`, renamed by `symbol_of`) becomes a
/// manifest entry, matching `known` vars' signatures; every import must be the linker's own or
/// exported by the host.
pub fn check(
    shape: &PatchShape,
    defined: &[String],
    symbol_of: impl Fn(&str) -> String,
    host: &HostManifest,
    known: &HashMap<String, Signature>,
) -> Result<Checked, InspectError> {
    let mut entries = Vec::new();
    let mut run = None;
    for var in defined {
        let symbol = symbol_of(var);
        let found = match shape.exports.get(&symbol) {
            Some(sig) => sig.clone(),
            None => {
                let ty = shape
                    .unsupported
                    .get(&symbol)
                    .cloned()
                    .unwrap_or_else(|| "not exported".into());
                return Err(InspectError::Unsupported {
                    name: var.clone(),
                    ty,
                });
            }
        };
        if var == RUN_ONCE {
            if found != Signature::parse("v").expect("valid") {
                return Err(InspectError::BadRunOnce { found });
            }
            run = Some(symbol);
            continue;
        }
        let declared = host
            .var(var)
            .map(|v| &v.signature)
            .or_else(|| known.get(var));
        let signature = match declared {
            Some(expected) if !expected.same_in_wasm32(&found) => {
                return Err(InspectError::SignatureMismatch {
                    var: var.clone(),
                    expected: expected.clone(),
                    found,
                });
            }
            Some(expected) => expected.clone(),
            None => found,
        };
        entries.push(PatchEntry {
            var: var.clone(),
            symbol,
            signature,
        });
    }
    if entries.is_empty() && run.is_none() {
        return Err(InspectError::Empty);
    }
    for (module, name) in &shape.imports {
        let ok = match module.as_str() {
            "env" => {
                LINKER_IMPORTS.contains(&name.as_str())
                    || host.exports_symbol(name)
                    || host.var(name).is_some()
            }
            "GOT.mem" | "GOT.func" => {
                defined.contains(name)
                    || shape.export_names.contains(name)
                    || host.exports_symbol(name)
                    || host.var(name).is_some()
            }
            _ => false,
        };
        if !ok {
            let module = if module == "env" {
                String::new()
            } else {
                format!(" (from `{module}`)")
            };
            return Err(InspectError::UnknownImport {
                symbol: name.clone(),
                module,
            });
        }
    }
    Ok(Checked { entries, run })
}

#[cfg(test)]
mod tests {
    use super::*;
    use hotwasm_abi::HostVar;

    fn sig(s: &str) -> Signature {
        Signature::parse(s).unwrap()
    }

    fn host() -> HostManifest {
        HostManifest {
            version: 1,
            vars: vec![HostVar {
                name: "step".into(),
                signature: sig("vppf"),
            }],
            exports: vec!["demo_random".into(), "step".into()],
        }
    }

    fn shape(exports: &[(&str, &str)], imports: &[(&str, &str)]) -> PatchShape {
        PatchShape {
            exports: exports
                .iter()
                .map(|(n, s)| (n.to_string(), sig(s)))
                .collect(),
            unsupported: HashMap::new(),
            export_names: Default::default(),
            imports: imports
                .iter()
                .map(|(m, n)| (m.to_string(), n.to_string()))
                .collect(),
        }
    }

    fn ver(n: &str) -> String {
        hotwasm_abi::versioned_symbol(n, 3)
    }

    #[test]
    fn host_vars_keep_their_declared_letters_and_new_vars_are_allowed() {
        let s = shape(
            &[
                ("step__hw3", "viif"),
                ("helper__hw3", "ii"),
                ("hotwasm_main__hw3", "v"),
            ],
            &[("env", "memory"), ("env", "demo_random")],
        );
        let defined = vec![
            "step".to_string(),
            "helper".to_string(),
            "hotwasm_main".to_string(),
        ];
        let c = check(&s, &defined, ver, &host(), &HashMap::new()).unwrap();
        assert_eq!(c.entries[0].signature, sig("vppf"));
        assert_eq!(c.entries[1].symbol, "helper__hw3");
        assert_eq!(c.run.as_deref(), Some("hotwasm_main__hw3"));
    }

    #[test]
    fn a_signature_mismatch_names_both_signatures() {
        let s = shape(&[("step__hw3", "vii")], &[]);
        let e = check(&s, &["step".into()], ver, &host(), &HashMap::new()).unwrap_err();
        let text = e.to_string();
        assert!(text.contains("`vppf`") && text.contains("`vii`"), "{text}");
    }

    #[test]
    fn an_unknown_import_is_named() {
        let s = shape(&[("f__hw3", "i")], &[("env", "secret_fn")]);
        let e = check(&s, &["f".into()], ver, &host(), &HashMap::new()).unwrap_err();
        assert_eq!(
            e,
            InspectError::UnknownImport {
                symbol: "secret_fn".into(),
                module: String::new()
            }
        );
        assert!(e.to_string().contains("`secret_fn`"));
    }

    #[test]
    fn run_once_must_be_void_void() {
        let s = shape(&[("hotwasm_main__hw3", "ii")], &[]);
        let e = check(&s, &["hotwasm_main".into()], ver, &host(), &HashMap::new()).unwrap_err();
        assert!(matches!(e, InspectError::BadRunOnce { .. }));
    }

    #[test]
    fn garbage_is_not_wasm() {
        assert!(matches!(
            read_patch(b"\0asm garbage"),
            Err(InspectError::Invalid(_))
        ));
        assert!(defined_functions(b"nope").is_err());
    }
}
