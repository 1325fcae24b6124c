//! Host rebuilds on save: a change to a file matching the app's `[build] host_watch` globs
//! rebuilds the HOT_RELOAD host in-process (the code of `hotwasm build --hot`) and moves every
//! page onto it.
//!
//! One rebuild, step by step:
//! 1. **debounce**: wait until the saves settle, then tell every client `host_build building`;
//! 2. **build**: [`crate::bundle::build_linked`] (incremental: cargo or the per-object emcc
//!    cache; linked at `-O1`, [`crate::bundle::Link::Fast`]), its progress on the server's stderr; a failure goes to every client as `host_build
//!    failed` with the compiler's errors, and the old bundle, manifest and journal stay as
//!    they were (the pages keep running the old host);
//! 3. **fit** (under the journal lock, so no eval slips in between): every journal entry is
//!    checked against the new host manifest ([`fit`]); the ones that no longer fit are
//!    forgotten by the journal, so no page or server restart replays them;
//! 4. **reload**: `host_reload {build, dropped}` to every client; pages save the app's state
//!    through its hooks, load the new bundle, restore the state and replay the journal.

use crate::compile::latebind;
use crate::config::Config;
use crate::home::Home;
use crate::hub::Hub;
use crate::journal::{Entry, EntryKind};
use crate::protocol::{Diagnostic, DroppedEntry, HostBuildStatus, ServerMsg};
use crate::saves::{Kinds, Saves};
use crate::watch::Globs;
use hotwasm_abi::{HostManifest, PatchManifest};
use notify::RecursiveMode;
use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering;
use std::sync::mpsc::Sender;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

/// Quiet time after the last save before rebuilding (editors write a file in several steps).
pub const DEBOUNCE: Duration = Duration::from_millis(200);

/// What to watch and how to build: the app's config and hotwasm's checkout.
#[derive(Debug, Clone)]
pub struct HostWatch {
    /// The server's config, as [`crate::config_watch::start`] last loaded it: each rebuild
    /// builds with it.
    config: Arc<Mutex<Config>>,
    home: Home,
    root: PathBuf,
    globs: Globs,
    /// Directories to watch, each recursively or not.
    pub dirs: Vec<(PathBuf, RecursiveMode)>,
}

impl HostWatch {
    /// The watch of `config`'s `[build] host_watch` (relative to the canonical `root`), or `None`
    /// when it names nothing.
    pub fn new(
        config: &Arc<Mutex<Config>>,
        home: &Home,
        root: &Path,
    ) -> Result<Option<HostWatch>, String> {
        let shared = config.clone();
        let config = &config
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone();
        if config.build.host_watch.is_empty() {
            return Ok(None);
        }
        let globs = Globs::new(root, &config.build.host_watch, "[build] host_watch")?;
        // A plain file (`Cargo.toml`) is watched through its directory, not below it.
        let mut dirs: Vec<(PathBuf, RecursiveMode)> = globs
            .bases
            .iter()
            .map(|(dir, plain_file)| {
                let mode = if *plain_file {
                    RecursiveMode::NonRecursive
                } else {
                    RecursiveMode::Recursive
                };
                (dir.clone(), mode)
            })
            .collect();
        dirs.sort_by(|a, b| a.0.cmp(&b.0));
        dirs.dedup_by(|b, a| {
            let same = a.0 == b.0;
            if same && b.1 == RecursiveMode::Recursive {
                a.1 = RecursiveMode::Recursive;
            }
            same
        });
        Ok(Some(HostWatch {
            config: shared,
            home: home.clone(),
            root: root.to_path_buf(),
            globs,
            dirs,
        }))
    }

    /// The path relative to the root if saving it should rebuild the host (hotwasm.toml when
    /// its `[build]` changed: the config watch sends it).
    pub fn watched(&self, path: &Path) -> Option<String> {
        if path == self.config().file {
            return Some(crate::config::FILE_NAME.to_string());
        }
        self.globs.matched(path).filter(|_| !path.is_dir())
    }

    /// The config a rebuild builds with now.
    fn config(&self) -> Config {
        self.config
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }
}

