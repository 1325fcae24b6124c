//! C++ patches: what makes a C++ patch agree with any host (wasm exceptions, patch-local inline
//! functions), the C++ libraries a patch links itself, the precompiled standard headers of the fast
//! path, and the rule that decides which C++ definitions are vars.
//!
//! Decided by measurement (notes of issue 12, BENCHMARKS.md):
//! - **Exceptions are wasm exceptions** (`-fwasm-exceptions`), as Rust hosts already use: one tag,
//!   `__cpp_exception`, made by Emscripten's JS and given to every module.
//! - **The host exports no libc++ code.** Each patch links the members of `libc++`, `libc++abi` and
//!   `libunwind` (the PIC `-except` variants) that it references. Every symbol it links that way is
//!   preemptible, so Emscripten's loader binds it to the first definition in the program (the host's,
//!   or the first patch's): one allocator (`operator new` calls the host's `malloc`), one exception
//!   runtime, one `typeinfo` per type, whatever copies later patches carry.
//! - **Vars**: every strong, visible function a patch defines ([`check_linkage`]). `extern "C"` ones are named as in C;
//!   C++-linkage ones by their mangled symbol, so each overload is its own var and a call binds only to
//!   the overload whose parameter types it names. A C++-linkage definition that reuses the name of an
//!   `extern "C"` var is refused: it would silently define a new overload instead of the var.
//!   Inline functions, in-class methods and template instantiations are weak: they stay in the patch.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

/// File extensions of C++ sources (patches and watched files).
pub const EXTENSIONS: [&str; 4] = ["cpp", "cc", "cxx", "c++"];

/// Whether `path` names a C++ source.
pub fn is_cpp_path(path: &Path) -> bool {
    path.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| EXTENSIONS.contains(&e))
}

/// The function a patch may define to run statements once per page (as in C).
const RUN_ONCE: &str = "hotwasm_main";

/// emcc flags a C++ patch compiles with, on top of the C patch flags: wasm exceptions (what Rust
/// and C++ hosts use), and inline functions kept inside the patch (a re-evaluated inline helper
/// takes effect instead of binding to the first patch's copy; fewer imports and exports).
pub fn compile_flags() -> Vec<String> {
    [
        "-std=c++20",
        "-fwasm-exceptions",
        "-fvisibility-inlines-hidden",
    ]
    .map(String::from)
    .to_vec()
}

/// The C++ libraries a patch links (`lib<name>.a` in Emscripten's PIC library directory).
pub const LIBRARIES: [&str; 3] = ["c++-except", "c++abi-except", "unwind-except"];

/// Arguments appended to the learnt `wasm-ld` line of a C++ patch: the libraries of
/// [`LIBRARIES`], found through the `-L` directory emcc itself passed (Emscripten's PIC library
/// cache). Fails, naming the command that builds them, when one is missing.
pub fn link_args(learnt_link: &[String]) -> Result<Vec<String>, CppError> {
    let dirs = library_dirs(learnt_link);
    let mut args = Vec::new();
    for lib in LIBRARIES {
        let file = format!("lib{lib}.a");
        if !dirs.iter().any(|d| d.join(&file).is_file()) {
            return Err(CppError::LibraryMissing {
                library: file,
                searched: dirs.iter().map(|d| d.display().to_string()).collect(),
            });
        }
        args.push(format!("-l{lib}"));
    }
    Ok(args)
}

/// Flags for linking a C++ patch with plain emcc (`--plain-emcc`). emcc links a SIDE_MODULE's inputs
/// with `--whole-archive`, so the libraries are named after `--no-whole-archive` (else all of libc++,
/// 1.6 MB, is linked in).
pub fn emcc_link_flags() -> Vec<String> {
    let libs: Vec<String> = LIBRARIES.iter().map(|l| format!("-l{l}")).collect();
    vec![
        "-fwasm-exceptions".into(),
        format!("-Wl,--no-whole-archive,{}", libs.join(",")),
    ]
}

