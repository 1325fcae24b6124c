//! C source → linked SIDE_MODULE, by the fast path (learnt clang + wasm-ld) or plain emcc, in
//! a caller-provided work directory, under time and memory limits, refusing any compile that
//! read a file outside the project or the toolchain's headers.
//!
//! The patch is linked with its global functions exported under their plain names; the caller
//! renames them ([`rename`]) once it knows the journal sequence number.

pub mod diagnostics;
pub mod emcc;
pub mod fast;
pub mod includes;
pub mod process;
pub mod rename;
pub mod rust;

use crate::protocol::Diagnostic;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// Why a compile produced no patch.
#[derive(Debug, thiserror::Error)]
#[allow(missing_docs)] // Each variant's fields are what its message names.
pub enum CompileError {
    /// emcc is not on PATH.
    #[error("emcc not found on PATH: run `bash scripts/setup.sh`, then `eval \"$(bash scripts/setup.sh --print-env)\"` and start the server again")]
    EmccNotFound,
    /// Learning the fast path failed.
    #[error("could not learn emcc's command lines for the fast path (start with --plain-emcc to skip it): {0}")]
    Learn(String),
    /// A compiler could not be started.
    #[error(
        "could not start {program}: {error}; check the toolchain with `bash scripts/setup.sh`"
    )]
    Spawn {
        program: String,
        error: std::io::Error,
    },
    /// The work directory could not be used.
    #[error("could not use the compile's temporary directory: {0}; check free space in $TMPDIR")]
    Io(std::io::Error),
    /// The source has errors (the usual case).
    #[error("the source does not compile ({} diagnostics): fix the first error and eval again", diagnostics.len())]
    Failed {
        diagnostics: Vec<Diagnostic>,
        stderr: String,
    },
    /// The compiler ran past the wall-clock limit.
    #[error("the compiler ran longer than {0:?} and was killed: look for runaway macro or template recursion")]
    TimedOut(Duration),
    /// The compiler hit the memory cap or crashed; its output is withheld.
    #[error("the compiler {0} and its output is withheld (it may hit the {1} MiB memory cap): look for runaway macro expansion")]
    Crashed(String, u64),
    /// The source included a file outside the project and the toolchain.
    #[error("`{0}` is outside the project and the Emscripten sysroot: only headers inside them may be included, so the compile was refused and its output withheld")]
    IncludeOutside(String),
    /// wasm-ld failed.
    #[error("linking the patch failed: {stderr}")]
    Link { stderr: String },
    /// No usable rustc for Rust patches.
    #[error("Rust patches need rustc with the wasm32-unknown-emscripten target, and none was found ({0}): run `bash scripts/setup.sh`, then `eval \"$(bash scripts/setup.sh --print-env)\"` and start the server again")]
    RustcNotFound(String),
    /// The prelude crate did not compile.
    #[error("the Rust patch prelude (examples/particles/patches/prelude.rs) does not compile: {0}")]
    Prelude(String),
}

/// How compiles run.
#[derive(Debug, Clone)]
pub struct CompilerConfig {
    /// The project root; its files may be included.
    pub root: PathBuf,
    /// `-I` directories (e.g. `abi/include`).
    pub include_dirs: Vec<PathBuf>,
    /// Use plain emcc instead of the fast path.
    pub plain_emcc: bool,
    /// Optimisation flag, e.g. `-O2`.
    pub opt: String,
    /// Wall-clock limit per compiler process.
    pub timeout: Duration,
    /// Address-space cap of the compiler process.
    pub memory_bytes: u64,
}

/// A compile's result: the linked (not yet renamed) patch.
#[derive(Debug)]
pub struct Compiled {
    /// The SIDE_MODULE bytes, exports under plain names.
    pub wasm: Vec<u8>,
    /// The global functions the source defines.
    pub defined: Vec<String>,
    /// Warnings, parsed.
    pub diagnostics: Vec<Diagnostic>,
    /// Compiler stderr word for word.
    pub stderr: String,
    /// Wall time of compile + link.
    pub elapsed: Duration,
    /// Where that time went.
    pub phases: Phases,
}

/// The parts of [`Compiled::elapsed`] (the rest is temp files and include checks).
#[derive(Debug, Clone, Copy, Default)]
pub struct Phases {
    /// The compiler process (clang -cc1, or emcc -c), start to exit.
    pub compile: Duration,
    /// Reading the object's defined functions.
    pub symbols: Duration,
    /// The linker process (wasm-ld, or emcc), start to exit.
    pub link: Duration,
}

/// Compiles patches; cheap to share between threads.
#[derive(Debug)]
pub struct Compiler {
    config: CompilerConfig,
    emcc: PathBuf,
    learnt: OnceLock<Result<fast::Learnt, String>>,
    rust: OnceLock<Result<rust::Toolchain, String>>,
    prelude: rust::PreludeCache,
}

