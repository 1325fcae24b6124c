//! The server's shared state: connected clients and their outgoing queues, the journal, the
//! acks pages send back, and the compile slots. Journal appends and page registration happen
//! under one lock, so a page that connects while a patch is delivered gets it exactly once
//! (live or replayed), and in sequence order.

use crate::compile::Compiler;
use crate::inspect::Known;
use crate::journal::{Entry, EntryKind, Journal, JournalError};
use crate::protocol::{ErrorCode, ServerMsg, PROTOCOL_VERSION};
use crate::security::{Names, ACK_TIMEOUT, MAX_COMPILES, MAX_QUEUED};
use hotwasm_abi::{HostManifest, HostVar, Signature};
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::Sender;
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::time::Instant;

/// The hub's one lock policy (this code is reachable from the network, so it never panics on a
/// lock): a panic while a lock was held must not take every later connection down with it, so
/// a poisoned lock is taken over as it is. Every critical section here leaves its data
/// consistent at each step (single inserts, removes and counter changes), so what a panicking
/// thread left behind is still valid.
fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Something queued for one client's socket.
#[derive(Debug, Clone)]
pub enum Out {
    /// A JSON text frame.
    Text(String),
    /// A `patch` header and its binary frame, sent back to back.
    Patch(String, Arc<Vec<u8>>),
    /// Close the connection with this code.
    Close(u16),
}

/// A page's answer to one journal entry.
#[derive(Debug, Clone, PartialEq)]
pub struct AckInfo {
    /// Whether it applied.
    pub ok: bool,
    /// Apply time on the page.
    pub apply_ms: f64,
    /// Why not.
    pub error: Option<String>,
    /// What `hotwasm_main` printed.
    pub output: String,
    /// The value of the eval's final expression, if any.
    pub value: Option<crate::protocol::EvalValue>,
    /// When the server received it.
    pub at: Instant,
}

/// What [`Hub::undo`] did: the entries it undid and where it sent the undo.
#[derive(Debug, Clone, PartialEq)]
pub struct UndoSent {
    /// The patches and rollbacks undone (forgotten by the journal), oldest first.
    pub undone: Vec<u64>,
    /// The undo's own journal entry (the pages ack it).
    pub journal_seq: u64,
    /// The pages it was sent to.
    pub pages: Vec<u64>,
}

struct Client {
    tx: Sender<Out>,
    page: bool,
}

/// The locked part of the state.
pub struct State {
    /// The journal.
    pub journal: Journal,
    clients: HashMap<u64, Client>,
    sections: SectionsRead,
}

/// The `hotwasm.vars`/`hotwasm.globals` sections of the journal's patches, read from each patch
/// once and folded oldest first (an eval's check needs them under the state lock; reading every
/// journaled patch again on every eval grew with the journal).
#[derive(Default)]
struct SectionsRead {
    epoch: String,
    /// The patch entries folded in, in journal order.
    seqs: Vec<u64>,
    known: Known,
}

impl State {
    /// What earlier patches defined and bound to: the same as [`Known::from_journal`] over the
    /// journal's manifests and patches, reading only the patches journaled since the last call
    /// (all of them again after an undo forgot some or the journal was reset).
    pub fn known(&mut self) -> Known {
        let patches: Vec<(u64, &[u8])> = self
            .journal
            .entries()
            .iter()
            .filter_map(|e| match &e.kind {
                EntryKind::Patch { wasm, .. } => Some((e.seq, wasm.as_slice())),
                _ => None,
            })
            .collect();
        let read = &mut self.sections;
        let current = read.epoch == self.journal.epoch()
            && read.seqs.len() <= patches.len()
            && read.seqs.iter().zip(&patches).all(|(a, (b, _))| a == b);
        if !current {
            *read = SectionsRead {
                epoch: self.journal.epoch().to_string(),
                ..SectionsRead::default()
            };
        }
        for (seq, wasm) in &patches[read.seqs.len()..] {
            let later = Known::from_journal(HashMap::new(), [*wasm]);
            read.known.vars.extend(later.vars);
            for (name, global) in later.globals {
                read.known.globals.entry(name).or_insert(global);
            }
            read.seqs.push(*seq);
        }
        let mut known = read.known.clone();
        known.vars.extend(Hub::journal_vars(self));
        known
    }
}