/// Linker arguments that export only the patch's own vars (`wrapped`: linked with
/// `--wrap=<var>`, so their definitions are reached as `__real_<var>`, which wasm-ld exports under
/// the var's own name) and globals. emcc links a SIDE_MODULE with `--export-dynamic`, which would
/// export (and so keep) every function of each C++ library member the patch pulls in, e.g. all of
/// `std::to_wstring` and the `swprintf` it imports. Library symbols the patch references stay
/// exported anyway (they are preemptible: the loader binds them to the first definition in the
/// program).
pub fn link_exports<'a>(
    wrapped: impl IntoIterator<Item = &'a str>,
    globals: impl IntoIterator<Item = &'a str>,
) -> Vec<String> {
    std::iter::once("--no-export-dynamic".to_string())
        .chain(wrapped.into_iter().map(|v| format!("--export=__real_{v}")))
        .chain(globals.into_iter().map(|g| format!("--export={g}")))
        .collect()
}

/// C library functions only the C++ iostreams/locale machinery needs (measured: a patch with
/// `std::cout` or `std::ostringstream` links about 900 KB of libc++ and imports about 40 of these).
const IOSTREAM_ONLY: [&str; 12] = [
    "__cxa_atexit",
    "newlocale",
    "freelocale",
    "uselocale",
    "strftime_l",
    "__ctype_get_mb_cur_max",
    "mbrtowc",
    "wcrtomb",
    "getc",
    "ungetc",
    "vsscanf",
    "pthread_mutex_lock",
];

/// The next step for a C++ patch refused because the host lacks `symbol`, when C++ explains it:
/// iostreams pull in the locale machinery (and what it imports) that no host exports.
pub fn hint_for_missing(symbol: &str) -> Option<&'static str> {
    IOSTREAM_ONLY.contains(&symbol).then_some(
        "it comes with C++ iostreams (std::cout, std::stringstream), which bring the C++ locale \
         machinery (~900 KB per patch) and C library functions no host exports: in a patch, print \
         with std::printf and format with std::snprintf or std::to_string",
    )
}

/// Standard headers precompiled once for C++ patches that include any of them. Parsing them is
/// most of a small C++ patch's compile (0.7 s of 0.8 s measured); loading the precompiled form
/// costs about 80 ms, so patches that include none of them compile without it.
pub const PCH_HEADERS: [&str; 21] = [
    "algorithm",
    "array",
    "cmath",
    "cstdint",
    "cstdio",
    "cstdlib",
    "cstring",
    "functional",
    "map",
    "memory",
    "numeric",
    "optional",
    "stdexcept",
    "string",
    "string_view",
    "tuple",
    "unordered_map",
    "unordered_set",
    "utility",
    "vector",
    "set",
];

/// The text of the header that is precompiled.
pub fn pch_source() -> String {
    let mut text = String::from("// Precompiled by hotwasm for C++ patches that include these.\n");
    for h in PCH_HEADERS {
        text.push_str(&format!("#include <{h}>\n"));
    }
    text
}

/// Whether `source` includes one of [`PCH_HEADERS`] (so the precompiled headers save time).
pub fn wants_pch(source: &str) -> bool {
    source.lines().any(|line| {
        let line = line.trim_start();
        let Some(rest) = line.strip_prefix('#') else {
            return false;
        };
        let Some(rest) = rest.trim_start().strip_prefix("include") else {
            return false;
        };
        let rest = rest.trim_start();
        rest.strip_prefix('<')
            .and_then(|r| r.split('>').next())
            .is_some_and(|name| PCH_HEADERS.contains(&name.trim()))
    })
}

/// Turns the `clang -cc1` command of a patch (as the fast path runs it: `-o <obj>`, input last,
/// maybe a dependency file) into the command that precompiles `header` into `pch` with the same
/// target, language and optimisation options (clang refuses a PCH built with others).
pub fn pch_build_command(patch_cc1: &[String], header: &Path, pch: &Path) -> Command {
    let header_s = header.display().to_string();
    let mut args: Vec<String> = Vec::with_capacity(patch_cc1.len());
    let mut it = patch_cc1.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "-emit-obj" => args.push("-emit-pch".into()),
            "-o" => {
                it.next();
                args.extend(["-o".into(), pch.display().to_string()]);
            }
            // `-x <language> <input>`: the learnt line names the input right after its language.
            "-x" => {
                it.next();
                it.next();
                args.extend(["-x".into(), "c++-header".into(), header_s.clone()]);
            }
            "-main-file-name" => {
                it.next();
                args.extend([a.clone(), file_name(&header_s).into()]);
            }
            // The patch's dependency file is not the header's.
            "-dependency-file" | "-MT" => {
                it.next();
            }
            "-sys-header-deps" => {}
            _ => args.push(a.clone()),
        }
    }
    let mut cmd = Command::new(&args[0]);
    cmd.args(&args[1..]);
    cmd
}

