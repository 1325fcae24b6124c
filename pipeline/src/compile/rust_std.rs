//! The part of Rust's standard library (core, alloc, std, compiler_builtins) a Rust patch links
//! itself when the host lacks it: the same rule as the C library ([`super::libc`]), applied per
//! symbol because a std rlib holds one object for the whole crate.
//!
//! Measured (rustc 1.95, `wasm32-unknown-emscripten`): each of `libcore`, `liballoc` and `libstd`
//! holds one PIC object (`-cgu.0.rcgu.o`: 2.4 MB, 0.7 MB, 5.0 MB with embedded bitcode and debug
//! info); `libcompiler_builtins` holds 256 small ones. Their state is data in writable segments
//! (`.data.*`, `.bss.*`) and thread-locals (`.tdata`/`.tbss`, TLS segments): the panic count and
//! hook, stdout's buffer and lock, the hash seed keys, the allocator's registration. So, per
//! symbol of those objects (functions and data, local ones too), from the relocations of its code
//! or data:
//! 1. writable or thread-local data is state: it is never copied, nor is anything that refers to
//!    it (the host must export a function above it, or the patch cannot have it);
//! 2. any other symbol is copyable when everything it refers to is copyable or the host exports
//!    it ([`select`] computes this as a fixpoint, like the C library's members). Read-only data
//!    (format tables, vtables) is copied with the code that uses it;
//! 3. a patch copies the copyable symbols it needs that the host does not export, and takes the
//!    host's copy of what the host exports ([`PatchStd::link`]) — except a host-exported function
//!    that a linked object also defines: the linker would bind to the object's copy, so the
//!    patch copies it when it is copyable (duplicate code without state is harmless) and wraps
//!    the calls to it otherwise (`--wrap`, renamed back to the host's name after the link).
//!
//! A std symbol a patch needs, the host lacks and is not copyable is refused before sending,
//! naming it, why (the state it reaches) and the fix ([`PatchStd::link_or_refuse`]).
//!
//! wasm-ld links the whole object but keeps only what the patch reaches (the patch exports only
//! its vars), so a patch carries the few functions it needs. Objects with constructors
//! (`init_funcs`) or retained segments are never linked: the linker would keep all they reach.

use super::object::Symbols;
use super::CompileError;
use hotwasm_abi::HostManifest;
use std::collections::{BTreeSet, HashMap, HashSet};
use std::path::{Path, PathBuf};
use wasmparser::{
    KnownCustom, Linking, Parser, Payload, RelocationType, SegmentFlags, SymbolFlags, SymbolInfo,
};

/// The sysroot crates whose objects patches may link from.
pub const CRATES: [&str; 4] = ["core", "alloc", "std", "compiler_builtins"];

/// Symbols every module gets from the dynamic linker.
const LINKER_SYMBOLS: [&str; 5] = [
    "__memory_base",
    "__table_base",
    "__stack_pointer",
    "__indirect_function_table",
    "__heap_base",
];

/// `WASM_SEG_FLAG_RETAIN` (`#[used]` data the linker keeps).
const RETAIN_FLAG: u32 = 4;

/// What one symbol of an object is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A function.
    Func,
    /// Data.
    Data,
    /// Anything else (globals, tables, tags, sections).
    Other,
}

/// One symbol of an object and what its body refers to.
#[derive(Debug, Clone)]
pub struct Sym {
    /// Its name (local ones too).
    pub name: String,
    /// What it is.
    pub kind: Kind,
    /// Defined in this object (else it refers to another object or the host).
    pub defined: bool,
    /// Local binding: no other object can name it.
    pub local: bool,
    /// Data in a writable or thread-local segment: state.
    pub state: bool,
    /// Symbol indices (of this object) its code or data refers to.
    pub refs: Vec<u32>,
    /// A function's wasm type.
    pub ty: Option<wasmparser::FuncType>,
}

/// One object's symbols, in symbol-table order.
#[derive(Debug, Clone, Default)]
pub struct Object {
    /// The symbols.
    pub syms: Vec<Sym>,
    /// It has constructors or retained segments: linking it would keep more than the patch needs.
    pub has_roots: bool,
}

/// Reads an object's symbols and, from its relocations, what each one's code or data refers to.
pub fn read_object(bytes: &[u8]) -> Result<Object, String> {
    let mut scan = Scan {
        code_index: u32::MAX,
        data_index: u32::MAX,
        ..Scan::default()
    };
    let mut section = 0u32;
    for payload in Parser::new(0).parse_all(bytes) {
        let payload = payload.map_err(|e| e.to_string())?;
        let is_section = payload.as_section().is_some();
        scan.payload(payload, section)?;
        section += u32::from(is_section);
    }
    Ok(scan.into_object())
}