impl Compiler {
    /// Finds emcc; the fast path is learnt on first use (or by [`Compiler::warm_up`]).
    pub fn new(config: CompilerConfig) -> Result<Compiler, CompileError> {
        Ok(Compiler {
            emcc: emcc::find()?,
            config,
            learnt: OnceLock::new(),
            rust: OnceLock::new(),
            prelude: rust::PreludeCache::default(),
        })
    }

    /// Learns the fast path now rather than on the first eval.
    pub fn warm_up(&self) -> Result<(), CompileError> {
        self.learnt().map(|_| ())
    }

    fn learnt(&self) -> Result<&fast::Learnt, CompileError> {
        let opt = &self.config.opt;
        self.learnt
            .get_or_init(|| {
                fast::Learnt::learn(
                    &self.emcc,
                    &emcc::compile_flags(opt, &self.config.include_dirs),
                    &emcc::link_flags(opt),
                )
                .map_err(|e| e.to_string())
            })
            .as_ref()
            .map_err(|e| CompileError::Learn(e.clone()))
    }

    /// Compiles `input` (a path relative to `cwd`, shown in diagnostics) into `work`.
    pub fn compile(&self, cwd: &Path, input: &str, work: &Path) -> Result<Compiled, CompileError> {
        let started = Instant::now();
        let learnt = self.learnt()?;
        let (obj, dep, so) = (
            work.join("patch.o"),
            work.join("patch.d"),
            work.join("patch.so"),
        );
        let mut cmd = if self.config.plain_emcc {
            let flags = emcc::compile_flags(&self.config.opt, &self.config.include_dirs);
            emcc::compile_command(&self.emcc, &flags, input, &obj, &dep)
        } else {
            learnt.compile_command(input, cwd, work)
        };
        cmd.current_dir(cwd);
        let limits = process::Limits {
            timeout: self.config.timeout,
            address_space: Some(self.config.memory_bytes),
        };
        let mut phases = Phases::default();
        let phase = Instant::now();
        let finished = self.run(cmd, limits, "the compiler")?;
        phases.compile = phase.elapsed();

        let mut allowed = vec![
            canonical(&self.config.root),
            canonical(work),
            canonical(cwd),
        ];
        allowed.extend(learnt.header_roots().iter().map(|p| canonical(p)));
        allowed.extend(self.config.include_dirs.iter().map(|p| canonical(p)));
        let deps = match std::fs::read_to_string(&dep) {
            Ok(text) => includes::parse_depfile(&text),
            Err(_) => {
                let how = match finished.status.code() {
                    Some(code) => {
                        format!("failed (exit status {code}) without listing what it read")
                    }
                    None => format!("was killed ({})", finished.status),
                };
                return Err(CompileError::Crashed(how, self.config.memory_bytes >> 20));
            }
        };
        if let Some(outside) = includes::first_outside(&deps, cwd, &allowed) {
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
        let defined =
            crate::inspect::defined_functions(&object).map_err(|e| CompileError::Link {
                stderr: e.to_string(),
            })?;
        phases.symbols = phase.elapsed();

        let cmd = if self.config.plain_emcc {
            emcc::link_command(
                &self.emcc,
                &emcc::link_flags(&self.config.opt),
                &obj,
                &so,
                &defined,
            )
        } else {
            learnt.link_command(work, &defined)
        };
        let wasm = self.link(cmd, work, &so, &mut phases)?;
        Ok(Compiled {
            wasm,
            defined,
            diagnostics,
            stderr: finished.stderr,
            elapsed: started.elapsed(),
            phases,
        })
    }

    fn rust_toolchain(&self) -> Result<&rust::Toolchain, CompileError> {
        self.rust
            .get_or_init(|| {
                rust::Toolchain::find(&self.config.root).map_err(|e| match e {
                    CompileError::RustcNotFound(why) => why,
                    e => e.to_string(),
                })
            })
            .as_ref()
            .map_err(|e| CompileError::RustcNotFound(e.clone()))
    }

    fn rust_opt_level(&self) -> String {
        let o = self.config.opt.trim_start_matches("-O");
        if o.is_empty() { "2" } else { o }.to_string()
    }

    /// Finds rustc and builds the prelude rlib now rather than on the first Rust eval.
    pub fn warm_up_rust(&self) -> Result<(), CompileError> {
        let tc = self.rust_toolchain()?;
        self.prelude
            .rlib(tc, &self.config.root, &self.rust_opt_level(), self.limits())
            .map(|_| ())
    }

    fn limits(&self) -> process::Limits {
        process::Limits {
            timeout: self.config.timeout,
            address_space: Some(self.config.memory_bytes),
        }
    }

    /// Compiles Rust `source` as `name` (a path relative to the work dir, shown in diagnostics)
    /// into `work`: `rustc --emit obj` against the prelude crate, then the same link as C. The
    /// patch's vars are its visible `#[no_mangle]` functions.
    pub fn compile_rust(
        &self,
        source: &str,
        name: &str,
        work: &Path,
    ) -> Result<Compiled, CompileError> {
        let started = Instant::now();
        let tc = self.rust_toolchain()?;
        let opt = self.rust_opt_level();
        let rlib = self
            .prelude
            .rlib(tc, &self.config.root, &opt, self.limits())?;
        let input = work.join(name);
        if let Some(dir) = input.parent() {
            std::fs::create_dir_all(dir).map_err(CompileError::Io)?;
        }
        std::fs::write(&input, rust::with_prelude(source)).map_err(CompileError::Io)?;
        let (obj, dep, so) = (
            work.join("patch.o"),
            work.join("patch.d"),
            work.join("patch.so"),
        );
        let cmd = rust::compile_command(tc, &opt, &rlib, name, work);
        let mut phases = Phases::default();
        let phase = Instant::now();
        let finished = self.run(cmd, self.limits(), "rustc")?;
        phases.compile = phase.elapsed();
        let deps = match std::fs::read_to_string(&dep) {
            Ok(text) => includes::parse_depfile(&text),
            Err(_) if finished.status.success() => Vec::new(),
            Err(_) => {
                let (diagnostics, stderr) = rust::parse_json_diagnostics(&finished.stderr);
                if diagnostics.is_empty() {
                    let how = match finished.status.code() {
                        Some(code) => {
                            format!("failed (exit status {code}) without listing what it read")
                        }
                        None => format!("was killed ({})", finished.status),
                    };
                    return Err(CompileError::Crashed(how, self.config.memory_bytes >> 20));
                }
                return Err(CompileError::Failed {
                    diagnostics,
                    stderr,
                });
            }
        };
        // include_str!/include_bytes!/#[path] may only read files of the project.
        let allowed = [canonical(&self.config.root), canonical(work)];
        if let Some(outside) = includes::first_outside(&deps, work, &allowed) {
            return Err(CompileError::IncludeOutside(outside));
        }
        let (diagnostics, stderr) = rust::parse_json_diagnostics(&finished.stderr);
        if !finished.status.success() {
            return Err(CompileError::Failed {
                diagnostics,
                stderr,
            });
        }
        let phase = Instant::now();
        let object = std::fs::read(&obj).map_err(CompileError::Io)?;
        let defined =
            crate::inspect::visible_functions(&object, rust::is_user_symbol).map_err(|e| {
                CompileError::Link {
                    stderr: e.to_string(),
                }
            })?;
        phases.symbols = phase.elapsed();
        let cmd = if self.config.plain_emcc {
            let mut flags = emcc::link_flags(&self.config.opt);
            flags.push("-fwasm-exceptions".into());
            emcc::link_command(&self.emcc, &flags, &obj, &so, &defined)
        } else {
            self.learnt()?.link_command(work, &defined)
        };
        let wasm = self.link(cmd, work, &so, &mut phases)?;
        Ok(Compiled {
            wasm,
            defined,
            diagnostics,
            stderr,
            elapsed: started.elapsed(),
            phases,
        })
    }

    /// Runs a link command in `work` and reads the side module it wrote to `so`. Node (wasm-opt
    /// under emcc) reserves more address space than any cap allows; the link reads only our own
    /// object, so time is its only limit.
    fn link(
        &self,
        mut cmd: Command,
        work: &Path,
        so: &Path,
        phases: &mut Phases,
    ) -> Result<Vec<u8>, CompileError> {
        cmd.current_dir(work);
        let limits = process::Limits {
            timeout: self.config.timeout,
            address_space: None,
        };
        let phase = Instant::now();
        let linked = self.run(cmd, limits, "the linker")?;
        phases.link = phase.elapsed();
        if !linked.status.success() {
            return Err(CompileError::Link {
                stderr: linked.stderr,
            });
        }
        std::fs::read(so).map_err(CompileError::Io)
    }

    fn run(
        &self,
        cmd: Command,
        limits: process::Limits,
        what: &str,
    ) -> Result<process::Finished, CompileError> {
        let program = cmd.get_program().to_string_lossy().into_owned();
        process::run(cmd, limits).map_err(|e| match e {
            process::RunError::TimedOut => CompileError::TimedOut(limits.timeout),
            process::RunError::Spawn(error) => CompileError::Spawn {
                program: format!("{what} ({program})"),
                error,
            },
        })
    }

    /// Whether this compiler uses plain emcc.
    pub fn plain_emcc(&self) -> bool {
        self.config.plain_emcc
    }
}

fn canonical(p: &Path) -> PathBuf {
    std::fs::canonicalize(p).unwrap_or_else(|_| p.to_path_buf())
}
