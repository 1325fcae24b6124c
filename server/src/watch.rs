//! File watch: saving a `.c` file under `side-modules/` (but not `abi/include/`), or
//! a `.rs` file there (but not the prelude crate in `side-modules/rust/` nor the test fixtures
//! in `tests/fixtures/`), compiles and delivers it like an eval, debounced; failures
//! reach every client as `diagnostics`.

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
                if let Some((rel, lang)) = watched(&root, &dir, &path) {
                    compile(&hub, rel, lang);
                }
            }
        }
    });
    Ok(())
}

/// The path relative to the root and its language if it is a watched C or Rust file.
fn watched(root: &Path, dir: &Path, path: &Path) -> Option<(String, Lang)> {
    let inside = path.strip_prefix(dir).ok()?;
    let lang = match path.extension()?.to_str()? {
        "c" if !inside.starts_with("include") => Lang::C,
        "rs" if !inside.starts_with("rust") && !inside.starts_with("fixtures") => Lang::Rust,
        _ => return None,
    };
    let hidden = inside
        .components()
        .any(|c| c.as_os_str().to_string_lossy().starts_with('.'));
    if hidden || !path.is_file() {
        return None;
    }
    Some((
        path.strip_prefix(root).ok()?.to_string_lossy().into_owned(),
        lang,
    ))
}

fn compile(hub: &Arc<Hub>, rel: String, lang: Lang) {
    let Some(ticket) = hub.try_queue() else {
        eprintln!("hotwasm: {rel} changed but the compile queue is full; save it again");
        return;
    };
    let outcome = eval::run(hub, ticket, lang, Input::File(rel.clone()), None);
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn c_and_rust_files_are_watched_but_not_headers_prelude_or_fixtures() {
        let root = tempfile::tempdir().unwrap();
        let dir = root.path().join("side-modules");
        for f in [
            "a.c",
            "b.rs",
            "include/h.c",
            "rust/hotwasm_patch.rs",
            "fixtures/rust/x.rs",
            "n.txt",
        ] {
            let p = dir.join(f);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(&p, "").unwrap();
        }
        let w =
            |f: &str| watched(root.path(), &dir, &dir.join(f)).map(|(r, l)| (r, l == Lang::Rust));
        assert_eq!(w("a.c"), Some(("side-modules/a.c".into(), false)));
        assert_eq!(w("b.rs"), Some(("side-modules/b.rs".into(), true)));
        for f in [
            "include/h.c",
            "rust/hotwasm_patch.rs",
            "fixtures/rust/x.rs",
            "n.txt",
        ] {
            assert_eq!(w(f), None, "{f}");
        }
    }
}
