//! The small objects that late binding links into a patch, as wasm assembly, and their cache:
//! each is assembled with llvm-mc once per (var, signature) or (global, size, initializer) and
//! kept for the server's life, so re-evaluating the same functions adds only their link.
//! See [`super::latebind`] for how they are used.

use super::latebind::{
    init_key, init_key_symbol, GlobalDef, Plan, VarUse, GLOBALS_SECTION, VARS_SECTION,
};
use super::{process, CompileError, InProcessLinker};
use hotwasm_abi::{HostManifest, Signature, ValType};
use std::path::{Path, PathBuf};
use std::process::Command;

/// Host vars whose trampolines [`Cache::prepare`] assembles ahead of the first eval.
pub const PREPARED_HOST_VARS: usize = 64;
/// Constructor priority of the slot fetches (before globals and the user's constructors).
const BIND_PRIORITY: u32 = 50;
/// Constructor priority of initializer copies.
const GLOBALS_PRIORITY: u32 = 60;

/// Assembles (or finds in the cache) the trampoline and globals objects of `plan`.
#[derive(Debug)]
pub struct Cache {
    dir: tempfile::TempDir,
    assembler: PathBuf,
}

impl Cache {
    /// A cache in a fresh temp dir, assembling with the llvm-mc beside `clang` (the learnt
    /// compiler), else `llvm-mc-19` or `llvm-mc` on PATH.
    pub fn new(clang: &Path) -> Result<Cache, CompileError> {
        let beside = clang.with_file_name("llvm-mc");
        let assembler = if beside.is_file() {
            beside
        } else {
            crate::toolchain::find(&["llvm-mc-19", "llvm-mc"]).ok_or_else(|| {
                CompileError::Learn(format!(
                    "no llvm-mc beside {} or on PATH: install llvm-19 (bash scripts/setup.sh)",
                    clang.display()
                ))
            })?
        };
        let dir = tempfile::Builder::new()
            .prefix("hotwasm-trampolines")
            .tempdir()
            .map_err(CompileError::Io)?;
        Ok(Cache { dir, assembler })
    }

