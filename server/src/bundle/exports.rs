//! What the host exports. `MAIN_MODULE=2` keeps only what is listed, so a HOT_RELOAD host lists:
//! the app's `[build] exports`, every `hotwasm_*` function of the ABI header (the page and the
//! patches call them), the C library functions patches may call (`scripts/libc-exports.txt`,
//! one list for every host), and for Rust hosts every externally visible standard-library
//! symbol the host links (Rust patches carry no std of their own), handed to wasm-ld as
//! `--export-if-defined` so std code the host never links is not pulled in; for C++ hosts the
//! C++ exception runtime (libc++abi's exception and typeinfo members, libunwind's wasm unwinder),
//! so a `catch` in the host matches what a patch throws (typeinfo is compared by address).
//! A plain host exports the app's functions only.

use super::{BuildError, TARGET};
use crate::config::{Config, HostLang};
use crate::home::Home;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The C library functions a HOT_RELOAD host exports to patches.
pub const LIBC_EXPORTS: &str = include_str!("../../../scripts/libc-exports.txt");

/// The export list of one build.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Exports {
    /// Function names without Emscripten's leading underscore, sorted.
    pub functions: BTreeSet<String>,
    /// wasm-ld response files of `--export-if-defined=` lines (Rust std, the C++ ABI).
    pub response_files: Vec<PathBuf>,
}

/// Non-comment, non-empty lines of a list file.
pub fn list_names(text: &str) -> impl Iterator<Item = &str> {
    text.lines()
        .map(|l| l.split('#').next().unwrap_or("").trim())
        .filter(|l| !l.is_empty())
}

/// Every `hotwasm_*` function the ABI header declares.
pub fn abi_functions(header: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for (i, _) in header.match_indices("hotwasm_") {
        let rest = &header[i..];
        let end = rest
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .unwrap_or(rest.len());
        let before = header[..i].chars().next_back();
        let is_call = rest[end..].trim_start().starts_with('(');
        if is_call && !before.is_some_and(|c| c.is_ascii_alphanumeric() || c == '_') {
            out.insert(rest[..end].to_string());
        }
    }
    out
}

/// The export list for `config` in this mode; writes the Rust std response file into `out`.
pub fn plan(config: &Config, home: &Home, hot: bool, out: &Path) -> Result<Exports, BuildError> {
    let mut functions: BTreeSet<String> = config.build.exports.iter().cloned().collect();
    if !hot {
        return Ok(Exports {
            functions,
            response_files: Vec::new(),
        });
    }
    let header_path = home.abi_header();
    let header = std::fs::read_to_string(&header_path)
        .map_err(|e| BuildError::io(format!("reading {}", header_path.display()), e))?;
    functions.extend(abi_functions(&header));
    functions.extend(list_names(LIBC_EXPORTS).map(String::from));
    if super::threads::threaded(config) {
        functions.extend(super::threads::EXPORTS.iter().map(|f| f.to_string()));
    }
    let response_files = match config.app.lang {
        HostLang::Rust => vec![rust_std_exports(home, &config.root, out)?],
        HostLang::Cpp => vec![cxx_abi_exports(home, out)?],
        HostLang::C => Vec::new(),
    };
    Ok(Exports {
        functions,
        response_files,
    })
}

/// `-sEXPORTED_FUNCTIONS` JSON: `["_a","_b"]`.
pub fn exported_functions_json(functions: &BTreeSet<String>) -> String {
    let quoted: Vec<String> = functions.iter().map(|f| format!("\"_{f}\"")).collect();
    format!("[{}]", quoted.join(","))
}

