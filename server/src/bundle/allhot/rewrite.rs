//! Step 4 of an all-hot build: the post-link rewrite of the HOT_RELOAD host's wasm.
//!
//! For each hot function `f` (found by its name in the name section):
//! - its body moves to a new function `f'` appended to the module; `f'` is placed in the table
//!   by a passive element segment that a new start function copies to the table's end
//!   (`table.grow` + `table.init`: the table's JS-side size stays what emcc computed);
//! - every direct `call f` anywhere in the module becomes a load of `f`'s slot and a
//!   `call_indirect` of `f`'s type ([`Slots::Memory`]; [`Slots::Table`] is the measured
//!   alternative: a constant table index, no load, see docs/ALL-HOT.md);
//! - `f` itself becomes a trampoline through the slot, so calls through function pointers and
//!   from JS reach the newest version too;
//! - the start function writes each slot (the generated directory's array, found through its
//!   accessor) with the table index of `f'`, before any constructor runs. In a threaded host
//!   every thread's instance runs it: each grows and fills its own table the same way, but only
//!   slots still 0 are written (atomically), so a thread started after a patch keeps the patch.
//!
//! Every other byte is copied; function indices of the original module do not change.

use super::directory::SLOTS_ACCESSOR;
use std::collections::HashMap;
use wasm_encoder::reencode::{Reencode, RoundtripReencoder};
use wasm_encoder::{
    CodeSection, ConstExpr, ElementSection, Elements, Encode, Function, FunctionSection,
    GlobalSection, GlobalType, Instruction, MemArg, Module, NameMap, NameSection, RawSection,
    StartSection, TypeSection, ValType,
};
use wasmparser::{BinaryReader, FuncType, Operator, Parser, Payload, TypeRef};

/// How far above the declared table size [`Slots::Table`] puts its entries.
const TABLE_SLACK: i32 = 1024;

/// Where the current implementation of a hot function is kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Slots {
    /// A pointer-sized cell in linear memory (the registry's slots): `call f` → load, then
    /// `call_indirect`. What all-hot builds use.
    Memory,
    /// A table entry: `call f` → `i32.const K; call_indirect`. Measured only (the registry would
    /// need to write table entries).
    Table,
}

/// The rewritten module and what it did.
pub struct Rewritten {
    /// The new wasm.
    pub wasm: Vec<u8>,
    /// Hot names the module has no single function of (dropped by the linker, or shadowed).
    pub missing: Vec<String>,
    /// How many direct calls became indirect.
    pub call_sites: usize,
    /// How many of the app's globals were exported for patches.
    pub globals: usize,
}

/// What the rewrite reads from the module before writing it.
#[derive(Default)]
struct Shape {
    types: Vec<FuncType>,
    imported_funcs: u32,
    imported_globals: u32,
    defined_globals: u32,
    func_types: Vec<u32>,
    names: Vec<(u32, String)>,
    start: Option<u32>,
    table_min: u64,
    /// The imported memory is shared (a host built with `-pthread`): every thread instantiates
    /// the module on it.
    shared_memory: bool,
    element_segments: Option<u32>,
    exports: std::collections::HashSet<String>,
}

fn err(e: impl std::fmt::Display) -> String {
    e.to_string()
}

