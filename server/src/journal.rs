//! The journal on disk: every delivered patch (its wasm, manifest, source) and every rollback,
//! one file per entry, each written atomically (temp file, fsync, rename, fsync the directory),
//! so a crash at any point leaves either the whole entry or none. Torn temp files and entries
//! that do not parse are moved to `quarantine/` on open; replay never sees them.
//!
//! Sequence numbers never repeat in one journal directory, even across resets, so the
//! virtual-FS path of a patch (`/hotwasm/patch-<epoch>-<seq>.so`) is unique for a page's life.
//!
//! What a page is sent (docs/PROTOCOL.md, "What a reload replays"): a page catching up (same
//! epoch, the seq it reached) gets every entry after it; a new wasm instance (a page load, a host
//! reload) gets every entry but the *commands*: patches that define nothing — no var, no exported
//! global or function but their run-once function — i.e. evals of statements and expressions
//! only (`count_alive()`, `printf(...)`). They ran on the pages of their time; a new instance
//! starts from the program (the definitions, with their own statements), not from its history.
//! Nor is it sent a patch that only made a version of one var which a later rollback (a trap's,
//! or the user's) took back, nor that rollback (`rolled_back.rs`): the pair leaves the var where
//! it was, and loading it would run the undone code again for a moment.
//!
//! An undo to before entry N forgets N and every later entry (their files are deleted, so a new
//! page never replays them) and appends an `undo` entry: a page that applied some of them while
//! connected, then missed the undo, is sent it on reconnect; a page that never applied them
//! finds nothing to undo.

use crate::protocol::Lang;
use hotwasm_abi::PatchManifest;
pub use hotwasm_pipeline::compile::globals::{Declarations, Include};
use serde::{Deserialize, Serialize};
use std::fs;
use std::path::{Path, PathBuf};
use std::sync::Arc;

const MAGIC: &str = "HOTWASM-JOURNAL 1";

/// Why the journal could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum JournalError {
    /// A filesystem operation failed.
    #[error("journal {path}: {error}; check the directory's permissions and free space, or start with another --journal")]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// What the system said.
        error: std::io::Error,
    },
}

/// What an entry records.
#[derive(Debug, Clone, PartialEq)]
pub enum EntryKind {
    /// A delivered patch.
    Patch {
        /// Its manifest.
        manifest: PatchManifest,
        /// The symbol to run once, if any.
        run: Option<String>,
        /// The source it was compiled from.
        source: String,
        /// Its language.
        lang: Lang,
        /// The file name it was compiled as.
        name: String,
        /// The SIDE_MODULE.
        wasm: Arc<Vec<u8>>,
        /// The types (records, typedefs, enums) its source declares itself, as clang reported
        /// them: the vars header names a var whose type is one of these rather than declaring
        /// it. Empty for entries journaled before it was recorded (read as declaring none).
        declared_types: Vec<String>,
        /// Its functions' and globals' declarations as clang printed them, and its own
        /// `#include`s, for the vars header. Empty for entries journaled before they were
        /// recorded, and for saved files whose report was not read: their vars are then declared
        /// from their signature letters.
        declarations: Declarations,
    },
    /// A rollback of one var.
    Rollback {
        /// The var.
        var: String,
    },
    /// An undo of every entry from `before` on (those entries are gone from the journal).
    Undo {
        /// The first entry undone.
        before: u64,
        /// Whether pages restore memory too.
        state: bool,
    },
}

/// One journal entry.
#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    /// Sequence number, unique in this journal directory.
    pub seq: u64,
    /// What it records.
    pub kind: EntryKind,
}

impl Entry {
    /// Whether this entry is a command: a patch that defines nothing a later eval, the app or a
    /// reload could use (no var; no export but its run-once function and the linker's own `__`
    /// names). A patch whose exports cannot be read counts as a definition (it is replayed).
    pub fn is_command(&self) -> bool {
        let EntryKind::Patch {
            manifest,
            run,
            wasm,
            ..
        } = &self.kind
        else {
            return false;
        };
        manifest.entries.is_empty()
            && exports(wasm).is_some_and(|names| {
                names
                    .iter()
                    .all(|n| n.starts_with("__") || Some(n) == run.as_ref())
            })
    }
}

