//! The small objects that late binding links into a patch, as wasm assembly, and their cache:
//! each is assembled with llvm-mc once per (var, signature) or (global, size, initializer) and
//! kept for the server's life, so re-evaluating the same functions adds only their link.
//! See [`super::latebind`] for how they are used.

use super::latebind::{
    init_key, init_key_symbol, GlobalDef, Plan, VarUse, GLOBALS_SECTION, VARS_SECTION,
};
use super::{process, CompileError};
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
            which::which("llvm-mc-19")
                .or_else(|_| which::which("llvm-mc"))
                .map_err(|_| {
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

    /// The objects to link with the patch, assembling the missing ones (in parallel).
    pub fn objects(
        &self,
        plan: &Plan,
        limits: process::Limits,
    ) -> Result<Vec<PathBuf>, CompileError> {
        let mut wanted: Vec<(PathBuf, String)> = Vec::new();
        for v in plan.vars() {
            let file = format!("t-{}-{}.o", file_safe(&v.name), v.signature);
            wanted.push((self.dir.path().join(file), trampoline_asm(v)));
        }
        for g in &plan.globals {
            let key = init_key(g);
            let file = format!("g-{}-{}-{key:016x}.o", file_safe(&g.name), g.size);
            wanted.push((self.dir.path().join(file), global_asm(g)));
        }
        let missing: Vec<&(PathBuf, String)> =
            wanted.iter().filter(|(p, _)| !p.is_file()).collect();
        self.assemble_all(&missing, limits)?;
        Ok(wanted.into_iter().map(|(p, _)| p).collect())
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
        self.objects(&plan, limits).map(|_| ())
    }

    /// Assembles `jobs` (object path, assembly), as many at a time as there are cores.
    fn assemble_all(
        &self,
        jobs: &[&(PathBuf, String)],
        limits: process::Limits,
    ) -> Result<(), CompileError> {
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
        for chunk in jobs.chunks(cores) {
            std::thread::scope(|s| {
                let handles: Vec<_> = chunk
                    .iter()
                    .map(|(path, asm)| s.spawn(|| self.assemble(path, asm, limits)))
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
        limits: process::Limits,
    ) -> Result<(), CompileError> {
        // Two compiles may assemble the same object at once: each writes its own files and the
        // rename makes one of them the cached object.
        static N: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        let n = N.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let tmp = path.with_extension(format!("{n}.tmp"));
        let src = path.with_extension(format!("{n}.s"));
        std::fs::write(&src, asm).map_err(CompileError::Io)?;
        let mut cmd = Command::new(&self.assembler);
        cmd.args([
            "-triple=wasm32-unknown-emscripten",
            "-filetype=obj",
            "-mattr=+mutable-globals,+sign-ext,+reference-types,+multivalue",
        ])
        .arg(&src)
        .arg("-o")
        .arg(&tmp);
        let program = self.assembler.display().to_string();
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
        std::fs::rename(&tmp, path).map_err(CompileError::Io)
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

/// The trampoline object of one var: `__wrap_<name>`, its slot, and the constructor that fetches
/// the slot with `hotwasm_slot`.
pub fn trampoline_asm(v: &VarUse) -> String {
    let wrap = symbol(&format!("__wrap_{}", v.name));
    let ty = functype(&v.signature);
    let args: String = (0..v.signature.params.len())
        .map(|i| format!("\tlocal.get\t{i}\n"))
        .collect();
    format!(
        "\t.tabletype\t__indirect_function_table, funcref
\t.globaltype\t__memory_base, i32, immutable
\t.functype\thotwasm_slot (i32, i32) -> (i32)
\t.globaltype\t__hotwasm_slot, i32
__hotwasm_slot:
\t.section\t.text.__wrap,\"\",@
\t.hidden\t{wrap}
\t.globl\t{wrap}
\t.type\t{wrap},@function
{wrap}:
\t.functype\t{wrap} {ty}
{args}\tglobal.get\t__hotwasm_slot
\ti32.load\t0
\tcall_indirect\t__indirect_function_table, {ty}
\tend_function
\t.section\t.text.__hotwasm_bind,\"\",@
\t.type\t__hotwasm_bind,@function
__hotwasm_bind:
\t.functype\t__hotwasm_bind () -> ()
\tglobal.get\t__memory_base
\ti32.const\t.Lname@MBREL
\ti32.add
\tglobal.get\t__memory_base
\ti32.const\t.Lsig@MBREL
\ti32.add
\tcall\thotwasm_slot
\tglobal.set\t__hotwasm_slot
\tend_function
\t.section\t.rodata.__hotwasm_name,\"S\",@
.Lname:
\t.asciz\t{name}
\t.size\t.Lname, {name_len}
\t.section\t.rodata.__hotwasm_sig,\"S\",@
.Lsig:
\t.asciz\t\"{sig}\"
\t.size\t.Lsig, {sig_len}
\t.section\t.init_array.{BIND_PRIORITY},\"\",@
\t.p2align\t2, 0x0
\t.int32\t__hotwasm_bind
\t.section\t.custom_section.{VARS_SECTION},\"\",@
\t.ascii\t{line}
\t.no_dead_strip\t__indirect_function_table
",
        name = quoted(&v.name),
        name_len = v.name.len() + 1,
        sig = v.signature,
        sig_len = v.signature.to_string().len() + 1,
        line = quoted(&format!("{} {}\n", v.name, v.signature)),
    )
}

/// The globals object of one defined global: its init key (shared through the GOT like the
/// global) and a constructor that copies this patch's initial value into the shared storage when
/// the key differs, then sets the key.
pub fn global_asm(g: &GlobalDef) -> String {
    let name = symbol(&g.name);
    let key_sym = symbol(&init_key_symbol(&g.name));
    let key = init_key(g) as i64;
    format!(
        "\t.globaltype\t__memory_base, i32, immutable
\t.functype\t__hotwasm_copy (i32, i32, i32) -> ()
\t.section\t.text.__hotwasm_reinit,\"\",@
\t.type\t__hotwasm_reinit,@function
__hotwasm_reinit:
\t.functype\t__hotwasm_reinit () -> ()
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
\tcall\t__hotwasm_copy
\tglobal.get\t{key_sym}@GOT
\ti64.const\t{key}
\ti64.store\t0
\tend_if
\tend_function
\t.section\t.text.__hotwasm_copy,\"\",@
\t.type\t__hotwasm_copy,@function
__hotwasm_copy:
\t.functype\t__hotwasm_copy (i32, i32, i32) -> ()
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
\t.int32\t__hotwasm_reinit
\t.section\t.custom_section.{GLOBALS_SECTION},\"\",@
\t.ascii\t{line}
",
        size = g.size,
        line = quoted(&format!("{} {} {}\n", g.name, g.size, g.ty)),
    )
}
