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
//! - **Vars**: every strong, visible function a patch defines ([`check_linkage`]). `extern "C"`
//!   ones are named as in C; C++-linkage ones by their mangled symbol, so each overload is its own
//!   var and a call binds only to the overload whose parameter types it names. A C++-linkage
//!   definition that reuses the name of an `extern "C"` var is refused: it would silently define a
//!   new overload instead of the var. Inline functions, in-class methods and template
//!   instantiations are weak: they stay in the patch.
//!
//! [`pch`] holds the precompiled headers, [`libraries`] the archives and what a C++ host exports.

pub mod libraries;
pub mod pch;

pub use libraries::{
    archive_index, archive_symbols, host_abi_exports, host_type_symbols, link_args, Libraries,
    HOST_ABI_MEMBERS, HOST_TYPE_PREFIXES,
};
pub use pch::{
    argv_of, includes_a_pch_header, pch_build_command, pch_source, session_args_with_pch,
    session_pch_command, wants_pch, with_pch, Pch, SessionPchs, PCH_HEADERS,
};

use super::latebind::RUN_ONCE;
use std::path::Path;
use std::process::Command;

/// File extensions of C++ sources (patches, watched files and a C/C++ host's own sources).
pub const EXTENSIONS: [&str; 5] = ["cpp", "cc", "cxx", "c++", "C"];

/// Whether `path` names a C++ source.
pub fn is_cpp_path(path: &Path) -> bool {
    path.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| EXTENSIONS.contains(&e))
}

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

