//! A client's C or C++ text eval through an incremental session ([`crate::sessions`]), from text
//! to every page. Console and `hotwasm repl` text (`eval.c`, `repl.c`, …) goes to the language's
//! growing session; text sent under a project file's name to a one-shot session of its own, so
//! clang's parser splits every C/C++ text and no other splitter exists. The steps, with the
//! growing session's lock held from 1 to 5 (evals of one language are one sequence):
//! 1. the growing session is brought in step with the journal (started and replayed when it is
//!    not); a one-shot session is taken from the spares started ahead ([`one_shot`]: with the
//!    standard headers precompiled when the text includes one) with every current var declared
//!    and `-iquote` the file's directory;
//! 2. in a compile slot, the session compiles the text: clang's parser tells declarations,
//!    statements and the final value apart, a redefinition becomes a new version, statements and
//!    dynamic initializers move into `hotwasm_main` (they run after the swap);
//! 3. a record redefined with another layout is refused ([`crate::sessions::layout_refusal`]);
//! 4. the pipeline links the object late-bound ([`Compiler::link_session_object`]), by the
//!    session's own lld ([`Session::link`], no wasm-ld process; a process when the session died);
//! 5. **under the journal lock**, the pipeline's check (renaming, manifest) and the journal entry,
//!    as for every eval ([`crate::eval`]); the session keeps the eval only if it is journaled;
//!    otherwise it forgets it (undoes it, or is restarted and replays the journal when an undo
//!    cannot restore it: it replaced a name, defined a macro or included a file).
//!
//! Then the pages' acks are collected without the session's lock (`crate::eval::collect`, as for
//! every eval).

use crate::eval::{collect, deliver, Outcome, Patch};
use crate::hub::{Hub, Ticket};
use crate::journal::{EntryKind, Journal};
use crate::protocol::{Lang, Stage, Timings};
use crate::session_stamp::{header_stamps, journaled, JournalStamp, Split, Stamp};
use crate::sessions::{self, Live, Slot, Start};
use hotwasm_abi::HostManifest;
use hotwasm_incremental::link::{in_process_argv, MemberCache};
use hotwasm_incremental::spare::Spares;
use hotwasm_incremental::{EvalOutput, Session};
use hotwasm_pipeline::compile::{
    cpp, CompileError, Compiled, Compiler, InProcessLinker, SessionObject, SourceLang,
};
use std::sync::Arc;
use std::time::Instant;

type Stopped = Box<Outcome>;

fn failed(stage: Stage, error: String) -> Stopped {
    Box::new(Outcome {
        stage: Some(stage),
        error: Some(error),
        ..Outcome::default()
    })
}

/// The pipeline's name of a C-family eval language.
fn source_lang(lang: Lang) -> SourceLang {
    match lang {
        Lang::Cpp => SourceLang::Cpp,
        _ => SourceLang::C,
    }
}

fn ms(since: Instant) -> f64 {
    since.elapsed().as_secs_f64() * 1000.0
}

/// Runs the eval `text` (named `name` in diagnostics) of `lang` through its session.
pub fn run(
    hub: &Arc<Hub>,
    ticket: Ticket,
    lang: Lang,
    text: String,
    name: String,
    eval_id: Option<String>,
) -> Outcome {
    let started = Instant::now();
    let mut out =
        compile_and_deliver(hub, ticket, lang, &text, &name, eval_id).unwrap_or_else(|o| *o);
    out.timings.total_ms = ms(started);
    out
}

/// The journal's client-text evals of `lang` after entry `after`, in order.
pub fn journal_evals(journal: &Journal, lang: Lang, after: u64) -> Vec<(u64, String)> {
    journal
        .entries()
        .iter()
        .filter(|e| e.seq > after)
        .filter_map(|e| match &e.kind {
            EntryKind::Patch {
                source,
                lang: l,
                name,
                ..
            } if *l == lang && sessions::is_session_eval(lang, name) => {
                Some((e.seq, source.clone()))
            }
            _ => None,
        })
        .collect()
}

/// The session's first input: hotwasm's ABI and the vars no session defines, as
/// `hotwasm_vars.h` declares them: the host's, and those of journal entries that are no
/// session's evals (saved files, named text evals, Rust). A new such entry changes the prelude,
/// and so restarts the session. (Another language's session evals stay out: their prototypes
/// may name types only that session knows.)
fn prelude(
    compiler: &Compiler,
    host: &HostManifest,
    journal: &Journal,
    headers: &[(String, Vec<String>)],
) -> String {
    let others: Vec<crate::journal::Entry> = journal
        .entries()
        .iter()
        .filter(|e| {
            !matches!(&e.kind, EntryKind::Patch { lang: l, name, .. }
                if sessions::is_session_eval(*l, name))
        })
        .cloned()
        .collect();
    let dirs = compiler.include_dirs();
    let header = crate::vars::header_for(host, &others, headers, dirs);
    format!("#include \"hotwasm.h\"\n{header}")
}