/// What [`read_object`] gathers in its one pass over an object's sections.
#[derive(Default)]
struct Scan {
    imported_funcs: u32,
    import_names: Vec<String>,
    types: Vec<wasmparser::FuncType>,
    /// Function index → type index (imports first).
    func_types: Vec<u32>,
    /// Each function body's bytes, relative to the code section's contents.
    bodies: Vec<std::ops::Range<u32>>,
    code_start: usize,
    /// Each data segment's bytes, relative to the data section's contents.
    segs: Vec<std::ops::Range<u32>>,
    seg_state: Vec<bool>,
    /// The symbol table: kind, name, flags, function index.
    infos: Vec<(Kind, String, SymbolFlags, Option<u32>)>,
    /// Data symbol → (segment, offset, size).
    data_place: HashMap<usize, (u32, u32, u32)>,
    /// (in the code section, offset, symbol index).
    relocs: Vec<(bool, u32, u32)>,
    code_index: u32,
    data_index: u32,
    has_roots: bool,
}

fn err(e: wasmparser::BinaryReaderError) -> String {
    e.to_string()
}

impl Scan {
    fn payload(&mut self, payload: Payload<'_>, section: u32) -> Result<(), String> {
        match payload {
            Payload::ImportSection(r) => {
                for i in r {
                    let i = i.map_err(err)?;
                    if let wasmparser::TypeRef::Func(t) = i.ty {
                        self.imported_funcs += 1;
                        self.import_names.push(i.name.to_string());
                        self.func_types.push(t);
                    }
                }
            }
            Payload::TypeSection(r) => {
                for t in r.into_iter_err_on_gc_types() {
                    self.types.push(t.map_err(err)?);
                }
            }
            Payload::FunctionSection(r) => {
                for t in r {
                    self.func_types.push(t.map_err(err)?);
                }
            }
            Payload::CodeSectionStart { range, .. } => {
                self.code_start = range.start;
                self.code_index = section;
            }
            Payload::CodeSectionEntry(body) => {
                let (r, start) = (body.range(), self.code_start);
                self.bodies
                    .push((r.start - start) as u32..(r.end - start) as u32);
            }
            Payload::DataSection(r) => {
                let data_start = r.range().start;
                self.data_index = section;
                for d in r {
                    let d = d.map_err(err)?;
                    let start = d.range.end - d.data.len() - data_start;
                    self.segs
                        .push(start as u32..(d.range.end - data_start) as u32);
                }
            }
            Payload::CustomSection(c) => match c.as_known() {
                KnownCustom::Linking(linking) => {
                    for sub in linking.subsections() {
                        self.linking(sub.map_err(err)?)?;
                    }
                }
                KnownCustom::Reloc(r) => {
                    let into_code = r.section_index() == self.code_index;
                    if into_code || r.section_index() == self.data_index {
                        for e in r.entries() {
                            let e = e.map_err(err)?;
                            if e.ty != RelocationType::TypeIndexLeb {
                                self.relocs.push((into_code, e.offset, e.index));
                            }
                        }
                    }
                }
                _ => {}
            },
            _ => {}
        }
        Ok(())
    }

    fn linking(&mut self, sub: Linking<'_>) -> Result<(), String> {
        match sub {
            Linking::SegmentInfo(s) => {
                for s in s {
                    let s = s.map_err(err)?;
                    self.has_roots |= s.flags.bits() & RETAIN_FLAG != 0;
                    self.seg_state.push(is_state_segment(s.name, s.flags));
                }
            }
            Linking::InitFuncs(f) => self.has_roots |= f.count() > 0,
            Linking::SymbolTable(t) => {
                for s in t {
                    let s = s.map_err(err)?;
                    if let SymbolInfo::Data {
                        symbol: Some(d), ..
                    } = &s
                    {
                        let at = self.infos.len();
                        self.data_place.insert(at, (d.index, d.offset, d.size));
                    }
                    self.infos.push(symbol_info(s));
                }
            }
            _ => {}
        }
        Ok(())
    }

