//! One incremental compiler session per language (C, C++), shared by every client and page: the
//! REPL is one growing program (issue 21). A session is a `hotwasm-clang-session` child
//! ([`hotwasm_incremental::Session`]) that keeps clang's translation unit alive, so every
//! declaration an eval makes (types, macros, templates, classes, overloads, globals) stays
//! visible to later evals.
//!
//! The session is kept in step with the journal, the one record of what the pages run: it holds
//! exactly the journal's client-text evals of its language (after the last `:reset`), in order.
//! Before each eval the two are compared; when they differ (a server restart, an `:undo`, a
//! session that died or refused), the session is started again and the journal's evals are
//! replayed into it. Its first input is the prelude: `hotwasm.h` and the host's vars.

use crate::protocol::{Diagnostic, Lang};
use hotwasm_abi::HostManifest;
use hotwasm_incremental::{EvalOutput, Session, SessionError, SessionLimits};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

/// The record layouts earlier evals defined, by name: `(size, align, [(field, offset)])`.
pub type Records = HashMap<String, (u64, u64, Vec<(String, u64)>)>;

/// A running session and what it holds.
pub struct Live {
    /// The compiler.
    pub session: Session,
    /// Whether it compiles for a host with threads.
    pub threads: bool,
    /// Its first input (the host's declarations it was started with).
    pub prelude: String,
    /// The journal entries whose evals it holds, in order.
    pub seqs: Vec<u64>,
    /// Every file its preprocessing entered.
    pub headers: Vec<PathBuf>,
    /// The same, resolved against `root`, with when each was last modified as it was read: an
    /// edited header (the app's own, say) is read again by a new session, as a one-shot compile
    /// would read it.
    pub read: Vec<(PathBuf, Option<std::time::SystemTime>)>,
    /// The directory it runs in (the app root).
    pub root: PathBuf,
    /// The layouts of the records its evals defined.
    pub records: Records,
    /// The records of the app's own headers it has read (the prelude's and the evals'
    /// `#include`s): checked against the host's layouts at every eval, as each one-shot compile
    /// including them was.
    pub app_records: Vec<hotwasm_incremental::Decl>,
    /// What the in-step check saw when it last found the session in step (none: check in full).
    pub in_step: Option<crate::session_stamp::Stamp>,
}

/// The sessions of one server: one slot per language, each behind its own lock (an eval holds
/// it from compile to delivery, so evals of one language are one sequence).
#[derive(Default)]
pub struct Sessions {
    slots: [Mutex<Slot>; 2],
    /// Sessions started ahead for one-shot evals (named text evals): see
    /// [`hotwasm_incremental::spare`].
    pub spares: hotwasm_incremental::spare::Spares,
}

/// One language's session, if started, and where its history starts.
#[derive(Default)]
pub struct Slot {
    /// The running session.
    pub live: Option<Live>,
    /// Journal entries up to this one are not replayed (a `:reset` happened after it).
    pub reset_after: u64,
}

/// Whether a client's text eval named `name` goes to the session: text sent without a name (the
/// page console, `eval.c`) or by `hotwasm repl` (`repl.c`). Text under another name stands for
/// that project file and is compiled as a file of its own, as saved files are.
pub fn is_session_eval(lang: Lang, name: &str) -> bool {
    match lang {
        Lang::C => matches!(name, "eval.c" | "repl.c"),
        Lang::Cpp => matches!(name, "eval.cpp" | "repl.cpp"),
        Lang::Rust => false,
    }
}

impl Sessions {
    /// The slot of `lang` (C or C++), locked.
    pub fn lock(&self, lang: Lang) -> MutexGuard<'_, Slot> {
        let i = usize::from(lang == Lang::Cpp);
        self.slots[i].lock().unwrap_or_else(|e| e.into_inner())
    }

    /// `:reset`: the sessions of both languages forget every eval journaled so far (up to
    /// `last_seq`); the next eval starts a fresh one.
    pub fn reset(&self, last_seq: u64) {
        for lang in [Lang::C, Lang::Cpp] {
            let mut slot = self.lock(lang);
            slot.live = None;
            slot.reset_after = last_seq;
        }
    }
}

