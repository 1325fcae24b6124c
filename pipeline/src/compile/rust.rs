//! Rust source → linked SIDE_MODULE: `rustc --emit obj` for `wasm32-unknown-emscripten` (the
//! host's exact toolchain, found from the project's `rust-toolchain.toml`) against the
//! `hotwasm_patch` prelude crate (the app's `[patches] rust_prelude`, compiled once per server
//! run and again when it changes), then linked by the same wasm-ld line as C patches. The patch
//! imports the std functions it uses from the host instead of carrying its own std.
//!
//! The source is compiled as written plus one line appended at its end
//! (`use hotwasm_patch::*;`), so diagnostics point at the user's own lines and columns.

use super::{process, CompileError};
use crate::Diagnostic;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::SystemTime;

/// What the server appends to every Rust patch (after a newline, so line numbers stay).
pub const INJECTED: &str = "#[allow(unused_imports)] use hotwasm_patch::*;\n";

/// The rustc target of the host and its patches.
pub use crate::toolchain::TARGET;

/// Environment variable naming the rustc to use instead of the project's toolchain.
pub const RUSTC_ENV: &str = "HOTWASM_RUSTC";

/// The project's rustc, resolved once.
#[derive(Debug, Clone)]
pub struct Toolchain {
    /// The rustc binary itself (not the rustup proxy).
    pub rustc: PathBuf,
}

impl Toolchain {
    /// Finds rustc: `$HOTWASM_RUSTC`, else the toolchain rustup picks in `root`
    /// (`rustc --print sysroot` run there), so patches use the host's exact compiler.
    pub fn find(root: &Path) -> Result<Toolchain, CompileError> {
        if let Some(explicit) = std::env::var_os(RUSTC_ENV) {
            let p = PathBuf::from(explicit);
            return match which::which(&p) {
                Ok(p) => Ok(Toolchain { rustc: p }),
                Err(_) => Err(CompileError::RustcNotFound(format!(
                    "${RUSTC_ENV} is {} but that is not an executable",
                    p.display()
                ))),
            };
        }
        let proxy = crate::toolchain::find(&["rustc"])
            .ok_or_else(|| CompileError::RustcNotFound("rustc is not on PATH".into()))?;
        let out = Command::new(&proxy)
            .args(["--print", "sysroot"])
            .current_dir(root)
            .output()
            .map_err(|e| CompileError::RustcNotFound(format!("{}: {e}", proxy.display())))?;
        if !out.status.success() {
            return Err(CompileError::RustcNotFound(format!(
                "`rustc --print sysroot` failed: {}",
                String::from_utf8_lossy(&out.stderr).trim()
            )));
        }
        let sysroot = PathBuf::from(String::from_utf8_lossy(&out.stdout).trim());
        let direct = sysroot.join("bin/rustc");
        let rustc = if direct.is_file() { direct } else { proxy };
        if !sysroot.join("lib/rustlib").join(TARGET).is_dir() {
            return Err(CompileError::RustcNotFound(format!(
                "the toolchain at {} has no {TARGET} target (run `rustup target add {TARGET}` in the project)",
                sysroot.display()
            )));
        }
        Ok(Toolchain { rustc })
    }
}

impl Toolchain {
    /// The directory of the target's rlibs (`<sysroot>/lib/rustlib/<target>/lib`).
    pub fn rlib_dir(&self) -> Result<PathBuf, CompileError> {
        let out = Command::new(&self.rustc)
            .args(["--print", "sysroot"])
            .output()
            .map_err(|e| CompileError::RustcNotFound(format!("{}: {e}", self.rustc.display())))?;
        let sysroot = PathBuf::from(String::from_utf8_lossy(&out.stdout).trim());
        Ok(sysroot.join("lib/rustlib").join(TARGET).join("lib"))
    }
}

