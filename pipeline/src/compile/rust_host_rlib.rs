//! The `hotwasm_host` crate of an all-hot Rust host ([`super::rust_host_crate`]), generated from
//! the app's sources and compiled to an rlib when they or the host changed: the first Rust patch
//! after a change pays one rustc run (declarations only, no code), later ones none, and while
//! the host and the app's files are unchanged a patch does not even read the sources again.

use super::rust_host_crate::{self, HostCrate, HostSymbols};
use super::rust_paths::HostPaths;
use super::{process, rust, CompileError};
use hotwasm_abi::HostManifest;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Mutex;
use std::time::SystemTime;

/// The compiled crate a patch is given.
#[derive(Debug, Clone)]
pub struct Built {
    /// The rlib to pass as `--extern hotwasm_host=…`.
    pub rlib: PathBuf,
    /// What it declares and leaves out.
    pub krate: HostCrate,
}

/// The last crate compiled, kept while its text stays the same.
#[derive(Debug, Default)]
pub struct HostCrateCache {
    /// The crate last compiled (its rlib in the temp dir) and what it was made from.
    built: Mutex<Option<(Built, tempfile::TempDir, Made)>>,
    /// The app crate's root files (`cargo metadata` takes ~0.15 s), kept while the app's
    /// Cargo.toml stays the same.
    roots: Mutex<Option<(RootsKey, Vec<PathBuf>)>>,
}

/// What the crate roots were read for: the crate, and the app's Cargo.toml's modification time.
type RootsKey = (String, Option<SystemTime>);

/// What a crate was made from: the host's symbols, and the app's files with their modification
/// times.
#[derive(Debug, Clone, PartialEq)]
struct Made {
    host: Vec<String>,
    files: Vec<(PathBuf, Option<SystemTime>)>,
}

impl Made {
    fn of(host: &HostManifest, files: Vec<PathBuf>) -> Made {
        let vars = host.vars.iter().map(|v| &v.name);
        let names = vars
            .chain(&host.exports)
            .chain(host.cold.iter().map(|c| &c.name));
        Made {
            host: names.cloned().collect(),
            files: files
                .into_iter()
                .map(|f| {
                    let t = modified(&f);
                    (f, t)
                })
                .collect(),
        }
    }

    /// Whether `host` and the files are as they were.
    fn still(&self, host: &HostManifest) -> bool {
        let files = self.files.iter().map(|(f, _)| f.clone()).collect();
        *self == Made::of(host, files)
    }
}

fn modified(file: &Path) -> Option<SystemTime> {
    std::fs::metadata(file).and_then(|m| m.modified()).ok()
}

impl HostCrateCache {
    /// The crate for `host` (an all-hot Rust host, else `None`), from the app's sources under
    /// `root`. When the sources cannot be read (a syntax error mid-edit), patches get no crate
    /// and a warning says why: they still compile, only calls of the app's functions by path
    /// do not resolve.
    pub fn get(
        &self,
        tc: &rust::Toolchain,
        root: &Path,
        opt_level: &str,
        host: &HostManifest,
        limits: process::Limits,
    ) -> Result<Option<Built>, CompileError> {
        let paths = HostPaths::of(host);
        let Some(krate) = paths.krate() else {
            return Ok(None);
        };
        let mut built = self.built.lock().unwrap_or_else(|e| e.into_inner());
        if let Some((b, _, _)) = built.as_ref().filter(|(_, _, made)| made.still(host)) {
            return Ok(Some(b.clone()));
        }
        let (generated, files) = match self.generate(root, krate, &paths, host) {
            Ok(g) => g,
            Err(why) => {
                eprintln!(
                    "hotwasm: warning: Rust patches cannot call the app's functions by path: {why}"
                );
                return Ok(None);
            }
        };
        let made = Made::of(host, files);
        if let Some((b, _, m)) = built.as_mut().filter(|(b, _, _)| b.krate == generated) {
            *m = made;
            return Ok(Some(b.clone()));
        }
        let Some((rlib, dir)) = compile(tc, opt_level, &generated.text, limits)? else {
            return Ok(None);
        };
        let b = Built {
            rlib,
            krate: generated,
        };
        *built = Some((b.clone(), dir, made));
        Ok(Some(b))
    }

    /// The crate's text for the app crate `krate` under `root`, and the files it was read from.
    fn generate(
        &self,
        root: &Path,
        krate: &str,
        paths: &HostPaths,
        host: &HostManifest,
    ) -> Result<(HostCrate, Vec<PathBuf>), String> {
        let mut modules = Vec::new();
        for file in self.crate_roots(root, krate)? {
            modules.extend(super::rust_app_src::modules(&file)?);
        }
        let mut files: Vec<PathBuf> = modules.iter().map(|m| m.file.clone()).collect();
        files.dedup();
        files.push(root.join("Cargo.toml"));
        let symbols = HostSymbols::of(paths, host, krate);
        Ok((rust_host_crate::generate(&modules, &symbols), files))
    }

    fn crate_roots(&self, root: &Path, krate: &str) -> Result<Vec<PathBuf>, String> {
        let key = (krate.to_string(), modified(&root.join("Cargo.toml")));
        let mut cached = self.roots.lock().unwrap_or_else(|e| e.into_inner());
        if let Some((_, roots)) = cached.as_ref().filter(|(k, _)| *k == key) {
            return Ok(roots.clone());
        }
        let roots = super::rust_app_src::crate_roots(root, krate)?;
        *cached = Some((key, roots.clone()));
        Ok(roots)
    }
}

/// The rlib of the crate `text`, in a temp dir of its own; `None` (with a warning) when it does
/// not compile, which is a bug in the generation: patches then compile without it.
fn compile(
    tc: &rust::Toolchain,
    opt_level: &str,
    text: &str,
    limits: process::Limits,
) -> Result<Option<(PathBuf, tempfile::TempDir)>, CompileError> {
    let dir = tempfile::Builder::new()
        .prefix("hotwasm-host-crate")
        .tempdir()
        .map_err(CompileError::Io)?;
    let src = dir.path().join("hotwasm_host.rs");
    std::fs::write(&src, text).map_err(CompileError::Io)?;
    let rlib = dir.path().join("libhotwasm_host.rlib");
    let mut cmd = Command::new(&tc.rustc);
    cmd.args(rust::common_flags(opt_level))
        .args([
            "--crate-type",
            "rlib",
            "--crate-name",
            rust_host_crate::CRATE,
        ])
        .arg(&src)
        .arg("-o")
        .arg(&rlib)
        .current_dir(dir.path());
    let finished = process::run(cmd, limits).map_err(|e| match e {
        process::RunError::TimedOut => CompileError::TimedOut(limits.timeout),
        process::RunError::Spawn(error) => CompileError::Spawn {
            program: format!("rustc ({})", tc.rustc.display()),
            error,
        },
    })?;
    if !finished.status.success() {
        eprintln!(
            "hotwasm: warning: Rust patches cannot call the app's functions by path: hotwasm's declarations of them do not compile (a bug in hotwasm; {} kept for reading):\n{}",
            src.display(),
            finished.stderr
        );
        let _ = dir.keep();
        return Ok(None);
    }
    Ok(Some((rlib, dir)))
}