/// Everything the connection threads share.
pub struct Hub {
    /// The per-run token.
    pub token: String,
    /// The names this server answers to.
    pub names: Names,
    /// The app root.
    pub root: PathBuf,
    /// The app's hotwasm.toml (named in errors that ask to change it).
    pub config_file: PathBuf,
    /// Where the host manifest is read from (on every eval, so a rebuilt bundle is seen).
    pub host_manifest: PathBuf,
    /// The compiler, or why there is none.
    pub compiler: Result<Compiler, String>,
    state: Mutex<State>,
    acks: Mutex<HashMap<u64, HashMap<u64, AckInfo>>>,
    acked: Condvar,
    slots: Mutex<(usize, usize)>,
    slot_free: Condvar,
    next_client: AtomicU64,
    /// Host builds this server made (`host_reload.rs`); names the bundle in `/hotwasm/app.json`.
    pub host_build: AtomicU64,
    /// The incremental compiler sessions C and C++ text evals go through.
    pub sessions: crate::sessions::Sessions,
}

/// A held compile slot; dropping it frees the slot.
pub struct Slot<'a>(&'a Hub);

impl Drop for Slot<'_> {
    fn drop(&mut self) {
        lock(&self.0.slots).0 -= 1;
        self.0.slot_free.notify_one();
    }
}

/// A place in the compile queue; [`Ticket::wait`] turns it into a [`Slot`]. Dropping a ticket
/// that never waited gives its place back, so every early exit of an eval (an unreadable file,
/// no compiler, a bad host manifest) frees the queue.
pub struct Ticket {
    hub: Arc<Hub>,
    queued: bool,
}

impl Ticket {
    /// Waits for a compile slot (leaving the queue for it).
    pub fn wait(&mut self) -> Slot<'_> {
        let hub = &self.hub;
        let mut s = lock(&hub.slots);
        while s.0 >= MAX_COMPILES {
            s = hub
                .slot_free
                .wait(s)
                .unwrap_or_else(PoisonError::into_inner);
        }
        s.0 += 1;
        if std::mem::take(&mut self.queued) {
            s.1 -= 1;
        }
        Slot(hub)
    }
}

impl Drop for Ticket {
    fn drop(&mut self) {
        if self.queued {
            lock(&self.hub.slots).1 -= 1;
        }
    }
}

impl Hub {
    /// A hub over `journal`.
    pub fn new(
        token: String,
        names: Names,
        root: PathBuf,
        host_manifest: PathBuf,
        compiler: Result<Compiler, String>,
        journal: Journal,
    ) -> Hub {
        Hub {
            token,
            names,
            config_file: root.join(crate::config::FILE_NAME),
            root,
            host_manifest,
            compiler,
            state: Mutex::new(State {
                journal,
                clients: HashMap::new(),
                sections: SectionsRead::default(),
            }),
            acks: Mutex::new(HashMap::new()),
            acked: Condvar::new(),
            slots: Mutex::new((0, 0)),
            slot_free: Condvar::new(),
            next_client: AtomicU64::new(1),
            host_build: AtomicU64::new(0),
            sessions: Default::default(),
        }
    }