/// Watches the host sources on a background thread and rebuilds on save. Directories that do
/// not exist are named in the returned warnings; the sender queues a rebuild for a path.
pub fn start(hub: Arc<Hub>, watch: HostWatch) -> notify::Result<(Vec<String>, Sender<PathBuf>)> {
    let (saves, missing) = Saves::watch(&watch.dirs, Kinds::WritesAndRemovals, DEBOUNCE)?;
    let queue = saves.queue();
    let warnings = missing
        .iter()
        .map(|dir| {
            format!(
                "{} ([build] host_watch) does not exist: create it and restart the server to watch it",
                dir.display()
            )
        })
        .collect();
    std::thread::spawn(move || {
        while let Some(changed) = saves.next_batch() {
            let files: Vec<String> = changed.iter().filter_map(|p| watch.watched(p)).collect();
            // Editors' temporary files come and go: name the files still there, if any are.
            let present: Vec<String> = files
                .iter()
                .filter(|f| watch.root.join(f).exists())
                .cloned()
                .collect();
            if !files.is_empty() {
                rebuild(
                    &hub,
                    &watch,
                    if present.is_empty() { files } else { present },
                );
            }
        }
    });
    Ok((warnings, queue))
}

/// Rebuilds the host after `files` changed and moves the pages onto it (see the module doc).
pub fn rebuild(hub: &Hub, watch: &HostWatch, files: Vec<String>) {
    let started = Instant::now();
    eprintln!(
        "hotwasm: {} changed: rebuilding the HOT_RELOAD host (the pages keep running the old one meanwhile)",
        files.join(", ")
    );
    hub.broadcast(&ServerMsg::HostBuild {
        status: HostBuildStatus::Building,
        files: files.clone(),
        error: None,
        diagnostics: Vec::new(),
        raw_output: String::new(),
    });
    let old = hub.host().unwrap_or_default();
    let built = crate::bundle::build_linked(
        &watch.config(),
        &watch.home,
        true,
        crate::bundle::Link::Fast,
    );
    if let Err(e) = built {
        let raw_output = match &e {
            crate::bundle::BuildError::Command { output, .. } => output.clone(),
            _ => String::new(),
        };
        eprintln!("hotwasm: the host build failed ({e}); the pages keep running the old host");
        hub.broadcast(&ServerMsg::HostBuild {
            status: HostBuildStatus::Failed,
            files,
            error: Some(format!(
                "the host build failed: {e}. The pages keep running the old host; fix the error and save again"
            )),
            diagnostics: build_diagnostics(&raw_output),
            raw_output,
        });
        return;
    }
    let new = match hub.host() {
        Ok(m) => m,
        Err(e) => {
            eprintln!("hotwasm: warning: {e}");
            HostManifest::default()
        }
    };
    let build = hub.host_build.fetch_add(1, Ordering::Relaxed) + 1;
    let dropped = {
        let mut state = hub.lock();
        let dropped = fit(state.journal.entries(), &old, &new);
        let seqs: Vec<u64> = dropped.iter().map(|d| d.seq).collect();
        if let Err(e) = state.journal.forget(&seqs) {
            eprintln!("hotwasm: warning: {e}");
        }
        dropped
    };
    for d in &dropped {
        eprintln!("hotwasm: journal entry {} dropped: {}", d.seq, d.reason);
    }
    eprintln!(
        "hotwasm: host build {build} ready in {:.1} s; reloading the pages ({} journal entries dropped)",
        started.elapsed().as_secs_f64(),
        dropped.len()
    );
    // The new host's vars and the entries kept: what `#include <hotwasm_vars.h>` declares.
    crate::vars::refresh(hub);
    hub.broadcast(&ServerMsg::HostReload { build, dropped });
}

/// The located errors in a host build's output: clang's `file:line:col: error:` lines and
/// rustc's `error…` headlines with their ` --> file:line:col` line.
pub fn build_diagnostics(output: &str) -> Vec<Diagnostic> {
    let mut found = crate::compile::diagnostics::parse(output);
    let mut headline: Option<(&str, &str)> = None;
    for line in output.lines() {
        for severity in ["error", "warning"] {
            if let Some(rest) = line.strip_prefix(severity) {
                if let Some((_, message)) = rest.split_once(": ") {
                    if rest.starts_with(':') || rest.starts_with('[') {
                        headline = Some((severity, message));
                    }
                }
            }
        }
        let Some(at) = line.trim_start().strip_prefix("--> ") else {
            continue;
        };
        let Some((severity, message)) = headline.take() else {
            continue;
        };
        let mut parts = at.rsplitn(3, ':');
        let (Some(col), Some(ln), Some(file)) = (parts.next(), parts.next(), parts.next()) else {
            continue;
        };
        if let (Ok(column), Ok(line)) = (col.parse(), ln.parse()) {
            found.push(Diagnostic {
                file: file.to_string(),
                line,
                column,
                severity: severity.to_string(),
                message: message.to_string(),
            });
        }
    }
    found
}