/// The export names of a side module (abi's one wasm reader), or `None` if it does not parse.
fn exports(wasm: &[u8]) -> Option<Vec<String>> {
    let shape = hotwasm_abi::wasm::read_module(wasm).ok()?;
    Some(shape.export_names.into_iter().collect())
}

#[derive(Serialize, Deserialize)]
struct Header {
    seq: u64,
    epoch: String,
    kind: String,
    #[serde(default)]
    var: Option<String>,
    #[serde(default)]
    manifest: Option<String>,
    #[serde(default)]
    run: Option<String>,
    #[serde(default)]
    source: Option<String>,
    #[serde(default)]
    lang: Option<Lang>,
    #[serde(default)]
    name: Option<String>,
    size: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    before: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    state: Option<bool>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    declared_types: Vec<String>,
    #[serde(default, skip_serializing_if = "is_empty")]
    declarations: Declarations,
}

fn is_empty(d: &Declarations) -> bool {
    d.printed.is_empty() && d.includes.is_empty()
}

#[derive(Serialize, Deserialize)]
struct Meta {
    epoch: String,
    last_seq: u64,
}

/// The journal of one project.
#[derive(Debug)]
pub struct Journal {
    dir: PathBuf,
    epoch: String,
    last_seq: u64,
    entries: Vec<Entry>,
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> JournalError + '_ {
    move |error| JournalError::Io {
        path: path.to_path_buf(),
        error,
    }
}

impl Journal {
    /// Opens (creating if needed) the journal in `dir`, quarantining torn or corrupt files.
    pub fn open(dir: &Path) -> Result<Journal, JournalError> {
        fs::create_dir_all(dir).map_err(io(dir))?;
        let meta_path = dir.join("meta.json");
        let meta: Option<Meta> = fs::read(&meta_path)
            .ok()
            .and_then(|b| serde_json::from_slice(&b).ok());
        let mut journal = Journal {
            dir: dir.to_path_buf(),
            epoch: meta
                .as_ref()
                .map_or_else(|| crate::security::random_hex(8), |m| m.epoch.clone()),
            last_seq: meta.as_ref().map_or(0, |m| m.last_seq),
            entries: Vec::new(),
        };
        if meta.is_none() {
            journal.write_meta()?;
        }
        for item in fs::read_dir(dir).map_err(io(dir))? {
            let path = item.map_err(io(dir))?.path();
            let file = path
                .file_name()
                .unwrap_or_default()
                .to_string_lossy()
                .into_owned();
            if file.starts_with(".tmp") {
                journal.quarantine(&path)?;
            } else if file.ends_with(".entry") {
                match read_entry(&path) {
                    Some((epoch, _)) if epoch != journal.epoch => {
                        // Left over from a reset that was interrupted: it belongs to no epoch.
                        fs::remove_file(&path).map_err(io(&path))?;
                    }
                    Some((_, entry)) => journal.entries.push(entry),
                    None => journal.quarantine(&path)?,
                }
            }
        }
        journal.entries.sort_by_key(|e| e.seq);
        journal.last_seq = journal
            .last_seq
            .max(journal.entries.last().map_or(0, |e| e.seq));
        Ok(journal)
    }

    fn quarantine(&self, path: &Path) -> Result<(), JournalError> {
        let q = self.dir.join("quarantine");
        fs::create_dir_all(&q).map_err(io(&q))?;
        let to = q.join(path.file_name().unwrap_or_default());
        fs::rename(path, &to).map_err(io(path))
    }

    /// The current epoch (changes on reset).
    pub fn epoch(&self) -> &str {
        &self.epoch
    }

    /// Entries in the current epoch.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether the current epoch has no entries.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The sequence number the next entry will get.
    pub fn next_seq(&self) -> u64 {
        self.last_seq + 1
    }

    /// Every entry, in order.
    pub fn entries(&self) -> &[Entry] {
        &self.entries
    }