/// Inserts `-include-pch <pch>` into a patch's `clang -cc1` command (right after `-cc1`).
pub fn with_pch(patch_cc1: &[String], pch: &Path) -> Vec<String> {
    let at = patch_cc1
        .iter()
        .position(|a| a == "-cc1")
        .map_or(1, |i| i + 1);
    let mut args = patch_cc1.to_vec();
    args.splice(
        at..at,
        ["-include-pch".to_string(), pch.display().to_string()],
    );
    args
}

/// The argv of a command (program first), to transform a learnt command.
pub fn argv_of(cmd: &Command) -> Vec<String> {
    std::iter::once(cmd.get_program())
        .chain(cmd.get_args())
        .map(|a| a.to_string_lossy().into_owned())
        .collect()
}

fn command_like(template: &Command, argv: &[String]) -> Command {
    let mut cmd = Command::new(&argv[0]);
    cmd.args(&argv[1..]);
    if let Some(dir) = template.get_current_dir() {
        cmd.current_dir(dir);
    }
    cmd
}

/// The precompiled standard headers, built once (on the first C++ patch that includes one of
/// [`PCH_HEADERS`]) from that patch's own `clang -cc1` command, in a directory kept for the
/// server's life. A build that fails is not retried: patches then compile without it.
#[derive(Debug, Default)]
pub struct Pch {
    built: OnceLock<Result<(tempfile::TempDir, PathBuf), String>>,
}

impl Pch {
    /// `patch` with `-include-pch` added when `source` includes a standard header and the PCH is
    /// (or can now be) built; `build` runs the build command under the caller's limits. Returns the
    /// command to run and the PCH directory, which the include check must allow (the patch's
    /// dependency file lists the headers inside the PCH).
    pub fn apply(
        &self,
        patch: Command,
        source: &str,
        build: impl FnOnce(Command) -> Result<(), String>,
    ) -> (Command, Option<PathBuf>) {
        if !wants_pch(source) {
            return (patch, None);
        }
        let built = self.built.get_or_init(|| {
            let dir = tempfile::Builder::new()
                .prefix("hotwasm-pch")
                .tempdir()
                .map_err(|e| e.to_string())?;
            let header = dir.path().join("hotwasm_std.hpp");
            let pch = dir.path().join("hotwasm_std.pch");
            std::fs::write(&header, pch_source()).map_err(|e| e.to_string())?;
            let mut cmd = pch_build_command(&argv_of(&patch), &header, &pch);
            cmd.current_dir(dir.path());
            build(cmd)?;
            Ok((dir, pch))
        });
        match built {
            Ok((dir, pch)) => (
                command_like(&patch, &with_pch(&argv_of(&patch), pch)),
                Some(dir.path().to_path_buf()),
            ),
            Err(_) => (patch, None),
        }
    }

    /// Why the PCH could not be built, if it was tried and failed.
    pub fn failure(&self) -> Option<&str> {
        self.built.get()?.as_ref().err().map(String::as_str)
    }
}

fn file_name(path: &str) -> &str {
    path.rsplit('/').next().unwrap_or(path)
}

/// Why a C++ patch cannot be compiled or would be wrong.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[allow(missing_docs)] // Each variant's fields are what its message names.
pub enum CppError {
    /// A C++ library is not in Emscripten's PIC cache.
    #[error("C++ patches link `{library}` from Emscripten's PIC library cache, and it is not in {searched:?}: build it once with `embuilder build libc++-except libc++abi-except libunwind-except --pic` (or run `bash scripts/setup.sh`)")]
    LibraryMissing {
        library: String,
        searched: Vec<String>,
    },
    /// A C++-linkage definition named like an `extern "C"` var.
    #[error("`{function}` has C++ linkage, so it would define a new function `{symbol}` instead of the var `{var}` that its callers use: declare it `extern \"C\"` (or give it another name if it is meant to be a new C++ function)")]
    NotExternC {
        function: String,
        symbol: String,
        var: String,
    },
    /// `hotwasm_main` with C++ linkage.
    #[error("`hotwasm_main` has C++ linkage (`{symbol}`), so it would not run: declare it `extern \"C\" void hotwasm_main(void)`")]
    RunOnceNotExternC { symbol: String },
    /// A library archive could not be read.
    #[error("cannot read the C++ library `{path}`: {why}; rebuild it with `embuilder build libc++-except libc++abi-except libunwind-except --pic --force`")]
    Archive { path: String, why: String },
}

