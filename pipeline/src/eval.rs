//! One eval's text → a checked patch, the pipeline's entry point. Two steps, because the server
//! runs the second under its journal lock (the sequence number must be the journal's next):
//! 1. [`Compiler::compile_eval`]: a client's text is rewritten so its statements and trailing
//!    expression run once after apply ([`crate::compile::statements`]), the generated vars header
//!    is included first ([`crate::vars_header`]), and the compile is retried without what failed
//!    (the value of a `void` expression, the vars header, constant initializers of C globals);
//!    a saved file compiles as it is;
//! 2. [`check`]: the layouts the patch shares with the host are compared ([`crate::layout`]), its
//!    functions are renamed to versioned symbols of that sequence number
//!    ([`crate::compile::rename`]), and it is read and checked against the host manifest and
//!    what earlier patches defined ([`crate::inspect`]).

use crate::compile::{
    rename::rename_exports, statements, CSource, CompileError, Compiled, Compiler,
};
use crate::inspect::{self, Known};
use crate::{vars_header, Diagnostic, Lang};
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

/// How a client's C/C++ text is compiled: whether its trailing expression's value is held, and
/// whether the generated header of current vars is included first (see [`with_vars_context`]).
#[derive(Clone, Copy)]
struct Wrapping {
    value: bool,
    vars_context: bool,
}

impl Compiler {
    /// Compiles an eval's `source` in the directory `work`: `Compiler::compile_text`, again
    /// without the value when the trailing expression is `void` (it has no value to hold, so it
    /// runs as a statement), again without the vars context when the generated header is what
    /// failed (it is a convenience: the user's own text decides), and again for a C client text
    /// whose globals have initializers that are not constant (they are assigned when the eval
    /// runs instead).
    pub fn compile_eval(
        &self,
        lang: Lang,
        source: &Source,
        work: &Path,
        host: &HostManifest,
    ) -> Result<Compiled, CompileError> {
        let mut how = Wrapping {
            value: true,
            vars_context: true,
        };
        let mut dynamic: Vec<u32> = Vec::new();
        loop {
            let result = self.compile_text(lang, source, work, host, how, &dynamic);
            match &result {
                Err(CompileError::Failed { stderr, .. })
                    if how.value && statements::failed_for_void_value(stderr) =>
                {
                    how.value = false
                }
                Err(CompileError::Failed { stderr, .. })
                    if how.vars_context && stderr.contains(vars_header::HEADER) =>
                {
                    how.vars_context = false
                }
                Err(CompileError::Failed { diagnostics, .. })
                    if lang == Lang::C && dynamic.is_empty() && source.is_client_text(work) =>
                {
                    dynamic = statements::non_constant_initializers(diagnostics, &source.input);
                    if dynamic.is_empty() {
                        return result;
                    }
                }
                _ => return result,
            }
        }
    }

    /// Compiles `source`; a client's text with statements or a trailing expression is first
    /// rewritten ([`statements`]) so they run once after apply (`value`: the trailing
    /// expression's value is printed) and written over the work file; saved files compile as
    /// they are.
    fn compile_text(
        &self,
        lang: Lang,
        source: &Source,
        work: &Path,
        host: &HostManifest,
        how: Wrapping,
        dynamic_lines: &[u32],
    ) -> Result<Compiled, CompileError> {
        let client_text = source.is_client_text(work);
        if lang == Lang::Rust && client_text {
            return self.compile_rust_eval(
                &source.text,
                &source.input,
                &source.earlier_rust,
                work,
                host,
            );
        }
        let rewritten = match lang {
            _ if !client_text => None,
            Lang::Rust => statements::rust(&source.text),
            Lang::C | Lang::Cpp => rewrite_c_family(lang, source, work, how, dynamic_lines)?,
        };
        let text = rewritten.as_deref().unwrap_or(&source.text);
        match lang {
            Lang::Rust => {
                let mut compiled = self.compile_rust(text, &source.input, work, host);
                if rewritten.is_some() {
                    match &mut compiled {
                        Ok(c) => {
                            statements::unshift_rust_columns(&mut c.diagnostics, &source.input)
                        }
                        Err(CompileError::Failed { diagnostics, .. }) => {
                            statements::unshift_rust_columns(diagnostics, &source.input)
                        }
                        Err(_) => {}
                    }
                }
                compiled
            }
            Lang::C | Lang::Cpp => {
                let src = CSource {
                    cwd: &source.cwd,
                    input: &source.input,
                    text,
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

/// A client's C/C++ text with its statements wrapped and the vars context included (as `how`
/// says), written over its work file; `None` when it compiles as written.
fn rewrite_c_family(
    lang: Lang,
    source: &Source,
    work: &Path,
    how: Wrapping,
    dynamic_lines: &[u32],
) -> Result<Option<String>, CompileError> {
    let text = statements::c_family_with(
        &source.text,
        &source.input,
        lang == Lang::Cpp,
        how.value,
        dynamic_lines,
    );
    let text = match (how.vars_context, text) {
        (true, text) => Some(with_vars_context(
            text.as_deref().unwrap_or(&source.text),
            &source.input,
        )),
        (false, text) => text,
    };
    // Always written: an earlier attempt may have left another text there.
    let written = text.as_deref().unwrap_or(&source.text);
    std::fs::write(work.join(&source.input), written).map_err(CompileError::Io)?;
    Ok(text)
}

/// A client's C/C++ `text` (named `file` in diagnostics) with the generated header of current
/// vars included first, so an eval calls an earlier eval's function or uses its global without
/// declaring it again (a REPL's evals build on each other). What the eval itself declares or
/// defines is left out of the header (its `HOTWASM_OWN_<name>` guard), so a redefinition with a
/// new signature reaches the check, which names both. `#line 1` keeps the user's lines.
fn with_vars_context(text: &str, file: &str) -> String {
    let mut out = String::with_capacity(text.len() + 128);
    for name in statements::top_level(text).names {
        out.push_str(&format!("#define {} 1\n", vars_header::own_guard(&name)));
    }
    let file_lit = file.replace('\\', "\\\\").replace('"', "\\\"");
    out.push_str(&format!(
        "#include <{}>\n#line 1 \"{file_lit}\"\n",
        vars_header::HEADER
    ));
    out.push_str(text);
    out
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