    /// Entries a page must be sent: after `seq` if `epoch` is this journal's and `seq` > 0 (a
    /// page catching up: all of them); else every entry but the commands and the versions a
    /// later rollback undid, with those rollbacks (a new instance: see the top of this file).
    pub fn after(&self, epoch: Option<&str>, seq: u64) -> Vec<Entry> {
        let from = if epoch == Some(self.epoch.as_str()) {
            seq
        } else {
            0
        };
        if from > 0 {
            return self
                .entries
                .iter()
                .filter(|e| e.seq > from)
                .cloned()
                .collect();
        }
        let undone = crate::rolled_back::cancelled_pairs(&self.entries);
        self.entries
            .iter()
            .filter(|e| !e.is_command() && !undone.contains(&e.seq))
            .cloned()
            .collect()
    }

    /// Records `kind` durably under the next sequence number and returns the entry.
    pub fn append(&mut self, kind: EntryKind) -> Result<Entry, JournalError> {
        let entry = Entry {
            seq: self.next_seq(),
            kind,
        };
        let (header, wasm): (Header, &[u8]) = match &entry.kind {
            EntryKind::Patch {
                manifest,
                run,
                source,
                lang,
                name,
                wasm,
                declared_types,
                declarations,
            } => (
                Header {
                    seq: entry.seq,
                    epoch: self.epoch.clone(),
                    kind: "patch".into(),
                    var: None,
                    manifest: Some(manifest.to_text()),
                    run: run.clone(),
                    source: Some(source.clone()),
                    lang: Some(*lang),
                    name: Some(name.clone()),
                    size: wasm.len() as u64,
                    before: None,
                    state: None,
                    declared_types: declared_types.clone(),
                    declarations: declarations.clone(),
                },
                wasm,
            ),
            EntryKind::Rollback { var } => (
                Header {
                    seq: entry.seq,
                    epoch: self.epoch.clone(),
                    kind: "rollback".into(),
                    var: Some(var.clone()),
                    manifest: None,
                    run: None,
                    source: None,
                    lang: None,
                    name: None,
                    size: 0,
                    before: None,
                    state: None,
                    declared_types: Vec::new(),
                    declarations: Default::default(),
                },
                &[],
            ),
            EntryKind::Undo { before, state } => (
                Header {
                    seq: entry.seq,
                    epoch: self.epoch.clone(),
                    kind: "undo".into(),
                    var: None,
                    manifest: None,
                    run: None,
                    source: None,
                    lang: None,
                    name: None,
                    size: 0,
                    before: Some(*before),
                    state: Some(*state),
                    declared_types: Vec::new(),
                    declarations: Default::default(),
                },
                &[],
            ),
        };
        let mut bytes = format!(
            "{MAGIC}\n{}\n",
            serde_json::to_string(&header).expect("header serializes")
        )
        .into_bytes();
        bytes.extend_from_slice(wasm);
        self.write_atomically(&format!("{:016}.entry", entry.seq), &bytes)?;
        self.last_seq = entry.seq;
        self.entries.push(entry.clone());
        Ok(entry)
    }

    /// Forgets entry `before` and every later one, deleting their files, and journals the undo
    /// (see the top of this file). Returns the seqs of the patches and rollbacks forgotten, oldest
    /// first (earlier undo entries it forgets too are not listed), and the undo entry.
    /// Refuses (`Ok(None)`) when there is no entry `before`.
    pub fn undo(
        &mut self,
        before: u64,
        state: bool,
    ) -> Result<Option<(Vec<u64>, Entry)>, JournalError> {
        if !self.entries.iter().any(|e| e.seq == before) {
            return Ok(None);
        }
        let mut undone = Vec::new();
        while self.entries.last().is_some_and(|e| e.seq >= before) {
            let entry = self.entries.pop().expect("checked above");
            let path = self.dir.join(format!("{:016}.entry", entry.seq));
            match fs::remove_file(&path) {
                Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(io(&path)(e)),
                _ => {}
            }
            if !matches!(entry.kind, EntryKind::Undo { .. }) {
                undone.push(entry.seq);
            }
        }
        undone.reverse();
        let entry = self.append(EntryKind::Undo { before, state })?;
        Ok(Some((undone, entry)))
    }