/// Checks the vars a C++ patch defines (`defined`: the names of its strong, visible functions, as
/// the late-binding plan lists them): `extern "C"` ones are named as in C, C++-linkage ones by their
/// mangled symbol. `is_c_var(name)` says whether `name` is an existing `extern "C"` var (a host var
/// or one an earlier eval defined): a C++-linkage definition with that unqualified name is refused
/// ([`CppError::NotExternC`]), as is a C++-linkage `hotwasm_main`. `demangle` makes the symbol
/// readable in the message (e.g. [`demangle`]).
pub fn check_linkage<'a>(
    defined: impl IntoIterator<Item = &'a str>,
    is_c_var: impl Fn(&str) -> bool,
    demangle: impl Fn(&str) -> String,
) -> Result<(), CppError> {
    for symbol in defined {
        let Some(base) = unqualified_name(symbol) else {
            continue;
        };
        if base == RUN_ONCE {
            return Err(CppError::RunOnceNotExternC {
                symbol: symbol.to_string(),
            });
        }
        if is_c_var(base) {
            return Err(CppError::NotExternC {
                function: demangle(symbol),
                symbol: symbol.to_string(),
                var: base.to_string(),
            });
        }
    }
    Ok(())
}

/// The C++ libraries a patch links, and the symbols they define: a call from the patch to one of
/// those is a library call the link resolves, never a var.
#[derive(Debug, Clone)]
pub struct Libraries {
    /// `-l<name>` for each of [`LIBRARIES`] (the learnt link line already has their `-L`).
    pub link_args: Vec<String>,
    defined: HashSet<String>,
}

impl Libraries {
    /// Finds [`LIBRARIES`] in the `-L` directories of the learnt `wasm-ld` line (Emscripten's PIC
    /// library cache) and reads their symbol indexes. Fails naming the command that builds them.
    pub fn find(learnt_link: &[String]) -> Result<Libraries, CppError> {
        let link_args = link_args(learnt_link)?;
        let dirs = library_dirs(learnt_link);
        let mut defined = HashSet::new();
        for lib in LIBRARIES {
            let file = format!("lib{lib}.a");
            let Some(path) = dirs.iter().map(|d| d.join(&file)).find(|p| p.is_file()) else {
                continue;
            };
            let bytes = std::fs::read(&path).map_err(|e| CppError::Archive {
                path: path.display().to_string(),
                why: e.to_string(),
            })?;
            let names = archive_symbols(&bytes).ok_or_else(|| CppError::Archive {
                path: path.display().to_string(),
                why: "it has no GNU symbol index".into(),
            })?;
            defined.extend(names);
        }
        Ok(Libraries { link_args, defined })
    }

    /// Whether one of the libraries defines `symbol`.
    pub fn defines(&self, symbol: &str) -> bool {
        self.defined.contains(symbol)
    }

    /// Whether an object whose undefined symbols are `undefined` needs the libraries at all. A patch
    /// that calls nothing of them links without them, as fast as C (the archives' indexes alone
    /// cost wasm-ld about 45 ms per link, measured).
    pub fn needed_by<'a>(&self, mut undefined: impl Iterator<Item = &'a str>) -> bool {
        undefined.any(|s| self.defines(s))
    }

    /// Whether `name` may be a var of a C++ patch: anything the libraries do not define.
    pub fn is_var_name(&self, name: &str) -> bool {
        !self.defines(name)
    }
}

fn library_dirs(learnt_link: &[String]) -> Vec<PathBuf> {
    learnt_link
        .iter()
        .filter_map(|a| a.strip_prefix("-L"))
        .map(PathBuf::from)
        .collect()
}

/// The names in a GNU-format archive's symbol index, or `None` when it has none.
pub fn archive_symbols(archive: &[u8]) -> Option<Vec<String>> {
    Some(
        archive_index(archive)?
            .into_iter()
            .map(|(s, _)| s)
            .collect(),
    )
}