/// `:reset` (the `session_reset` message): fresh sessions for both languages, holding none of the
/// evals journaled so far. Kept in `<app>/.hotwasm/session-reset` so a restarted server does not
/// replay them either. Returns the last journal entry the old sessions held.
pub fn reset(hub: &crate::hub::Hub) -> u64 {
    let (epoch, last) = {
        let state = hub.lock();
        let journal = &state.journal;
        (
            journal.epoch().to_string(),
            journal.next_seq().saturating_sub(1),
        )
    };
    hub.sessions.reset(last);
    let file = reset_file(&hub.root);
    let text = format!("{epoch} {last}");
    let written = file
        .parent()
        .map_or(Ok(()), std::fs::create_dir_all)
        .and_then(|_| hotwasm_pipeline::files::write_atomically(&file, text.as_bytes()));
    if let Err(e) = written {
        eprintln!(
            "hotwasm: could not write {}: {e}; after a restart the sessions will hold the evals from before the reset again",
            file.display()
        );
    }
    last
}

/// Where the last `:reset` is remembered.
fn reset_file(root: &Path) -> PathBuf {
    root.join(".hotwasm").join("session-reset")
}

/// The entry of the journal of epoch `epoch` the last `:reset` (of any earlier server run)
/// happened after, or 0 (none, or it was for another journal).
pub fn reset_after(root: &Path, epoch: &str) -> u64 {
    std::fs::read_to_string(reset_file(root))
        .ok()
        .and_then(|t| {
            let (of, seq) = t.trim().split_once(' ')?;
            (of == epoch).then(|| seq.parse().ok()).flatten()
        })
        .unwrap_or(0)
}

/// The session program (`HOTWASM_CLANG_SESSION`, else beside the server's executable).
pub fn program() -> PathBuf {
    Session::default_program()
}

/// How to start a session: its language, cc1 arguments, the directory it runs in and its prelude.
pub struct Start<'a> {
    /// C or C++.
    pub lang: Lang,
    /// The cc1 arguments ([`hotwasm_pipeline::Compiler::session_args`]).
    pub args: &'a [String],
    /// The app root (relative includes resolve there).
    pub root: &'a Path,
    /// The first input: `hotwasm.h` and the host's vars.
    pub prelude: &'a str,
    /// The first input when `prelude` does not compile: `hotwasm.h` and the host's vars only.
    pub fallback_prelude: String,
    /// Whether the host has threads.
    pub threads: bool,
    /// Wall-clock limit per request.
    pub timeout: Duration,
    /// Address-space cap of the child.
    pub memory_bytes: u64,
    /// Where a session started ahead with the same arguments may be taken from.
    pub spares: Option<&'a hotwasm_incremental::spare::Spares>,
}

/// Starts a session and gives it the prelude. A prelude that does not compile is reported: the
/// host's declarations are what evals build on.
pub fn start(how: &Start<'_>) -> Result<Live, String> {
    let lang = match how.lang {
        Lang::Cpp => hotwasm_incremental::Lang::Cpp,
        _ => hotwasm_incremental::Lang::C,
    };
    let limits = SessionLimits {
        timeout: how.timeout,
        address_space: Some(how.memory_bytes),
    };
    let begin = |prelude: &str| {
        let mut session = match how.spares {
            Some(spares) => spares
                .take(&program(), lang, how.args, limits, Some(how.root))
                .map(|(session, _)| session),
            None => Session::start_in(&program(), lang, how.args, limits, Some(how.root)),
        }
        .map_err(|e| e.to_string())?;
        let out = session.eval(prelude).map_err(|e| e.to_string())?;
        Ok::<_, String>((session, out))
    };
    let (mut session, mut out) = begin(how.prelude)?;
    if !out.ok {
        // The journal's vars may be declared with types the prelude cannot name: a fresh session
        // (a failed input's macros stay, header guards among them) with the host's vars only.
        (session, out) = begin(&how.fallback_prelude)?;
    }
    if !out.ok {
        let errors: Vec<String> = out.errors().iter().map(|d| d.message.clone()).collect();
        return Err(format!(
            "the session's prelude (hotwasm.h and the host's vars) does not compile: {}",
            errors.join("; ")
        ));
    }
    let mut live = Live {
        session,
        threads: how.threads,
        prelude: how.prelude.to_string(),
        seqs: Vec::new(),
        headers: Vec::new(),
        read: Vec::new(),
        root: how.root.to_path_buf(),
        records: Records::new(),
        app_records: Vec::new(),
        in_step: None,
    };
    live.remember(&out);
    Ok(live)
}

