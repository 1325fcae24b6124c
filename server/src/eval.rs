//! One eval from source to every page; file-watch compiles take the same path. The steps:
//! 1. `Source::read`: the text and where it compiles (a client's text in a fresh temp dir,
//!    a saved C file where it lies so its includes resolve);
//! 2. `compile`: in a compile slot, C or Rust to a linked SIDE_MODULE;
//! 3. **under the journal lock** (so the sequence number is ours and a page that connects now
//!    gets the entry exactly once): `check` renames the patch's functions to versioned
//!    symbols, reads it and checks it against the host manifest (its vars, exports and the
//!    layouts of the types it shares, [`crate::layout`]) and earlier patches, then
//!    [`Hub::deliver`] journals it and queues it for every page;
//! 4. `report_acks`: waits for every page's ack and reports per-page outcomes and timings.
//!
//! Each step returns the finished [`Outcome`] as its error, so a failure stops the story there.

use crate::compile::{
    rename::rename_exports, statements, CSource, CompileError, Compiled, Compiler,
};
use crate::hub::{AckInfo, Hub, State, Ticket};
use crate::inspect;
use crate::journal::EntryKind;
use crate::protocol::{Diagnostic, Lang, PageOutcome, ServerMsg, Stage, Timings};
use crate::security::ACK_TIMEOUT;
use hotwasm_abi::{versioned_symbol, HostManifest, PatchManifest};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

/// Where the source comes from.
pub enum Input {
    /// Text sent by a client, compiled as `name` in a temp dir.
    Text {
        /// The source.
        source: String,
        /// The file name shown in diagnostics.
        name: String,
    },
    /// A project file (path relative to the root), compiled where it lies.
    File(String),
}

/// The outcome, as the fields of `eval_result`.
#[derive(Debug, Default)]
pub struct Outcome {
    /// Whether every page applied it.
    pub ok: bool,
    /// How far it got.
    pub stage: Option<Stage>,
    /// Parsed diagnostics (warnings on success).
    pub diagnostics: Vec<Diagnostic>,
    /// Compiler stderr word for word.
    pub raw_output: String,
    /// What went wrong.
    pub error: Option<String>,
    /// Where the time went.
    pub timings: Timings,
    /// Each page's outcome.
    pub pages: Vec<PageOutcome>,
    /// The journal entry.
    pub seq: Option<u64>,
}

/// An eval that stopped at a step: its finished outcome (boxed: it is large).
type Stopped = Box<Outcome>;

impl Outcome {
    fn failed(stage: Stage, error: String) -> Stopped {
        Box::new(Outcome {
            stage: Some(stage),
            error: Some(error),
            ..Outcome::default()
        })
    }

    /// This outcome so far (timings, warnings) as a failure at `stage`.
    fn fail(&mut self, stage: Stage, error: String) -> Stopped {
        let mut o = Box::new(std::mem::take(self));
        o.stage = Some(stage);
        o.error = Some(error);
        o
    }

    /// As the `eval_result` answering eval `id`.
    pub fn into_result(self, id: String) -> ServerMsg {
        ServerMsg::EvalResult {
            id,
            ok: self.ok,
            stage: self.stage.unwrap_or(Stage::Done),
            diagnostics: self.diagnostics,
            raw_output: self.raw_output,
            error: self.error,
            timings: self.timings,
            pages: self.pages,
            seq: self.seq,
        }
    }
}

fn ms(since: Instant) -> f64 {
    since.elapsed().as_secs_f64() * 1000.0
}