/// A GNU-format archive's symbol index as `(symbol, member file name)` pairs (the `/` member: a
/// big-endian count, that many member offsets, then the NUL-terminated names; long member names
/// live in the `//` member), or `None` when it has none.
pub fn archive_index(archive: &[u8]) -> Option<Vec<(String, String)>> {
    let member = |at: usize| -> Option<(&[u8], &[u8])> {
        let header = archive.get(at..at + 60)?;
        let size: usize = std::str::from_utf8(&header[48..58])
            .ok()?
            .trim()
            .parse()
            .ok()?;
        Some((&header[..16], archive.get(at + 60..at + 60 + size)?))
    };
    if !archive.starts_with(b"!<arch>\n") {
        return None;
    }
    let (name, index) = member(8)?;
    if !name.starts_with(b"/ ") {
        return None;
    }
    // The long-names member, if any, follows the index.
    let after_index = 8 + 60 + index.len() + index.len() % 2;
    let long_names = member(after_index)
        .filter(|(n, _)| n.starts_with(b"// "))
        .map(|(_, body)| body);
    let member_name = |at: usize| -> Option<String> {
        let (raw, _) = member(at)?;
        let raw = std::str::from_utf8(raw).ok()?.trim_end();
        let name = match raw.strip_prefix('/') {
            Some(offset) if !offset.is_empty() => {
                let table = long_names?;
                let start: usize = offset.parse().ok()?;
                let rest = table.get(start..)?;
                let end = rest.iter().position(|b| *b == b'/' || *b == b'\n')?;
                String::from_utf8_lossy(&rest[..end]).into_owned()
            }
            _ => raw.trim_end_matches('/').to_string(),
        };
        Some(name)
    };
    let count = u32::from_be_bytes(index.get(..4)?.try_into().ok()?) as usize;
    let offsets = index.get(4..4 + 4 * count)?;
    let names = index.get(4 + 4 * count..)?;
    let mut out = Vec::with_capacity(count);
    for (i, symbol) in names.split(|b| *b == 0).take(count).enumerate() {
        let at = u32::from_be_bytes(offsets[4 * i..4 * i + 4].try_into().ok()?) as usize;
        out.push((
            String::from_utf8_lossy(symbol).into_owned(),
            member_name(at)?,
        ));
    }
    Some(out)
}

/// Members of libc++abi and libunwind that make up the C++ exception ABI: what a C++ host exports
/// (when it links them) so that host code catching `std::exception` matches what a patch throws
/// (typeinfo objects are compared by address) and one exception runtime serves both.
pub const HOST_ABI_MEMBERS: [(&str, &[&str]); 2] = [
    (
        "c++abi-except",
        &[
            "cxa_exception.o",
            "cxa_exception_storage.o",
            "cxa_personality.o",
            "cxa_handlers.o",
            "stdlib_exception.o",
            "stdlib_stdexcept.o",
            "stdlib_typeinfo.o",
            "private_typeinfo.o",
        ],
    ),
    ("unwind-except", &["Unwind-wasm.o"]),
];

/// The symbols a HOT_RELOAD C++ host exports (as `--export-if-defined=<symbol>`) so that its own
/// C++ exception ABI is the one patches bind to: every symbol [`HOST_ABI_MEMBERS`] define, read
/// from the archives in `dirs` (Emscripten's library directories). Measured on a small C++ host:
/// +24.6 KB wasm, +54 KB JS.
pub fn host_abi_exports(dirs: &[PathBuf]) -> Result<Vec<String>, CppError> {
    let mut out = Vec::new();
    for (lib, members) in HOST_ABI_MEMBERS {
        let file = format!("lib{lib}.a");
        let path = dirs
            .iter()
            .map(|d| d.join(&file))
            .find(|p| p.is_file())
            .ok_or_else(|| CppError::LibraryMissing {
                library: file.clone(),
                searched: dirs.iter().map(|d| d.display().to_string()).collect(),
            })?;
        let archive_error = |why: String| CppError::Archive {
            path: path.display().to_string(),
            why,
        };
        let bytes = std::fs::read(&path).map_err(|e| archive_error(e.to_string()))?;
        let index = archive_index(&bytes)
            .ok_or_else(|| archive_error("it has no GNU symbol index".into()))?;
        out.extend(
            index
                .into_iter()
                .filter(|(_, m)| members.contains(&m.as_str()))
                .map(|(s, _)| s),
        );
    }
    out.sort();
    out.dedup();
    Ok(out)
}

