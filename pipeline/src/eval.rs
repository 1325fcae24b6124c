//! One eval's text → a checked patch, the pipeline's entry point. Two steps, because the server
//! runs the second under its journal lock (the sequence number must be the journal's next):
//! 1. [`Compiler::compile_eval`]: a saved file, or a client's C/C++ text standing for one,
//!    compiles as it is; a client's Rust text compiles as an eval of the Rust session
//!    ([`crate::compile::rust_eval`]). C and C++ console text goes to an incremental clang session
//!    in the server, whose parser tells statements and the trailing value apart;
//! 2. [`check`]: the layouts the patch shares with the host are compared ([`crate::layout`]), its
//!    functions are renamed to versioned symbols of that sequence number
//!    ([`crate::compile::rename`]), and it is read and checked against the host manifest and
//!    what earlier patches defined ([`crate::inspect`]).

use crate::compile::{rename::rename_exports, CSource, CompileError, Compiled, Compiler};
use crate::inspect::{self, Known};
use crate::{Diagnostic, Lang};
use hotwasm_abi::{versioned_symbol, HostManifest};
use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// An eval's source: its text, the name diagnostics use, and how the compiler is given it.
#[derive(Debug, Clone)]
pub struct Source {
    /// The text.
    pub text: String,
    /// The file name diagnostics use.
    pub name: String,
    /// The directory C compiles in (the file's own project for a saved file).
    pub cwd: PathBuf,
    /// The input path handed to the compiler (relative to `cwd`).
    pub input: String,
    /// The texts of the session's earlier Rust evals, in order: a Rust client text compiles
    /// after them and can use their items ([`crate::compile::rust_eval`]).
    pub earlier_rust: Vec<String>,
}

impl Source {
    /// A client's `text`, compiled as `name` in the fresh directory `work`; C and C++ text is
    /// written there at its name (which may be the app-relative path of the file it stands for).
    pub fn client_text(
        lang: Lang,
        text: String,
        name: String,
        work: &Path,
    ) -> Result<Source, CompileError> {
        if lang != Lang::Rust {
            let file = work.join(&name);
            file.parent()
                .map_or(Ok(()), std::fs::create_dir_all)
                .and_then(|_| std::fs::write(&file, &text))
                .map_err(CompileError::Io)?;
        }
        Ok(Source {
            text,
            input: name.clone(),
            name,
            cwd: work.to_path_buf(),
            earlier_rust: Vec::new(),
        })
    }

    /// The saved project file `rel` (relative to `root`): C and C++ compile where it lies, so its
    /// includes resolve; Rust in `work`.
    pub fn saved_file(lang: Lang, root: &Path, rel: String, work: &Path) -> Result<Source, String> {
        let text = read_saved(root, &rel)?;
        let cwd = if lang == Lang::Rust {
            work.to_path_buf()
        } else {
            root.to_path_buf()
        };
        Ok(Source {
            text,
            input: rel.clone(),
            name: rel,
            cwd,
            earlier_rust: Vec::new(),
        })
    }

    /// Whether this is a client's text (compiled in the work dir), not a saved file.
    fn is_client_text(&self, work: &Path) -> bool {
        self.cwd == work
    }
}

/// The text of the saved file `rel` (relative to `root`), or why it cannot be compiled: gone,
/// unreadable, or not UTF-8 text (naming the first bad byte and where it is).
fn read_saved(root: &Path, rel: &str) -> Result<String, String> {
    let bytes = std::fs::read(root.join(rel)).map_err(|e| format!("cannot read {rel}: {e}"))?;
    String::from_utf8(bytes).map_err(|e| {
        let at = e.utf8_error().valid_up_to();
        let bytes = e.as_bytes();
        let line = bytes[..at].iter().filter(|b| **b == b'\n').count() + 1;
        format!(
            "{rel} is not UTF-8 text (byte 0x{:02x} at offset {at}, line {line}), so it was not compiled: save it as UTF-8",
            bytes[at]
        )
    })
}

impl Compiler {
    /// Compiles an eval's `source` in the directory `work`. A client's Rust text compiles as an
    /// eval of the session of earlier Rust evals ([`Compiler::compile_rust_eval`]); C and C++
    /// compile as the file they are or stand for, as written: clang tells their statements and
    /// trailing value apart in an incremental session (the server's), never this pipeline.
    pub fn compile_eval(
        &self,
        lang: Lang,
        source: &Source,
        work: &Path,
        host: &HostManifest,
    ) -> Result<Compiled, CompileError> {
        let client_text = source.is_client_text(work);
        match lang {
            Lang::Rust if client_text => self.compile_rust_eval(
                &source.text,
                &source.input,
                &source.earlier_rust,
                work,
                host,
            ),
            Lang::Rust => self.compile_rust(&source.text, &source.input, work, host),
            Lang::C | Lang::Cpp => {
                let src = CSource {
                    cwd: &source.cwd,
                    input: &source.input,
                    text: &source.text,
                    stands_for: client_text.then_some(source.name.as_str()),
                };
                if lang == Lang::Cpp {
                    self.compile_cpp(src, work, host)
                } else {
                    self.compile(src, work, host)
                }
            }
        }
    }
}

