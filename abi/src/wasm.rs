//! Reads a linked wasm module's exports (with their signatures) and imports: the one reader
//! the server (checking a patch before it is sent) and the runtime (checking it again before
//! `dlopen`) share. Enabled by the `wasm` feature.

use crate::signature::{Signature, ValType};
use std::collections::{HashMap, HashSet};
use std::fmt;
use wasmparser::{ExternalKind, FuncType, Parser, Payload, TypeRef};

/// Imports every side module has that the dynamic linker itself provides.
pub const LINKER_PROVIDED: [&str; 6] = [
    "memory",
    "__indirect_function_table",
    "__stack_pointer",
    "__memory_base",
    "__table_base",
    "__heap_base",
];

/// The kind of an import.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImportKind {
    /// A function.
    Func,
    /// A table.
    Table,
    /// A memory.
    Memory,
    /// A global (in a side module: `GOT.mem`/`GOT.func` entries and the linker's bases).
    Global,
    /// An exception tag (`__cpp_exception`, `__c_longjmp`): the JS runtime provides it.
    Tag,
}

/// One import of a module.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Import {
    /// `env`, `GOT.mem` or `GOT.func` for a side module.
    pub module: String,
    /// The imported name.
    pub name: String,
    /// What is imported.
    pub kind: ImportKind,
}

impl Import {
    /// Whether the host must export it: not one the dynamic linker provides
    /// ([`LINKER_PROVIDED`]), not an exception tag (the JS runtime's), and from `env` or a
    /// `GOT.*` module.
    pub fn needs_host(&self) -> bool {
        self.kind != ImportKind::Tag
            && match self.module.as_str() {
                "env" => !LINKER_PROVIDED.contains(&self.name.as_str()),
                m => m.starts_with("GOT."),
            }
    }
}

/// What a linked module exports and imports.
#[derive(Debug, Default, Clone)]
pub struct ModuleShape {
    /// Exported functions with their signatures as wasm sees them (pointers read as `i`).
    pub exports: HashMap<String, Signature>,
    /// Exported functions whose type signature letters cannot express, with the wasm type.
    pub unsupported: HashMap<String, String>,
    /// Every export's name (functions, globals, memories, ...).
    pub export_names: HashSet<String>,
    /// Every import, in order.
    pub imports: Vec<Import>,
    /// Whether it has a `dylink.0` section (`-sSIDE_MODULE` / `-sMAIN_MODULE` output).
    pub dylink: bool,
}

impl ModuleShape {
    /// The names of the imports the host must export ([`Import::needs_host`]).
    pub fn host_imports(&self) -> impl Iterator<Item = &str> {
        self.imports
            .iter()
            .filter(|i| i.needs_host())
            .map(|i| i.name.as_str())
    }

    /// Read from a MAIN_MODULE: every name a side module may import from it, sorted. That is
    /// its exports, plus the JS library functions and exception tags it imports from `env`
    /// (Emscripten's dynamic linker resolves a side module's imports of those from the same
    /// place), less what the linker provides itself ([`LINKER_PROVIDED`]).
    pub fn provided_to_patches(&self) -> Vec<String> {
        let from_js = self
            .imports
            .iter()
            .filter(|i| i.module == "env" && matches!(i.kind, ImportKind::Func | ImportKind::Tag));
        let mut names: Vec<String> = self
            .export_names
            .iter()
            .map(String::as_str)
            .chain(from_js.map(|i| i.name.as_str()))
            .filter(|n| !LINKER_PROVIDED.contains(n))
            .map(str::to_string)
            .collect();
        names.sort();
        names.dedup();
        names
    }
}

/// Why bytes could not be read as a wasm module.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WasmError(String);

impl fmt::Display for WasmError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for WasmError {}

fn malformed(e: impl fmt::Display) -> WasmError {
    WasmError(e.to_string())
}