/// The unqualified name of an Itanium-mangled function symbol (`_Z6helperi` → `helper`,
/// `_ZN2ns4stepEPvf` → `step`), or `None` when `symbol` is not mangled or names something other
/// than a plain identifier (operators, constructors, templates): those cannot collide with a C name.
pub fn unqualified_name(symbol: &str) -> Option<&str> {
    let rest = symbol.strip_prefix("_Z")?;
    let rest = rest.strip_prefix('L').unwrap_or(rest);
    if let Some(nested) = rest.strip_prefix('N') {
        let mut rest = nested.trim_start_matches(['r', 'V', 'K', 'R', 'O']);
        if let Some(r) = rest.strip_prefix("St") {
            rest = r;
        }
        let mut last = None;
        loop {
            if rest.starts_with('E') {
                return last;
            }
            let (name, after) = source_name(rest)?;
            last = Some(name);
            rest = after;
        }
    }
    let rest = rest.strip_prefix("St").unwrap_or(rest);
    let (name, after) = source_name(rest)?;
    // `I` would start template arguments: a template instantiation, not a plain function.
    (!after.starts_with('I')).then_some(name)
}

/// `<length><identifier>` at the start of `s`.
fn source_name(s: &str) -> Option<(&str, &str)> {
    let digits = s.bytes().take_while(u8::is_ascii_digit).count();
    let len: usize = s.get(..digits)?.parse().ok()?;
    let name = s.get(digits..digits + len)?;
    Some((name, &s[digits + len..]))
}

/// Demangles C++ symbols for messages with LLVM's `llvm-cxxfilt` (one process for all of them);
/// symbols it cannot read, or every symbol when it is missing, are returned unchanged.
pub fn demangle_all(symbols: &[String]) -> Vec<String> {
    let tool = ["llvm-cxxfilt-19", "llvm-cxxfilt", "c++filt"]
        .iter()
        .find_map(|t| which::which(t).ok());
    let out = tool.and_then(|tool| Command::new(tool).args(symbols).output().ok());
    match out {
        Some(out) if out.status.success() => {
            let text = String::from_utf8_lossy(&out.stdout);
            let lines: Vec<String> = text.lines().map(str::to_string).collect();
            if lines.len() == symbols.len() {
                lines
            } else {
                symbols.to_vec()
            }
        }
        _ => symbols.to_vec(),
    }
}

