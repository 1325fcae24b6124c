//! File watch: saving a file that matches one of the app's `[patches] watch` globs (C, C++ or
//! Rust by its extension; never the Rust prelude, never a hidden file) compiles and delivers it like
//! an eval, debounced; failures reach every client as `diagnostics` naming the file.

use crate::eval::{self, Input};
use crate::hub::Hub;
use crate::protocol::{Diagnostic, Lang, ServerMsg, Stage};
use crate::saves::{Kinds, Saves};
use notify::RecursiveMode;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

/// Quiet time after the last change before compiling.
pub const DEBOUNCE: Duration = Duration::from_millis(100);

/// Globs relative to an app root (one config key's list): which saved paths they match, and
/// where to watch for them. Shared by the patch watch and the host watch.
#[derive(Debug, Clone)]
pub struct Globs {
    patterns: Vec<glob::Pattern>,
    root: PathBuf,
    /// Each glob's directory to watch (its literal prefix) and whether the glob names one plain
    /// file (then that directory is its parent, watched for that file, not below it).
    pub bases: Vec<(PathBuf, bool)>,
}

impl Globs {
    /// The globs of config key `key` (named in the error for a bad one) under `root` (canonical).
    pub fn new(root: &Path, globs: &[String], key: &str) -> Result<Globs, String> {
        let mut patterns = Vec::new();
        let mut bases = Vec::new();
        for g in globs {
            let full = root.join(g);
            let pattern = glob::Pattern::new(&full.to_string_lossy())
                .map_err(|e| format!("{key}: `{g}` is not a glob: {e}"))?;
            patterns.push(pattern);
            let base: PathBuf = full
                .components()
                .take_while(|c| !c.as_os_str().to_string_lossy().contains(['*', '?', '[']))
                .collect();
            bases.push(if base == full {
                (base.parent().unwrap_or(root).to_path_buf(), true)
            } else {
                (base, false)
            });
        }
        Ok(Globs {
            patterns,
            root: root.to_path_buf(),
            bases,
        })
    }

    /// `path` relative to the root when a glob matches it and no part of it is hidden (editors'
    /// `.#x.c` and `.x.swp`).
    pub fn matched(&self, path: &Path) -> Option<String> {
        let rel = path.strip_prefix(&self.root).ok()?;
        let hidden = rel
            .components()
            .any(|c| c.as_os_str().to_string_lossy().starts_with('.'));
        let options = glob::MatchOptions {
            require_literal_separator: true,
            ..glob::MatchOptions::new()
        };
        let matched = self
            .patterns
            .iter()
            .any(|p| p.matches_path_with(path, options));
        (!hidden && matched).then(|| rel.to_string_lossy().into_owned())
    }
}

/// What to watch: globs relative to the app root, and files never compiled.
#[derive(Debug, Clone)]
pub struct WatchSet {
    globs: Globs,
    excluded: Vec<PathBuf>,
    /// The directories to watch recursively (each glob's literal prefix).
    pub dirs: Vec<PathBuf>,
}

impl WatchSet {
    /// The set for `globs` under `root` (canonical), never matching `excluded`.
    pub fn new(root: &Path, globs: &[String], excluded: Vec<PathBuf>) -> Result<WatchSet, String> {
        let globs = Globs::new(root, globs, "[patches] watch")?;
        let mut dirs: Vec<PathBuf> = globs.bases.iter().map(|(d, _)| d.clone()).collect();
        dirs.sort();
        dirs.dedup();
        let nested: Vec<PathBuf> = dirs
            .iter()
            .filter(|d| dirs.iter().any(|o| o != *d && d.starts_with(o)))
            .cloned()
            .collect();
        dirs.retain(|d| !nested.contains(d));
        Ok(WatchSet {
            globs,
            excluded,
            dirs,
        })
    }

    /// The path relative to the root and its language if saving it should deliver a patch.
    pub fn watched(&self, path: &Path) -> Option<(String, Lang)> {
        let lang = Lang::of_path(path)?;
        let rel = self.globs.matched(path)?;
        (!self.excluded.iter().any(|e| e == path) && path.is_file()).then_some((rel, lang))
    }
}