fn read_shape(wasm: &[u8]) -> Result<Shape, String> {
    let mut s = Shape::default();
    for payload in Parser::new(0).parse_all(wasm) {
        match payload.map_err(err)? {
            Payload::TypeSection(r) => {
                for t in r.into_iter_err_on_gc_types() {
                    s.types.push(t.map_err(err)?);
                }
            }
            Payload::ImportSection(r) => {
                for i in r {
                    match i.map_err(err)?.ty {
                        TypeRef::Func(t) => {
                            s.func_types.push(t);
                            s.imported_funcs += 1;
                        }
                        TypeRef::Global(_) => s.imported_globals += 1,
                        TypeRef::Table(t) => s.table_min = t.initial,
                        TypeRef::Memory(m) => s.shared_memory = m.shared,
                        _ => {}
                    }
                }
            }
            Payload::FunctionSection(r) => {
                for f in r {
                    s.func_types.push(f.map_err(err)?);
                }
            }
            Payload::GlobalSection(r) => s.defined_globals = r.count(),
            Payload::ExportSection(r) => {
                for e in r {
                    s.exports.insert(e.map_err(err)?.name.to_string());
                }
            }
            Payload::StartSection { func, .. } => s.start = Some(func),
            Payload::ElementSection(r) => s.element_segments = Some(r.count()),
            Payload::CustomSection(c) => {
                if let wasmparser::KnownCustom::Name(names) = c.as_known() {
                    for n in names {
                        if let wasmparser::Name::Function(map) = n.map_err(err)? {
                            for naming in map {
                                let naming = naming.map_err(err)?;
                                s.names.push((naming.index, naming.name.to_string()));
                            }
                        }
                    }
                }
            }
            _ => {}
        }
    }
    if s.names.is_empty() {
        return Err("the linked host has no name section (link with --profiling-funcs)".into());
    }
    Ok(s)
}

/// The plan of the rewrite: which function index has which slot.
struct Targets {
    /// Function index → (slot number, position among the moved bodies).
    hot: HashMap<u32, (u32, u32)>,
    /// Moved bodies in order: the original function index.
    order: Vec<u32>,
    missing: Vec<String>,
    accessor: u32,
}

fn targets(shape: &Shape, hot_names: &[&str]) -> Result<Targets, String> {
    let mut by_name: HashMap<&str, Vec<u32>> = HashMap::new();
    for (index, name) in &shape.names {
        by_name.entry(name.as_str()).or_default().push(*index);
    }
    let mut t = Targets {
        hot: HashMap::new(),
        order: Vec::new(),
        missing: Vec::new(),
        accessor: match by_name.get(SLOTS_ACCESSOR).map(Vec::as_slice) {
            Some([one]) => *one,
            _ => {
                return Err(format!(
                "the linked host has no `{SLOTS_ACCESSOR}` (the all-hot directory was not linked)"
            ))
            }
        },
    };
    for (slot, name) in hot_names.iter().enumerate() {
        match by_name.get(name).map(Vec::as_slice) {
            Some([one]) if *one >= shape.imported_funcs => {
                t.hot.insert(*one, (slot as u32, t.order.len() as u32));
                t.order.push(*one);
            }
            _ => t.missing.push(name.to_string()),
        }
    }
    Ok(t)
}

/// Rewrites `wasm` so that every function named in `hot_names` (slot `i` is `hot_names[i]`) is
/// called through its slot.
///
/// `globals` (name, offset from the memory base) are the app's data symbols: each one the module
/// does not export yet is exported, so patches can use it (a `static` or hidden global too).
pub fn rewrite(
    wasm: &[u8],
    hot_names: &[&str],
    globals: &[(String, u32)],
    slots: Slots,
) -> Result<Rewritten, String> {
    let shape = read_shape(wasm)?;
    let globals: Vec<(String, u32)> = globals
        .iter()
        .filter(|(n, _)| !shape.exports.contains(n))
        .cloned()
        .collect();
    let t = targets(&shape, hot_names)?;
    let total_funcs = shape.func_types.len() as u32;
    let slots_global = shape.imported_globals + shape.defined_globals;
    let void_type = shape
        .types
        .iter()
        .position(|f| f.params().is_empty() && f.results().is_empty())
        .map(|i| i as u32);
    let start_type = void_type.unwrap_or(shape.types.len() as u32);
    let w = Writer {
        shape: &shape,
        t: &t,
        slots,
        slots_global,
        globals: &globals,
        // Table slots start at a fixed index above the table's size at instantiation (the JS
        // side creates the table a little larger than the wasm declares), so call sites can
        // name them as constants.
        table_base: shape.table_min as i32 + TABLE_SLACK,
    };
    let mut bodies: Vec<Vec<u8>> = Vec::new();
    let mut moved: HashMap<u32, Vec<u8>> = HashMap::new();
    let mut call_sites = 0;
    for payload in Parser::new(0).parse_all(wasm) {
        if let Payload::CodeSectionEntry(body) = payload.map_err(err)? {
            let index = shape.imported_funcs + bodies.len() as u32;
            let (bytes, sites) = w.rewrite_body(wasm, &body)?;
            call_sites += sites;
            if t.hot.contains_key(&index) {
                moved.insert(index, bytes);
                bodies.push(w.trampoline(index));
            } else {
                bodies.push(bytes);
            }
        }
    }
    if shape.element_segments.is_none() {
        return Err("the linked host has no element section".into());
    }
    let wasm = assemble(
        wasm,
        &w,
        &bodies,
        &moved,
        start_type,
        void_type.is_none(),
        total_funcs,
    )?;
    Ok(Rewritten {
        wasm,
        missing: t.missing.clone(),
        call_sites,
        globals: globals.len(),
    })
}