/// One symbol demangled (see [`demangle_all`]).
pub fn demangle(symbol: &str) -> String {
    if !symbol.starts_with("_Z") {
        return symbol.to_string();
    }
    demangle_all(&[symbol.to_string()]).remove(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unqualified_names_of_plain_and_nested_functions() {
        assert_eq!(unqualified_name("_Z6helperi"), Some("helper"));
        assert_eq!(unqualified_name("_Z4stepP5Worldf"), Some("step"));
        assert_eq!(unqualified_name("_ZN2ns4stepEPvf"), Some("step"));
        assert_eq!(unqualified_name("_ZN3app5world4tickEv"), Some("tick"));
        assert_eq!(unqualified_name("_ZNK3Foo3getEv"), Some("get"));
        assert_eq!(unqualified_name("_ZL6hiddenv"), Some("hidden"));
        assert_eq!(unqualified_name("_Z12hotwasm_mainv"), Some("hotwasm_main"));
        assert_eq!(unqualified_name("step"), None);
        assert_eq!(unqualified_name("_Z5clampIiET_S0_S0_S0_"), None);
        assert_eq!(unqualified_name("_ZplRK1VS1_"), None);
    }

    #[test]
    fn includes_of_standard_headers_want_the_pch() {
        assert!(wants_pch("#include <vector>\nint x;"));
        assert!(wants_pch("  #  include < string >"));
        assert!(!wants_pch("#include \"vector\"\n"));
        assert!(!wants_pch("#include <stdio.h>\nextern \"C\" int f(int);"));
        assert!(!wants_pch("// #include <vector> is mentioned here\n"));
    }

    #[test]
    fn the_pch_command_reuses_the_patch_command() {
        let cc1: Vec<String> = [
            "/clang",
            "-cc1",
            "-emit-obj",
            "-main-file-name",
            "a.cpp",
            "-O2",
            "-dependency-file",
            "/w/patch.d",
            "-MT",
            "/w/patch.o",
            "-sys-header-deps",
            "-o",
            "/w/patch.o",
            "-x",
            "c++",
            "a.cpp",
            "-iquote",
            "/q",
        ]
        .map(String::from)
        .to_vec();
        let cmd = pch_build_command(&cc1, Path::new("/c/std.hpp"), Path::new("/c/std.pch"));
        let args: Vec<_> = cmd
            .get_args()
            .map(|a| a.to_string_lossy().into_owned())
            .collect();
        assert_eq!(
            args,
            [
                "-cc1",
                "-emit-pch",
                "-main-file-name",
                "std.hpp",
                "-O2",
                "-o",
                "/c/std.pch",
                "-x",
                "c++-header",
                "/c/std.hpp",
                "-iquote",
                "/q"
            ]
        );
        let with = with_pch(&cc1, Path::new("/c/std.pch"));
        assert_eq!(&with[..4], ["/clang", "-cc1", "-include-pch", "/c/std.pch"]);
    }

    #[test]
    fn missing_libraries_name_the_command_that_builds_them() {
        let e = link_args(&["wasm-ld".into(), "-L/nonexistent/pic".into()]).unwrap_err();
        let text = e.to_string();
        assert!(
            text.contains("libc++-except.a") && text.contains("embuilder"),
            "{text}"
        );
    }

    #[test]
    fn a_cpp_definition_named_like_a_c_var_is_refused_with_the_fix() {
        let c_vars = |n: &str| n == "step";
        let named = |s: &str| format!("<{s}>");
        assert_eq!(
            check_linkage(["cpp_total", "_Z6helperi", "_Z6helperd"], c_vars, named),
            Ok(())
        );
        let e = check_linkage(["_Z4stepPvf"], c_vars, named).unwrap_err();
        assert_eq!(
            e,
            CppError::NotExternC {
                function: "<_Z4stepPvf>".into(),
                symbol: "_Z4stepPvf".into(),
                var: "step".into()
            }
        );
        assert!(e.to_string().contains("extern \"C\""), "{e}");
        let e = check_linkage(["_Z12hotwasm_mainv"], c_vars, named).unwrap_err();
        assert!(matches!(e, CppError::RunOnceNotExternC { .. }), "{e}");
    }

    #[test]
    fn archive_symbol_index_is_read() {
        let header = |name: &str, size: usize| {
            format!("{name:<16}{:<12}{:<6}{:<6}{:<8}{size:<10}`\n", 0, 0, 0, 0)
        };
        let names = b"_Znwm\0__cxa_throw\0";
        let index_len = 4 + 8 + names.len();
        let member_at = (8 + 60 + index_len + index_len % 2) as u32;
        let mut ar = b"!<arch>\n".to_vec();
        ar.extend(header("/", index_len).bytes());
        ar.extend(2u32.to_be_bytes());
        ar.extend(member_at.to_be_bytes());
        ar.extend(member_at.to_be_bytes());
        ar.extend(names);
        if index_len % 2 == 1 {
            ar.push(b'\n');
        }
        ar.extend(header("new.o/", 2).bytes());
        ar.extend(b"xx");
        assert_eq!(
            archive_index(&ar),
            Some(vec![
                ("_Znwm".to_string(), "new.o".to_string()),
                ("__cxa_throw".to_string(), "new.o".to_string())
            ])
        );
        assert_eq!(archive_symbols(b"not an archive"), None);
    }

    #[test]
    fn a_missing_locale_function_is_explained_by_iostreams() {
        assert!(hint_for_missing("__cxa_atexit").is_some_and(|h| h.contains("std::printf")));
        assert_eq!(hint_for_missing("aligned_alloc"), None);
    }

    #[test]
    fn cpp_paths() {
        assert!(is_cpp_path(Path::new("patches/a.cpp")));
        assert!(is_cpp_path(Path::new("b.cc")));
        assert!(!is_cpp_path(Path::new("c.c")));
        assert!(!is_cpp_path(Path::new("d.rs")));
    }
}