    /// The symbols, each with what the relocations inside its body or bytes refer to.
    fn into_object(self) -> Object {
        // Function symbol → its body; data symbol → its bytes in the data section.
        let mut code_owner: Vec<(u32, u32, usize)> = Vec::new();
        let mut data_owner: Vec<(u32, u32, usize)> = Vec::new();
        let mut syms = Vec::with_capacity(self.infos.len());
        for (i, (kind, name, flags, func)) in self.infos.iter().enumerate() {
            let defined = !flags.contains(SymbolFlags::UNDEFINED);
            let mut state = false;
            match (kind, func) {
                (Kind::Func, Some(f)) if defined && *f >= self.imported_funcs => {
                    if let Some(b) = self.bodies.get((*f - self.imported_funcs) as usize) {
                        code_owner.push((b.start, b.end, i));
                    }
                }
                (Kind::Data, _) => {
                    if let Some((seg, off, size)) = self.data_place.get(&i) {
                        state = self.seg_state.get(*seg as usize).copied().unwrap_or(true);
                        if let Some(r) = self.segs.get(*seg as usize) {
                            data_owner.push((r.start + off, r.start + off + size.max(&1), i));
                        }
                    }
                }
                _ => {}
            }
            syms.push(self.sym(*kind, name, *flags, *func, state));
        }
        code_owner.sort_unstable();
        data_owner.sort_unstable();
        for (in_code, offset, target) in &self.relocs {
            let owners = if *in_code { &code_owner } else { &data_owner };
            let at = owners.partition_point(|(start, _, _)| start <= offset);
            if let Some((_, end, owner)) = at.checked_sub(1).map(|i| owners[i]) {
                if *offset < end && (*target as usize) < syms.len() {
                    syms[owner].refs.push(*target);
                }
            }
        }
        for s in &mut syms {
            s.refs.sort_unstable();
            s.refs.dedup();
        }
        Object {
            syms,
            has_roots: self.has_roots,
        }
    }

    fn sym(
        &self,
        kind: Kind,
        name: &str,
        flags: SymbolFlags,
        func: Option<u32>,
        state: bool,
    ) -> Sym {
        let name = match func {
            // An undefined function without an explicit name has its import's.
            Some(f) if kind == Kind::Func && name.is_empty() => self
                .import_names
                .get(f as usize)
                .cloned()
                .unwrap_or_default(),
            _ => name.to_string(),
        };
        let ty = func
            .filter(|_| kind == Kind::Func)
            .and_then(|f| self.func_types.get(f as usize))
            .and_then(|t| self.types.get(*t as usize))
            .cloned();
        Sym {
            name,
            kind,
            defined: !flags.contains(SymbolFlags::UNDEFINED),
            local: flags.contains(SymbolFlags::BINDING_LOCAL),
            state,
            refs: Vec::new(),
            ty,
        }
    }
}

/// Whether a data segment holds state: writable (`.data.*` but not `.data.rel.ro.*`, `.bss.*`)
/// or thread-local.
fn is_state_segment(name: &str, flags: SegmentFlags) -> bool {
    let under = |p: &str| name == p || name.starts_with(&format!("{p}."));
    flags.contains(SegmentFlags::TLS)
        || under(".tdata")
        || under(".tbss")
        || under(".bss")
        || (under(".data") && !under(".data.rel.ro"))
}

fn symbol_info(s: SymbolInfo<'_>) -> (Kind, String, SymbolFlags, Option<u32>) {
    match s {
        SymbolInfo::Func { flags, index, name } => (
            Kind::Func,
            name.unwrap_or_default().to_string(),
            flags,
            Some(index),
        ),
        SymbolInfo::Data { flags, name, .. } => (Kind::Data, name.to_string(), flags, None),
        SymbolInfo::Global { flags, name, .. } => (
            Kind::Other,
            name.unwrap_or_default().to_string(),
            flags,
            None,
        ),
        SymbolInfo::Table { flags, name, .. } | SymbolInfo::Event { flags, name, .. } => (
            Kind::Other,
            name.unwrap_or_default().to_string(),
            flags,
            None,
        ),
        SymbolInfo::Section { flags, .. } => (Kind::Other, String::new(), flags, None),
    }
}

/// A symbol of one object: (object, symbol index).
pub type Node = (usize, u32);

/// Why a std symbol cannot be linked into a patch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NotLinkable {
    /// It is state, or reaches `state` (writable or thread-local data) the host does not export.
    State(String),
    /// It reaches `symbol`, which no std object defines and the host does not export.
    Needs(String),
    /// Its object has constructors or retained data, so it is never linked.
    Rooted,
}

/// What a patch may copy out of `objects` for a host exporting `exported`: per node, `Ok` when
/// it can be copied, else why not (host-exported symbols too: a linked object may define them).
pub fn select(
    objects: &[Object],
    exported: &dyn Fn(&str) -> bool,
) -> HashMap<Node, Result<(), NotLinkable>> {
    let mut status = initial_status(objects);
    let by_name = definers(objects);
    // Who refers to each node, and the nodes refused from the start or for a missing symbol.
    let mut referrers: HashMap<Node, Vec<Node>> = HashMap::new();
    let mut refused: Vec<Node> = Vec::new();
    for (&(o, s), st) in status.iter_mut() {
        if st.is_err() {
            refused.push((o, s));
            continue;
        }
        for &r in &objects[o].syms[s as usize].refs {
            let target = &objects[o].syms[r as usize];
            let host = !target.local && exported(&target.name);
            if host || target.kind == Kind::Other || LINKER_SYMBOLS.contains(&target.name.as_str())
            {
                continue;
            }
            let resolved = match target.defined {
                true => Some((o, r)),
                false => by_name.get(target.name.as_str()).copied(),
            };
            match resolved {
                Some(t) if objects[t.0].syms[t.1 as usize].kind != Kind::Other => {
                    referrers.entry(t).or_default().push((o, s));
                }
                Some(_) => {}
                None => {
                    *st = Err(NotLinkable::Needs(target.name.clone()));
                    refused.push((o, s));
                    break;
                }
            }
        }
    }
    // Everything that reaches a refused node is refused for the same reason.
    while let Some(n) = refused.pop() {
        let Some(Err(why)) = status.get(&n).cloned() else {
            continue;
        };
        for r in referrers.get(&n).into_iter().flatten() {
            if let Some(st @ Ok(())) = status.get_mut(r) {
                *st = Err(why.clone());
                refused.push(*r);
            }
        }
    }
    status
}

