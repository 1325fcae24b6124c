//! One eval from source to every page: compile (in a fresh temp dir, in a compile slot), then
//! under the journal lock rename to versioned symbols, inspect, check against the host
//! manifest, journal and send; then collect acks and report timings. File-watch compiles take
//! the same path.

use crate::compile::{rename::rename_exports, CompileError};
use crate::hub::{Hub, Ticket};
use crate::inspect;
use crate::journal::EntryKind;
use crate::protocol::{Diagnostic, Lang, PageOutcome, ServerMsg, Stage, Timings};
use hotwasm_abi::{versioned_symbol, PatchManifest};
use std::collections::HashMap;
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

impl Outcome {
    fn failed(stage: Stage, error: String) -> Outcome {
        Outcome {
            stage: Some(stage),
            error: Some(error),
            ..Outcome::default()
        }
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
/// demangled and raw, and how to make the host export it.
pub fn missing_rust_export(raw: &str) -> String {
    let demangled = format!("{:#}", rustc_demangle::demangle(raw));
    let named = if demangled == raw {
        format!("`{raw}`")
    } else {
        format!("`{demangled}` (symbol `{raw}`)")
    };
    if crate::compile::rust::is_std_symbol(raw, &demangled) {
        format!("the patch uses {named}, which the host does not export, so the patch was not sent. It is part of the standard library: use it somewhere in the host (e.g. examples/particles/src/hot.rs) so the host links it, then rebuild with `HOT_RELOAD=1 bash scripts/emscripten-bundle.sh`; HOT_RELOAD builds export every std symbol the host links")
    } else {
        format!("the patch uses {named}, which the host does not export, so the patch was not sent: define it in the patch, or add it to examples/particles/exports.txt and rebuild with `HOT_RELOAD=1 bash scripts/emscripten-bundle.sh`")
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
    let mut out = compile_and_deliver(hub, ticket, lang, input, eval_id);
    out.timings.total_ms = ms(started);
    out
}

fn compile_and_deliver(
    hub: &Arc<Hub>,
    ticket: Ticket,
    lang: Lang,
    input: Input,
    eval_id: Option<String>,
) -> Outcome {
    let compiler = match &hub.compiler {
        Ok(c) => c,
        Err(e) => return Outcome::failed(Stage::Compile, e.clone()),
    };
    let work = match tempfile::Builder::new().prefix("hotwasm-eval").tempdir() {
        Ok(w) => w,
        Err(e) => return Outcome::failed(Stage::Compile, CompileError::Io(e).to_string()),
    };
    let (source, name, cwd, input_arg) = match input {
        Input::Text { source, name } if lang == Lang::Rust => {
            (source, name.clone(), work.path().to_path_buf(), name)
        }
        Input::File(rel) if lang == Lang::Rust => {
            let source = match std::fs::read_to_string(hub.root.join(&rel)) {
                Ok(s) => s,
                Err(e) => {
                    return Outcome::failed(Stage::Compile, format!("cannot read {rel}: {e}"))
                }
            };
            (source, rel.clone(), work.path().to_path_buf(), rel)
        }
        Input::Text { source, name } => {
            if let Err(e) = std::fs::write(work.path().join(&name), &source) {
                return Outcome::failed(Stage::Compile, CompileError::Io(e).to_string());
            }
            (source, name.clone(), work.path().to_path_buf(), name)
        }
        Input::File(rel) => {
            let source = std::fs::read_to_string(hub.root.join(&rel)).unwrap_or_default();
            (source, rel.clone(), hub.root.clone(), rel)
        }
    };
    let compile_started = Instant::now();
    let compiled = {
        let _slot = ticket.wait();
        match lang {
            Lang::Rust => compiler.compile_rust(&source, &input_arg, work.path()),
            Lang::C => compiler.compile(&cwd, &input_arg, work.path()),
        }
    };
    let compile_ms = ms(compile_started);
    let compiled = match compiled {
        Ok(c) => c,
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
            return o;
        }
    };

    let check_started = Instant::now();
    let host = match hub.host() {
        Ok(h) => h,
        Err(e) => {
            let mut o = Outcome::failed(Stage::Check, e);
            o.timings.compile_ms = compile_ms;
            o.diagnostics = compiled.diagnostics;
            o.raw_output = compiled.stderr;
            return o;
        }
    };
    let mut state = hub.lock();
    let seq = state.journal.next_seq();
    let renames: HashMap<String, String> = compiled
        .defined
        .iter()
        .map(|n| (n.clone(), versioned_symbol(n, seq)))
        .collect();
    let checked = rename_exports(&compiled.wasm, &renames)
        .map_err(|e| e.to_string())
        .and_then(|wasm| {
            let shape = inspect::read_patch(&wasm).map_err(|e| e.to_string())?;
            let known = Hub::journal_vars(&state);
            let checked = inspect::check(
                &shape,
                &compiled.defined,
                |n| versioned_symbol(n, seq),
                &host,
                &known,
            )
            .map_err(|e| match (lang, e) {
                (Lang::Rust, inspect::InspectError::UnknownImport { symbol, .. }) => {
                    missing_rust_export(&symbol)
                }
                (_, e) => e.to_string(),
            })?;
            Ok((wasm, checked))
        });
    let check_ms = ms(check_started);
    let mut base = Outcome {
        diagnostics: compiled.diagnostics,
        raw_output: compiled.stderr,
        timings: Timings {
            compile_ms,
            check_ms,
            ..Timings::default()
        },
        ..Outcome::default()
    };
    let (wasm, checked) = match checked {
        Ok(c) => c,
        Err(e) => {
            base.stage = Some(Stage::Check);
            base.error = Some(e);
            return base;
        }
    };
    let kind = EntryKind::Patch {
        manifest: PatchManifest {
            entries: checked.entries,
        },
        run: checked.run,
        source,
        lang,
        name,
        wasm: Arc::new(wasm),
    };
    let sent = Instant::now();
    let delivered = hub.deliver(&mut state, kind, eval_id, None);
    drop(state);
    let (entry, pages) = match delivered {
        Ok(d) => d,
        Err(e) => {
            base.stage = Some(Stage::Deliver);
            base.error = Some(e.to_string());
            return base;
        }
    };
    base.seq = Some(entry.seq);
    let acks = hub.collect_acks(entry.seq, &pages);
    let mut last_ack = sent;
    for page in &pages {
        let outcome = match acks.get(page) {
            Some(a) => {
                last_ack = last_ack.max(a.at);
                PageOutcome {
                    page: *page,
                    ok: a.ok,
                    apply_ms: a.apply_ms,
                    error: a.error.clone(),
                    output: a.output.clone(),
                }
            }
            None => PageOutcome {
                page: *page,
                ok: false,
                apply_ms: 0.0,
                error: Some("no ack within 5 s".into()),
                output: String::new(),
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