/// What a prelude declares: its lines without the comments `hotwasm_vars.h` writes on lines
/// of their own (versions, journal entries, C++-linkage vars named only), so a new entry that
/// changes no declaration does not restart the session.
fn declarations(prelude: &str) -> Vec<&str> {
    prelude
        .lines()
        .filter(|l| !(l.starts_with("/*") && l.ends_with("*/")))
        .collect()
}

/// The prelude with the host's vars only.
fn host_prelude(compiler: &Compiler, host: &HostManifest) -> String {
    let dirs = compiler.include_dirs();
    let headers = crate::vars::app_headers(compiler, host.threads);
    let header = crate::vars::header_for(host, &[], &headers, dirs);
    format!("#include \"hotwasm.h\"\n{header}")
}

/// Starts a session of `lang` for `host` with the cc1 `args` and `prelude`, under the compiler's
/// limits (the host's vars alone are its fallback prelude).
fn start(
    compiler: &Compiler,
    host: &HostManifest,
    lang: Lang,
    args: &[String],
    prelude: &str,
) -> Result<Live, String> {
    start_from(compiler, host, (lang, args), prelude, None)
}

/// [`start`], from a spare started ahead with the same arguments when `spares` has one.
fn start_from(
    compiler: &Compiler,
    host: &HostManifest,
    (lang, args): (Lang, &[String]),
    prelude: &str,
    spares: Option<&Spares>,
) -> Result<Live, String> {
    let config = compiler.config();
    sessions::start(&Start {
        lang,
        args,
        root: &config.root,
        prelude,
        fallback_prelude: host_prelude(compiler, host),
        threads: host.threads,
        timeout: config.timeout,
        memory_bytes: config.memory_bytes,
        spares,
    })
}

/// Step 1 and the first half of 2 for a text eval standing for the project file `name`: a
/// session of its own, started in `slot` (from a spare: [`hotwasm_incremental::spare`]) with
/// the prelude of every current var (the journal's entries of any kind) and the file's own
/// directory searched for `#include "..."`, compiles `text`; it ends with the eval, adding
/// nothing to the console's growing session.
///
/// C++ text that includes one of the standard headers the old one-process path precompiled
/// ([`cpp::PCH_HEADERS`], the same [`cpp::wants_pch`] rule), or whose prelude does (the vars
/// header repeats the `#include`s of the entries that define them), gets a session started with
/// them precompiled ([`Compiler::session_pch`]): it sees all of them, as that path's patches
/// did. clang has the last word: when its lists of what the prelude and the text included name
/// none of them (say the `#include` is under `#if 0`), the text is compiled again in a session
/// without them.
fn one_shot(
    hub: &Hub,
    compiler: &Compiler,
    slot: &mut Slot,
    (lang, name, text): (Lang, &str, &str),
    host: &HostManifest,
) -> Result<EvalOutput, Stopped> {
    let headers = crate::vars::app_headers(compiler, host.threads);
    let prelude = {
        let state = hub.lock();
        let dirs = compiler.include_dirs();
        let all = state.journal.entries();
        let header = crate::vars::header_for(host, all, &headers, dirs);
        format!("#include \"hotwasm.h\"\n{header}")
    };
    let mut args = compiler
        .session_args(source_lang(lang), host.threads)
        .map_err(|e| failed(Stage::Compile, e.to_string()))?;
    if let Some(dir) = compiler.quote_dir_of(name) {
        args.extend(["-iquote".to_string(), dir.display().to_string()]);
    }
    let spares = Some(&hub.sessions.spares);
    // Off unless HOTWASM_SESSION_PCH=1: a patch compiled in a session with the PCH imported
    // libc++'s C++17 inline variable `std::piecewise_construct` (GOT.mem) instead of defining it,
    // so a std::map global was refused in a host without libc++ (tests/cpp, found by CI).
    let wants = std::env::var_os("HOTWASM_SESSION_PCH").is_some_and(|v| v == "1")
        && lang == Lang::Cpp
        && (cpp::wants_pch(text) || cpp::wants_pch(&prelude));
    // A PCH a session refuses (stale) is built again at once and tried once more: parsing the
    // headers instead could overrun the compile deadline on a busy machine.
    for _ in 0..2 {
        let Some(pch) = wants.then(|| session_pch(compiler, host, &args)).flatten() else {
            break;
        };
        let with = cpp::session_args_with_pch(&args, &pch);
        match start_from(compiler, host, (lang, &with), &prelude, spares) {
            Ok(live) => {
                let in_prelude = cpp::includes_a_pch_header(&live.headers);
                slot.live = Some(live);
                let out = evaluate(slot, text)?;
                if in_prelude || cpp::includes_a_pch_header(&out.files) {
                    return Ok(out);
                }
                break;
            }
            Err(e) => {
                eprintln!("hotwasm: a compiler session refused the precompiled standard headers ({e}); they are built again");
                compiler.session_pch_refused(&pch);
            }
        }
    }
    let live = start_from(compiler, host, (lang, &args), &prelude, spares)
        .map_err(|e| failed(Stage::Compile, e))?;
    slot.live = Some(live);
    evaluate(slot, text)
}