    /// Locks the state (the journal and the clients).
    pub fn lock(&self) -> MutexGuard<'_, State> {
        lock(&self.state)
    }

    /// Enters the compile queue, or `None` if it is full (answer `busy`).
    pub fn try_queue(self: &Arc<Self>) -> Option<Ticket> {
        let mut s = lock(&self.slots);
        if s.1 >= MAX_QUEUED {
            return None;
        }
        s.1 += 1;
        Some(Ticket {
            hub: self.clone(),
            queued: true,
        })
    }

    /// Registers a new client connection and returns its id.
    pub fn connect(&self, tx: Sender<Out>) -> u64 {
        let id = self.next_client.fetch_add(1, Ordering::Relaxed);
        self.lock().clients.insert(id, Client { tx, page: false });
        id
    }

    /// Forgets a client; evals waiting for its acks stop waiting.
    pub fn disconnect(&self, id: u64) {
        self.lock().clients.remove(&id);
        let mut acks = lock(&self.acks);
        for waiting in acks.values_mut() {
            waiting.entry(id).or_insert_with(|| AckInfo {
                ok: false,
                apply_ms: 0.0,
                error: Some("the page disconnected before acking".into()),
                output: String::new(),
                value: None,
                at: Instant::now(),
            });
        }
        self.acked.notify_all();
    }

    /// Queues `out` for client `id`.
    pub fn send(&self, id: u64, out: Out) {
        if let Some(c) = self.lock().clients.get(&id) {
            let _ = c.tx.send(out);
        }
    }

    /// The host manifest as it is on disk now (empty if there is none yet), or why it cannot
    /// be read.
    pub fn host(&self) -> Result<HostManifest, String> {
        read_host_manifest(&self.host_manifest).map(Option::unwrap_or_default)
    }

    /// Answers `hello`: sends `welcome`, and to a page every journal entry it lacks and
    /// `replay_done`, then (for a page) starts delivering live patches to it.
    pub fn hello(&self, id: u64, page: bool, epoch: Option<&str>, seq: u64) {
        let host_vars: Vec<HostVar> = self.host().map(|h| h.vars).unwrap_or_default();
        let mut state = self.lock();
        let State {
            journal, clients, ..
        } = &mut *state;
        let Some(client) = clients.get_mut(&id) else {
            return;
        };
        let welcome = ServerMsg::Welcome {
            protocol: PROTOCOL_VERSION,
            server_version: env!("CARGO_PKG_VERSION").to_string(),
            journal_epoch: journal.epoch().to_string(),
            journal_len: journal.len() as u64,
            host_vars,
            host_build: self.host_build.load(Ordering::Relaxed),
        };
        let _ = client.tx.send(Out::Text(welcome.to_json()));
        if page {
            let entries = journal.after(epoch, seq);
            for entry in &entries {
                let _ = client
                    .tx
                    .send(entry_out(journal.epoch(), entry, None, true));
            }
            let _ = client.tx.send(Out::Text(
                ServerMsg::ReplayDone {
                    count: entries.len() as u64,
                }
                .to_json(),
            ));
            client.page = true;
        }
    }

    /// Appends `kind` to the journal and sends it to every page except `except`; returns the
    /// entry and the pages it went to (whose acks are then collected under its seq).
    pub fn deliver(
        &self,
        state: &mut State,
        kind: EntryKind,
        eval_id: Option<String>,
        except: Option<u64>,
    ) -> Result<(Entry, Vec<u64>), JournalError> {
        let entry = state.journal.append(kind)?;
        let pages = self.send_entry(state, &entry, eval_id, except);
        Ok((entry, pages))
    }

    /// Sends journal entry `entry` to every page except `except`; returns the pages it went to
    /// (whose acks are then collected under its seq).
    fn send_entry(
        &self,
        state: &State,
        entry: &Entry,
        eval_id: Option<String>,
        except: Option<u64>,
    ) -> Vec<u64> {
        let out = entry_out(state.journal.epoch(), entry, eval_id, false);
        let mut pages = Vec::new();
        lock(&self.acks).insert(entry.seq, HashMap::new());
        for (id, c) in &state.clients {
            if c.page && Some(*id) != except && c.tx.send(out.clone()).is_ok() {
                pages.push(*id);
            }
        }
        pages
    }

    /// Journals an undo of entry `before` and every later one (the journal forgets them) and
    /// sends it to every page; `Ok(None)` when the journal has no entry `before`.
    pub fn undo(&self, before: u64, state: bool) -> Result<Option<UndoSent>, JournalError> {
        let mut guard = self.lock();
        let Some((undone, entry)) = guard.journal.undo(before, state)? else {
            return Ok(None);
        };
        let pages = self.send_entry(&guard, &entry, None, None);
        Ok(Some(UndoSent {
            undone,
            journal_seq: entry.seq,
            pages,
        }))
    }

    /// Records a page's ack.
    pub fn ack(&self, page: u64, seq: u64, info: AckInfo) {
        if let Some(waiting) = lock(&self.acks).get_mut(&seq) {
            waiting.insert(page, info);
            self.acked.notify_all();
        }
    }

    /// Waits (at most [`ACK_TIMEOUT`]) for every page in `pages` to ack `seq`.
    pub fn collect_acks(&self, seq: u64, pages: &[u64]) -> HashMap<u64, AckInfo> {
        let deadline = Instant::now() + ACK_TIMEOUT;
        let mut acks = lock(&self.acks);
        loop {
            let done = acks
                .get(&seq)
                .is_none_or(|w| pages.iter().all(|p| w.contains_key(p)));
            let now = Instant::now();
            if done || now >= deadline {
                return acks.remove(&seq).unwrap_or_default();
            }
            acks = self
                .acked
                .wait_timeout(acks, deadline - now)
                .unwrap_or_else(PoisonError::into_inner)
                .0;
        }
    }

    /// Journals a rollback of `var` and sends it to every page but `except`.
    pub fn rollback(&self, var: &str, except: Option<u64>) -> Result<u64, JournalError> {
        let mut state = self.lock();
        let (entry, _) = self.deliver(
            &mut state,
            EntryKind::Rollback {
                var: var.to_string(),
            },
            None,
            except,
        )?;
        lock(&self.acks).remove(&entry.seq);
        Ok(entry.seq)
    }

    /// Clears the journal and tells every client.
    pub fn reset_journal(&self) -> Result<(), JournalError> {
        let mut state = self.lock();
        state.journal.reset()?;
        let msg = ServerMsg::JournalReset {
            journal_epoch: state.journal.epoch().to_string(),
        }
        .to_json();
        for c in state.clients.values() {
            let _ = c.tx.send(Out::Text(msg.clone()));
        }
        Ok(())
    }

    /// Sends `msg` to every client that said hello (pages and terminals).
    pub fn broadcast(&self, msg: &ServerMsg) {
        let text = msg.to_json();
        for c in self.lock().clients.values() {
            let _ = c.tx.send(Out::Text(text.clone()));
        }
    }

    /// Vars defined by journaled patches, with their signatures.
    pub fn journal_vars(state: &State) -> HashMap<String, Signature> {
        let mut vars = HashMap::new();
        for e in state.journal.entries() {
            if let EntryKind::Patch { manifest, .. } = &e.kind {
                for p in &manifest.entries {
                    vars.insert(p.var.clone(), p.signature.clone());
                }
            }
        }
        vars
    }

    /// An error message for a client.
    pub fn error(code: ErrorCode, message: impl Into<String>) -> Out {
        Self::refusal(code, message, None)
    }

    /// An error message refusing the request `id` (an eval's or undo's), so the client waiting
    /// for its answer gets one.
    pub fn refusal(code: ErrorCode, message: impl Into<String>, id: Option<String>) -> Out {
        Out::Text(
            ServerMsg::Error {
                code,
                message: message.into(),
                id,
            }
            .to_json(),
        )
    }
}