/// Every defined function and data symbol: refused when its object has roots or it is state.
fn initial_status(objects: &[Object]) -> HashMap<Node, Result<(), NotLinkable>> {
    let mut status = HashMap::new();
    for (o, obj) in objects.iter().enumerate() {
        for (s, sym) in obj.syms.iter().enumerate() {
            if !sym.defined || sym.kind == Kind::Other {
                continue;
            }
            let why = if obj.has_roots {
                Err(NotLinkable::Rooted)
            } else if sym.state {
                Err(NotLinkable::State(sym.name.clone()))
            } else {
                Ok(())
            };
            status.insert((o, s as u32), why);
        }
    }
    status
}

/// Global name → the first object symbol defining it.
fn definers(objects: &[Object]) -> HashMap<&str, Node> {
    let mut by_name = HashMap::new();
    for (o, obj) in objects.iter().enumerate() {
        for (s, sym) in obj.syms.iter().enumerate() {
            if sym.defined && !sym.local && !sym.name.is_empty() {
                by_name.entry(sym.name.as_str()).or_insert((o, s as u32));
            }
        }
    }
    by_name
}

/// What one patch links from the standard library.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct StdLink {
    /// The objects to link (wasm-ld keeps only what the patch reaches).
    pub objects: Vec<PathBuf>,
    /// Host-exported functions those objects define that the copied code calls: linked with
    /// `--wrap=<name>` so the calls reach an import, renamed back to `<name>` after the link
    /// ([`WRAP_PREFIX`]).
    pub wraps: Vec<String>,
    /// The wasm type of each of `wraps` (for [`wrap_object`]).
    pub wrap_types: Vec<wasmparser::FuncType>,
    /// The symbols copied into the patch (for figures and tests).
    pub copied: usize,
}

/// The prefix wasm-ld gives wrapped references.
pub const WRAP_PREFIX: &str = "__wrap_";

impl StdLink {
    /// The linker arguments: the objects, `wrap_object` (see [`wrap_object`]), one `--wrap` per
    /// host function, and `-Bsymbolic` ([`super::rust::std_linker_args`] says why).
    pub fn linker_args(&self, wrap_object: &Path) -> Vec<String> {
        let objects = self.objects.iter().map(|p| p.display().to_string());
        let wraps = self.wraps.iter().map(|w| format!("--wrap={w}"));
        let keep = (!self.wraps.is_empty()).then(|| wrap_object.display().to_string());
        objects
            .chain(keep)
            .chain(wraps)
            .chain(["-Bsymbolic".to_string()])
            .collect()
    }
}