    /// The cache's directory (other per-server build products live beside the trampolines).
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// The objects to link with the patch. Cached objects are reused; when several are missing,
    /// one llvm-mc run assembles them all into one object for this patch (one process instead of
    /// one per object; later patches assemble their own single objects as needed).
    /// With `threads` (a host whose memory is shared) each trampoline keeps its slot's address in
    /// linear memory ([`trampoline`]).
    /// With `in_process` (an incremental session's LLVM), what is missing is assembled there
    /// rather than by an assembler process (the same object, one process start less).
    pub fn objects(
        &self,
        plan: &Plan,
        threads: bool,
        limits: process::Limits,
        in_process: Option<&mut (dyn InProcessLinker + '_)>,
    ) -> Result<Vec<PathBuf>, CompileError> {
        let wanted = self.wanted(plan, threads);
        let (cached, missing): (Vec<_>, Vec<_>) = wanted.into_iter().partition(|w| w.0.is_file());
        let mut objects: Vec<PathBuf> = cached.into_iter().map(|w| w.0).collect();
        match missing.len() {
            0 => {}
            1 => {
                let (path, piece) = &missing[0];
                let asm = object_asm(std::slice::from_ref(piece));
                self.assemble(path, &asm, threads, limits, in_process)?;
                objects.push(path.clone());
            }
            _ => {
                let pieces: Vec<Piece> = missing.into_iter().map(|w| w.1).collect();
                let asm = object_asm(&pieces);
                let path = self.dir.path().join(format!(
                    "batch-{:016x}.o",
                    hotwasm_abi::fnv1a(asm.as_bytes())
                ));
                if !path.is_file() {
                    self.assemble(&path, &asm, threads, limits, in_process)?;
                }
                objects.push(path);
            }
        }
        Ok(objects)
    }

    /// Every object `plan` needs, with the piece of assembly it is made of.
    fn wanted(&self, plan: &Plan, threads: bool) -> Vec<(PathBuf, Piece)> {
        let mut wanted = Vec::new();
        let mt = if threads { "mt-" } else { "" };
        for (i, v) in plan.vars().enumerate() {
            let file = format!("t-{mt}{}-{}.o", file_safe(&v.name), v.signature);
            let piece = trampoline(v, &format!("_t{i}"), threads);
            wanted.push((self.dir.path().join(file), piece));
        }
        for (i, g) in plan.globals.iter().enumerate() {
            let key = init_key(g);
            let file = format!("g-{mt}{}-{}-{key:016x}.o", file_safe(&g.name), g.size);
            wanted.push((self.dir.path().join(file), global(g, &format!("_g{i}"))));
        }
        wanted
    }

    /// Assembles the trampolines of `host`'s vars ahead of the first eval (at most
    /// [`PREPARED_HOST_VARS`]: a large host's first evals assemble their own).
    pub fn prepare(
        &self,
        host: &HostManifest,
        limits: process::Limits,
    ) -> Result<(), CompileError> {
        if host.vars.len() > PREPARED_HOST_VARS {
            return Ok(());
        }
        let plan = Plan {
            defines: host
                .vars
                .iter()
                .map(|v| VarUse {
                    name: v.name.clone(),
                    signature: v.signature.clone(),
                })
                .collect(),
            ..Plan::default()
        };
        let jobs: Vec<(PathBuf, String)> = self
            .wanted(&plan, host.threads)
            .into_iter()
            .filter(|w| !w.0.is_file())
            .map(|(path, piece)| (path, object_asm(&[piece])))
            .collect();
        self.assemble_all(&jobs.iter().collect::<Vec<_>>(), host.threads, limits)
    }

    /// Assembles `jobs` (object path, assembly), as many at a time as there are cores.
    fn assemble_all(
        &self,
        jobs: &[&(PathBuf, String)],
        threads: bool,
        limits: process::Limits,
    ) -> Result<(), CompileError> {
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
        for chunk in jobs.chunks(cores) {
            std::thread::scope(|s| {
                let handles: Vec<_> = chunk
                    .iter()
                    .map(|(path, asm)| s.spawn(|| self.assemble(path, asm, threads, limits, None)))
                    .collect();
                handles.into_iter().try_for_each(|h| {
                    h.join().unwrap_or_else(|_| {
                        Err(CompileError::Link {
                            stderr: "the assembler thread panicked".into(),
                        })
                    })
                })
            })?;
        }
        Ok(())
    }

    fn assemble(
        &self,
        path: &Path,
        asm: &str,
        threads: bool,
        limits: process::Limits,
        in_process: Option<&mut (dyn InProcessLinker + '_)>,
    ) -> Result<(), CompileError> {
        // Two compiles may assemble the same object at once: each writes its own files and the
        // rename makes one of them the cached object.
        let tmp = crate::files::temp_beside(path).map_err(CompileError::Io)?;
        let src = tempfile::Builder::new()
            .suffix(".s")
            .tempfile_in(tmp.path().parent().unwrap_or(Path::new(".")))
            .map_err(CompileError::Io)?;
        std::fs::write(src.path(), asm).map_err(CompileError::Io)?;
        let mut cmd = Command::new(&self.assembler);
        // A shared-memory link takes only objects built with atomics and bulk memory.
        let features = if threads {
            "-mattr=+mutable-globals,+sign-ext,+reference-types,+multivalue,+atomics,+bulk-memory"
        } else {
            "-mattr=+mutable-globals,+sign-ext,+reference-types,+multivalue"
        };
        cmd.args([
            "-triple=wasm32-unknown-emscripten",
            "-filetype=obj",
            features,
        ])
        .arg(src.path())
        .arg("-o")
        .arg(tmp.path());
        let program = self.assembler.display().to_string();
        if let Some(assembler) = in_process {
            let argv: Vec<String> = std::iter::once(cmd.get_program())
                .chain(cmd.get_args())
                .map(|a| a.to_string_lossy().into_owned())
                .collect();
            match assembler.assemble(&argv) {
                Ok((true, _)) => {
                    return tmp
                        .persist(path)
                        .map(|_| ())
                        .map_err(|e| CompileError::Io(e.error))
                }
                Ok((false, printed)) => {
                    return Err(CompileError::Link {
                        stderr: format!(
                            "assembling the trampolines failed (a hotwasm bug):\n{printed}"
                        ),
                    })
                }
                Err(_) => {} // the process below
            }
        }
        let finished = process::run(cmd, limits).map_err(|e| match e {
            process::RunError::TimedOut => CompileError::TimedOut(limits.timeout),
            process::RunError::Spawn(error) => CompileError::Spawn {
                program: format!("the assembler ({program})"),
                error,
            },
        })?;
        if !finished.status.success() {
            return Err(CompileError::Link {
                stderr: format!(
                    "assembling the trampolines failed (a hotwasm bug):\n{}",
                    finished.stderr
                ),
            });
        }
        tmp.persist(path)
            .map(|_| ())
            .map_err(|e| CompileError::Io(e.error))
    }
}

fn file_safe(name: &str) -> String {
    if name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
        name.to_string()
    } else {
        name.bytes().map(|b| format!("{b:02x}")).collect()
    }
}

fn wasm_type(t: ValType) -> &'static str {
    match t.in_wasm32() {
        ValType::I64 => "i64",
        ValType::F32 => "f32",
        ValType::F64 => "f64",
        _ => "i32",
    }
}