#[cfg(feature = "wasm-validate")]
/// Checks that `bytes` is a valid module for what patches may use: wasm's default features plus
/// the legacy exception instructions Rust's `-fwasm-exceptions` target emits.
pub fn validate(bytes: &[u8]) -> Result<(), WasmError> {
    wasmparser::Validator::new_with_features(
        wasmparser::WasmFeatures::default() | wasmparser::WasmFeatures::LEGACY_EXCEPTIONS,
    )
    .validate_all(bytes)
    .map(|_| ())
    .map_err(malformed)
}

/// The signature of a wasm function type, or `None` when letters cannot express it.
pub fn signature_of(ty: &FuncType) -> Option<Signature> {
    let ret = match ty.results() {
        [] => None,
        [one] => Some(val_type(*one)?),
        _ => return None,
    };
    let params = ty
        .params()
        .iter()
        .map(|&t| val_type(t))
        .collect::<Option<_>>()?;
    Some(Signature { ret, params })
}

fn val_type(t: wasmparser::ValType) -> Option<ValType> {
    Some(match t {
        wasmparser::ValType::I32 => ValType::I32,
        wasmparser::ValType::I64 => ValType::I64,
        wasmparser::ValType::F32 => ValType::F32,
        wasmparser::ValType::F64 => ValType::F64,
        _ => return None,
    })
}

fn import_kind(ty: TypeRef) -> ImportKind {
    match ty {
        TypeRef::Func(_) => ImportKind::Func,
        TypeRef::Table(_) => ImportKind::Table,
        TypeRef::Memory(_) => ImportKind::Memory,
        TypeRef::Global(_) => ImportKind::Global,
        TypeRef::Tag(_) => ImportKind::Tag,
    }
}