/// The refusal of a Rust patch importing `raw`, which the host does not export: the symbol
/// demangled and raw, and how to make the host (configured by `config`) export it.
pub fn missing_rust_export(raw: &str, config: &std::path::Path) -> String {
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

/// Runs one eval to the end. `ticket` is its place in the compile queue.
pub fn run(
    hub: &Arc<Hub>,
    ticket: Ticket,
    lang: Lang,
    input: Input,
    eval_id: Option<String>,
) -> Outcome {
    let started = Instant::now();
    let mut out = compile_and_deliver(hub, ticket, lang, input, eval_id).unwrap_or_else(|o| *o);
    out.timings.total_ms = ms(started);
    out
}

fn compile_and_deliver(
    hub: &Arc<Hub>,
    mut ticket: Ticket,
    lang: Lang,
    input: Input,
    eval_id: Option<String>,
) -> Result<Outcome, Stopped> {
    let compiler = hub
        .compiler
        .as_ref()
        .map_err(|e| Outcome::failed(Stage::Compile, e.clone()))?;
    let work = tempfile::Builder::new()
        .prefix("hotwasm-eval")
        .tempdir()
        .map_err(|e| Outcome::failed(Stage::Compile, CompileError::Io(e).to_string()))?;
    let source = Source::read(hub, lang, input, work.path())?;
    let host = hub.host().map_err(|e| Outcome::failed(Stage::Check, e))?;
    let (compiled, mut base) = compile(compiler, &mut ticket, lang, &source, work.path(), &host)?;
    let mut state = hub.lock();
    let check_started = Instant::now();
    let checked = check(&mut state, lang, compiled, &host, &hub.config_file);
    base.timings.check_ms = ms(check_started);
    let (wasm, checked) = checked.map_err(|e| base.fail(Stage::Check, e))?;
    base.diagnostics
        .extend(pending_warnings(&checked.pending, &source));
    let kind = EntryKind::Patch {
        manifest: PatchManifest {
            entries: checked.entries,
        },
        run: checked.run,
        source: source.text,
        lang,
        name: source.name,
        wasm: Arc::new(wasm),
    };
    let sent = Instant::now();
    let delivered = hub.deliver(&mut state, kind, eval_id, None);
    drop(state);
    let (entry, pages) = delivered.map_err(|e| base.fail(Stage::Deliver, e.to_string()))?;
    base.seq = Some(entry.seq);
    crate::vars::refresh(hub);
    let acks = hub.collect_acks(entry.seq, &pages);
    Ok(report_acks(base, &pages, &acks, sent))
}

/// An eval's source: its text, the name diagnostics use, and how the compiler is given it.
struct Source {
    text: String,
    name: String,
    /// The directory C compiles in (the file's own project for a saved file).
    cwd: PathBuf,
    /// The input path handed to the compiler (relative to `cwd`).
    input: String,
}

impl Source {
    /// Reads a saved file, or writes a client's C/C++ text into `work` for the compiler (at
    /// its name, which may be the app-relative path of the file it stands for).
    fn read(hub: &Hub, lang: Lang, input: Input, work: &Path) -> Result<Source, Stopped> {
        let fail = |e: String| Outcome::failed(Stage::Compile, e);
        match input {
            Input::Text { source, name } => {
                if lang != Lang::Rust {
                    let file = work.join(&name);
                    file.parent()
                        .map_or(Ok(()), std::fs::create_dir_all)
                        .and_then(|_| std::fs::write(&file, &source))
                        .map_err(|e| fail(CompileError::Io(e).to_string()))?;
                }
                Ok(Source {
                    text: source,
                    input: name.clone(),
                    name,
                    cwd: work.to_path_buf(),
                })
            }
            Input::File(rel) => {
                let text = read_saved(&hub.root, &rel).map_err(fail)?;
                let cwd = if lang == Lang::Rust {
                    work.to_path_buf()
                } else {
                    hub.root.clone()
                };
                Ok(Source {
                    text,
                    input: rel.clone(),
                    name: rel,
                    cwd,
                })
            }
        }
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

/// Compiles in a compile slot; on success also the outcome so far (warnings, compile time).
fn compile(
    compiler: &Compiler,
    ticket: &mut Ticket,
    lang: Lang,
    source: &Source,
    work: &Path,
    host: &HostManifest,
) -> Result<(Compiled, Outcome), Stopped> {
    let started = Instant::now();
    let compiled = {
        let _slot = ticket.wait();
        compile_source(compiler, lang, source, work, host)
    };
    let compile_ms = ms(started);
    match compiled {
        Ok(mut compiled) => {
            let base = Outcome {
                diagnostics: std::mem::take(&mut compiled.diagnostics),
                raw_output: std::mem::take(&mut compiled.stderr),
                timings: Timings {
                    compile_ms,
                    ..Timings::default()
                },
                ..Outcome::default()
            };
            Ok((compiled, base))
        }
        Err(e) => {
            let mut o = Outcome::failed(Stage::Compile, e.to_string());
            if let CompileError::Failed {
                diagnostics,
                stderr,
            } = e
            {
                o.diagnostics = diagnostics;
                o.raw_output = stderr;
            }
            o.timings.compile_ms = compile_ms;
            Err(o)
        }
    }
}

/// Compiles a client's `text` (diagnostics name it `name`) in the directory `work` exactly as
/// an eval does: statements and a trailing expression run once after apply (see
/// [`statements`]), definitions only compile as written.
pub fn compile_client_text(
    compiler: &Compiler,
    lang: Lang,
    text: &str,
    name: &str,
    work: &Path,
    host: &HostManifest,
) -> Result<Compiled, CompileError> {
    if lang != Lang::Rust {
        let file = work.join(name);
        file.parent()
            .map_or(Ok(()), std::fs::create_dir_all)
            .and_then(|_| std::fs::write(&file, text))
            .map_err(CompileError::Io)?;
    }
    let source = Source {
        text: text.to_string(),
        name: name.to_string(),
        cwd: work.to_path_buf(),
        input: name.to_string(),
    };
    compile_source(compiler, lang, &source, work, host)
}

/// How a client's C/C++ text is compiled: whether its trailing expression's value is held, and
/// whether the generated header of current vars is included first (see [`with_vars_context`]).
#[derive(Clone, Copy)]
struct Wrapping {
    value: bool,
    vars_context: bool,
}

/// [`compile_text`], again without the value when the trailing expression is `void` (it has
/// no value to hold, so it runs as a statement), again without the vars context when the
/// generated header is what failed (it is a convenience: the user's own text decides), and
/// again for a C client text whose globals have initializers that are not constant (they are
/// assigned when the eval runs instead).
fn compile_source(
    compiler: &Compiler,
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
        let result = compile_text(compiler, lang, source, work, host, how, &dynamic);
        match &result {
            Err(CompileError::Failed { stderr, .. })
                if how.value && statements::failed_for_void_value(stderr) =>
            {
                how.value = false
            }
            Err(CompileError::Failed { stderr, .. })
                if how.vars_context && stderr.contains(crate::vars::HEADER) =>
            {
                how.vars_context = false
            }
            Err(CompileError::Failed { diagnostics, .. })
                if lang == Lang::C && dynamic.is_empty() && source.cwd == work =>
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

/// A client's C/C++ `text` (named `file` in diagnostics) with the generated header of current
/// vars included first, so an eval calls an earlier eval's function or uses its global without
/// declaring it again (a REPL's evals build on each other). What the eval itself declares or
/// defines is left out of the header (its `HOTWASM_OWN_<name>` guard), so a redefinition with a
/// new signature reaches the check, which names both. `#line 1` keeps the user's lines.
fn with_vars_context(text: &str, file: &str) -> String {
    let mut out = String::with_capacity(text.len() + 128);
    for name in statements::top_level(text).names {
        out.push_str(&format!("#define {} 1\n", crate::vars::own_guard(&name)));
    }
    let file_lit = file.replace('\\', "\\\\").replace('"', "\\\"");
    out.push_str(&format!(
        "#include <{}>\n#line 1 \"{file_lit}\"\n",
        crate::vars::HEADER
    ));
    out.push_str(text);
    out
}

/// Compiles `source`; a client's text with statements or a trailing expression is first
/// rewritten ([`statements`]) so they run once after apply (`value`: the trailing
/// expression's value is printed) and written over the work file; saved files compile as
/// they are.
fn compile_text(
    compiler: &Compiler,
    lang: Lang,
    source: &Source,
    work: &Path,
    host: &HostManifest,
    how: Wrapping,
    dynamic_lines: &[u32],
) -> Result<Compiled, CompileError> {
    let client_text = source.cwd == work;
    let rewritten = match lang {
        _ if !client_text => None,
        Lang::Rust => statements::rust(&source.text),
        Lang::C | Lang::Cpp => {
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
            text
        }
    };
    let text = rewritten.as_deref().unwrap_or(&source.text);
    match lang {
        Lang::Rust => {
            let mut compiled = compiler.compile_rust(text, &source.input, work, host);
            if rewritten.is_some() {
                match &mut compiled {
                    Ok(c) => statements::unshift_rust_columns(&mut c.diagnostics, &source.input),
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
                compiler.compile_cpp(src, work, host)
            } else {
                compiler.compile(src, work, host)
            }
        }
    }
}

/// Under the journal lock: renames the patch's functions to versioned symbols of the next
/// sequence number, reads the patch and checks it against the host and earlier patches.
fn check(
    state: &mut State,
    lang: Lang,
    compiled: Compiled,
    host: &HostManifest,
    config_file: &Path,
) -> Result<(Vec<u8>, inspect::Checked), String> {
    crate::layout::check(&host.layouts, &compiled.layouts)?;
    let seq = state.journal.next_seq();
    let renames: HashMap<String, String> = compiled
        .defined
        .iter()
        .map(|n| (n.clone(), versioned_symbol(n, seq)))
        .collect();
    let wasm = rename_exports(&compiled.wasm, &renames).map_err(|e| e.to_string())?;
    let shape = inspect::read_patch(&wasm).map_err(|e| e.to_string())?;
    let known = state.known();
    let checked = inspect::check(
        &shape,
        &compiled.defined,
        &compiled.plan,
        |n| versioned_symbol(n, seq),
        host,
        &known,
    )
    .map_err(|e| match (lang, e) {
        (Lang::Rust, inspect::InspectError::UnknownImport { symbol, .. }) => {
            missing_rust_export(&symbol, config_file)
        }
        (_, e) => e.to_string(),
    })?;
    Ok((wasm, checked))
}

/// A warning for each var the patch calls that nothing defines yet (a forward declaration, as
/// in mutual recursion across evals), at the first line of the source that names it.
fn pending_warnings(pending: &[String], source: &Source) -> Vec<Diagnostic> {
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

/// Fills `base` with each page's ack (or its silence), the apply and transfer times and the
/// verdict: applied only if every page applied it.
fn report_acks(
    mut base: Outcome,
    pages: &[u64],
    acks: &HashMap<u64, AckInfo>,
    sent: Instant,
) -> Outcome {
    let mut last_ack = sent;
    for page in pages {
        let outcome = match acks.get(page) {
            Some(a) => {
                last_ack = last_ack.max(a.at);
                PageOutcome {
                    page: *page,
                    ok: a.ok,
                    apply_ms: a.apply_ms,
                    error: a.error.clone(),
                    output: a.output.clone(),
                    value: a.value.clone(),
                }
            }
            None => PageOutcome {
                page: *page,
                ok: false,
                apply_ms: 0.0,
                error: Some(format!("no ack within {} s", ACK_TIMEOUT.as_secs())),
                output: String::new(),
                value: None,
            },
        };
        base.pages.push(outcome);
    }
    let apply_ms = base.pages.iter().map(|p| p.apply_ms).fold(0.0, f64::max);
    base.timings.apply_ms = apply_ms;
    base.timings.transfer_ms = ((last_ack - sent).as_secs_f64() * 1000.0 - apply_ms).max(0.0);
    base.ok = base.pages.iter().all(|p| p.ok);
    base.stage = Some(if base.ok { Stage::Done } else { Stage::Deliver });
    if !base.ok {
        let failed: Vec<String> = base
            .pages
            .iter()
            .filter(|p| !p.ok)
            .map(|p| {
                format!(
                    "page {}: {}",
                    p.page,
                    p.error.as_deref().unwrap_or("failed")
                )
            })
            .collect();
        base.error = Some(format!(
            "not applied everywhere ({}); the old code keeps running there",
            failed.join("; ")
        ));
    }
    base
}