fn is_name_section(raw: &[u8]) -> bool {
    let mut r = BinaryReader::new(raw, 0);
    r.read_string().is_ok_and(|n| n == "name")
}

/// Writes the module again in section order with the collected code.
fn assemble(
    wasm: &[u8],
    w: &Writer,
    bodies: &[Vec<u8>],
    moved: &HashMap<u32, Vec<u8>>,
    start_type: u32,
    add_void_type: bool,
    total_funcs: u32,
) -> Result<Vec<u8>, String> {
    let mut out = Module::new();
    let mut start_written = false;
    for payload in Parser::new(0).parse_all(wasm) {
        let payload = payload.map_err(err)?;
        let Some((id, range)) = payload.as_section() else {
            continue;
        };
        let raw = &wasm[range.clone()];
        let reader = || BinaryReader::new(raw, range.start);
        let start = StartSection {
            function_index: total_funcs + w.t.order.len() as u32,
        };
        if !start_written && matches!(id, 9..=12) {
            out.section(&start);
            start_written = true;
        }
        match id {
            1 => {
                let mut types = TypeSection::new();
                RoundtripReencoder
                    .parse_type_section(
                        &mut types,
                        wasmparser::TypeSectionReader::new(reader()).map_err(err)?,
                    )
                    .map_err(err)?;
                if add_void_type {
                    types.ty().function([], []);
                }
                out.section(&types);
            }
            3 => {
                let mut funcs = FunctionSection::new();
                RoundtripReencoder
                    .parse_function_section(
                        &mut funcs,
                        wasmparser::FunctionSectionReader::new(reader()).map_err(err)?,
                    )
                    .map_err(err)?;
                for f in &w.t.order {
                    funcs.function(w.shape.func_types[*f as usize]);
                }
                funcs.function(start_type);
                out.section(&funcs);
            }
            6 => {
                let mut globals = GlobalSection::new();
                RoundtripReencoder
                    .parse_global_section(
                        &mut globals,
                        wasmparser::GlobalSectionReader::new(reader()).map_err(err)?,
                    )
                    .map_err(err)?;
                globals.global(
                    GlobalType {
                        val_type: ValType::I32,
                        mutable: true,
                        shared: false,
                    },
                    &ConstExpr::i32_const(0),
                );
                for (_, offset) in w.globals {
                    globals.global(
                        GlobalType {
                            val_type: ValType::I32,
                            mutable: false,
                            shared: false,
                        },
                        &ConstExpr::i32_const(*offset as i32),
                    );
                }
                out.section(&globals);
            }
            7 => {
                let mut exports = wasm_encoder::ExportSection::new();
                RoundtripReencoder
                    .parse_export_section(
                        &mut exports,
                        wasmparser::ExportSectionReader::new(reader()).map_err(err)?,
                    )
                    .map_err(err)?;
                for (k, (name, _)) in w.globals.iter().enumerate() {
                    exports.export(
                        name,
                        wasm_encoder::ExportKind::Global,
                        w.slots_global + 1 + k as u32,
                    );
                }
                out.section(&exports);
            }
            8 => {}
            9 => {
                let mut elements = ElementSection::new();
                RoundtripReencoder
                    .parse_element_section(
                        &mut elements,
                        wasmparser::ElementSectionReader::new(reader()).map_err(err)?,
                    )
                    .map_err(err)?;
                let moved_indices = w.moved_indices(total_funcs);
                elements.passive(Elements::Functions(std::borrow::Cow::Owned(moved_indices)));
                out.section(&elements);
            }
            10 => {
                let mut code = CodeSection::new();
                for b in bodies {
                    code.raw(b);
                }
                for f in &w.t.order {
                    code.raw(&moved[f]);
                }
                code.function(&w.start_function(w.shape.start));
                out.section(&code);
            }
            0 if is_name_section(raw) => {
                out.section(&w.names(raw, range.start, total_funcs)?);
            }
            _ => {
                out.section(&RawSection { id, data: raw });
            }
        }
    }
    Ok(out.finish())
}