/// The session PCH for `args` ([`Compiler::session_pch`]), or none (said why) when it cannot be
/// built: the eval then reads the headers.
fn session_pch(
    compiler: &Compiler,
    host: &HostManifest,
    args: &[String],
) -> Option<std::path::PathBuf> {
    compiler
        .session_pch(host.threads, args)
        .inspect_err(|e| eprintln!("hotwasm: the precompiled standard headers of sessions could not be built; the eval reads the headers: {e}"))
        .ok()
}

/// The session of `slot` compiles `text`; a session that fails is dropped (the next eval
/// starts one and replays the journal).
fn evaluate(slot: &mut Slot, text: &str) -> Result<EvalOutput, Stopped> {
    let live = slot.live.as_mut().expect("a started session");
    live.session.eval(text).map_err(|e| {
        slot.live = None;
        failed(
            Stage::Compile,
            format!("{e}\nNothing was applied or journaled; the next eval starts a new compiler session and replays the journal's evals into it"),
        )
    })
}

/// Step 1: the session of `slot`, in step with the journal and the host: started (with the
/// prelude) and replayed when it is missing, holds other evals, or was made for another host.
/// Free when nothing it depends on changed since the last eval ([`Stamp`]).
fn in_step<'a>(
    hub: &Hub,
    compiler: &Compiler,
    slot: &'a mut Slot,
    lang: Lang,
    host: &HostManifest,
) -> Result<&'a mut Live, String> {
    if slot.live.is_none() {
        let epoch = hub.lock().journal.epoch().to_string();
        slot.reset_after = slot
            .reset_after
            .max(sessions::reset_after(&hub.root, &epoch));
    }
    let header_files = header_stamps(compiler.include_dirs());
    let stamp = |journal: &Journal| Stamp {
        journal: JournalStamp::of(journal),
        reset_after: slot.reset_after,
        host: host.clone(),
        headers: header_files.clone(),
    };
    let now = stamp(&hub.lock().journal);
    let unchanged = slot
        .live
        .as_ref()
        .is_some_and(|l| l.in_step.as_ref() == Some(&now) && !l.read_changed());
    if unchanged {
        return Ok(slot.live.as_mut().expect("checked"));
    }
    // Read by clang the first time (then cached): before the lock, as the other writers do.
    let headers = crate::vars::app_headers(compiler, host.threads);
    let (evals, prelude, now) = {
        let state = hub.lock();
        let evals = journal_evals(&state.journal, lang, slot.reset_after);
        let prelude = prelude(compiler, host, &state.journal, &headers);
        (evals, prelude, stamp(&state.journal))
    };
    let stale = slot.live.as_ref().map(|l| {
        if l.threads != host.threads || declarations(&l.prelude) != declarations(&prelude) {
            Some("the host or the vars other entries define changed")
        } else if l.read_changed() {
            Some("a header it read was edited")
        } else if !l.seqs.iter().eq(evals.iter().map(|e| &e.0)) {
            Some("the journal's evals changed (an undo, a reset)")
        } else {
            None
        }
    });
    if let Some(Some(why)) = stale {
        eprintln!(
            "hotwasm: the {} compiler session starts again and replays {} evals: {why}",
            lang.as_str(),
            evals.len()
        );
    }
    if !matches!(stale, Some(None)) {
        slot.live = None;
        let args = compiler
            .session_args(source_lang(lang), host.threads)
            .map_err(|e| e.to_string())?;
        let mut live = start(compiler, host, lang, &args, &prelude)?;
        sessions::replay(&mut live, &evals).map_err(|e| e.to_string())?;
        slot.live = Some(live);
    }
    let live = slot.live.as_mut().expect("just started");
    live.in_step = Some(now);
    Ok(live)
}