/// A relocatable object whose (unused, local) functions call `__wrap_<name>` for each wrapped
/// host function, with its type. wasm-ld 19 imports a wrapped name as a function only when an
/// input object calls it directly: without this it crashes (`FunctionSymbol::getFunctionIndex`)
/// on the first call `--wrap` redirected (measured: an object that merely declares the name
/// crashes it too).
pub fn wrap_object(link: &StdLink) -> Vec<u8> {
    use wasm_encoder::reencode::{Reencode, RoundtripReencoder};
    use wasm_encoder::{CustomSection, Module, RawSection, SymbolTable};
    let n = link.wraps.len() as u32;
    let mut types = wasm_encoder::TypeSection::new();
    let mut imports = wasm_encoder::ImportSection::new();
    let mut functions = wasm_encoder::FunctionSection::new();
    let mut symbols = SymbolTable::new();
    let (mut code, mut relocs) = (Vec::new(), Vec::new());
    leb(&mut code, n);
    for (i, (name, ty)) in link.wraps.iter().zip(&link.wrap_types).enumerate() {
        let i = i as u32;
        let val = |v: &wasmparser::ValType| RoundtripReencoder.val_type(*v).ok();
        let params: Vec<_> = ty.params().iter().filter_map(val).collect();
        let results: Vec<_> = ty.results().iter().filter_map(val).collect();
        types.ty().function(params, results);
        let wrapped = format!("{WRAP_PREFIX}{name}");
        imports.import("env", &wrapped, wasm_encoder::EntityType::Function(i));
        symbols.function(SymbolTable::WASM_SYM_UNDEFINED, i, None);
        // The caller: zero for each parameter, `call i` (5-byte index, relocated), drop results.
        let mut body = vec![0u8]; // no locals
        for p in ty.params() {
            body.extend(match p {
                wasmparser::ValType::I64 => vec![0x42, 0],
                wasmparser::ValType::F32 => vec![0x43, 0, 0, 0, 0],
                wasmparser::ValType::F64 => vec![0x44, 0, 0, 0, 0, 0, 0, 0, 0],
                _ => vec![0x41, 0],
            });
        }
        body.push(0x10);
        let at = body.len();
        body.extend([
            0x80 | (i as u8 & 0x7f),
            0x80 | ((i >> 7) as u8 & 0x7f),
            0x80,
            0x80,
            0,
        ]);
        body[at] |= 0x80;
        body.extend(std::iter::repeat_n(0x1a, ty.results().len()));
        body.push(0x0b);
        leb(&mut code, body.len() as u32);
        relocs.push(((code.len() + at) as u32, i));
        code.extend(body);
        functions.function(n);
        let keep = format!("__hotwasm_keep_{i}");
        symbols.function(SymbolTable::WASM_SYM_BINDING_LOCAL, n + i, Some(&keep));
    }
    types.ty().function([], []);
    let mut linking = wasm_encoder::LinkingSection::new();
    linking.symbol_table(&symbols);
    let mut reloc = Vec::new();
    leb(&mut reloc, 3); // the code section: type, import, function, code
    leb(&mut reloc, relocs.len() as u32);
    for (offset, symbol) in relocs {
        reloc.push(0); // R_WASM_FUNCTION_INDEX_LEB
        leb(&mut reloc, offset);
        leb(&mut reloc, symbol);
    }
    let mut module = Module::new();
    module
        .section(&types)
        .section(&imports)
        .section(&functions)
        .section(&RawSection {
            id: 10,
            data: &code,
        })
        .section(&linking)
        .section(&CustomSection {
            name: "reloc.CODE".into(),
            data: reloc.into(),
        });
    module.finish()
}

/// Appends `v` as unsigned LEB128.
fn leb(out: &mut Vec<u8>, mut v: u32) {
    loop {
        let byte = (v & 0x7f) as u8;
        v >>= 7;
        if v == 0 {
            out.push(byte);
            return;
        }
        out.push(byte | 0x80);
    }
}

/// The standard library patches link, made for one host's exports.
#[derive(Debug)]
pub struct PatchStd {
    objects: Vec<Object>,
    files: Vec<PathBuf>,
    status: HashMap<Node, Result<(), NotLinkable>>,
    by_name: HashMap<String, Node>,
    exported: HashSet<String>,
    key: u64,
}

impl PatchStd {
    /// Reads the [`CRATES`] rlibs in `rlib_dir` (the sysroot's `lib/rustlib/<target>/lib`),
    /// selects what a patch may copy for `host`, and writes their objects into `out`.
    pub fn make(
        rlib_dir: &Path,
        host: &HostManifest,
        out: &Path,
    ) -> Result<PatchStd, CompileError> {
        let mut objects = Vec::new();
        let mut files = Vec::new();
        for krate in CRATES {
            let rlib = find_rlib(rlib_dir, krate)?;
            let bytes = std::fs::read(&rlib).map_err(CompileError::Io)?;
            let bad = |why: String| CompileError::Learn(format!("{}: {why}", rlib.display()));
            let members =
                super::libc::ar_members(&bytes).ok_or_else(|| bad("not an archive".into()))?;
            for m in members.into_iter().filter(|m| m.name.ends_with(".o")) {
                let (name, data) = (m.name, &bytes[m.data]);
                let object = read_object(data).map_err(|e| bad(format!("member {name}: {e}")))?;
                let file = out.join(format!("{krate}-{}", name.replace('/', "_")));
                if !file.is_file() {
                    std::fs::write(&file, data).map_err(CompileError::Io)?;
                }
                objects.push(object);
                files.push(file);
            }
        }
        let exported: HashSet<String> = host.exports.iter().cloned().collect();
        let status = select(&objects, &|s| exported.contains(s));
        let by_name = definers(&objects)
            .into_iter()
            .map(|(k, v)| (k.to_string(), v))
            .collect();
        Ok(PatchStd {
            objects,
            files,
            status,
            by_name,
            exported,
            key: super::libc::exports_key(host),
        })
    }

    /// No standard library for patches (making it failed): they link as before.
    pub fn none(host: &HostManifest) -> PatchStd {
        PatchStd {
            objects: Vec::new(),
            files: Vec::new(),
            status: HashMap::new(),
            by_name: HashMap::new(),
            exported: HashSet::new(),
            key: super::libc::exports_key(host),
        }
    }