/// The linker arguments of a Rust patch that links `std` ([`super::rust_std`]): the std objects
/// and wraps, `-Bsymbolic` (the copied std symbols have default visibility and are not exported,
/// so they must bind inside the patch, not through the dynamic linker's GOT), and exports limited
/// to the patch's vars (as for C++), so the linker keeps only what the patch reaches.
///
/// `-Bsymbolic` would also bind a `#[no_mangle]` static the patch defines inside the patch,
/// instead of to the first definition every later patch binds to, so a patch with such a
/// static that needs std code the host lacks is refused, naming both.
pub fn std_linker_args(
    plan: &super::latebind::Plan,
    symbols: &super::object::Symbols,
    std: &super::rust_std::StdLink,
    work: &Path,
) -> Result<Vec<String>, CompileError> {
    if std.objects.is_empty() {
        return Ok(Vec::new());
    }
    let shared = symbols.data.iter().find(|d| d.size.is_some() && !d.private);
    if let Some(global) = shared {
        return Err(CompileError::StdNotLinkable(format!(
            "the patch defines the static `{}`, which later patches share, and also needs standard library code the host does not link ({} symbols); a patch cannot do both yet: move the static into its own eval, or use those std functions in the host's Rust code and rebuild the host with `hotwasm build --hot`",
            global.name, std.copied
        )));
    }
    let keep = work.join("std-wraps.o");
    std::fs::write(&keep, super::rust_std::wrap_object(std)).map_err(CompileError::Io)?;
    let mut args = std.linker_args(&keep);
    args.extend(super::cpp::link_exports(
        plan.defines.iter().map(|v| v.name.as_str()),
        std::iter::empty(),
    ));
    Ok(args)
}

/// Makes every static the patch defines under a user's name (`#[no_mangle]`) a global of the
/// session, as a C global is: listed in the patch's `hotwasm.globals` section, so later patches
/// may declare it (the first definition keeps the one storage; see [`super::latebind`]).
pub fn share_statics(plan: &mut super::latebind::Plan, symbols: &super::object::Symbols) {
    for d in symbols
        .data
        .iter()
        .filter(|d| !d.private && is_user_symbol(&d.name))
    {
        if let Some(size) = d.size {
            plan.globals.push(super::latebind::GlobalDef {
                name: d.name.clone(),
                size,
                ty: String::new(),
                init: String::new(),
            });
        }
    }
}

/// The compiled prelude rlib and what it was built from.
#[derive(Debug)]
struct Prelude {
    src: Option<PathBuf>,
    stamp: Vec<SystemTime>,
    rlib: PathBuf,
    _dir: tempfile::TempDir,
}

/// Builds and caches the prelude rlib.
#[derive(Debug, Default)]
pub struct PreludeCache {
    built: Mutex<Option<Prelude>>,
}