/// Flags for linking a C++ patch with plain emcc (`--plain-emcc`), after the C link flags.
/// `-sSIDE_MODULE=2`: with `=1` emcc appends `--export-dynamic` after the caller's `-Wl,` flags, so
/// [`link_exports`]' `--no-export-dynamic` would lose and every function of each libc++ member the
/// patch pulls in would be kept (importing `swprintf`, measured); `=2` exports only what is named.
/// emcc links a SIDE_MODULE's inputs with `--whole-archive`, so the libraries are named after
/// `--no-whole-archive` (else all of libc++, 1.6 MB, is linked in).
pub fn emcc_link_flags() -> Vec<String> {
    let libs: Vec<String> = LIBRARIES.iter().map(|l| format!("-l{l}")).collect();
    vec![
        "-sSIDE_MODULE=2".into(),
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
const IOSTREAM_ONLY: [&str; 11] = [
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

/// What C++ code needs from every host and `hotwasm build --hot` exports from every host kind
/// (scripts/libc-exports.txt): a host that lacks one was built by an older hotwasm.
const EVERY_HOST: [&str; 2] = ["__cxa_atexit", "atexit"];

/// The next step for a C++ patch refused because the host lacks `symbol`, when C++ explains it:
/// the C++ runtime every host exports now (an older host: rebuild it), or iostreams, which pull
/// in the locale machinery (and what it imports) that no host exports.
pub fn hint_for_missing(symbol: &str) -> Option<&'static str> {
    if EVERY_HOST.contains(&symbol) {
        return Some(
            "a C++ global with a destructor (`std::string`, `std::vector`, ...) registers it with              `__cxa_atexit`, which every host built by this hotwasm exports: rebuild the host with              `hotwasm build --hot`",
        );
    }
    if HOST_TYPE_PREFIXES.iter().any(|p| symbol.starts_with(p)) {
        return Some(
            "it is the typeinfo or vtable of a C++ class the patch uses but does not define: a C++ \
             host built by `hotwasm build --hot` exports those of every class its sources define \
             (rebuild it if it is older); a C or Rust host has no C++ classes, so define the class \
             in the patch (with its key function: its first non-inline virtual function)",
        );
    }
    IOSTREAM_ONLY.contains(&symbol).then_some(
        "it comes with C++ iostreams (std::cout, std::stringstream), which bring the C++ locale \
         machinery (~900 KB per patch) and C library functions no host exports: in a patch, print \
         with std::printf and format with std::snprintf or std::to_string",
    )
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
    /// A call, with C++ linkage, of a function named like an `extern "C"` var.
    #[error("the patch calls `{function}` with C++ linkage (`{symbol}`), which is not the var `{var}`: declare `{var}` `extern \"C\"` as the app does (include the app's header that declares it) so the call reaches the var")]
    CallNotExternC {
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
/// or one an earlier eval defined): a C++-linkage definition of that name in the global namespace is refused
/// ([`CppError::NotExternC`]), as is a C++-linkage `hotwasm_main`. `demangle` makes the symbol
/// readable in the message (e.g. [`demangle`]).
pub fn check_linkage<'a>(
    defined: impl IntoIterator<Item = &'a str>,
    is_c_var: impl Fn(&str) -> bool,
    demangle: impl Fn(&str) -> String,
) -> Result<(), CppError> {
    for symbol in defined {
        let Some(base) = global_name(symbol) else {
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

/// Checks the vars a C++ patch calls (`called`: the plan's calls): a call with C++ linkage of a
/// function whose unqualified name is an `extern "C"` var would bind to a new, never-defined
/// mangled var instead of the var (a header declaring it without `extern "C"`): refused
/// ([`CppError::CallNotExternC`]).
pub fn check_call_linkage<'a>(
    called: impl IntoIterator<Item = &'a str>,
    is_c_var: impl Fn(&str) -> bool,
    demangle: impl Fn(&str) -> String,
) -> Result<(), CppError> {
    for symbol in called {
        if let Some(base) = global_name(symbol).filter(|b| is_c_var(b)) {
            return Err(CppError::CallNotExternC {
                function: demangle(symbol),
                symbol: symbol.to_string(),
                var: base.to_string(),
            });
        }
    }
    Ok(())
}

/// The name of a C++ function in the global namespace (`_Z6helperi` → `helper`); `None` for
/// functions in a namespace or class (`ui::step` is not the C var `step`, so it may coexist).
pub fn global_name(symbol: &str) -> Option<&str> {
    let rest = symbol.strip_prefix("_Z")?;
    let rest = rest.strip_prefix('L').unwrap_or(rest);
    if rest.starts_with('N') || rest.starts_with("St") {
        return None;
    }
    unqualified_name(symbol)
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
    let tool = crate::toolchain::find(&["llvm-cxxfilt-19", "llvm-cxxfilt", "c++filt"]);
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
    fn only_global_namespace_functions_can_collide_with_c_vars() {
        assert_eq!(global_name("_Z4stepPvf"), Some("step"));
        assert_eq!(global_name("_ZN2ui4stepEi"), None);
        assert_eq!(global_name("_ZSt4sortPiS_"), None);
        let c_vars = |n: &str| n == "step";
        assert_eq!(
            check_linkage(["_ZN2ui4stepEi"], c_vars, |s: &str| s.to_string()),
            Ok(())
        );
    }

    #[test]
    fn a_cpp_linkage_call_of_a_c_var_is_refused_with_the_fix() {
        let c_vars = |n: &str| n == "planet_color";
        assert_eq!(
            check_call_linkage(["_Z6helperi", "printf"], c_vars, |s: &str| s.to_string()),
            Ok(())
        );
        let e = check_call_linkage(["_Z12planet_colorPK6Planet"], c_vars, |s: &str| {
            s.to_string()
        })
        .unwrap_err();
        assert!(
            matches!(e, CppError::CallNotExternC { ref var, .. } if var == "planet_color"),
            "{e}"
        );
        assert!(e.to_string().contains("extern \"C\""), "{e}");
    }

    #[test]
    fn a_missing_locale_function_is_explained_by_iostreams() {
        assert!(hint_for_missing("newlocale").is_some_and(|h| h.contains("std::printf")));
        assert!(hint_for_missing("__cxa_atexit").is_some_and(|h| h.contains("rebuild the host")));
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
