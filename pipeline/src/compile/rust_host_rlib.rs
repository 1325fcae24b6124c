//! The `hotwasm_host` crate of an all-hot Rust host ([`super::rust_host_crate`]), generated from
//! the app's sources and compiled to an rlib when they or the host changed: the first Rust patch
//! after a change pays one rustc run (declarations only, no code), later ones none.

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
    built: Mutex<Option<(Built, tempfile::TempDir)>>,
    /// The app crate's root files (`cargo metadata` takes ~0.15 s), kept while the app's
    /// Cargo.toml stays the same.
    roots: Mutex<Option<(RootsKey, Vec<PathBuf>)>>,
}

/// What the crate roots were read for: the crate, and the app's Cargo.toml's modification time.
type RootsKey = (String, Option<SystemTime>);

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
        let generated = match self.generate(root, krate, &paths, host) {
            Ok(g) => g,
            Err(why) => {
                eprintln!(
                    "hotwasm: warning: Rust patches cannot call the app's functions by path: {why}"
                );
                return Ok(None);
            }
        };
        let mut built = self.built.lock().unwrap_or_else(|e| e.into_inner());
        if let Some((b, _)) = built.as_ref().filter(|(b, _)| b.krate == generated) {
            return Ok(Some(b.clone()));
        }
        let dir = tempfile::Builder::new()
            .prefix("hotwasm-host-crate")
            .tempdir()
            .map_err(CompileError::Io)?;
        let src = dir.path().join("hotwasm_host.rs");
        std::fs::write(&src, &generated.text).map_err(CompileError::Io)?;
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
        let b = Built {
            rlib,
            krate: generated,
        };
        *built = Some((b.clone(), dir));
        Ok(Some(b))
    }
}

impl HostCrateCache {
    /// The crate's text for the app crate `krate` under `root`.
    fn generate(
        &self,
        root: &Path,
        krate: &str,
        paths: &HostPaths,
        host: &HostManifest,
    ) -> Result<HostCrate, String> {
        let mut modules = Vec::new();
        for file in self.crate_roots(root, krate)? {
            modules.extend(super::rust_app_src::modules(&file)?);
        }
        let symbols = HostSymbols::of(paths, host, krate);
        Ok(rust_host_crate::generate(&modules, &symbols))
    }

    fn crate_roots(&self, root: &Path, krate: &str) -> Result<Vec<PathBuf>, String> {
        let stamp = std::fs::metadata(root.join("Cargo.toml"))
            .and_then(|m| m.modified())
            .ok();
        let key = (krate.to_string(), stamp);
        let mut cached = self.roots.lock().unwrap_or_else(|e| e.into_inner());
        if let Some((_, roots)) = cached.as_ref().filter(|(k, _)| *k == key) {
            return Ok(roots.clone());
        }
        let roots = super::rust_app_src::crate_roots(root, krate)?;
        *cached = Some((key, roots.clone()));
        Ok(roots)
    }
}