/// Replays the journal's evals `(seq, text)` into a fresh session, in order. An eval that no
/// longer compiles is skipped (its declarations are simply absent), as a page replaying the
/// journal skips nothing: the patch it runs is the journaled one.
pub fn replay(live: &mut Live, evals: &[(u64, String)]) -> Result<(), SessionError> {
    for (seq, text) in evals {
        let out = live.session.eval(text)?;
        if out.ok {
            live.remember(&out);
        }
        live.seqs.push(*seq);
    }
    Ok(())
}

impl Live {
    /// Keeps what an accepted eval taught: the headers it read and its records' layouts.
    /// Each file is kept once (a C++ std eval enters several thousand files, most of them
    /// many times): every eval's link and in-step check go through the list.
    pub fn remember(&mut self, out: &EvalOutput) {
        let mut known: std::collections::HashSet<PathBuf> = self.headers.iter().cloned().collect();
        for file in &out.files {
            if !known.insert(PathBuf::from(file)) {
                continue;
            }
            let path = self.root.join(file);
            let modified = std::fs::metadata(&path).and_then(|m| m.modified()).ok();
            self.read.push((path, modified));
            self.headers.push(PathBuf::from(file));
        }
        self.app_records.extend(out.header_records.iter().cloned());
        for (name, layout) in records_of(out) {
            self.records.insert(name, layout);
        }
    }
}

impl Live {
    /// Whether a file the session read has changed on disk since (or is gone).
    pub fn read_changed(&self) -> bool {
        self.read
            .iter()
            .any(|(path, when)| std::fs::metadata(path).and_then(|m| m.modified()).ok() != *when)
    }
}

/// The records an eval defined, by name (an anonymous one by its typedef's), with their layouts.
pub fn records_of(out: &EvalOutput) -> Records {
    records_in(out.all_decls())
}

fn records_in(decls: Vec<&hotwasm_incremental::Decl>) -> Records {
    decls
        .into_iter()
        .filter_map(|d| {
            let size = d.size?;
            let name = d.typedef_name.clone().or_else(|| d.name.clone())?;
            let fields = d
                .fields
                .iter()
                .map(|f| (f.name.clone(), f.offset))
                .collect();
            Some((name, (size, d.align.unwrap_or(0), fields)))
        })
        .filter(|(name, _)| !name.is_empty())
        .collect()
}

/// Why an eval's records cannot be accepted: a record an earlier eval laid out differently, or
/// one the running host shares laid out otherwise (the pipeline's layout check, on the record's
/// size, alignment and own fields), named with both layouts. The same layout is accepted (its
/// storage stays valid).
pub fn layout_refusal(
    out: &EvalOutput,
    live: &Live,
    host: &[hotwasm_abi::TypeLayout],
) -> Option<String> {
    let earlier = &live.records;
    let decls: Vec<&hotwasm_incremental::Decl> = out
        .all_decls()
        .into_iter()
        .chain(out.header_records.iter())
        .chain(live.app_records.iter())
        .collect();
    for d in decls.iter().filter(|d| d.size.is_some()) {
        let Some(name) = d.typedef_name.clone().or_else(|| d.name.clone()) else {
            continue;
        };
        if let Some(h) = host.iter().find(|h| h.name == name) {
            let mine = type_layout(&name, d);
            if let Err(why) = hotwasm_pipeline::layout::check(&[own_fields(h)], &[mine]) {
                return Some(why);
            }
        }
    }
    for (name, now) in records_of(out) {
        if let Some(before) = earlier.get(&name).filter(|b| **b != now) {
            return Some(format!(
                "`{name}` is redefined with a different layout ({} now, {} before): its existing values would be misread, so the eval was not applied. Give the new type another name, or `:reset` to start a new session",
                describe(&now),
                describe(before)
            ));
        }
    }
    None
}