/// The virtual-FS path a page writes patch `seq` to.
pub fn patch_path(epoch: &str, seq: u64) -> String {
    format!("/hotwasm/patch-{epoch}-{seq}.so")
}

fn entry_out(epoch: &str, entry: &Entry, eval_id: Option<String>, replay: bool) -> Out {
    match &entry.kind {
        EntryKind::Patch {
            manifest,
            run,
            wasm,
            ..
        } => {
            let msg = ServerMsg::Patch {
                seq: entry.seq,
                eval_id,
                manifest: manifest.entries.clone(),
                size: wasm.len() as u64,
                path: patch_path(epoch, entry.seq),
                run: run.clone(),
                replay,
            };
            Out::Patch(msg.to_json(), wasm.clone())
        }
        EntryKind::Rollback { var } => Out::Text(
            ServerMsg::Rollback {
                seq: entry.seq,
                var: var.clone(),
                replay,
            }
            .to_json(),
        ),
        EntryKind::Undo { before, state } => Out::Text(
            ServerMsg::Undo {
                seq: *before,
                state: *state,
                journal_seq: entry.seq,
                replay,
            }
            .to_json(),
        ),
    }
}

/// Reads the host manifest the HOT_RELOAD bundle writes (`hotwasm-host.json`).
///
/// `Ok(None)` if there is no such file yet; an error naming the file and the fix if it is
/// there but not a host manifest of this format version.
pub fn read_host_manifest(path: &std::path::Path) -> Result<Option<HostManifest>, String> {
    HostManifest::read(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A wasm module of custom sections only (each under 128 bytes: one-byte sizes).
    fn sections(list: &[(&str, &str)]) -> Arc<Vec<u8>> {
        let mut wasm = b"\0asm\x01\0\0\0".to_vec();
        for (name, data) in list {
            let len = 1 + name.len() + data.len();
            assert!(len < 128 && name.len() < 128);
            wasm.extend([0, len as u8, name.len() as u8]);
            wasm.extend(name.bytes().chain(data.bytes()));
        }
        Arc::new(wasm)
    }

    fn patch(vars: &str, globals: &str) -> EntryKind {
        EntryKind::Patch {
            manifest: hotwasm_abi::PatchManifest { entries: vec![] },
            run: None,
            source: String::new(),
            lang: crate::protocol::Lang::C,
            name: "p.c".into(),
            wasm: sections(&[("hotwasm.vars", vars), ("hotwasm.globals", globals)]),
            declared_types: Vec::new(),
            declarations: Default::default(),
        }
    }

    /// What the journal's patches declare, read again from every patch.
    fn read_all(state: &State) -> Known {
        Known::from_journal(
            Hub::journal_vars(state),
            state
                .journal
                .entries()
                .iter()
                .filter_map(|e| match &e.kind {
                    EntryKind::Patch { wasm, .. } => Some(wasm.as_slice()),
                    _ => None,
                }),
        )
    }

    #[test]
    fn what_earlier_patches_declare_is_read_once_and_matches_reading_them_all_again() {
        let dir = tempfile::tempdir().unwrap();
        let mut state = State {
            journal: Journal::open(dir.path()).unwrap(),
            clients: HashMap::new(),
            sections: SectionsRead::default(),
        };
        let step = |state: &mut State, what: &str| {
            let known = state.known();
            assert_eq!(known, read_all(state), "after {what}");
            assert!(!known.vars.is_empty() || state.journal.is_empty(), "{what}");
        };
        state.journal.append(patch("f ii\n", "g 4 int\n")).unwrap();
        step(&mut state, "the first patch");
        state
            .journal
            .append(patch("f vi\nh d\n", "g 8 long\nk 1 char\n"))
            .unwrap();
        step(&mut state, "a redefinition");
        assert_eq!(state.sections.seqs, vec![1, 2], "each patch read once");
        state
            .journal
            .append(EntryKind::Rollback { var: "f".into() })
            .unwrap();
        let undone = state.journal.append(patch("u i\n", "")).unwrap().seq;
        step(&mut state, "a rollback and a patch");
        state.journal.undo(undone, false).unwrap();
        step(&mut state, "an undo");
        assert_eq!(
            state.known().vars.get("u"),
            None,
            "the undone patch is forgotten"
        );
        state.journal.reset().unwrap();
        step(&mut state, "a reset");
        state.journal.append(patch("z p\n", "")).unwrap();
        step(&mut state, "a patch in the new epoch");
    }
}