/// Watches the set's directories on a background thread. Directories that do not exist yet
/// are named in the returned warnings.
pub fn start(hub: Arc<Hub>, set: WatchSet) -> notify::Result<Vec<String>> {
    let dirs: Vec<_> = set
        .dirs
        .iter()
        .map(|d| (d.clone(), RecursiveMode::Recursive))
        .collect();
    let (saves, missing) = Saves::watch(&dirs, Kinds::Writes, DEBOUNCE)?;
    let warnings = missing
        .iter()
        .map(|dir| {
            format!(
                "{} does not exist: create it and restart the server to watch it",
                dir.display()
            )
        })
        .collect();
    std::thread::spawn(move || {
        while let Some(changed) = saves.next_batch() {
            for path in changed {
                if let Some((rel, lang)) = set.watched(&path) {
                    compile(&hub, rel, lang);
                }
            }
        }
    });
    Ok(warnings)
}

fn compile(hub: &Arc<Hub>, rel: String, lang: Lang) {
    let Some(ticket) = hub.try_queue() else {
        let busy = "changed but the compile queue is full (evals from clients are compiling): save it again in a moment";
        return report(hub, rel, Vec::new(), busy.into(), String::new());
    };
    let outcome = eval::run(hub, ticket, lang, Input::File(rel.clone()), None);
    match outcome.stage {
        Some(Stage::Compile | Stage::Check) => {
            let error = outcome.error.unwrap_or_default();
            report(hub, rel, outcome.diagnostics, error, outcome.raw_output);
        }
        _ => eprintln!(
            "hotwasm: {rel} delivered as patch {} in {:.0} ms",
            outcome.seq.unwrap_or(0),
            outcome.timings.total_ms
        ),
    }
}

/// Logs why saved file `rel` was not delivered and sends every client its `diagnostics` (the
/// error itself at line 1 when the compiler gave none).
pub fn report(
    hub: &Hub,
    rel: String,
    mut diagnostics: Vec<Diagnostic>,
    error: String,
    raw: String,
) {
    eprintln!("hotwasm: {rel}: {error}");
    if diagnostics.is_empty() {
        diagnostics.push(Diagnostic {
            file: rel.clone(),
            line: 1,
            column: 1,
            severity: "error".into(),
            message: error,
        });
    }
    hub.broadcast(&ServerMsg::Diagnostics {
        name: rel,
        diagnostics,
        raw_output: raw,
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn files_matching_the_globs_are_watched_but_not_the_prelude_hidden_or_other_files() {
        let dir = tempfile::tempdir().unwrap();
        let root = std::fs::canonicalize(dir.path()).unwrap();
        for f in [
            "patches/a.c",
            "patches/sub/b.rs",
            "patches/c.cpp",
            "patches/prelude.rs",
            "patches/.x.c",
            "patches/n.txt",
            "src/main.c",
            "other/c.c",
        ] {
            let p = root.join(f);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(&p, "").unwrap();
        }
        let globs = [
            "patches/**/*.c",
            "patches/**/*.cpp",
            "patches/**/*.rs",
            "other/c.c",
        ]
        .map(String::from);
        let set = WatchSet::new(&root, &globs, vec![root.join("patches/prelude.rs")]).unwrap();
        assert_eq!(set.dirs, vec![root.join("other"), root.join("patches")]);
        let w = |f: &str| set.watched(&root.join(f));
        assert_eq!(w("patches/a.c"), Some(("patches/a.c".into(), Lang::C)));
        let rs = Some(("patches/sub/b.rs".into(), Lang::Rust));
        assert_eq!(w("patches/sub/b.rs"), rs);
        assert_eq!(
            w("patches/c.cpp"),
            Some(("patches/c.cpp".into(), Lang::Cpp))
        );
        assert_eq!(w("other/c.c"), Some(("other/c.c".into(), Lang::C)));
        for f in [
            "patches/prelude.rs",
            "patches/.x.c",
            "patches/n.txt",
            "src/main.c",
            "patches/gone.c",
        ] {
            assert_eq!(w(f), None, "{f}");
        }
    }

    #[test]
    fn a_bad_glob_is_refused_naming_it() {
        let e = WatchSet::new(Path::new("/r"), &["patches/[".to_string()], Vec::new()).unwrap_err();
        assert!(e.contains("`patches/[`"), "{e}");
    }
}