/// Makes the session forget the eval `out` it just compiled (it was not journaled): undone when
/// that leaves the session as it was, else dropped (the next eval restarts it and replays the
/// journal). Undo cannot bring back what the eval replaced, nor forget the macros it defined
/// (an included header's guard among them: the header would not be read again).
fn forget(slot: &mut Slot, out: &EvalOutput) {
    forget_if(slot, undoable(out));
}

/// Whether undoing `out` leaves the session as it was before it (see [`forget`]).
fn undoable(out: &EvalOutput) -> bool {
    out.replaced.is_empty() && out.macros.is_empty() && out.files.is_empty()
}

/// [`forget`], given whether the eval is `undoable`.
fn forget_if(slot: &mut Slot, undoable: bool) {
    let undone = undoable
        && slot
            .live
            .as_mut()
            .is_some_and(|l| l.session.undo(1).is_ok_and(|n| n == 1));
    if !undone {
        slot.live = None;
    }
}

fn compile_and_deliver(
    hub: &Arc<Hub>,
    mut ticket: Ticket,
    lang: Lang,
    text: &str,
    name: &str,
    eval_id: Option<String>,
) -> Result<Outcome, Stopped> {
    let compiler = hub
        .compiler
        .as_ref()
        .map_err(|e| failed(Stage::Compile, e.clone()))?;
    let host = hub.host().map_err(|e| failed(Stage::Check, e))?;
    let shared = sessions::is_session_eval(lang, name);
    // The console's session is shared (its lock held to the end); a named eval's is its own.
    let mut guard = shared.then(|| hub.sessions.lock(lang));
    let mut own = Slot::default();
    let slot: &mut Slot = match guard.as_deref_mut() {
        Some(slot) => slot,
        None => &mut own,
    };
    let started = Instant::now();
    let compiled = {
        let _compiling = ticket.wait();
        compile(hub, compiler, slot, lang, text, name, &host)
    };
    let (compiled, mut base, undoable, declares) = compiled.map_err(|mut o| {
        o.timings.compile_ms = ms(started);
        o
    })?;
    base.timings.compile_ms = ms(started);
    let mut state = hub.lock();
    let before = JournalStamp::of(&state.journal);
    let check_started = Instant::now();
    let known = state.known();
    let seq = state.journal.next_seq();
    let checked = hotwasm_pipeline::eval::check_eval(
        lang,
        &compiled,
        seq,
        &host,
        &known,
        &hub.config_file,
        declares && shared,
    );
    base.timings.check_ms = ms(check_started);
    let (wasm, checked) = match checked {
        Ok(c) => c,
        Err(e) => {
            drop(state);
            forget_if(slot, undoable);
            return Err(base.into_failure(Stage::Check, e));
        }
    };
    let patch = Patch {
        lang,
        text: text.to_string(),
        name: name.to_string(),
        wasm,
        checked,
        declared_types: compiled.declared_types,
        declarations: compiled.declarations,
        eval_id,
    };
    let delivered = deliver(hub, &mut state, base, patch);
    let after = JournalStamp::of(&state.journal);
    drop(state);
    let delivered = delivered.inspect_err(|_| forget_if(slot, undoable))?;
    if let Some(live) = slot.live.as_mut().filter(|_| shared) {
        live.seqs.push(delivered.seq);
        journaled(live, &before, after);
    }
    drop(guard);
    Ok(collect(hub, delivered))
}

