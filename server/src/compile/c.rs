//! C source → linked, late-bound SIDE_MODULE. The steps:
//! 1. compile with clang -cc1 (fast path) or emcc, under time and memory limits;
//! 2. check every file it read lies in the project, the toolchain or an include dir (a missing
//!    header is reported as such, with its line);
//! 3. read the object's vars and globals ([`super::latebind::plan`]);
//! 4. link it with its trampolines and globals objects, every var wrapped.

use super::{
    canonical, diagnostics, emcc, includes, latebind, object, process, CompileError, Compiled,
    Compiler, Phases,
};
use crate::protocol::Diagnostic;
use hotwasm_abi::HostManifest;
use std::path::{Path, PathBuf};
use std::time::Instant;

/// One C source to compile.
#[derive(Debug, Clone, Copy)]
pub struct CSource<'a> {
    /// The directory the compiler runs in (the project root for files, the work dir for text).
    pub cwd: &'a Path,
    /// The file to compile, relative to `cwd`; diagnostics name it so.
    pub input: &'a str,
    /// Its text (for the declarations of its globals).
    pub text: &'a str,
    /// For text evals, the project file it stands for (relative to the root), whose directory is
    /// searched for `#include "..."` too.
    pub stands_for: Option<&'a str>,
}

impl Compiler {
    /// Compiles C `src` into `work` and links it late-bound against `host`.
    pub fn compile(
        &self,
        src: CSource<'_>,
        work: &Path,
        host: &HostManifest,
    ) -> Result<Compiled, CompileError> {
        let started = Instant::now();
        let learnt = self.learnt()?;
        let (obj, dep) = (work.join("patch.o"), work.join("patch.d"));
        let mut cmd = if self.config.plain_emcc {
            let flags = self.c_flags(&self.config.opt);
            emcc::compile_command(&self.emcc, &flags, src.input, &obj, &dep)
        } else {
            learnt.compile_command(src.input, src.cwd, work)
        };
        let quote_dir = self.quote_dir(src);
        if let Some(dir) = &quote_dir {
            cmd.arg("-iquote").arg(dir);
        }
        cmd.current_dir(src.cwd);
        let mut phases = Phases::default();
        let phase = Instant::now();
        let finished = self.run(cmd, self.limits(), "the compiler")?;
        phases.compile = phase.elapsed();

        let mut allowed = vec![
            canonical(&self.config.root),
            canonical(work),
            canonical(src.cwd),
        ];
        let header_roots: Vec<PathBuf> =
            learnt.header_roots().iter().map(|p| canonical(p)).collect();
        allowed.extend(header_roots.iter().cloned());
        allowed.extend(self.config.include_dirs.iter().map(|p| canonical(p)));
        allowed.extend(quote_dir);
        let deps = match std::fs::read_to_string(&dep) {
            Ok(text) => includes::parse_depfile(&text),
            Err(_) => return Err(self.no_depfile(&finished, src.cwd, &allowed)),
        };
        if let Some(outside) = includes::first_outside(&deps, src.cwd, &allowed) {
            return Err(CompileError::IncludeOutside(outside));
        }
        let diagnostics = diagnostics::parse(&finished.stderr);
        if !finished.status.success() {
            return Err(CompileError::Failed {
                diagnostics,
                stderr: finished.stderr,
            });
        }

        let phase = Instant::now();
        let object = std::fs::read(&obj).map_err(CompileError::Io)?;
        let symbols = object::read(&object).map_err(|e| CompileError::Link {
            stderr: e.to_string(),
        })?;
        let mut plan = latebind::plan(&symbols, host, Some(src.text), &|_| true);
        let system_headers: Vec<PathBuf> = deps
            .iter()
            .map(|d| canonical(&src.cwd.join(d)))
            .filter(|d| header_roots.iter().any(|r| d.starts_with(r)))
            .collect();
        latebind::mark_library_calls(&mut plan, host, &system_headers);
        phases.symbols = phase.elapsed();
        let runs_once = symbols.defines(latebind::RUN_ONCE);
        let (wasm, defined) = self.bind_and_link(&obj, work, &plan, runs_once, &[], &mut phases)?;
        Ok(Compiled {
            wasm,
            defined,
            plan,
            diagnostics,
            stderr: finished.stderr,
            elapsed: started.elapsed(),
            phases,
        })
    }

    /// The project directory of the file a text eval stands for, if it exists.
    fn quote_dir(&self, src: CSource<'_>) -> Option<PathBuf> {
        let rel = Path::new(src.stands_for?);
        if rel.is_absolute()
            || rel
                .components()
                .any(|c| c == std::path::Component::ParentDir)
        {
            return None;
        }
        let dir = canonical(self.config.root.join(rel).parent()?);
        (dir.is_dir() && dir.starts_with(canonical(&self.config.root))).then_some(dir)
    }

    /// Why a compile wrote no dependency file. Clang skips it after a fatal error; the one fatal
    /// error we can report without showing what it read is a missing header, named with the
    /// line that includes it (when that line is in a file we may show). Anything else withholds
    /// the output.
    fn no_depfile(
        &self,
        finished: &process::Finished,
        cwd: &Path,
        allowed: &[PathBuf],
    ) -> CompileError {
        let missing: Option<Diagnostic> = diagnostics::parse(&finished.stderr)
            .into_iter()
            .find(|d| d.severity == "fatal error" && d.message.ends_with("file not found"));
        if let Some(mut d) = missing {
            d.message.push_str(
                " (searched beside the including file, in [patches] include_dirs of hotwasm.toml and in hotwasm's abi/include)",
            );
            if includes::first_outside(std::slice::from_ref(&d.file), cwd, allowed).is_none() {
                let stderr = format!(
                    "{}:{}:{}: {}: {}\n",
                    d.file, d.line, d.column, d.severity, d.message
                );
                return CompileError::Failed {
                    diagnostics: vec![d],
                    stderr,
                };
            }
        }
        let how = match finished.status.code() {
            Some(code) => format!("failed (exit status {code}) without listing what it read"),
            None => format!("was killed ({})", finished.status),
        };
        CompileError::Crashed(how, self.config.memory_bytes >> 20)
    }
}