/// The flags every Rust compile shares.
pub fn common_flags(opt_level: &str) -> Vec<String> {
    [
        "--edition",
        "2021",
        "--target",
        TARGET,
        "-C",
        &format!("opt-level={opt_level}"),
        "-C",
        "relocation-model=pic",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect()
}

impl PreludeCache {
    /// The prelude rlib, compiled now if it is missing or its sources changed.
    pub fn rlib(
        &self,
        tc: &Toolchain,
        config: &super::CompilerConfig,
        opt_level: &str,
        limits: process::Limits,
    ) -> Result<PathBuf, CompileError> {
        let root = &config.root;
        let configured = config.rust_prelude.clone();
        let stamp: Vec<SystemTime> = configured
            .iter()
            .cloned()
            .chain([root.join("runtime/src/bindings.rs")])
            .map(|p| {
                std::fs::metadata(p)
                    .and_then(|m| m.modified())
                    .unwrap_or(SystemTime::UNIX_EPOCH)
            })
            .collect();
        let mut built = self.built.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(p) = built.as_ref() {
            if p.src == configured && p.stamp == stamp && p.rlib.is_file() {
                return Ok(p.rlib.clone());
            }
        }
        let dir = tempfile::Builder::new()
            .prefix("hotwasm-prelude")
            .tempdir()
            .map_err(CompileError::Io)?;
        let src = match &configured {
            Some(p) => p.clone(),
            None => {
                // No prelude configured: an empty crate, so `use hotwasm_patch::*;` still resolves.
                let empty = dir.path().join("empty_prelude.rs");
                std::fs::write(&empty, "//! No [patches] rust_prelude in hotwasm.toml.\n")
                    .map_err(CompileError::Io)?;
                empty
            }
        };
        let prelude_error = |why: String| CompileError::Prelude {
            path: match &configured {
                Some(p) => format!("{}, [patches] rust_prelude in hotwasm.toml", p.display()),
                None => {
                    "the empty one used when hotwasm.toml sets no [patches] rust_prelude".into()
                }
            },
            why,
        };
        if !src.is_file() {
            return Err(prelude_error(format!(
                "{} is missing: create it or fix [patches] rust_prelude in hotwasm.toml",
                src.display()
            )));
        }
        let rlib = dir.path().join("libhotwasm_patch.rlib");
        let mut cmd = Command::new(&tc.rustc);
        cmd.args(common_flags(opt_level))
            .args(["--crate-type", "rlib", "--crate-name", "hotwasm_patch"])
            .arg(&src)
            .arg("-o")
            .arg(&rlib)
            .current_dir(root);
        let finished = match process::run(cmd, limits) {
            Ok(f) => f,
            Err(process::RunError::TimedOut) => return Err(CompileError::TimedOut(limits.timeout)),
            Err(process::RunError::Spawn(error)) => {
                return Err(CompileError::Spawn {
                    program: format!("rustc ({})", tc.rustc.display()),
                    error,
                })
            }
        };
        if !finished.status.success() {
            return Err(prelude_error(format!(
                "rustc failed on {}:\n{}",
                src.display(),
                finished.stderr
            )));
        }
        *built = Some(Prelude {
            src: configured,
            stamp,
            rlib: rlib.clone(),
            _dir: dir,
        });
        Ok(rlib)
    }
}

/// A fresh `-C metadata` value per compile: it goes into the hash of every symbol the patch
/// defines itself (its generic instances too), so two patches never export the same mangled
/// name and the dynamic linker's first-definition-wins rule cannot bind one to the other.
pub fn unique_metadata() -> String {
    static N: AtomicU64 = AtomicU64::new(0);
    let nanos = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    format!(
        "hotwasm{}x{nanos:x}x{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    )
}

/// `rustc` compiling `input` (relative to `work`) into `work/patch.o` with its dependency file
/// `work/patch.d`, JSON diagnostics on stderr.
pub fn compile_command(
    tc: &Toolchain,
    opt_level: &str,
    rlib: &Path,
    input: &str,
    work: &Path,
) -> Command {
    let mut cmd = Command::new(&tc.rustc);
    cmd.args(common_flags(opt_level))
        .args([
            "-C",
            "codegen-units=1",
            "-C",
            &format!("metadata={}", unique_metadata()),
            "--crate-type",
            "lib",
            "--crate-name",
            "hotwasm_eval",
            "--error-format=json",
            // An eval's items are there for later evals: that this one does not use them is
            // no news (evcxr is as quiet).
            "-A",
            "dead_code",
            "-A",
            "unused_imports",
            "-A",
            "unused_macros",
        ])
        .arg(format!(
            "--emit=obj={},dep-info={}",
            work.join("patch.o").display(),
            work.join("patch.d").display()
        ))
        .arg("--extern")
        .arg(format!("hotwasm_patch={}", rlib.display()))
        .arg(input)
        .current_dir(work);
    cmd
}

/// The source as compiled: the user's text, a newline if it lacks one, then [`INJECTED`].
pub fn with_prelude(source: &str) -> String {
    let mut s = String::with_capacity(source.len() + INJECTED.len() + 1);
    s.push_str(source);
    if !s.ends_with('\n') {
        s.push('\n');
    }
    s.push_str(INJECTED);
    s
}

/// What the server appends to a patch of an all-hot Rust host, after [`INJECTED`]: the app's
/// functions and statics by path ([`super::rust_host_crate`]), which the patch's own items shadow.
pub const INJECTED_HOST: &str = "#[allow(unused_imports)] use hotwasm_host::*;\n";

/// [`with_prelude`], then [`INJECTED_HOST`].
pub fn with_host_crate(source: &str) -> String {
    let mut s = with_prelude(source);
    s.push_str(INJECTED_HOST);
    s
}

/// rustc's `--error-format=json` stderr: the diagnostics (at their primary span) and the text
/// rustc would have printed (every `rendered` field, plus any non-JSON line).
pub fn parse_json_diagnostics(stderr: &str) -> (Vec<Diagnostic>, String) {
    let mut diagnostics = Vec::new();
    let mut raw = String::new();
    for line in stderr.lines() {
        let Ok(v) = serde_json::from_str::<serde_json::Value>(line) else {
            raw.push_str(line);
            raw.push('\n');
            continue;
        };
        if let Some(r) = v.get("rendered").and_then(|r| r.as_str()) {
            raw.push_str(r);
        }
        let level = v.get("level").and_then(|l| l.as_str()).unwrap_or("error");
        let severity = if level.starts_with("error") {
            "error"
        } else if level == "failure-note" || level == "help" {
            "note"
        } else {
            level
        };
        let message = v
            .get("message")
            .and_then(|m| m.as_str())
            .unwrap_or_default();
        let spans = v.get("spans").and_then(|s| s.as_array());
        let primary = spans.and_then(|s| {
            s.iter()
                .find(|s| s["is_primary"].as_bool() == Some(true))
                .or_else(|| s.first())
        });
        let Some(span) = primary else {
            continue;
        };
        let mut message = message.to_string();
        if let Some(label) = span["label"].as_str().filter(|l| !l.is_empty()) {
            message = format!("{message}: {label}");
        }
        diagnostics.push(Diagnostic {
            file: span["file_name"].as_str().unwrap_or_default().to_string(),
            line: span["line_start"].as_u64().unwrap_or(1) as _,
            column: span["column_start"].as_u64().unwrap_or(1) as _,
            severity: severity.to_string(),
            message,
        });
    }
    (diagnostics, raw)
}

/// Whether `name` is what a user's `#[no_mangle]` function can be called: a C identifier that is
/// not a Rust mangled name (`_R…` v0, `_ZN…` legacy).
pub fn is_user_symbol(name: &str) -> bool {
    let mut chars = name.chars();
    let first_ok = chars
        .next()
        .is_some_and(|c| c == '_' || c.is_ascii_alphabetic());
    // A Rust eval calls its own vars through their trampolines (`__wrap_<var>`, which the link
    // defines): not vars of their own.
    let mangled_or_internal = ["_ZN", "__rust", "__wrap_"]
        .iter()
        .any(|p| name.starts_with(p))
        || (name.starts_with("_R") && name[2..].starts_with(|c: char| c.is_ascii_uppercase()));
    first_ok && name.chars().all(|c| c == '_' || c.is_ascii_alphanumeric()) && !mangled_or_internal
}

/// Whether a (mangled) symbol belongs to the standard library: the host can be made to export
/// it by using it, whereas other symbols must be listed in `examples/particles/exports.txt`.
pub fn is_std_symbol(raw: &str, demangled: &str) -> bool {
    const STD: [&str; 8] = [
        "std::",
        "core::",
        "alloc::",
        "hashbrown::",
        "<std::",
        "<core::",
        "<alloc::",
        "__rustc::",
    ];
    STD.iter().any(|p| demangled.starts_with(p))
        || demangled.contains(" as core::")
        || demangled.contains(" as std::")
        || demangled.contains(" as alloc::")
        || raw.contains("___rustc")
        || raw.starts_with("__rust_")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_diagnostics_keep_the_users_line_and_column() {
        let stderr = r#"{"$message_type":"diagnostic","message":"cannot find value `y` in this scope","level":"error","spans":[{"file_name":"eval.rs","line_start":3,"column_start":9,"is_primary":true,"label":"not found in this scope"}],"rendered":"error[E0425]: cannot find value `y`\n"}
{"$message_type":"diagnostic","message":"aborting due to 1 previous error","level":"error","spans":[],"rendered":"error: aborting due to 1 previous error\n\n"}
"#;
        let (d, raw) = parse_json_diagnostics(stderr);
        assert_eq!(d.len(), 1);
        assert_eq!(
            (d[0].file.as_str(), d[0].line, d[0].column),
            ("eval.rs", 3, 9)
        );
        assert_eq!(d[0].severity, "error");
        assert!(d[0].message.contains("`y`"));
        assert!(raw.contains("E0425") && raw.contains("aborting"));
    }

    #[test]
    fn only_c_identifiers_that_are_not_mangled_are_user_symbols() {
        assert!(is_user_symbol("background_color"));
        assert!(is_user_symbol("hotwasm_main"));
        assert!(!is_user_symbol(
            "_ZN9hashbrown3raw21RawTable14reserve_rehash17h4d9E"
        ));
        assert!(!is_user_symbol(
            "_RNvNtCs1KjlkYlchP4_9hashbrown3raw19capacity_to_buckets"
        ));
        assert!(!is_user_symbol("a.b"));
        assert!(!is_user_symbol("__wrap_area"), "a trampoline is not a var");
    }

    #[test]
    fn the_prelude_line_is_appended() {
        assert_eq!(
            with_prelude("fn a() {}"),
            format!("fn a() {{}}\n{INJECTED}")
        );
    }
}