struct Writer<'a> {
    shape: &'a Shape,
    globals: &'a [(String, u32)],
    t: &'a Targets,
    slots: Slots,
    slots_global: u32,
    table_base: i32,
}

impl Writer<'_> {
    fn moved_indices(&self, total_funcs: u32) -> Vec<u32> {
        (0..self.t.order.len() as u32)
            .map(|k| total_funcs + k)
            .collect()
    }

    /// The instructions that push the table index of hot function `index`'s current version.
    fn push_target(&self, index: u32, sink: &mut Vec<u8>) {
        let (slot, k) = self.t.hot[&index];
        match self.slots {
            Slots::Memory => {
                Instruction::GlobalGet(self.slots_global).encode(sink);
                Instruction::I32Load(MemArg {
                    offset: u64::from(slot) * 4,
                    align: 2,
                    memory_index: 0,
                })
                .encode(sink);
            }
            Slots::Table => Instruction::I32Const(self.table_base + k as i32).encode(sink),
        }
        Instruction::CallIndirect {
            type_index: self.shape.func_types[index as usize],
            table_index: 0,
        }
        .encode(sink);
    }

    /// `body` with every direct call of a hot function made indirect; how many were.
    fn rewrite_body(
        &self,
        wasm: &[u8],
        body: &wasmparser::FunctionBody,
    ) -> Result<(Vec<u8>, usize), String> {
        let range = body.range();
        let mut ops = body.get_operators_reader().map_err(err)?;
        let mut out = Vec::with_capacity(range.len() + 16);
        let mut copied = range.start;
        let mut sites = 0;
        while !ops.eof() {
            let at = ops.original_position();
            let op = ops.read().map_err(err)?;
            if let Operator::Call { function_index } = op {
                if self.t.hot.contains_key(&function_index) {
                    out.extend_from_slice(&wasm[copied..at]);
                    self.push_target(function_index, &mut out);
                    copied = ops.original_position();
                    sites += 1;
                }
            }
        }
        out.extend_from_slice(&wasm[copied..range.end]);
        Ok((out, sites))
    }

    /// The body of hot function `index` once its code moved: pass the arguments on through
    /// the slot.
    fn trampoline(&self, index: u32) -> Vec<u8> {
        let ty = &self.shape.types[self.shape.func_types[index as usize] as usize];
        let mut f = Function::new([]);
        for p in 0..ty.params().len() as u32 {
            f.instruction(&Instruction::LocalGet(p));
        }
        let mut target = Vec::new();
        self.push_target(index, &mut target);
        f.raw(target);
        f.instruction(&Instruction::End);
        let mut bytes = Vec::new();
        f.encode(&mut bytes);
        // `Function::encode` writes the size first; `CodeSection::raw` adds it again.
        let mut r = BinaryReader::new(&bytes, 0);
        let size = r.read_var_u32().unwrap_or(0) as usize;
        bytes[bytes.len() - size..].to_vec()
    }

    /// The start function: the earlier start function first, then the moved bodies copied to
    /// the table's end, the slots' address fetched and each slot written.
    fn start_function(&self, earlier: Option<u32>) -> Function {
        let n = self.t.order.len() as i32;
        let mut f = Function::new([(1, ValType::I32)]);
        if let Some(s) = earlier {
            f.instruction(&Instruction::Call(s));
        }
        let base = 0;
        if self.slots == Slots::Table {
            // Pad the table up to the fixed base the call sites assume (trap if it is past it).
            for i in [
                Instruction::TableSize(0),
                Instruction::I32Const(self.table_base),
                Instruction::I32GtU,
                Instruction::If(wasm_encoder::BlockType::Empty),
                Instruction::Unreachable,
                Instruction::End,
                Instruction::RefNull(wasm_encoder::HeapType::Abstract {
                    shared: false,
                    ty: wasm_encoder::AbstractHeapType::Func,
                }),
                Instruction::I32Const(self.table_base),
                Instruction::TableSize(0),
                Instruction::I32Sub,
                Instruction::TableGrow(0),
                Instruction::Drop,
            ] {
                f.instruction(&i);
            }
        }
        for i in [
            Instruction::RefNull(wasm_encoder::HeapType::Abstract {
                shared: false,
                ty: wasm_encoder::AbstractHeapType::Func,
            }),
            Instruction::I32Const(n),
            Instruction::TableGrow(0),
            Instruction::LocalTee(base),
            Instruction::I32Const(-1),
            Instruction::I32Eq,
            Instruction::If(wasm_encoder::BlockType::Empty),
            Instruction::Unreachable,
            Instruction::End,
        ] {
            f.instruction(&i);
        }
        if self.slots == Slots::Table {
            // The constant indices assume the table had exactly its declared size.
            for i in [
                Instruction::LocalGet(base),
                Instruction::I32Const(self.table_base),
                Instruction::I32Ne,
                Instruction::If(wasm_encoder::BlockType::Empty),
                Instruction::Unreachable,
                Instruction::End,
            ] {
                f.instruction(&i);
            }
        }
        let segment = self.element_segment_index();
        for i in [
            Instruction::LocalGet(base),
            Instruction::I32Const(0),
            Instruction::I32Const(n),
            Instruction::TableInit {
                elem_index: segment,
                table: 0,
            },
            Instruction::ElemDrop(segment),
            Instruction::Call(self.t.accessor),
            Instruction::GlobalSet(self.slots_global),
        ] {
            f.instruction(&i);
        }
        for (k, index) in self.t.order.iter().enumerate() {
            let (slot, _) = self.t.hot[index];
            self.write_slot(&mut f, slot, base, k as i32);
        }
        f.instruction(&Instruction::End);
        f
    }

    /// Writes slot `slot` with the table index `base + k` of its moved body.
    ///
    /// In a host with shared memory (threads) every thread instantiates the module and runs the
    /// start function, each with a table of its own grown the same way (so `base + k` is the same
    /// index on every thread), but the slots are shared: only a slot that is still 0 is written
    /// (`i32.atomic.rmw.cmpxchg 0 → base + k`). The first instance (the main thread's, before any
    /// worker exists) fills them; a worker that starts later — after a patch, or after a rollback
    /// — finds them set and keeps what the registry put there. Unshared memory is new at
    /// instantiation, so its slots are 0 and a plain store does.
    fn write_slot(&self, f: &mut Function, slot: u32, base: u32, k: i32) {
        let memarg = MemArg {
            offset: u64::from(slot) * 4,
            align: 2,
            memory_index: 0,
        };
        f.instruction(&Instruction::GlobalGet(self.slots_global));
        if self.shape.shared_memory {
            f.instruction(&Instruction::I32Const(0));
        }
        for i in [
            Instruction::LocalGet(base),
            Instruction::I32Const(k),
            Instruction::I32Add,
        ] {
            f.instruction(&i);
        }
        if self.shape.shared_memory {
            f.instruction(&Instruction::I32AtomicRmwCmpxchg(memarg));
            f.instruction(&Instruction::Drop);
        } else {
            f.instruction(&Instruction::I32Store(memarg));
        }
    }

    /// The new passive segment comes after the module's own.
    fn element_segment_index(&self) -> u32 {
        self.shape.element_segments.unwrap_or(0)
    }

    /// The name section with the moved bodies named after their functions and the trampolines
    /// renamed `<name>$hot`; other subsections copied.
    fn names(&self, raw: &[u8], offset: usize, total_funcs: u32) -> Result<NameSection, String> {
        let mut r = BinaryReader::new(raw, offset);
        r.read_string().map_err(err)?;
        let mut section = NameSection::new();
        let old: HashMap<u32, &str> = self
            .shape
            .names
            .iter()
            .map(|(i, n)| (*i, n.as_str()))
            .collect();
        while !r.eof() {
            let id = r.read_u8().map_err(err)?;
            let size = r.read_var_u32().map_err(err)? as usize;
            let data = r.read_bytes(size).map_err(err)?;
            if id != 1 {
                section.raw(id, data);
                continue;
            }
            let mut map = NameMap::new();
            let mut all: Vec<(u32, String)> = self
                .shape
                .names
                .iter()
                .map(|(i, n)| {
                    let name = if self.t.hot.contains_key(i) {
                        format!("{n}$hot")
                    } else {
                        n.clone()
                    };
                    (*i, name)
                })
                .collect();
            for (k, f) in self.t.order.iter().enumerate() {
                all.push((total_funcs + k as u32, old[f].to_string()));
            }
            all.push((
                total_funcs + self.t.order.len() as u32,
                "hotwasm$allhot_start".into(),
            ));
            all.sort_by_key(|(i, _)| *i);
            for (i, n) in &all {
                map.append(*i, n);
            }
            section.functions(&map);
        }
        Ok(section)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use wasm_encoder::{
        EntityType, ImportSection, MemoryType, NameSection, TableType, TypeSection,
    };

    /// A linked host in miniature: `f` (hot), `g` calling `f`, the directory's accessor, an
    /// imported table and memory, one element segment and a name section.
    fn host() -> Vec<u8> {
        host_with(false)
    }

    /// [`host`], its memory shared (a host built with `-pthread`) when `shared`.
    fn host_with(shared: bool) -> Vec<u8> {
        let mut m = Module::new();
        let mut types = TypeSection::new();
        types.ty().function([ValType::I32], [ValType::I32]); // 0: f, g
        types.ty().function([], [ValType::I32]); // 1: accessor
        m.section(&types);
        let mut imports = ImportSection::new();
        imports.import(
            "env",
            "memory",
            EntityType::Memory(MemoryType {
                minimum: 1,
                maximum: shared.then_some(16),
                memory64: false,
                shared,
                page_size_log2: None,
            }),
        );
        imports.import(
            "env",
            "__indirect_function_table",
            EntityType::Table(TableType {
                element_type: wasm_encoder::RefType::FUNCREF,
                minimum: 3,
                maximum: None,
                table64: false,
                shared: false,
            }),
        );
        m.section(&imports);
        let mut funcs = FunctionSection::new();
        funcs.function(0).function(0).function(1);
        m.section(&funcs);
        let mut globals = GlobalSection::new();
        globals.global(
            GlobalType {
                val_type: ValType::I32,
                mutable: true,
                shared: false,
            },
            &ConstExpr::i32_const(0),
        );
        m.section(&globals);
        let mut elements = ElementSection::new();
        elements.active(
            None,
            &ConstExpr::i32_const(1),
            Elements::Functions(std::borrow::Cow::Borrowed(&[1])),
        );
        m.section(&elements);
        let mut code = CodeSection::new();
        let mut f = Function::new([]);
        f.instruction(&Instruction::LocalGet(0))
            .instruction(&Instruction::I32Const(1))
            .instruction(&Instruction::I32Add)
            .instruction(&Instruction::End);
        code.function(&f);
        let mut g = Function::new([]);
        g.instruction(&Instruction::LocalGet(0))
            .instruction(&Instruction::Call(0))
            .instruction(&Instruction::End);
        code.function(&g);
        let mut a = Function::new([]);
        a.instruction(&Instruction::I32Const(64))
            .instruction(&Instruction::End);
        code.function(&a);
        m.section(&code);
        let mut names = NameSection::new();
        let mut map = NameMap::new();
        map.append(0, "f");
        map.append(1, "g");
        map.append(2, SLOTS_ACCESSOR);
        names.functions(&map);
        m.section(&names);
        m.finish()
    }

    fn ops_of(wasm: &[u8], index: usize) -> Vec<String> {
        let body = Parser::new(0)
            .parse_all(wasm)
            .filter_map(|p| match p.unwrap() {
                Payload::CodeSectionEntry(b) => Some(b),
                _ => None,
            })
            .nth(index)
            .unwrap();
        let mut r = body.get_operators_reader().unwrap();
        let mut out = Vec::new();
        while !r.eof() {
            out.push(format!("{:?}", r.read().unwrap()));
        }
        out
    }

    #[test]
    fn direct_calls_go_through_the_slot_and_the_function_becomes_a_trampoline() {
        let out = rewrite(&host(), &["f", "gone"], &[], Slots::Memory).unwrap();
        wasmparser::Validator::new()
            .validate_all(&out.wasm)
            .expect("valid wasm");
        assert_eq!(out.missing, vec!["gone".to_string()]);
        assert_eq!(out.call_sites, 1);
        let g = ops_of(&out.wasm, 1).join(" ");
        assert!(!g.contains("Call { function_index: 0 }"), "{g}");
        assert!(g.contains("I32Load") && g.contains("CallIndirect"), "{g}");
        let f = ops_of(&out.wasm, 0).join(" ");
        assert!(
            f.contains("CallIndirect") && !f.contains("I32Add"),
            "f is a trampoline: {f}"
        );
        let moved = ops_of(&out.wasm, 3).join(" ");
        assert!(
            moved.contains("I32Add"),
            "f's body moved to the end: {moved}"
        );
        let start = ops_of(&out.wasm, 4).join(" ");
        assert!(
            start.contains("TableGrow")
                && start.contains("TableInit")
                && start.contains("I32Store"),
            "{start}"
        );
        let has_start = Parser::new(0)
            .parse_all(&out.wasm)
            .any(|p| matches!(p, Ok(Payload::StartSection { func: 4, .. })));
        assert!(has_start, "the new start function runs at instantiation");
    }

    #[test]
    fn with_shared_memory_the_start_function_writes_only_slots_still_zero() {
        let out = rewrite(&host_with(true), &["f"], &[], Slots::Memory).unwrap();
        wasmparser::Validator::new()
            .validate_all(&out.wasm)
            .expect("valid wasm");
        let start = ops_of(&out.wasm, 4).join(" ");
        assert!(
            start.contains("I32AtomicRmwCmpxchg") && !start.contains("I32Store"),
            "each thread's instance writes a slot only while it is 0: {start}"
        );
        assert!(start.contains("TableGrow") && start.contains("TableInit"));
        let unshared = ops_of(
            &rewrite(&host(), &["f"], &[], Slots::Memory).unwrap().wasm,
            4,
        );
        assert!(!unshared.join(" ").contains("Atomic"), "{unshared:?}");
    }

    #[test]
    fn table_slots_call_a_constant_table_entry_with_no_load() {
        let out = rewrite(&host(), &["f"], &[], Slots::Table).unwrap();
        wasmparser::Validator::new()
            .validate_all(&out.wasm)
            .expect("valid wasm");
        let g = ops_of(&out.wasm, 1).join(" ");
        // The first entry: the declared table size (3) plus the slack.
        let first = format!("I32Const {{ value: {} }}", 3 + TABLE_SLACK);
        assert!(g.contains(&first) && !g.contains("I32Load"), "{g}");
    }

    #[test]
    fn a_host_without_the_directory_is_refused_by_name() {
        let mut m = Module::new();
        let mut names = NameSection::new();
        let mut map = NameMap::new();
        map.append(0, "f");
        names.functions(&map);
        m.section(&names);
        let e = rewrite(&m.finish(), &["f"], &[], Slots::Memory)
            .err()
            .unwrap();
        assert!(e.contains(SLOTS_ACCESSOR), "{e}");
    }
}