/// The journal entries that no longer fit the `new` host (the pages ran them on `old`), each
/// with the reason, in journal order. A patch fits when every var it defines or calls has the
/// same signature in the new host (or is still none of the host's), every symbol it
/// imports from the old host is still exported, and no shared type its source names changed
/// layout ([`crate::layout::misfit`]); a rollback fits when the patch it undoes was kept.
pub fn fit(entries: &[Entry], old: &HostManifest, new: &HostManifest) -> Vec<DroppedEntry> {
    let mut dropped = Vec::new();
    // Per var, the kept patches that define it (what a later rollback undoes).
    let mut kept: HashMap<&str, Vec<u64>> = HashMap::new();
    let mut defined: HashSet<String> = HashSet::new();
    for entry in entries {
        match &entry.kind {
            EntryKind::Patch {
                manifest,
                wasm,
                name,
                source,
                ..
            } => match misfit(manifest, wasm, source, old, new, &defined) {
                Some(reason) => dropped.push(DroppedEntry {
                    seq: entry.seq,
                    reason: format!("{name}: {reason}"),
                }),
                None => {
                    for p in &manifest.entries {
                        kept.entry(&p.var).or_default().push(entry.seq);
                        defined.insert(p.var.clone());
                    }
                }
            },
            // The entries an undo undid are gone from the journal already: nothing to check.
            EntryKind::Undo { .. } => {}
            EntryKind::Rollback { var } => {
                if kept.get_mut(var.as_str()).and_then(Vec::pop).is_none() {
                    dropped.push(DroppedEntry {
                        seq: entry.seq,
                        reason: format!("rollback of `{var}`: the patch it undoes was dropped"),
                    });
                }
            }
        }
    }
    dropped
}

/// Why one patch does not fit the new host, if it does not.
fn misfit(
    manifest: &PatchManifest,
    wasm: &[u8],
    source: &str,
    old: &HostManifest,
    new: &HostManifest,
    defined: &HashSet<String>,
) -> Option<String> {
    for p in &manifest.entries {
        match (old.var(&p.var), new.var(&p.var)) {
            (_, Some(v)) if v.signature != p.signature => {
                return Some(format!(
                    "it defines `{}` as `{}`, the new host's `{}` is `{}`",
                    p.var, p.signature, p.var, v.signature
                ))
            }
            (Some(_), None) => {
                return Some(format!(
                    "`{}` is no longer a hot function of the host",
                    p.var
                ))
            }
            _ => {}
        }
    }
    let (calls, _) = latebind::read_sections(wasm);
    let mut calls: Vec<_> = calls.into_iter().collect();
    calls.sort_by(|a, b| a.0.cmp(&b.0));
    for (var, sig) in calls {
        match (old.var(&var), new.var(&var)) {
            (_, Some(v)) if v.signature != sig => {
                return Some(format!(
                    "it calls `{var}` as `{sig}`, the new host's `{var}` is `{}`",
                    v.signature
                ))
            }
            (Some(_), None) if !defined.contains(&var) => {
                return Some(format!(
                    "it calls `{var}`, which is no longer a hot function of the host"
                ))
            }
            _ => {}
        }
    }
    let imports = crate::inspect::read_patch(wasm)
        .map(|shape| shape.imports)
        .unwrap_or_default();
    for (module, symbol) in imports {
        let offered = |h: &HostManifest| h.exports_symbol(&symbol) || h.var(&symbol).is_some();
        if module == "env" && offered(old) && !offered(new) {
            return Some(format!(
                "it uses `{symbol}`, which the new host no longer exports"
            ));
        }
    }
    crate::layout::misfit(&old.layouts, &new.layouts, source)
}

#[cfg(test)]
mod tests {
    use super::*;
    use hotwasm_abi::{HostVar, Signature};
    use std::sync::Arc;

    fn host(vars: &[(&str, &str)], exports: &[&str]) -> HostManifest {
        HostManifest {
            version: HostManifest::VERSION,
            vars: vars
                .iter()
                .map(|(n, s)| HostVar {
                    name: n.to_string(),
                    signature: Signature::parse(s).unwrap(),
                })
                .collect(),
            exports: exports.iter().map(|s| s.to_string()).collect(),
            layouts: Vec::new(),
            layout_inputs: Vec::new(),
            threads: false,
            cold: Vec::new(),
        }
    }

