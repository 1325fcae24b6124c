//! Plain emcc: finding it, and the two emcc invocations (compile to an object, link the object
//! into a SIDE_MODULE) that the fast path reproduces without Python and wasm-opt.

use super::CompileError;
use std::path::{Path, PathBuf};
use std::process::Command;

/// Finds `emcc` on `PATH`.
pub fn find() -> Result<PathBuf, CompileError> {
    crate::toolchain::find(&["emcc"]).ok_or(CompileError::EmccNotFound)
}

/// The flag that makes a patch fit a host built with threads (its memory shared: the engine
/// refuses a side module whose memory is not, "mismatch in shared state of memory"), given to
/// both the compile and the link.
pub const THREADS: &str = "-pthread";

/// Flags for compiling one patch source to a PIC object. Default visibility with
/// `-fsemantic-interposition` (given to cc1: clang's driver drops it for wasm) keeps every call to an external function a relocation the link's
/// `--wrap` can redirect (clang neither inlines nor specialises them) and reaches external
/// globals through the GOT (see [`super::latebind`]).
/// With `threads`, [`THREADS`] too.
pub fn compile_flags(
    opt: &str,
    include_dirs: &[PathBuf],
    defines: &[String],
    threads: bool,
) -> Vec<String> {
    let mut flags: Vec<String> = [
        opt,
        "-fPIC",
        "-sSIDE_MODULE=1",
        "-fvisibility=default",
        "-Xclang",
        "-fsemantic-interposition",
        "-Wno-version-check",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    for dir in include_dirs {
        flags.push(format!("-I{}", dir.display()));
    }
    for define in defines {
        flags.push(format!("-D{define}"));
    }
    if threads {
        flags.push(THREADS.to_string());
    }
    flags
}

/// Flags for linking a patch object into a SIDE_MODULE (`-sWASM_BIGINT` avoids needing
/// `wasm-emscripten-finalize`, which npm's binaryen lacks); with `threads`, [`THREADS`] too.
pub fn link_flags(opt: &str, threads: bool) -> Vec<String> {
    [
        opt,
        "-sSIDE_MODULE=1",
        "-sWASM_BIGINT",
        "-Wno-version-check",
    ]
    .iter()
    .chain(threads.then_some(&THREADS))
    .map(|s| s.to_string())
    .collect()
}

/// `emcc <flags> -c <input> -o <obj> -MD -MF <dep>`.
pub fn compile_command(
    emcc: &Path,
    flags: &[String],
    input: &str,
    obj: &Path,
    dep: &Path,
) -> Command {
    let mut cmd = Command::new(emcc);
    cmd.args(flags)
        .arg("-c")
        .arg(input)
        .arg("-o")
        .arg(obj)
        .arg("-MD")
        .arg("-MF")
        .arg(dep);
    cmd
}

/// `emcc <objs> -o <so> <flags> -Wl,<linker_args>...`.
pub fn link_command(
    emcc: &Path,
    flags: &[String],
    objs: &[PathBuf],
    so: &Path,
    linker_args: &[String],
) -> Command {
    let mut cmd = Command::new(emcc);
    cmd.args(objs).arg("-o").arg(so).args(flags);
    for arg in linker_args {
        cmd.arg(format!("-Wl,{arg}"));
    }
    cmd
}
