//! Plain emcc: finding it, and the two emcc invocations (compile to an object, link the object
//! into a SIDE_MODULE) that the fast path reproduces without Python and wasm-opt.

use super::CompileError;
use std::path::{Path, PathBuf};
use std::process::Command;

/// Finds `emcc` on `PATH`.
pub fn find() -> Result<PathBuf, CompileError> {
    which::which("emcc").map_err(|_| CompileError::EmccNotFound)
}

/// Flags for compiling one patch source to a PIC object. `-fvisibility=hidden` keeps calls,
/// address-takes and globals inside the patch; exports are named explicitly at link time.
pub fn compile_flags(opt: &str, include_dirs: &[PathBuf]) -> Vec<String> {
    let mut flags: Vec<String> = [
        opt,
        "-fPIC",
        "-sSIDE_MODULE=1",
        "-fvisibility=hidden",
        "-Wno-version-check",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    for dir in include_dirs {
        flags.push(format!("-I{}", dir.display()));
    }
    flags
}

/// Flags for linking a patch object into a SIDE_MODULE (`-sWASM_BIGINT` avoids needing
/// `wasm-emscripten-finalize`, which npm's binaryen lacks).
pub fn link_flags(opt: &str) -> Vec<String> {
    [
        opt,
        "-sSIDE_MODULE=1",
        "-sWASM_BIGINT",
        "-Wno-version-check",
    ]
    .iter()
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

/// `emcc <obj> -o <so> <flags> -Wl,--export=<name>...`.
pub fn link_command(
    emcc: &Path,
    flags: &[String],
    obj: &Path,
    so: &Path,
    exports: &[String],
) -> Command {
    let mut cmd = Command::new(emcc);
    cmd.arg(obj).arg("-o").arg(so).args(flags);
    for name in exports {
        cmd.arg(format!("-Wl,--export={name}"));
    }
    cmd
}