    fn patch(seq: u64, manifest: &str) -> Entry {
        Entry {
            seq,
            kind: EntryKind::Patch {
                manifest: PatchManifest::parse(manifest).unwrap(),
                run: None,
                source: String::new(),
                lang: crate::protocol::Lang::C,
                name: format!("p{seq}.c"),
                wasm: Arc::new(Vec::new()),
                declared_types: Vec::new(),
                declarations: Default::default(),
            },
        }
    }

    fn rollback(seq: u64, var: &str) -> Entry {
        Entry {
            seq,
            kind: EntryKind::Rollback { var: var.into() },
        }
    }

    #[test]
    fn patches_of_vars_whose_signature_changed_or_vanished_are_dropped_with_both_signatures() {
        let old = host(&[("speed", "fi"), ("color", "ip"), ("sky", "ii")], &[]);
        let new = host(&[("speed", "fii"), ("color", "ip")], &[]);
        let entries = [
            patch(1, "speed speed__hw1 fi"),
            patch(2, "color color__hw2 ip"),
            patch(3, "sky sky__hw3 ii"),
            patch(4, "mine mine__hw4 v"),
        ];
        let dropped = fit(&entries, &old, &new);
        assert_eq!(dropped.len(), 2, "{dropped:?}");
        assert_eq!(dropped[0].seq, 1);
        assert_eq!(
            dropped[0].reason,
            "p1.c: it defines `speed` as `fi`, the new host's `speed` is `fii`"
        );
        assert_eq!(dropped[1].seq, 3);
        assert!(
            dropped[1]
                .reason
                .contains("`sky` is no longer a hot function"),
            "{}",
            dropped[1].reason
        );
    }

    #[test]
    fn a_rollback_is_kept_with_its_patch_and_dropped_with_it() {
        let old = host(&[("speed", "fi"), ("color", "ip")], &[]);
        let new = host(&[("speed", "fii"), ("color", "ip")], &[]);
        let entries = [
            patch(1, "color color__hw1 ip"),
            patch(2, "speed speed__hw2 fi"),
            rollback(3, "speed"),
            rollback(4, "color"),
        ];
        let dropped: Vec<u64> = fit(&entries, &old, &new).iter().map(|d| d.seq).collect();
        assert_eq!(dropped, [2, 3]);
    }

    #[test]
    fn rustc_and_clang_errors_are_located() {
        let out = "error[E0425]: cannot find value `x` in this scope\n  --> src/hot.rs:12:5\n   |\nsrc/main.c:3:1: error: expected ';'\n";
        let d = build_diagnostics(out);
        assert_eq!(d.len(), 2, "{d:?}");
        assert_eq!((d[0].file.as_str(), d[0].line), ("src/main.c", 3));
        assert_eq!(
            (d[1].file.as_str(), d[1].line, d[1].column),
            ("src/hot.rs", 12, 5)
        );
        assert_eq!(d[1].message, "cannot find value `x` in this scope");
    }

    #[test]
    fn host_sources_match_the_globs_but_not_hidden_files() {
        let dir = tempfile::tempdir().unwrap();
        let root = std::fs::canonicalize(dir.path()).unwrap();
        for f in [
            "src/a.c",
            "src/sub/b.h",
            "src/.#a.c",
            "Cargo.toml",
            "build/x.c",
        ] {
            let p = root.join(f);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(&p, "").unwrap();
        }
        let text = "[app]\nname = \"a\"\nlang = \"c\"\n[build]\nsources = [\"src/*.c\"]\nhost_watch = [\"src/**\", \"Cargo.toml\"]\n";
        let config = Config::parse(text, &root.join("hotwasm.toml")).unwrap();
        let w = HostWatch::new(&Arc::new(Mutex::new(config)), &Home::at(&root), &root)
            .unwrap()
            .unwrap();
        let rel = |f: &str| w.watched(&root.join(f));
        assert_eq!(rel("src/a.c").as_deref(), Some("src/a.c"));
        assert_eq!(rel("src/sub/b.h").as_deref(), Some("src/sub/b.h"));
        assert_eq!(rel("Cargo.toml").as_deref(), Some("Cargo.toml"));
        assert_eq!(rel("src/.#a.c"), None);
        assert_eq!(rel("build/x.c"), None);
        assert_eq!(
            w.dirs,
            vec![
                (root.clone(), RecursiveMode::NonRecursive),
                (root.join("src"), RecursiveMode::Recursive)
            ]
        );
    }
}
