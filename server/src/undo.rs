//! `undo`: roll every page back to just before a journal entry, the code and (with `state`) the
//! app's memory, and report each page's answer.
//!
//! The steps:
//! 1. [`Hub::undo`] forgets the entry and every later one in the journal (a new page never
//!    replays them) and journals the undo itself (a page that missed it gets it on reconnect),
//!    then queues `undo {seq, state, journal_seq}` for every page;
//! 2. each page undoes the patches it applied from that entry on (restoring the snapshot it took
//!    before it, or taking them out of its registry when `state` is false or it kept no such
//!    snapshot) and acks the undo's `journal_seq`;
//! 3. [`run`] collects the acks (at most [`ACK_TIMEOUT`]) into `undo_result`.
//!
//! A page that caught a trap in patch N and restored its own snapshot sends `undo` with `trap`
//! set: it finds nothing left to undo itself, every other page follows it.

use crate::hub::{Hub, UndoSent};
use crate::protocol::{PageOutcome, ServerMsg};
use crate::security::ACK_TIMEOUT;
use std::sync::atomic::{AtomicUsize, Ordering};

/// Undos waiting for pages' acks at once, server-wide (each holds a thread for up to
/// [`ACK_TIMEOUT`]); more are answered `busy`.
pub const MAX_IN_FLIGHT: usize = 4;

static IN_FLIGHT: AtomicUsize = AtomicUsize::new(0);

/// One of the [`MAX_IN_FLIGHT`] places; dropping it frees the place.
pub struct InFlight(());

impl InFlight {
    /// Takes a place, or `None` when all are taken.
    pub fn enter() -> Option<InFlight> {
        IN_FLIGHT
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| {
                (n < MAX_IN_FLIGHT).then_some(n + 1)
            })
            .ok()
            .map(|_| InFlight(()))
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        IN_FLIGHT.fetch_sub(1, Ordering::AcqRel);
    }
}

/// Runs one `undo` request from client `from`; returns the `undo_result` for it.
pub fn run(
    hub: &Hub,
    from: u64,
    id: String,
    seq: u64,
    state: bool,
    trap: Option<String>,
) -> ServerMsg {
    if let Some(message) = &trap {
        eprintln!(
            "hotwasm: page {from} trapped in patch {seq} ({message}) and restored its state from before it; undoing #{seq} and later entries on every page"
        );
    }
    let result = |ok, undone, journal_seq, pages, error| ServerMsg::UndoResult {
        id: id.clone(),
        ok,
        seq,
        state,
        undone,
        journal_seq,
        pages,
        error,
    };
    let UndoSent {
        undone,
        journal_seq,
        pages,
    } = match hub.undo(seq, state) {
        Ok(Some(sent)) => sent,
        Ok(None) => {
            let held = hub.lock().journal.describe_seqs();
            let error = format!(
                "there is no journal entry #{seq} to undo (the journal holds {held}): pick the seq of a patch still in the journal (eval results say `patch N applied`; the page's history panel lists #N beside each patch)"
            );
            return result(false, vec![], None, vec![], Some(error));
        }
        Err(e) => return result(false, vec![], None, vec![], Some(e.to_string())),
    };
    let acks = hub.collect_acks(journal_seq, &pages);
    let outcomes: Vec<PageOutcome> = pages
        .iter()
        .map(|page| match acks.get(page) {
            Some(a) => PageOutcome {
                page: *page,
                ok: a.ok,
                apply_ms: a.apply_ms,
                error: a.error.clone(),
                output: a.output.clone(),
                value: None,
            },
            None => PageOutcome {
                page: *page,
                ok: false,
                apply_ms: 0.0,
                error: Some(format!("no ack within {} s", ACK_TIMEOUT.as_secs())),
                output: String::new(),
                value: None,
            },
        })
        .collect();
    let failed: Vec<String> = outcomes
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
    let error = (!failed.is_empty()).then(|| failed.join("; "));
    result(
        failed.is_empty(),
        undone,
        Some(journal_seq),
        outcomes,
        error,
    )
}
