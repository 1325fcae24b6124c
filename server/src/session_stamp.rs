//! Bookkeeping of a session eval ([`crate::session_eval`]): the stamp that makes the in-step
//! check free while nothing the session depends on changed, and the split of an eval's compile
//! time that `HOTWASM_EVAL_SPLIT` prints.

use crate::journal::Journal;
use crate::protocol::Lang;
use crate::sessions::{self, Live};
use hotwasm_abi::HostManifest;
use hotwasm_pipeline::compile::Compiled;
use std::path::PathBuf;
use std::time::SystemTime;

/// What the in-step check depends on besides the session itself: the journal (its epoch, length
/// and next sequence number change with every append, forget and reset), the host, and the app
/// headers in the include dirs (the prelude names the host vars they declare). When none of it
/// changed since the session was last found in step, it still is ([`crate::session_eval`]'s in-step check) and the prelude
/// is not built again.
#[derive(Clone, PartialEq)]
pub struct Stamp {
    pub(crate) journal: JournalStamp,
    pub(crate) reset_after: u64,
    pub(crate) host: HostManifest,
    pub(crate) headers: Vec<(PathBuf, u64, Option<SystemTime>)>,
}

/// The journal's part of a [`Stamp`].
#[derive(Clone, PartialEq)]
pub struct JournalStamp {
    epoch: String,
    len: usize,
    next_seq: u64,
}

impl JournalStamp {
    /// The stamp of `journal` as it is.
    pub fn of(journal: &Journal) -> JournalStamp {
        JournalStamp {
            epoch: journal.epoch().to_string(),
            len: journal.len(),
            next_seq: journal.next_seq(),
        }
    }
}

/// The size and modification time of each app header in `dirs` ([`crate::vars::app_headers`]
/// reads the same files).
pub(crate) fn header_stamps(dirs: &[PathBuf]) -> Vec<(PathBuf, u64, Option<SystemTime>)> {
    let mut out: Vec<_> = dirs
        .iter()
        .filter_map(|d| std::fs::read_dir(d).ok())
        .flatten()
        .filter_map(|e| {
            let e = e.ok()?;
            let meta = e.metadata().ok()?;
            Some((e.path(), meta.len(), meta.modified().ok()))
        })
        .collect();
    out.sort();
    out
}

/// After an eval the session keeps was journaled: its stamp moves past the entry when the
/// journal was `before` as the session last saw it (nothing else changed it meanwhile), else it
/// is dropped and the next eval checks in full.
pub(crate) fn journaled(live: &mut Live, before: &JournalStamp, after: JournalStamp) {
    match live.in_step.as_mut() {
        Some(stamp) if stamp.journal == *before => stamp.journal = after,
        _ => live.in_step = None,
    }
}

/// Where a session eval's compile time went, printed to stderr when `HOTWASM_EVAL_SPLIT` is set
/// (benches/session.mjs sets it and reads the lines).
#[derive(Default)]
pub(crate) struct Split {
    /// Bringing the session in step with the journal (step 1).
    pub(crate) in_step_ms: f64,
    /// The session's eval request, start to answer (step 2).
    pub(crate) eval_ms: f64,
    /// Of which clang's parse and IR generation, and its optimisation and object emission.
    pub(crate) parse_ms: f64,
    pub(crate) emit_ms: f64,
    /// The pipeline's link (step 4).
    pub(crate) link_ms: f64,
}

impl Split {
    /// Prints the split of the eval `name` of `lang` that made `compiled`, when asked to.
    pub(crate) fn print(&self, lang: Lang, name: &str, compiled: &Compiled) {
        if std::env::var_os("HOTWASM_EVAL_SPLIT").is_none() {
            return;
        }
        let phases = &compiled.phases;
        eprintln!(
            "hotwasm: eval split {} {}: in_step {:.1} eval {:.1} (parse {:.1} emit {:.1}) link {:.1} (symbols {:.1} ld {:.1}) ms",
            lang.as_str(),
            if sessions::is_session_eval(lang, name) {
                "session"
            } else {
                "named"
            },
            self.in_step_ms,
            self.eval_ms,
            self.parse_ms,
            self.emit_ms,
            self.link_ms,
            phases.symbols.as_secs_f64() * 1000.0,
            phases.link.as_secs_f64() * 1000.0,
        );
    }
}