    /// What a patch with `symbols` links from std, or the refusal of the first std symbol it
    /// uses that the host lacks and a patch cannot link, naming it, why, and the fix.
    pub fn link_or_refuse(&self, symbols: &Symbols) -> Result<StdLink, CompileError> {
        let undefined = || {
            let funcs = symbols.functions.iter().filter(|f| !f.defined);
            let data = symbols.data.iter().filter(|d| d.size.is_none());
            funcs
                .map(|f| f.name.as_str())
                .chain(data.map(|d| d.name.as_str()))
        };
        for name in undefined().filter(|n| !self.exported.contains(*n)) {
            if let Some(why) = self.why_not(name) {
                return Err(CompileError::StdNotLinkable(refusal(name, &why)));
            }
        }
        Ok(self.link(undefined()))
    }

    /// Whether this was made for `host`'s exports.
    pub fn fits(&self, host: &HostManifest) -> bool {
        self.key == super::libc::exports_key(host)
    }

    /// Whether a patch links `name` from std (it is not the host's and can be copied).
    pub fn defines(&self, name: &str) -> bool {
        !self.exported.contains(name)
            && self
                .by_name
                .get(name)
                .is_some_and(|n| matches!(self.status.get(n), Some(Ok(()))))
    }

    /// Why a patch cannot link the std symbol `name`, if it is one it cannot link.
    pub fn why_not(&self, name: &str) -> Option<String> {
        let node = self.by_name.get(name)?;
        let demangle = |s: &str| format!("{:#}", rustc_demangle::demangle(s));
        match self.status.get(node)? {
            Ok(()) => None,
            Err(NotLinkable::State(s)) if s == name => Some(
                "it is state of the standard library, which a patch must share with the host"
                    .into(),
            ),
            Err(NotLinkable::State(s)) => Some(format!(
                "it uses `{}`, state of the standard library that a patch must share with the host",
                demangle(s)
            )),
            Err(NotLinkable::Needs(s)) => Some(format!(
                "it needs `{}`, which neither the host nor the standard library's objects provide",
                demangle(s)
            )),
            Err(NotLinkable::Rooted) => {
                Some("its object runs constructors, so a patch never links it".into())
            }
        }
    }

    /// What a patch whose object leaves `undefined` symbols undefined links from std.
    pub fn link<'a>(&self, undefined: impl Iterator<Item = &'a str>) -> StdLink {
        let mut todo: Vec<Node> = undefined
            .filter(|n| !self.exported.contains(*n))
            .filter_map(|n| self.by_name.get(n).copied())
            .filter(|n| self.copyable(n))
            .collect();
        let mut seen: HashSet<Node> = HashSet::new();
        let mut objects: BTreeSet<usize> = BTreeSet::new();
        // Host functions the copied code calls: (defining node, name).
        let mut host: BTreeSet<(Node, String)> = BTreeSet::new();
        loop {
            while let Some(n) = todo.pop() {
                if !seen.insert(n) {
                    continue;
                }
                objects.insert(n.0);
                for &r in &self.objects[n.0].syms[n.1 as usize].refs {
                    let sym = &self.objects[n.0].syms[r as usize];
                    let target = match sym.defined {
                        true => Some((n.0, r)),
                        false => self.by_name.get(&sym.name).copied(),
                    };
                    let Some(t) = target else { continue };
                    if !sym.local && self.exported.contains(&sym.name) {
                        if sym.kind == Kind::Func {
                            host.insert((t, sym.name.clone()));
                        }
                    } else if self.copyable(&t) {
                        todo.push(t);
                    }
                }
            }
            // A host function a linked object defines would bind to that object's copy: copy it
            // (it holds no state) or, if it does hold state, wrap its calls to the host's.
            todo = host
                .iter()
                .map(|(t, _)| *t)
                .filter(|t| objects.contains(&t.0) && !seen.contains(t) && self.copyable(t))
                .collect();
            if todo.is_empty() {
                break;
            }
        }
        let wraps: Vec<(String, wasmparser::FuncType)> = host
            .into_iter()
            .filter(|(t, _)| objects.contains(&t.0) && !seen.contains(t))
            .filter_map(|(t, name)| Some((name, self.objects[t.0].syms[t.1 as usize].ty.clone()?)))
            .collect();
        StdLink {
            objects: objects.iter().map(|o| self.files[*o].clone()).collect(),
            wraps: wraps.iter().map(|(name, _)| name.clone()).collect(),
            wrap_types: wraps.into_iter().map(|(_, ty)| ty).collect(),
            copied: seen.len(),
        }
    }

    fn copyable(&self, n: &Node) -> bool {
        matches!(self.status.get(n), Some(Ok(())))
    }
}