/// A reported record as the pipeline's layouts write it (its own fields, no bit positions).
fn type_layout(name: &str, d: &hotwasm_incremental::Decl) -> hotwasm_abi::TypeLayout {
    hotwasm_abi::TypeLayout {
        name: name.to_string(),
        size: d.size.unwrap_or(0),
        align: d.align.unwrap_or(0),
        fields: d
            .fields
            .iter()
            .filter(|f| !f.name.is_empty())
            .map(|f| hotwasm_abi::FieldLayout {
                name: f.name.clone(),
                offset: f.offset,
                bits: None,
                ty: f.ty.clone(),
            })
            .collect(),
    }
}

/// A host layout with only the record's own fields (nested records' fields and bit positions
/// left out), as a session reports a record.
fn own_fields(h: &hotwasm_abi::TypeLayout) -> hotwasm_abi::TypeLayout {
    let mut own = h.clone();
    own.fields.retain(|f| {
        !f.name.contains('.') && !f.name.starts_with('(') && !is_anonymous_member(&f.ty)
    });
    for f in &mut own.fields {
        f.bits = None;
    }
    own
}

/// Whether a host field of type `ty` is an anonymous struct or union member (clang names its type
/// `union T::(anonymous at file:line:col)`). A session reports such a member without a name, so
/// both sides leave it out of the comparison; the fields after it keep their offsets checked.
fn is_anonymous_member(ty: &str) -> bool {
    ty.contains("(anonymous") || ty.contains("(unnamed")
}

fn describe((size, align, fields): &(u64, u64, Vec<(String, u64)>)) -> String {
    let fields: Vec<String> = fields.iter().map(|(n, o)| format!("{n}@{o}")).collect();
    format!("{size} bytes, align {align}, fields {}", fields.join(" "))
}

/// What to do when an eval uses a function of the app that it has not declared (clang's
/// "undeclared identifier / function" about a host var, or an export an app header declares):
/// the app header to include once (the session keeps it), else the var's prototype to write.
/// `None` for any other name (a C library function gets clang's own note on its header).
pub fn undeclared_host_function(
    out: &EvalOutput,
    host: &HostManifest,
    compiler: &hotwasm_pipeline::compile::Compiler,
    lang: Lang,
) -> Option<String> {
    let name = out
        .diagnostics
        .iter()
        .find_map(|d| d.undeclared.as_deref())?;
    // A C++ function of the app is a var by its mangled name (`_Z9app_valuei`).
    let var = host
        .vars
        .iter()
        .find(|v| v.name == name || crate::cpp_names::path_of(&v.name).is_some_and(|p| p == name));
    let header = if var.is_some() || host.exports.iter().any(|e| e == name) {
        crate::vars::app_header_declaring(compiler, host.threads, name)
    } else {
        None
    };
    let what = format!("`{name}` is a function of the app, which this session has not declared");
    if let Some(header) = header {
        let c_linkage = match lang {
            Lang::Cpp if var.is_none_or(|v| v.name == name) => " (in C++ inside `extern \"C\" { ... }` when that header has no `extern \"C\"` of its own)",
            _ => "",
        };
        return Some(format!(
            "note: {what}: the app's {header} declares it; eval `#include \"{header}\"` once{c_linkage} and every later eval sees it too"
        ));
    }
    let var = var.filter(|v| v.name == name)?;
    let prototype = crate::vars::prototype_from_letters(name, &var.signature);
    Some(format!("note: {what}: declare it once, e.g. `{prototype}` (from its signature; pointers are `void *`), and every later eval sees it too"))
}

/// The session's diagnostics as the user's: the eval's buffer (`eval_N`) named `file`, line
/// and column as the user wrote them.
pub fn diagnostics(out: &EvalOutput, file: &str) -> Vec<Diagnostic> {
    out.diagnostics
        .iter()
        .map(|d| Diagnostic {
            file: if d.file.starts_with("eval_") || d.file.is_empty() {
                file.to_string()
            } else {
                d.file.clone()
            },
            line: d.line,
            column: d.column,
            severity: d.severity.clone(),
            message: d.message.clone(),
        })
        .collect()
}

