//! File watch: saving a `.c` file under `side-modules/` (but not `side-modules/include/`)
//! compiles and delivers it like an eval, debounced; failures reach every client as
//! `diagnostics`.

use crate::eval::{self, Input};
use crate::hub::Hub;
use crate::protocol::{Diagnostic, Lang, ServerMsg, Stage};
use notify::{RecursiveMode, Watcher};
use std::collections::BTreeSet;
use std::path::Path;
use std::sync::mpsc::channel;
use std::sync::Arc;
use std::time::Duration;

/// Quiet time after the last change before compiling.
pub const DEBOUNCE: Duration = Duration::from_millis(100);

/// Watches `<root>/side-modules` on a background thread.
pub fn start(hub: Arc<Hub>) -> notify::Result<()> {
    let dir = hub.root.join("side-modules");
    std::fs::create_dir_all(&dir).map_err(notify::Error::io)?;
    let dir = std::fs::canonicalize(&dir).map_err(notify::Error::io)?;
    let (tx, rx) = channel();
    let mut watcher = notify::recommended_watcher(move |ev: notify::Result<notify::Event>| {
        if let Ok(ev) = ev {
            if matches!(
                ev.kind,
                notify::EventKind::Create(_) | notify::EventKind::Modify(_)
            ) {
                for p in ev.paths {
                    let _ = tx.send(p);
                }
            }
        }
    })?;
    watcher.watch(&dir, RecursiveMode::Recursive)?;
    let root = std::fs::canonicalize(&hub.root).map_err(notify::Error::io)?;
    std::thread::spawn(move || {
        let _watcher = watcher;
        while let Ok(first) = rx.recv() {
            let mut changed = BTreeSet::from([first]);
            while let Ok(p) = rx.recv_timeout(DEBOUNCE) {
                changed.insert(p);
            }
            for path in changed {
                if let Some(rel) = watched(&root, &dir, &path) {
                    compile(&hub, rel);
                }
            }
        }
    });
    Ok(())
}

/// The path relative to the root if it is a watched C file.
fn watched(root: &Path, dir: &Path, path: &Path) -> Option<String> {
    let inside = path.strip_prefix(dir).ok()?;
    let is_c = path.extension().is_some_and(|e| e == "c");
    let hidden = inside
        .components()
        .any(|c| c.as_os_str().to_string_lossy().starts_with('.'));
    if !is_c || hidden || inside.starts_with("include") || !path.is_file() {
        return None;
    }
    Some(path.strip_prefix(root).ok()?.to_string_lossy().into_owned())
}

fn compile(hub: &Arc<Hub>, rel: String) {
    let Some(ticket) = hub.try_queue() else {
        eprintln!("hotwasm: {rel} changed but the compile queue is full; save it again");
        return;
    };
    let outcome = eval::run(hub, ticket, Lang::C, Input::File(rel.clone()), None);
    match outcome.stage {
        Some(Stage::Compile | Stage::Check) => {
            let mut diagnostics = outcome.diagnostics;
            if diagnostics.is_empty() {
                diagnostics.push(Diagnostic {
                    file: rel.clone(),
                    line: 1,
                    column: 1,
                    severity: "error".into(),
                    message: outcome.error.clone().unwrap_or_default(),
                });
            }
            eprintln!("hotwasm: {rel}: {}", outcome.error.unwrap_or_default());
            hub.broadcast(&ServerMsg::Diagnostics {
                name: rel,
                diagnostics,
                raw_output: outcome.raw_output,
            });
        }
        _ => eprintln!(
            "hotwasm: {rel} delivered as patch {} in {:.0} ms",
            outcome.seq.unwrap_or(0),
            outcome.timings.total_ms
        ),
    }
}