fn functype(sig: &Signature) -> String {
    let params: Vec<&str> = sig.params.iter().map(|t| wasm_type(*t)).collect();
    let ret = sig.ret.map(wasm_type).unwrap_or("");
    format!("({}) -> ({ret})", params.join(", "))
}

/// Quotes `text` for an `.ascii`/`.asciz` directive.
fn quoted(text: &str) -> String {
    let mut q = String::from("\"");
    for b in text.bytes() {
        match b {
            b'"' | b'\\' => {
                q.push('\\');
                q.push(b as char);
            }
            0x20..=0x7e => q.push(b as char),
            _ => q.push_str(&format!("\\{b:03o}")),
        }
    }
    q.push('"');
    q
}

/// A symbol name as the assembler accepts it.
fn symbol(name: &str) -> String {
    if name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
        name.to_string()
    } else {
        quoted(name)
    }
}

/// Declarations every object's assembly starts with (each at most once per file).
const HEADER: &str = "\t.tabletype\t__indirect_function_table, funcref
\t.globaltype\t__memory_base, i32, immutable
\t.functype\thotwasm_slot (i32, i32) -> (i32)
";

/// One piece of assembly: file-scope declarations (before any section) and the sections.
/// `sfx` makes its local names unique when several pieces share one file.
struct Piece {
    decls: String,
    body: String,
}

/// Assembly of one object holding `pieces`.
fn object_asm(pieces: &[Piece]) -> String {
    let mut asm = String::from(HEADER);
    for p in pieces {
        asm.push_str(&p.decls);
    }
    for p in pieces {
        asm.push_str(&p.body);
    }
    asm.push_str("\t.no_dead_strip\t__indirect_function_table\n");
    asm
}

/// The trampoline object of one var: `__wrap_<name>`, its slot, and the constructor that fetches
/// the slot with `hotwasm_slot` (for a host without threads).
pub fn trampoline_asm(v: &VarUse) -> String {
    object_asm(&[trampoline(v, "", false)])
}

/// Where a trampoline keeps its slot's address, as assembly: the declarations, the code that
/// pushes the address, the code before and after the value to store, and the data it needs.
struct Cell {
    decls: String,
    load: String,
    store_before: String,
    store_after: String,
    data: String,
}

/// Without threads, a wasm global (one load per call). With threads, a word of linear memory:
/// a wasm global belongs to one instance, each thread instantiates the patch, and only the main
/// thread runs its constructors (Emscripten's `library_dylink.js`), so a worker's copy of the
/// global would stay 0 and its late-bound calls would read address 0; memory is shared, so the
/// main thread's store reaches every worker.
fn cell(sfx: &str, threads: bool) -> Cell {
    if !threads {
        return Cell {
            decls: format!("\t.globaltype\t__hotwasm_slot{sfx}, i32\n__hotwasm_slot{sfx}:\n"),
            load: format!("\tglobal.get\t__hotwasm_slot{sfx}\n"),
            store_before: String::new(),
            store_after: format!("\tglobal.set\t__hotwasm_slot{sfx}\n"),
            data: String::new(),
        };
    }
    let address =
        format!("\tglobal.get\t__memory_base\n\ti32.const\t.Lcell{sfx}@MBREL\n\ti32.add\n");
    Cell {
        decls: String::new(),
        load: format!("{address}\ti32.load\t0\n"),
        store_before: address,
        store_after: "\ti32.store\t0\n".to_string(),
        data: format!(
            "\t.section\t.bss.__hotwasm_cell{sfx},\"\",@\n\t.p2align\t2, 0x0\n.Lcell{sfx}:\n\t.skip\t4\n\t.size\t.Lcell{sfx}, 4\n"
        ),
    }
}