/// The refusal of a patch using std symbol `raw` that the host lacks and a patch cannot link.
pub fn refusal(raw: &str, why: &str) -> String {
    let demangled = format!("{:#}", rustc_demangle::demangle(raw));
    format!(
        "the patch uses `{demangled}` (symbol `{raw}`) from the standard library, which the host does not export and a patch cannot link itself: {why}. The patch was not sent: use it somewhere in your host's Rust code so the host links and exports it, then rebuild the host with `hotwasm build --hot`"
    )
}

/// A failed link of a patch that wraps stateful host functions a copied std object also defines:
/// wasm-ld 19 can crash there ("PLEASE submit a bug report"), so such a failure becomes a refusal
/// naming the wrapped function and the fix. Any other error is returned as it was.
pub fn wrapped_link_failure(e: CompileError, link: &StdLink) -> CompileError {
    let (CompileError::Link { .. }, Some(raw)) = (&e, link.wraps.first()) else {
        return e;
    };
    let demangled = format!("{:#}", rustc_demangle::demangle(raw));
    CompileError::StdNotLinkable(format!(
        "the patch needs standard library code the host does not link ({} symbols) from the same std object as `{demangled}` (symbol `{raw}`), which holds state the host shares, and the linker cannot keep the two apart. The patch was not sent: use the std functions your patch calls somewhere in your host's Rust code so the host links and exports them, then rebuild the host with `hotwasm build --hot`",
        link.copied
    ))
}

/// The rlib of `krate` in `dir` (`lib<krate>-<hash>.rlib`).
fn find_rlib(dir: &Path, krate: &str) -> Result<PathBuf, CompileError> {
    let prefix = format!("lib{krate}-");
    std::fs::read_dir(dir)
        .map_err(CompileError::Io)?
        .filter_map(Result::ok)
        .map(|e| e.path())
        .find(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with(&prefix) && n.ends_with(".rlib"))
        })
        .ok_or_else(|| {
            CompileError::Learn(format!(
                "{}: no lib{krate}-*.rlib, so patches can use only the std functions the host exports",
                dir.display()
            ))
        })
}