/// Reads the exports and imports of the module in `bytes` (without validating its code: see
/// `validate`, feature `wasm-validate`).
pub fn read_module(bytes: &[u8]) -> Result<ModuleShape, WasmError> {
    let mut types: Vec<FuncType> = Vec::new();
    let mut funcs: Vec<u32> = Vec::new();
    let mut shape = ModuleShape::default();
    for payload in Parser::new(0).parse_all(bytes) {
        match payload.map_err(malformed)? {
            Payload::CustomSection(c) if c.name() == "dylink.0" => shape.dylink = true,
            Payload::TypeSection(reader) => {
                for ty in reader.into_iter_err_on_gc_types() {
                    types.push(ty.map_err(malformed)?);
                }
            }
            Payload::ImportSection(reader) => {
                for import in reader {
                    let import = import.map_err(malformed)?;
                    if let TypeRef::Func(t) = import.ty {
                        funcs.push(t);
                    }
                    shape.imports.push(Import {
                        module: import.module.to_string(),
                        name: import.name.to_string(),
                        kind: import_kind(import.ty),
                    });
                }
            }
            Payload::FunctionSection(reader) => {
                for f in reader {
                    funcs.push(f.map_err(malformed)?);
                }
            }
            Payload::ExportSection(reader) => {
                for export in reader {
                    let export = export.map_err(malformed)?;
                    shape.export_names.insert(export.name.to_string());
                    if export.kind != ExternalKind::Func {
                        continue;
                    }
                    let ty = funcs
                        .get(export.index as usize)
                        .and_then(|&t| types.get(t as usize))
                        .ok_or_else(|| {
                            malformed(format!("export `{}` has no function type", export.name))
                        })?;
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

#[cfg(test)]
mod tests {
    use super::*;

    fn section(id: u8, body: Vec<u8>) -> Vec<u8> {
        let mut out = vec![id, body.len() as u8];
        out.extend(body);
        out
    }

    fn name(s: &str) -> Vec<u8> {
        let mut out = vec![s.len() as u8];
        out.extend(s.as_bytes());
        out
    }

    /// A side module: imports `env.memory`, `env.host_fn` (ii), `GOT.mem.host_data`, the tag
    /// `env.__cpp_exception`; exports `f` (iii), `pair` (two results) and `g` (v).
    fn side_module(dylink: bool) -> Vec<u8> {
        const I32: u8 = 0x7f;
        let mut m = b"\0asm\x01\0\0\0".to_vec();
        if dylink {
            m.extend(section(0, [name("dylink.0"), vec![]].concat()));
        }
        // Types: 0 = (i32 i32) -> i32, 1 = () -> (i32 i32), 2 = () -> (), 3 = (i32) -> i32,
        // 4 = (i32) -> () (the exception tag's).
        m.extend(section(
            1,
            vec![
                5, 0x60, 2, I32, I32, 1, I32, 0x60, 0, 2, I32, I32, 0x60, 0, 0, 0x60, 1, I32, 1,
                I32, 0x60, 1, I32, 0,
            ],
        ));
        let imports = [
            vec![4],
            name("env"),
            name("memory"),
            vec![0x02, 0x00, 0x00],
            name("env"),
            name("host_fn"),
            vec![0x00, 3],
            name("GOT.mem"),
            name("host_data"),
            vec![0x03, I32, 0x01],
            name("env"),
            name("__cpp_exception"),
            vec![0x04, 0x00, 4],
        ]
        .concat();
        m.extend(section(2, imports));
        m.extend(section(3, vec![3, 0, 1, 2]));
        // Function indices: 0 is the imported host_fn; 1, 2, 3 are defined here.
        let exports = [
            vec![3],
            name("f"),
            vec![0x00, 1],
            name("pair"),
            vec![0x00, 2],
            name("g"),
            vec![0x00, 3],
        ]
        .concat();
        m.extend(section(7, exports));
        let code = vec![
            3, 4, 0, 0x41, 0, 0x0b, 6, 0, 0x41, 0, 0x41, 0, 0x0b, 2, 0, 0x0b,
        ];
        m.extend(section(10, code));
        m
    }

    #[test]
    fn exports_are_read_with_their_letters_and_the_rest_is_named_unsupported() {
        let shape = read_module(&side_module(true)).unwrap();
        assert_eq!(shape.exports["f"], Signature::parse("iii").unwrap());
        assert_eq!(shape.exports["g"], Signature::parse("v").unwrap());
        assert!(shape.unsupported.contains_key("pair"), "{shape:?}");
        assert!(shape.export_names.contains("pair"));
        assert!(shape.dylink);
    }

    #[test]
    fn only_imports_the_host_must_export_need_the_host() {
        let shape = read_module(&side_module(true)).unwrap();
        assert_eq!(shape.imports.len(), 4);
        let needed: Vec<&str> = shape.host_imports().collect();
        assert_eq!(needed, ["host_fn", "host_data"]);
        assert_eq!(shape.imports[3].kind, ImportKind::Tag);
    }

    #[test]
    fn a_main_module_provides_its_exports_and_its_js_imports_but_not_the_linkers_names() {
        let shape = read_module(&side_module(true)).unwrap();
        assert_eq!(
            shape.provided_to_patches(),
            ["__cpp_exception", "f", "g", "host_fn", "pair"],
            "GOT.mem imports and `memory` are not provided"
        );
    }

    #[test]
    fn a_module_without_dylink_is_read_but_flagged() {
        assert!(!read_module(&side_module(false)).unwrap().dylink);
    }

    #[test]
    fn garbage_and_truncated_modules_do_not_read() {
        assert!(read_module(b"not wasm at all").is_err());
        let mut truncated = side_module(true);
        truncated.truncate(truncated.len() - 3);
        assert!(read_module(&truncated).is_err());
    }

    #[cfg(feature = "wasm-validate")]
    #[test]
    fn valid_modules_validate_and_garbage_does_not() {
        validate(&side_module(true)).unwrap();
        assert!(validate(b"\0asm garbage").is_err());
    }
}