fn trampoline(v: &VarUse, sfx: &str, threads: bool) -> Piece {
    let wrap = symbol(&format!("__wrap_{}", v.name));
    let ty = functype(&v.signature);
    let args: String = (0..v.signature.params.len())
        .map(|i| format!("\tlocal.get\t{i}\n"))
        .collect();
    let Cell {
        decls,
        load,
        store_before,
        store_after,
        data,
    } = cell(sfx, threads);
    let body = format!(
        "\t.section\t.text.__wrap,\"\",@
\t.hidden\t{wrap}
\t.globl\t{wrap}
\t.type\t{wrap},@function
{wrap}:
\t.functype\t{wrap} {ty}
{args}{load}\ti32.load\t0
\tcall_indirect\t__indirect_function_table, {ty}
\tend_function
\t.section\t.text.__hotwasm_bind,\"\",@
\t.type\t__hotwasm_bind{sfx},@function
__hotwasm_bind{sfx}:
\t.functype\t__hotwasm_bind{sfx} () -> ()
{store_before}\tglobal.get\t__memory_base
\ti32.const\t.Lname{sfx}@MBREL
\ti32.add
\tglobal.get\t__memory_base
\ti32.const\t.Lsig{sfx}@MBREL
\ti32.add
\tcall\thotwasm_slot
{store_after}\tend_function
\t.section\t.rodata.__hotwasm_name,\"S\",@
.Lname{sfx}:
\t.asciz\t{name}
\t.size\t.Lname{sfx}, {name_len}
\t.section\t.rodata.__hotwasm_sig,\"S\",@
.Lsig{sfx}:
\t.asciz\t\"{sig}\"
\t.size\t.Lsig{sfx}, {sig_len}
\t.section\t.init_array.{BIND_PRIORITY},\"\",@
\t.p2align\t2, 0x0
\t.int32\t__hotwasm_bind{sfx}
{data}\t.section\t.custom_section.{VARS_SECTION},\"\",@
\t.ascii\t{line}
",
        name = quoted(&v.name),
        name_len = v.name.len() + 1,
        sig = v.signature,
        sig_len = v.signature.to_string().len() + 1,
        line = quoted(&format!("{} {}\n", v.name, v.signature)),
    );
    Piece { decls, body }
}

/// The globals object of one defined global: its init key (shared through the GOT like the
/// global) and a constructor that copies this patch's initial value into the shared storage when
/// the key differs, then sets the key.
pub fn global_asm(g: &GlobalDef) -> String {
    object_asm(&[global(g, "")])
}

fn global(g: &GlobalDef, sfx: &str) -> Piece {
    let name = symbol(&g.name);
    let key_sym = symbol(&init_key_symbol(&g.name));
    let key = init_key(g) as i64;
    let decls = format!("\t.functype\t__hotwasm_copy{sfx} (i32, i32, i32) -> ()\n");
    let body = format!(
        "\t.section\t.text.__hotwasm_reinit,\"\",@
\t.type\t__hotwasm_reinit{sfx},@function
__hotwasm_reinit{sfx}:
\t.functype\t__hotwasm_reinit{sfx} () -> ()
\tglobal.get\t{key_sym}@GOT
\ti64.load\t0
\ti64.const\t{key}
\ti64.ne
\tif
\tglobal.get\t{name}@GOT
\tglobal.get\t__memory_base
\ti32.const\t{name}@MBREL
\ti32.add
\ti32.const\t{size}
\tcall\t__hotwasm_copy{sfx}
\tglobal.get\t{key_sym}@GOT
\ti64.const\t{key}
\ti64.store\t0
\tend_if
\tend_function
\t.section\t.text.__hotwasm_copy,\"\",@
\t.type\t__hotwasm_copy{sfx},@function
__hotwasm_copy{sfx}:
\t.functype\t__hotwasm_copy{sfx} (i32, i32, i32) -> ()
\tblock
\tloop
\tlocal.get\t2
\ti32.eqz
\tbr_if\t1
\tlocal.get\t0
\tlocal.get\t1
\ti32.load8_u\t0
\ti32.store8\t0
\tlocal.get\t0
\ti32.const\t1
\ti32.add
\tlocal.set\t0
\tlocal.get\t1
\ti32.const\t1
\ti32.add
\tlocal.set\t1
\tlocal.get\t2
\ti32.const\t-1
\ti32.add
\tlocal.set\t2
\tbr\t0
\tend_loop
\tend_block
\tend_function
\t.section\t.data.__hotwasm_initkey,\"\",@
\t.globl\t{key_sym}
\t.p2align\t3, 0x0
{key_sym}:
\t.int64\t{key}
\t.size\t{key_sym}, 8
\t.section\t.init_array.{GLOBALS_PRIORITY},\"\",@
\t.p2align\t2, 0x0
\t.int32\t__hotwasm_reinit{sfx}
\t.section\t.custom_section.{GLOBALS_SECTION},\"\",@
\t.ascii\t{line}
",
        size = g.size,
        line = quoted(&format!("{} {} {}\n", g.name, g.size, g.ty)),
    );
    Piece { decls, body }
}
