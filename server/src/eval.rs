//! One eval from source to every page; file-watch compiles take the same path. C and C++ text
//! goes to a compiler session instead ([`crate::session_eval`]), which shares steps 3's end and
//! 4 (`deliver`, `collect`). The steps:
//! 1. `read_source`: the text and where it compiles (Rust text in a fresh temp dir, a saved C
//!    file where it lies so its includes resolve);
//! 2. `compile`: in a compile slot, the patch pipeline's [`Compiler::compile_eval`] (C, C++ or
//!    Rust to a linked SIDE_MODULE);
//! 3. **under the journal lock** (so the sequence number is ours and a page that connects now
//!    gets the entry exactly once): `check` ([`hotwasm_pipeline::eval::check`]) renames the
//!    patch's functions to versioned symbols, reads it and checks it against the host manifest (its vars, exports and the
//!    layouts of the types it shares, [`crate::layout`]) and earlier patches, then
//!    `deliver` journals it and queues it for every page;
//! 4. `collect`: waits for every page's ack and reports per-page outcomes and timings.
//!
//! Each step returns the finished [`Outcome`] as its error, so a failure stops the story there.

use crate::compile::{CompileError, Compiled, Compiler};
use crate::hub::{AckInfo, Hub, State, Ticket};
use crate::inspect;
use crate::journal::{Declarations, EntryKind};
use crate::protocol::{Diagnostic, Lang, PageOutcome, ServerMsg, Stage, Timings};
use crate::security::ACK_TIMEOUT;
use hotwasm_abi::{HostManifest, PatchManifest};
use hotwasm_pipeline::eval::{pending_warnings, Source};
use std::collections::HashMap;
use std::path::Path;
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
    pub(crate) fn into_failure(mut self, stage: Stage, error: String) -> Box<Outcome> {
        self.fail(stage, error)
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

/// Runs one eval to the end. `ticket` is its place in the compile queue.
pub fn run(
    hub: &Arc<Hub>,
    ticket: Ticket,
    lang: Lang,
    input: Input,
    eval_id: Option<String>,
) -> Outcome {
    let input = match input {
        Input::Text { source, name } if lang != Lang::Rust => {
            if let Some(missing) = session_missing() {
                return *Outcome::failed(Stage::Compile, missing);
            }
            return crate::session_eval::run(hub, ticket, lang, source, name, eval_id);
        }
        input => input,
    };
    let started = Instant::now();
    let mut out = compile_and_deliver(hub, ticket, lang, input, eval_id).unwrap_or_else(|o| *o);
    out.timings.total_ms = ms(started);
    out
}

/// Why C and C++ text evals cannot run, if they cannot: clang's parser in the incremental
/// session program tells their statements, declarations and value apart, and it is not built.
/// Saved files still compile (their globals' initializers are then not read, a warning says).
fn session_missing() -> Option<String> {
    let program = crate::sessions::program();
    (!program.exists()).then(|| {
        format!(
            "C and C++ text evals need the compiler session program {}, which is missing: build it with `scripts/hotwasm` (it builds it beside the hotwasm binary), or `cargo build --release -p hotwasm-incremental --bin hotwasm-clang-session`, or set HOTWASM_CLANG_SESSION to its path",
            program.display()
        )
    })
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
    let mut source = read_source(hub, lang, input, work.path())?;
    if lang == Lang::Rust {
        source.earlier_rust = earlier_rust(hub);
    }
    let host = hub.host().map_err(|e| Outcome::failed(Stage::Check, e))?;
    let (compiled, mut base) = compile(compiler, &mut ticket, lang, &source, work.path(), &host)?;
    let mut state = hub.lock();
    let check_started = Instant::now();
    let checked = check(&mut state, lang, &compiled, &host, &hub.config_file);
    base.timings.check_ms = ms(check_started);
    let (wasm, checked) = checked.map_err(|e| base.fail(Stage::Check, e))?;
    let patch = Patch {
        lang,
        text: source.text,
        name: source.name,
        wasm,
        checked,
        declared_types: compiled.declared_types,
        declarations: compiled.declarations,
        eval_id,
    };
    let delivered = deliver(hub, &mut state, base, patch);
    drop(state);
    Ok(collect(hub, delivered?))
}

/// A checked patch, ready for the journal.
pub(crate) struct Patch {
    pub lang: Lang,
    /// The source text and the file name it was compiled as.
    pub text: String,
    pub name: String,
    /// The renamed SIDE_MODULE and what the check found.
    pub wasm: Vec<u8>,
    pub checked: inspect::Checked,
    /// The types its source declares itself (clang's report).
    pub declared_types: Vec<String>,
    /// Its functions' and globals' declarations and its includes (clang's report).
    pub declarations: Declarations,
    /// The eval it answers.
    pub eval_id: Option<String>,
}

/// A patch journaled and sent to `pages` at `sent`, with the outcome so far.
pub(crate) struct Delivered {
    pub base: Outcome,
    pub seq: u64,
    pages: Vec<u64>,
    sent: Instant,
}

/// Step 3's end, **under the journal lock** (`state`): warns of the vars the patch calls that
/// nothing defines yet, journals it ([`Hub::deliver`]) and sends it to every page.
pub(crate) fn deliver(
    hub: &Hub,
    state: &mut State,
    mut base: Outcome,
    patch: Patch,
) -> Result<Delivered, Stopped> {
    let source = Source {
        text: patch.text,
        name: patch.name,
        cwd: Default::default(),
        input: String::new(),
        earlier_rust: Vec::new(),
    };
    base.diagnostics
        .extend(pending_warnings(&patch.checked.pending, &source));
    let kind = EntryKind::Patch {
        manifest: PatchManifest {
            entries: patch.checked.entries,
        },
        run: patch.checked.run,
        source: source.text,
        lang: patch.lang,
        name: source.name,
        wasm: Arc::new(patch.wasm),
        declared_types: patch.declared_types,
        declarations: patch.declarations,
    };
    let sent = Instant::now();
    match hub.deliver(state, kind, patch.eval_id, None) {
        Ok((entry, pages)) => {
            base.seq = Some(entry.seq);
            Ok(Delivered {
                base,
                seq: entry.seq,
                pages,
                sent,
            })
        }
        Err(e) => Err(base.fail(Stage::Deliver, e.to_string())),
    }
}

/// Step 4, without the journal lock: the vars header is written again, and every page's ack
/// collected into the outcome.
pub(crate) fn collect(hub: &Arc<Hub>, delivered: Delivered) -> Outcome {
    crate::vars::refresh(hub);
    let acks = hub.collect_acks(delivered.seq, &delivered.pages);
    report_acks(delivered.base, &delivered.pages, &acks, delivered.sent)
}

/// Reads an eval's source: a saved file, or a client's C/C++ text written into `work` for the
/// compiler.
fn read_source(hub: &Hub, lang: Lang, input: Input, work: &Path) -> Result<Source, Stopped> {
    let fail = |e: String| Outcome::failed(Stage::Compile, e);
    match input {
        Input::Text { source, name } => {
            Source::client_text(lang, source, name, work).map_err(|e| fail(e.to_string()))
        }
        Input::File(rel) => Source::saved_file(lang, &hub.root, rel, work).map_err(fail),
    }
}

/// The texts of the journal's Rust patches, in order: the session a Rust eval extends (undone
/// entries are gone from the journal, so their items are too).
fn earlier_rust(hub: &Hub) -> Vec<String> {
    hub.lock()
        .journal
        .entries()
        .iter()
        .filter_map(|e| match &e.kind {
            EntryKind::Patch {
                source,
                lang: Lang::Rust,
                ..
            } => Some(source.clone()),
            _ => None,
        })
        .collect()
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
        compiler.compile_eval(lang, source, work, host)
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

/// Under the journal lock: what earlier patches defined, and the pipeline's check of the patch as
/// the journal's next entry.
fn check(
    state: &mut State,
    lang: Lang,
    compiled: &Compiled,
    host: &HostManifest,
    config_file: &Path,
) -> Result<(Vec<u8>, inspect::Checked), String> {
    let known = state.known();
    hotwasm_pipeline::eval::check(
        lang,
        compiled,
        state.journal.next_seq(),
        host,
        &known,
        config_file,
    )
}

/// Fills `base` with each page's ack (or its silence), the apply and transfer times and the
/// verdict: applied only if every page applied it.
pub(crate) fn report_acks(
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
