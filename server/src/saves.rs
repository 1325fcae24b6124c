//! The one debouncer of saved files: a notify watcher on some directories whose events are
//! gathered into batches, a batch ending when no event came for a quiet period (an editor's save
//! is several events: a temp file, a rename, a write). The patch watch ([`crate::watch`]) and the
//! host watch ([`crate::host_reload`]) each read their batches on a thread of their own.

use notify::{EventKind, RecommendedWatcher, RecursiveMode, Watcher};
use std::collections::BTreeSet;
use std::path::PathBuf;
use std::sync::mpsc::{channel, Receiver, Sender};
use std::time::Duration;

/// Which events count as a save.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kinds {
    /// A file created or written.
    Writes,
    /// Also a file removed (a host source deleted changes the build).
    WritesAndRemovals,
}

/// Batches of saved paths from the watched directories.
pub struct Saves {
    rx: Receiver<PathBuf>,
    /// Queues a path as if it was saved (the config watch asks the host watch for a rebuild).
    tx: Sender<PathBuf>,
    quiet: Duration,
    _watcher: RecommendedWatcher,
}

impl Saves {
    /// Watches each existing directory of `dirs`; returns the ones that do not exist (not
    /// watched) beside the batches.
    pub fn watch(
        dirs: &[(PathBuf, RecursiveMode)],
        kinds: Kinds,
        quiet: Duration,
    ) -> notify::Result<(Saves, Vec<PathBuf>)> {
        let (tx, rx) = channel();
        let queue = tx.clone();
        let mut watcher = notify::recommended_watcher(move |ev: notify::Result<notify::Event>| {
            let Ok(ev) = ev else { return };
            let saved = match ev.kind {
                EventKind::Create(_) | EventKind::Modify(_) => true,
                EventKind::Remove(_) => kinds == Kinds::WritesAndRemovals,
                _ => false,
            };
            if saved {
                for p in ev.paths {
                    let _ = tx.send(p);
                }
            }
        })?;
        let mut missing = Vec::new();
        for (dir, mode) in dirs {
            if dir.is_dir() {
                watcher.watch(dir, *mode)?;
            } else {
                missing.push(dir.clone());
            }
        }
        let saves = Saves {
            rx,
            tx: queue,
            quiet,
            _watcher: watcher,
        };
        Ok((saves, missing))
    }

    /// A sender that queues a path into these batches as if it had been saved.
    pub fn queue(&self) -> Sender<PathBuf> {
        self.tx.clone()
    }

    /// Waits for the next save and returns every path saved until `quiet` passed without one;
    /// `None` when the watcher is gone.
    pub fn next_batch(&self) -> Option<BTreeSet<PathBuf>> {
        let first = self.rx.recv().ok()?;
        let mut changed = BTreeSet::from([first]);
        while let Ok(p) = self.rx.recv_timeout(self.quiet) {
            changed.insert(p);
        }
        Some(changed)
    }
}