/// Writes `--export-if-defined=` for every extern symbol the toolchain's std rlibs define (and
/// the allocator shim symbols they reference) to `<out>/rust-std-exports.rsp`; reused while
/// the rlibs are older than it.
fn rust_std_exports(home: &Home, app_root: &Path, out: &Path) -> Result<PathBuf, BuildError> {
    let file = out.join("rust-std-exports.rsp");
    let libdir = Command::new("rustc")
        .current_dir(app_root)
        .args(["--print", "target-libdir", "--target", TARGET])
        .output()
        .map_err(|e| BuildError::io("running rustc --print target-libdir".into(), e))?;
    let libdir = PathBuf::from(String::from_utf8_lossy(&libdir.stdout).trim());
    let prefixes = [
        "libstd-",
        "libcore-",
        "liballoc-",
        "libhashbrown-",
        "librustc_demangle-",
        "libpanic_unwind-",
    ];
    let mut rlibs: Vec<PathBuf> = std::fs::read_dir(&libdir)
        .map_err(|e| BuildError::io(format!("reading {}", libdir.display()), e))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            let n = p.file_name().unwrap_or_default().to_string_lossy();
            n.ends_with(".rlib") && prefixes.iter().any(|pre| n.starts_with(pre))
        })
        .collect();
    rlibs.sort();
    let newest = rlibs
        .iter()
        .filter_map(|r| r.metadata().and_then(|m| m.modified()).ok())
        .max();
    let current = file.metadata().and_then(|m| m.modified()).ok();
    if let (Some(newest), Some(current)) = (newest, current) {
        if current >= newest {
            return Ok(file);
        }
    }
    let nm = crate::toolchain::require(home, "llvm-nm-19")?;
    let mut symbols = BTreeSet::new();
    for (flag, rustc_only) in [("--defined-only", false), ("--undefined-only", true)] {
        let listed = Command::new(&nm)
            .args([flag, "--extern-only", "-j"])
            .args(&rlibs)
            .output()
            .map_err(|e| BuildError::io(format!("running {}", nm.display()), e))?;
        for line in String::from_utf8_lossy(&listed.stdout).lines() {
            let line = line.trim();
            if line.is_empty() || line.ends_with(':') {
                continue;
            }
            // Undefined ones: only the allocator shim (`__rustc::__rust_alloc` and friends).
            if !rustc_only || line.contains("7___rustc") {
                symbols.insert(line.to_string());
            }
        }
    }
    let text: String = symbols
        .iter()
        .map(|s| format!("--export-if-defined={s}\n"))
        .collect();
    super::write_atomically(&file, text.as_bytes())?;
    Ok(file)
}

/// Writes `--export-if-defined=` for every symbol of the C++ exception runtime a C++ host
/// exports to patches ([`crate::compile::cpp::libraries::host_abi_exports`], the one list and
/// reader the patch compiler uses too) to `<out>/cxx-abi-exports.rsp` (once; the archives are
/// Emscripten's PIC, wasm-exceptions variants, built into its cache first if they are not there).
fn cxx_abi_exports(home: &Home, out: &Path) -> Result<PathBuf, BuildError> {
    use crate::compile::cpp::libraries::{host_abi_exports, HOST_ABI_MEMBERS};
    let file = out.join("cxx-abi-exports.rsp");
    if file.is_file() {
        return Ok(file);
    }
    let cache = Command::new(crate::toolchain::require(home, "em-config")?)
        .arg("CACHE")
        .output()
        .map_err(|e| BuildError::io("running em-config CACHE".into(), e))?;
    let libdir = PathBuf::from(String::from_utf8_lossy(&cache.stdout).trim())
        .join("sysroot/lib/wasm32-emscripten/pic");
    if HOST_ABI_MEMBERS
        .iter()
        .any(|(lib, _)| !libdir.join(format!("lib{lib}.a")).is_file())
    {
        super::say("embuilder build libc++abi-except libunwind-except --pic (once)");
        let mut cmd = Command::new(crate::toolchain::require(home, "embuilder")?);
        cmd.args(["build", "libc++abi-except", "libunwind-except", "--pic"]);
        super::run(&mut cmd, "embuilder", ": see its output above")?;
    }
    let symbols = host_abi_exports(&[libdir]).map_err(|e| BuildError::Config(e.to_string()))?;
    let text: String = symbols
        .iter()
        .map(|s| format!("--export-if-defined={s}\n"))
        .collect();
    super::write_atomically(&file, text.as_bytes())?;
    Ok(file)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn abi_functions_are_the_declared_hotwasm_calls_only() {
        let header = "int32_t hotwasm_apply(const char *p);\n#define HOTWASM_X 1\nvoid **hotwasm_slot(const char *n,\n  const char *s);\ntypedef struct hotwasm_thing hotwasm_thing;\n/* see hotwasm_apply */\nint32_t my_hotwasm_fake(void);\n";
        let got: Vec<String> = abi_functions(header).into_iter().collect();
        assert_eq!(got, vec!["hotwasm_apply", "hotwasm_slot"]);
    }

    #[test]
    fn the_real_abi_header_declares_the_registry_functions() {
        let header = include_str!("../../../abi/include/hotwasm.h");
        let got = abi_functions(header);
        for f in ["hotwasm_apply", "hotwasm_slot", "hotwasm_list_json"] {
            assert!(got.contains(f), "{f} not in {got:?}");
        }
    }

    #[test]
    fn list_files_skip_comments_and_blank_lines() {
        let names: Vec<&str> = list_names("# c\nmalloc\n\n  free  # why\n").collect();
        assert_eq!(names, vec!["malloc", "free"]);
        assert!(list_names(LIBC_EXPORTS).any(|n| n == "printf"));
    }

    #[test]
    fn exported_functions_get_emscriptens_underscore() {
        let f: BTreeSet<String> = ["b", "a"].iter().map(|s| s.to_string()).collect();
        assert_eq!(exported_functions_json(&f), r#"["_a","_b"]"#);
    }
}