/// Steps 1–4: the session compiles `text`, the layouts are checked, the pipeline links it.
/// Returns the patch, the outcome so far, whether undoing the eval leaves the session as before
/// ([`undoable`]), and whether it declared anything (a macro or a declaration).
fn compile(
    hub: &Hub,
    compiler: &Compiler,
    slot: &mut Slot,
    lang: Lang,
    text: &str,
    name: &str,
    host: &HostManifest,
) -> Result<(Compiled, Outcome, bool, bool), Stopped> {
    let step = Instant::now();
    let mut split = Split::default();
    let out = if sessions::is_session_eval(lang, name) {
        in_step(hub, compiler, slot, lang, host).map_err(|e| failed(Stage::Compile, e))?;
        split.in_step_ms = ms(step);
        evaluate(slot, text)?
    } else {
        one_shot(hub, compiler, slot, (lang, name, text), host)?
    };
    split.eval_ms = ms(step) - split.in_step_ms;
    let live = slot.live.as_mut().expect("the session just compiled");
    let outside = compiler.read_outside(source_lang(lang), host.threads, &out.files);
    let refusal = match outside {
        Ok(file) => file.map(|f| CompileError::IncludeOutside(f).to_string()),
        Err(e) => Some(e.to_string()),
    };
    if let Some(why) = refusal {
        // Dropped, not undone: what the file defined (macros too) must not reach a later eval.
        slot.live = None;
        return Err(failed(Stage::Compile, why));
    }
    let diagnostics = sessions::diagnostics(&out, name);
    let raw_output = sessions::printed(&diagnostics);
    if !out.ok {
        let n = diagnostics.len();
        let hint = sessions::undeclared_host_function(&out, host, compiler, lang)
            .map(|h| format!("\n{h}"))
            .unwrap_or_default();
        return Err(Box::new(Outcome {
            stage: Some(Stage::Compile),
            error: Some(format!(
                "the source does not compile ({n} diagnostics): fix the first error and eval again{hint}"
            )),
            diagnostics,
            raw_output,
            ..Outcome::default()
        }));
    }
    let base = Outcome {
        diagnostics,
        raw_output,
        timings: Timings::default(),
        ..Outcome::default()
    };
    if let Some(why) = sessions::layout_refusal(&out, live, &host.layouts) {
        forget(slot, &out);
        return Err(base.into_failure(Stage::Check, why));
    }
    (split.parse_ms, split.emit_ms) = (out.parse_ms, out.emit_ms);
    let step = Instant::now();
    let (linked, session_died) = link(compiler, live, &out, lang, host);
    split.link_ms = ms(step);
    match linked {
        Ok(mut compiled) => {
            split.print(lang, name, &compiled);
            compiled.declared_types = hotwasm_incremental::oneshot::types(&out);
            compiled.declarations = hotwasm_incremental::oneshot::declarations(&out);
            if session_died {
                // Linked by a process; the next eval starts a session and replays the journal.
                slot.live = None;
            } else {
                live.remember(&out);
            }
            let declares = !out.macros.is_empty()
                || out.header_decls > 0
                || out.decls.iter().any(|d| d.kind != "TopLevelStmt");
            Ok((compiled, base, undoable(&out), declares))
        }
        Err(e) => {
            forget(slot, &out);
            Err(base.into_failure(Stage::Compile, e.to_string()))
        }
    }
}

/// Step 4: the session's object linked late-bound in a fresh work directory, by the session's
/// own lld (no wasm-ld process); by a wasm-ld process when the session cannot run the link. The
/// flag says the session died on the way (its eval was linked by the process all the same).
fn link(
    compiler: &Compiler,
    live: &mut Live,
    out: &hotwasm_incremental::EvalOutput,
    lang: Lang,
    host: &HostManifest,
) -> (Result<Compiled, CompileError>, bool) {
    let work = match tempfile::Builder::new().prefix("hotwasm-eval").tempdir() {
        Ok(work) => work,
        Err(e) => return (Err(CompileError::Io(e)), false),
    };
    let object = SessionObject {
        lang: source_lang(lang),
        object: &out.object,
        globals: sessions::globals_of(out),
        headers: live.headers.clone(),
    };
    let mut linker = SessionLinker {
        session: &mut live.session,
        died: false,
    };
    let linked = compiler.link_session_object(object, work.path(), host, Some(&mut linker));
    (linked, linker.died)
}

/// A session's lld and LLVM assembler as the pipeline's linker ([`Session::link`],
/// [`Session::assemble`]); notes when the session died.
struct SessionLinker<'a> {
    session: &'a mut Session,
    died: bool,
}

impl SessionLinker<'_> {
    fn link_line(&mut self, argv: &[String]) -> Result<(bool, String), String> {
        match self.session.link(&in_process_argv(argv)) {
            Ok(linked) => Ok((linked.ok, linked.messages)),
            Err(e) => {
                self.died = true;
                Err(e.to_string())
            }
        }
    }
}

impl InProcessLinker for SessionLinker<'_> {
    /// Links with the archives' members the patch needs ([`MemberCache`]) when the cache can
    /// pick them, else (or when that link fails) with the line as it is.
    fn link(&mut self, argv: &[String]) -> Result<(bool, String), String> {
        if let Ok(members) = MemberCache::global().members_for(argv) {
            let (ok, messages) = self.link_line(&members)?;
            if ok {
                return Ok((ok, messages));
            }
            eprintln!("hotwasm: a patch linked with the cached archive members failed; linking it with the archives themselves. The link said:\n{messages}");
        }
        self.link_line(argv)
    }

    fn assemble(&mut self, argv: &[String]) -> Result<(bool, String), String> {
        match self.session.assemble(argv) {
            Ok(done) => Ok((done.ok, done.messages)),
            Err(e) => {
                self.died = true;
                Err(e.to_string())
            }
        }
    }
}