/// Checks a compiled patch as journal entry `seq`: compares the layouts it shares with `host`,
/// renames its functions to versioned symbols of `seq`, reads the renamed patch and checks it
/// against `host` and what earlier patches defined (`known`). `config_file` is the app's
/// hotwasm.toml, which a refusal names. Returns the renamed patch and what the check found.
pub fn check(
    lang: Lang,
    compiled: &Compiled,
    seq: u64,
    host: &HostManifest,
    known: &Known,
    config_file: &Path,
) -> Result<(Vec<u8>, inspect::Checked), String> {
    check_eval(lang, compiled, seq, host, known, config_file, false)
}

/// [`check`] for an eval whose compiler reported that it `declares` something later evals use
/// (a type, a macro, a prototype: an incremental session keeps them): such an eval is accepted
/// even when its patch defines and runs nothing, so the journal keeps it and a replay declares
/// it again.
pub fn check_eval(
    lang: Lang,
    compiled: &Compiled,
    seq: u64,
    host: &HostManifest,
    known: &Known,
    config_file: &Path,
    declares: bool,
) -> Result<(Vec<u8>, inspect::Checked), String> {
    crate::layout::check(&host.layouts, &compiled.layouts)?;
    let renames: HashMap<String, String> = compiled
        .defined
        .iter()
        .map(|n| (n.clone(), versioned_symbol(n, seq)))
        .collect();
    let wasm = rename_exports(&compiled.wasm, &renames).map_err(|e| e.to_string())?;
    let shape = inspect::read_patch(&wasm).map_err(|e| e.to_string())?;
    let checked = inspect::check(
        &shape,
        &compiled.defined,
        &compiled.plan,
        |n| versioned_symbol(n, seq),
        host,
        known,
    )
    .or_else(|e| match e {
        inspect::InspectError::Empty if declares => Ok(inspect::Checked {
            entries: Vec::new(),
            run: None,
            pending: Vec::new(),
        }),
        e => Err(e),
    })
    .map_err(|e| match (lang, e) {
        (Lang::Rust, inspect::InspectError::UnknownImport { symbol, .. }) => {
            missing_rust_export(&symbol, config_file)
        }
        (Lang::Rust, e) => {
            crate::compile::rust_paths::demangle_vars(&e.to_string(), &compiled.defined)
        }
        (_, e) => e.to_string(),
    })?;
    Ok((wasm, checked))
}

/// The refusal of a Rust patch importing `raw`, which the host does not export: the symbol
/// demangled and raw, and how to make the host (configured by `config`) export it.
pub fn missing_rust_export(raw: &str, config: &Path) -> String {
    let demangled = format!("{:#}", rustc_demangle::demangle(raw));
    let named = if demangled == raw {
        format!("`{raw}`")
    } else {
        format!("`{demangled}` (symbol `{raw}`)")
    };
    if crate::compile::rust::is_std_symbol(raw, &demangled) {
        format!("the patch uses {named}, which the host does not export, so the patch was not sent. It is part of the standard library: use it somewhere in your host's Rust code so the host links it, then rebuild the host with `hotwasm build --hot`; HOT_RELOAD builds export every std symbol the host links")
    } else {
        format!("the patch uses {named}, which the host does not export, so the patch was not sent: define it in the patch, or add it to [build] exports in {} and rebuild the host with `hotwasm build --hot`", config.display())
    }
}

/// A warning for each var the patch calls that nothing defines yet (a forward declaration, as
/// in mutual recursion across evals), at the first line of the source that names it.
pub fn pending_warnings(pending: &[String], source: &Source) -> Vec<Diagnostic> {
    pending
        .iter()
        .map(|var| {
            let line = source
                .text
                .lines()
                .position(|l| l.contains(var.as_str()))
                .map_or(1, |i| i + 1);
            Diagnostic {
                file: source.name.clone(),
                line: line as u32,
                column: 1,
                severity: "warning".into(),
                message: format!(
                    "`{var}` is declared but no eval defines it yet: calls to it trap until one does"
                ),
            }
        })
        .collect()
}