    /// The seqs of the entries in the journal now, as a short text (`#1..#4, #7`) for messages.
    pub fn describe_seqs(&self) -> String {
        if self.entries.is_empty() {
            return "none".into();
        }
        self.entries
            .iter()
            .map(|e| format!("#{}", e.seq))
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// Forgets every entry and starts a new epoch; sequence numbers keep counting.
    pub fn reset(&mut self) -> Result<(), JournalError> {
        self.epoch = crate::security::random_hex(8);
        self.write_meta()?;
        for entry in self.entries.drain(..) {
            let path = self.dir.join(format!("{:016}.entry", entry.seq));
            match fs::remove_file(&path) {
                Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(io(&path)(e)),
                _ => {}
            }
        }
        Ok(())
    }

    /// Forgets the entries `seqs` (a rebuilt host cannot take them): their files are removed, so
    /// neither a page nor a restarted server replays them; sequence numbers keep counting.
    pub fn forget(&mut self, seqs: &[u64]) -> Result<(), JournalError> {
        for seq in seqs {
            let path = self.dir.join(format!("{seq:016}.entry"));
            match fs::remove_file(&path) {
                Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(io(&path)(e)),
                _ => {}
            }
        }
        self.entries.retain(|e| !seqs.contains(&e.seq));
        Ok(())
    }

    fn write_meta(&self) -> Result<(), JournalError> {
        let meta = Meta {
            epoch: self.epoch.clone(),
            last_seq: self.last_seq,
        };
        self.write_atomically(
            "meta.json",
            serde_json::to_string(&meta)
                .expect("meta serializes")
                .as_bytes(),
        )
    }

    fn write_atomically(&self, name: &str, bytes: &[u8]) -> Result<(), JournalError> {
        let to = self.dir.join(name);
        hotwasm_pipeline::files::write_atomically(&to, bytes).map_err(io(&to))
    }
}

/// Reads one entry file; `None` if it is torn or corrupt.
fn read_entry(path: &Path) -> Option<(String, Entry)> {
    let bytes = fs::read(path).ok()?;
    let rest = bytes.strip_prefix(format!("{MAGIC}\n").as_bytes())?;
    let nl = rest.iter().position(|&b| b == b'\n')?;
    let header: Header = serde_json::from_slice(&rest[..nl]).ok()?;
    let wasm = &rest[nl + 1..];
    if wasm.len() as u64 != header.size {
        return None;
    }
    let kind = match header.kind.as_str() {
        "patch" => EntryKind::Patch {
            manifest: PatchManifest::parse(header.manifest.as_deref()?).ok()?,
            run: header.run,
            source: header.source.unwrap_or_default(),
            lang: header.lang.unwrap_or(Lang::C),
            name: header.name.unwrap_or_default(),
            wasm: Arc::new(wasm.to_vec()),
            declared_types: header.declared_types,
            declarations: header.declarations,
        },
        "rollback" => EntryKind::Rollback { var: header.var? },
        "undo" => EntryKind::Undo {
            before: header.before?,
            state: header.state.unwrap_or(true),
        },
        _ => return None,
    };
    Some((
        header.epoch,
        Entry {
            seq: header.seq,
            kind,
        },
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn patch(n: u8) -> EntryKind {
        EntryKind::Patch {
            manifest: PatchManifest::parse("f f__hw1 ii").unwrap(),
            run: None,
            source: "int f(int x){return x;}".into(),
            lang: Lang::C,
            name: "eval.c".into(),
            wasm: Arc::new(vec![n; 10]),
            declared_types: Vec::new(),
            declarations: Default::default(),
        }
    }

    #[test]
    fn entries_survive_reopening_and_torn_files_are_quarantined() {
        let dir = tempfile::tempdir().unwrap();
        let mut j = Journal::open(dir.path()).unwrap();
        let epoch = j.epoch().to_string();
        j.append(patch(1)).unwrap();
        j.append(EntryKind::Rollback { var: "f".into() }).unwrap();
        fs::write(
            dir.path().join(".tmp-1-0000000000000003.entry"),
            b"HOTWASM-JOURNAL 1\n{\"seq\":3",
        )
        .unwrap();
        fs::write(
            dir.path().join("0000000000000004.entry"),
            b"HOTWASM-JOURNAL 1\n{}\n",
        )
        .unwrap();
        let j = Journal::open(dir.path()).unwrap();
        assert_eq!(j.epoch(), epoch);
        assert_eq!(j.len(), 2);
        assert_eq!(j.entries()[0].kind, patch(1));
        assert_eq!(j.next_seq(), 3);
        assert_eq!(
            fs::read_dir(dir.path().join("quarantine")).unwrap().count(),
            2
        );
    }

    #[test]
    fn clangs_declarations_survive_reopening_and_an_older_entry_reads_as_declaring_none() {
        let dir = tempfile::tempdir().unwrap();
        let mut j = Journal::open(dir.path()).unwrap();
        let mut recorded = patch(1);
        if let EntryKind::Patch { declarations, .. } = &mut recorded {
            declarations
                .printed
                .insert("f".into(), "int f(int x)".into());
            declarations.includes.push(Include {
                name: "math.h".into(),
                angled: true,
            });
        }
        j.append(recorded.clone()).unwrap();
        let old = j.append(patch(2)).unwrap();
        // An entry journaled before the field existed: its header has no `declarations`.
        let file = dir.path().join(format!("{:016}.entry", old.seq));
        let bytes = fs::read(&file).unwrap();
        let text = String::from_utf8_lossy(&bytes);
        assert!(
            !text.contains("declarations"),
            "an empty record is not written"
        );
        let j = Journal::open(dir.path()).unwrap();
        assert_eq!(j.entries()[0].kind, recorded);
        assert_eq!(j.entries()[1].kind, patch(2));
    }

    #[test]
    fn replay_starts_after_the_pages_seq_in_the_same_epoch_only() {
        let dir = tempfile::tempdir().unwrap();
        let mut j = Journal::open(dir.path()).unwrap();
        for n in 0..3 {
            j.append(patch(n)).unwrap();
        }
        let epoch = j.epoch().to_string();
        assert_eq!(j.after(Some(&epoch), 2).len(), 1);
        assert_eq!(j.after(Some("other"), 2).len(), 3);
        assert_eq!(j.after(None, 0).len(), 3);
    }

    #[test]
    fn an_undo_forgets_the_undone_entries_on_disk_and_journals_itself() {
        let dir = tempfile::tempdir().unwrap();
        let mut j = Journal::open(dir.path()).unwrap();
        for n in 0..4 {
            j.append(patch(n)).unwrap();
        }
        assert!(j.undo(9, true).unwrap().is_none(), "no entry #9: refused");
        let (undone, entry) = j.undo(2, true).unwrap().unwrap();
        assert_eq!(undone, vec![2, 3, 4]);
        assert_eq!(entry.seq, 5);
        assert_eq!(
            entry.kind,
            EntryKind::Undo {
                before: 2,
                state: true
            }
        );
        let j = Journal::open(dir.path()).unwrap();
        let seqs: Vec<u64> = j.entries().iter().map(|e| e.seq).collect();
        assert_eq!(seqs, vec![1, 5], "a new page replays #1 and the undo only");
        assert_eq!(j.entries()[1].kind, entry.kind);
        assert_eq!(j.next_seq(), 6);
        let epoch = j.epoch().to_string();
        assert_eq!(
            j.after(Some(&epoch), 3).len(),
            1,
            "a page that missed it gets the undo"
        );
    }

    #[test]
    fn forgotten_entries_are_gone_after_reopening_and_seqs_keep_counting() {
        let dir = tempfile::tempdir().unwrap();
        let mut j = Journal::open(dir.path()).unwrap();
        for n in 0..3 {
            j.append(patch(n)).unwrap();
        }
        j.forget(&[2]).unwrap();
        assert_eq!(
            j.entries().iter().map(|e| e.seq).collect::<Vec<_>>(),
            [1, 3]
        );
        let j = Journal::open(dir.path()).unwrap();
        assert_eq!(
            j.entries().iter().map(|e| e.seq).collect::<Vec<_>>(),
            [1, 3]
        );
        assert_eq!(j.next_seq(), 4);
    }

    #[test]
    fn reset_changes_the_epoch_and_keeps_counting() {
        let dir = tempfile::tempdir().unwrap();
        let mut j = Journal::open(dir.path()).unwrap();
        j.append(patch(1)).unwrap();
        let old = j.epoch().to_string();
        j.reset().unwrap();
        assert_ne!(j.epoch(), old);
        assert!(j.is_empty());
        let j = Journal::open(dir.path()).unwrap();
        assert!(j.is_empty());
        assert_eq!(j.next_seq(), 2);
    }
}