/// The diagnostics as a compiler would print them (the eval's `raw_output`).
pub fn printed(diagnostics: &[Diagnostic]) -> String {
    diagnostics
        .iter()
        .map(|d| {
            format!(
                "{}:{}:{}: {}: {}\n",
                d.file, d.line, d.column, d.severity, d.message
            )
        })
        .collect()
}

/// The file-scope globals an eval defines or declares, as the pipeline's late binding wants
/// them (type and initializer as clang read them).
pub fn globals_of(out: &EvalOutput) -> Vec<hotwasm_pipeline::compile::globals::Declared> {
    hotwasm_incremental::oneshot::globals(out)
}

/// Who reads a saved file's globals and types for the pipeline: a fresh session of the same
/// program, under the compiler's limits.
pub fn file_reporter(
    config: &hotwasm_pipeline::compile::CompilerConfig,
) -> std::sync::Arc<dyn hotwasm_pipeline::compile::globals::Reporter> {
    std::sync::Arc::new(hotwasm_incremental::oneshot::FileReporter::new(
        program(),
        SessionLimits {
            timeout: config.timeout,
            address_space: Some(config.memory_bytes),
        },
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn console_and_repl_text_goes_to_the_session_and_named_files_do_not() {
        assert!(is_session_eval(Lang::C, Lang::C.default_file_name()));
        assert!(is_session_eval(Lang::Cpp, Lang::Cpp.default_file_name()));
        assert!(is_session_eval(Lang::C, "repl.c"));
        assert!(is_session_eval(Lang::Cpp, "repl.cpp"));
        assert!(!is_session_eval(Lang::C, "patches/step.c"));
        assert!(!is_session_eval(Lang::C, "eval.cpp"));
        assert!(!is_session_eval(Lang::Rust, "eval.rs"));
    }

    #[test]
    fn a_reset_point_counts_only_for_the_journal_it_was_made_in() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(reset_after(dir.path(), "e1"), 0);
        let file = reset_file(dir.path());
        std::fs::create_dir_all(file.parent().unwrap()).unwrap();
        std::fs::write(&file, "e1 7").unwrap();
        assert_eq!(reset_after(dir.path(), "e1"), 7);
        assert_eq!(
            reset_after(dir.path(), "e2"),
            0,
            "another journal (or a reset one)"
        );
    }

    #[test]
    fn an_anonymous_union_member_is_left_out_of_the_layout_check_on_both_sides() {
        use hotwasm_abi::{FieldLayout, TypeLayout};
        use hotwasm_incremental::report::Field;
        let field = |name: &str, offset: u64, ty: &str| FieldLayout {
            name: name.into(),
            offset,
            bits: None,
            ty: ty.into(),
        };
        // `struct Node { int a; union { int p; int q; }; int c; };` as the host's build measured
        // it (clang names the member by where it is written) and as a session reports it.
        let host = TypeLayout {
            name: "Node".into(),
            size: 12,
            align: 4,
            fields: vec![
                field("a", 0, "int"),
                field("/app/node h:3:2)", 4, "union Node::(anonymous at"),
                field("/app/node h:3:2).p", 4, "int"),
                field("c", 8, "int"),
            ],
        };
        let reported = |name: &str, offset: u64, ty: &str| Field {
            name: name.into(),
            offset,
            ty: ty.into(),
        };
        let mut decl = hotwasm_incremental::Decl {
            size: Some(12),
            align: Some(4),
            fields: vec![
                reported("a", 0, "int"),
                reported("", 4, "union Node::(anonymous at /app/node.h:3:2)"),
                reported("c", 8, "int"),
            ],
            ..Default::default()
        };
        let check = |d: &hotwasm_incremental::Decl| {
            hotwasm_pipeline::layout::check(&[own_fields(&host)], &[type_layout("Node", d)])
        };
        assert_eq!(check(&decl), Ok(()));
        decl.fields[2].offset = 12;
        let moved = check(&decl).unwrap_err();
        assert!(moved.contains("field `c`"), "{moved}");
    }
}