/// `wasm` with each import named `__wrap_<name>` for a `<name>` of `wraps` (function, or
/// `GOT.func` entry) renamed to `<name>`: the host's symbol the wrapped calls of [`StdLink`] reach.
pub fn unwrap_imports(wasm: &[u8], wraps: &[String]) -> Result<Vec<u8>, String> {
    use wasm_encoder::reencode::{Reencode, RoundtripReencoder};
    if wraps.is_empty() {
        return Ok(wasm.to_vec());
    }
    let mut imports = wasm_encoder::ImportSection::new();
    for payload in Parser::new(0).parse_all(wasm) {
        if let Payload::ImportSection(r) = payload.map_err(|e| e.to_string())? {
            for i in r {
                let i = i.map_err(|e| e.to_string())?;
                let name = match i.name.strip_prefix(WRAP_PREFIX) {
                    Some(n) if wraps.iter().any(|w| w == n) => n,
                    _ => i.name,
                };
                let ty = RoundtripReencoder
                    .entity_type(i.ty)
                    .map_err(|e| e.to_string())?;
                imports.import(i.module, name, ty);
            }
        }
    }
    super::rewrite::replace_section(wasm, &imports).map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sym(name: &str, kind: Kind, defined: bool, state: bool, refs: &[u32]) -> Sym {
        Sym {
            name: name.into(),
            kind,
            defined,
            local: name.starts_with('.'),
            state,
            refs: refs.to_vec(),
            ty: None,
        }
    }

    #[test]
    fn code_reaching_state_or_missing_symbols_is_refused_and_host_exports_serve_as_they_are() {
        let core = Object {
            syms: vec![
                sym("sort", Kind::Func, true, false, &[1, 2, 5]), // 0
                sym(".Lhelper", Kind::Func, true, false, &[]),    // 1
                sym(".Lrodata", Kind::Data, true, false, &[]),    // 2
                sym("print", Kind::Func, true, false, &[4]),      // 3
                sym("STDOUT", Kind::Data, true, true, &[]),       // 4
                sym("panic", Kind::Func, true, false, &[7]),      // 5
                sym("uses_missing", Kind::Func, true, false, &[8]), // 6
                sym("begin_unwind", Kind::Func, false, false, &[]), // 7
                sym("nowhere", Kind::Func, false, false, &[]),    // 8
                sym("calls_print", Kind::Func, true, false, &[3]), // 9
            ],
            has_roots: false,
        };
        let std = Object {
            syms: vec![sym("begin_unwind", Kind::Func, true, false, &[])],
            has_roots: true,
        };
        let status = select(&[core, std], &|s| s == "begin_unwind");
        assert_eq!(status[&(0, 0)], Ok(()), "sort copies its helper and rodata");
        assert_eq!(status[&(0, 1)], Ok(()));
        assert_eq!(
            status[&(0, 5)],
            Ok(()),
            "panic calls the host's begin_unwind"
        );
        assert_eq!(status[&(0, 3)], Err(NotLinkable::State("STDOUT".into())));
        assert_eq!(
            status[&(0, 9)],
            Err(NotLinkable::State("STDOUT".into())),
            "the state is named through what reaches it"
        );
        assert_eq!(status[&(0, 6)], Err(NotLinkable::Needs("nowhere".into())));
        assert_eq!(
            status[&(1, 0)],
            Err(NotLinkable::Rooted),
            "nothing of an object with constructors is copied"
        );
    }

    #[test]
    fn host_functions_a_linked_object_defines_are_copied_when_stateless_and_wrapped_otherwise() {
        let f = |name: &str, refs: &[u32]| Sym {
            ty: Some(wasmparser::FuncType::new([], [])),
            ..sym(name, Kind::Func, true, false, refs)
        };
        let core = Object {
            syms: vec![
                f("sort", &[1, 2, 3, 4]),                     // 0: what the patch needs
                f("pure_exported", &[]),                      // 1: the host exports it, no state
                f("stateful_exported", &[5]),                 // 2: the host exports it, state
                sym("unwind", Kind::Func, false, false, &[]), // 3: the host's, in `other`
                f(".Llocal", &[]),                            // 4
                sym("COUNT", Kind::Data, true, true, &[]),    // 5
            ],
            has_roots: false,
        };
        let other = Object {
            syms: vec![f("unwind", &[])],
            has_roots: false,
        };
        let objects = vec![core, other];
        let exported: HashSet<String> = ["pure_exported", "stateful_exported", "unwind"]
            .map(String::from)
            .into();
        let status = select(&objects, &|s| exported.contains(s));
        let by_name = definers(&objects)
            .into_iter()
            .map(|(k, v)| (k.to_string(), v))
            .collect();
        let std = PatchStd {
            objects,
            files: vec![PathBuf::from("core.o"), PathBuf::from("other.o")],
            status,
            by_name,
            exported,
            key: 0,
        };
        let link = std.link(["sort"].into_iter());
        assert_eq!(
            link.objects,
            [PathBuf::from("core.o")],
            "`unwind` is imported"
        );
        assert_eq!(link.wraps, ["stateful_exported"]);
        assert_eq!(
            link.copied, 3,
            "sort, its local helper and the stateless host function"
        );
    }

    #[test]
    fn the_wrap_object_calls_each_wrapped_name_with_its_type() {
        let ty = wasmparser::FuncType::new(
            [wasmparser::ValType::I32, wasmparser::ValType::F64],
            [wasmparser::ValType::I64],
        );
        let link = StdLink {
            wraps: vec!["begin_panic".into()],
            wrap_types: vec![ty],
            ..StdLink::default()
        };
        let bytes = wrap_object(&link);
        wasmparser::Validator::new().validate_all(&bytes).unwrap();
        let object = read_object(&bytes).unwrap();
        let names: Vec<(&str, bool, &[u32])> = object
            .syms
            .iter()
            .map(|s| (s.name.as_str(), s.defined, s.refs.as_slice()))
            .collect();
        assert_eq!(
            names,
            [
                ("__wrap_begin_panic", false, &[][..]),
                ("__hotwasm_keep_0", true, &[0][..])
            ]
        );
    }

    #[test]
    fn only_wrapped_imports_get_their_hosts_name_back() {
        let mut types = wasm_encoder::TypeSection::new();
        types.ty().function([], []);
        let mut imports = wasm_encoder::ImportSection::new();
        for name in ["__wrap_begin_panic", "__wrap_step"] {
            imports.import("env", name, wasm_encoder::EntityType::Function(0));
        }
        let mut module = wasm_encoder::Module::new();
        module.section(&types).section(&imports);
        let out = unwrap_imports(&module.finish(), &["begin_panic".to_string()]).unwrap();
        let names: Vec<String> = Parser::new(0)
            .parse_all(&out)
            .filter_map(|p| match p {
                Ok(Payload::ImportSection(r)) => Some(r),
                _ => None,
            })
            .flat_map(|r| r.into_iter().map(|i| i.unwrap().name.to_string()))
            .collect();
        assert_eq!(names, ["begin_panic", "__wrap_step"]);
    }

    #[test]
    fn writable_and_thread_local_segments_are_state_and_relro_is_not() {
        let none = SegmentFlags::empty();
        assert!(is_state_segment(".data.COUNT", none));
        assert!(is_state_segment(".bss.HOOK", none));
        assert!(is_state_segment(".tdata.KEYS", none));
        assert!(is_state_segment(".rodata.x", SegmentFlags::TLS));
        assert!(!is_state_segment(".rodata.table", none));
        assert!(!is_state_segment(".data.rel.ro.vtable", none));
    }
}
