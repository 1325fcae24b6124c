//! C source → linked SIDE_MODULE, by the fast path (learnt clang + wasm-ld) or plain emcc, in
//! a caller-provided work directory, under time and memory limits, refusing any compile that
//! read a file outside the project or the toolchain's headers.
//!
//! The patch is linked with its global functions exported under their plain names; the caller
//! renames them ([`rename`]) once it knows the journal sequence number.

mod c;
pub use c::{CSource, SessionObject, SourceLang};
pub mod cpp;
pub mod diagnostics;
pub mod emcc;
pub mod fast;
pub mod globals;
pub mod includes;
pub mod inline;
pub mod latebind;
pub mod libc;
pub mod object;
pub mod probe;
pub mod process;
pub mod rename;
pub mod rewrite;
pub mod rust;
pub mod rust_app_src;
pub mod rust_app_types;
pub mod rust_eval;
pub mod rust_host_crate;
pub mod rust_host_rlib;
pub mod rust_items;
pub mod rust_paths;
pub mod rust_std;
pub mod trampolines;

use crate::Diagnostic;
use hotwasm_abi::HostManifest;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, Mutex};
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
    /// A C++ patch cannot be compiled or would be wrong.
    #[error("{0}")]
    Cpp(#[from] cpp::CppError),
    /// No usable rustc for Rust patches.
    #[error("Rust patches need rustc with the wasm32-unknown-emscripten target, and none was found ({0}): run `bash scripts/setup.sh`, then `eval \"$(bash scripts/setup.sh --print-env)\"` and start the server again")]
    RustcNotFound(String),
    /// A Rust patch uses a std symbol the host lacks and a patch cannot link ([`rust_std`]).
    #[error("{0}")]
    StdNotLinkable(String),
    /// The host has threads, and a Rust patch cannot be built for shared memory.
    #[error("Rust patches cannot load into this app: its host is built with threads (-pthread), and stable Rust's std for wasm32-unknown-emscripten has no atomics, so a Rust patch cannot use its shared memory. Write the patch in C or C++, or build the host without -pthread")]
    RustIntoThreads,
    /// A patch redefines a function of the host that is not hot, and says why.
    #[error("{0}")]
    NotHot(String),
    /// A Rust eval redefines an item of an earlier eval in a way code compiled since cannot
    /// survive ([`rust_eval`]).
    #[error("{0}")]
    RustSession(String),
    /// The prelude crate did not compile.
    #[error("the Rust patch prelude ({path}) does not compile: {why}")]
    Prelude {
        /// The app's prelude as configured (`[patches] rust_prelude`), or what stands for none.
        path: String,
        why: String,
    },
}

/// How compiles run.
#[derive(Debug, Clone)]
pub struct CompilerConfig {
    /// The project root; its files may be included.
    pub root: PathBuf,
    /// `-I` directories for C patches (the app's `[patches] include_dirs`, then hotwasm's
    /// `abi/include`).
    pub include_dirs: Vec<PathBuf>,
    /// `-D` definitions for C patches (`NAME` or `NAME=VALUE`), from `[patches] defines`.
    pub defines: Vec<String>,
    /// The app's Rust patch prelude (absolute), from `[patches] rust_prelude`; `None`: Rust
    /// patches get an empty prelude.
    pub rust_prelude: Option<PathBuf>,
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
    /// The vars the source defines, plus `hotwasm_main` if it defines that.
    pub defined: Vec<String>,
    /// What the patch binds to: the vars it defines and calls, the globals it defines and uses.
    pub plan: latebind::Plan,
    /// The layouts of the records the compile laid out (C and C++; see [`crate::layout`]).
    pub layouts: Vec<hotwasm_abi::TypeLayout>,
    /// Warnings, parsed.
    pub diagnostics: Vec<Diagnostic>,
    /// Compiler stderr word for word.
    pub stderr: String,
    /// Wall time of compile + link.
    pub elapsed: Duration,
    /// Where that time went.
    pub phases: Phases,
    /// The types (records, typedefs, enums) the source declares itself, as clang reported them.
    pub declared_types: Vec<String>,
    /// Its functions' and globals' declarations and its includes, as clang reported them
    /// (empty when clang was not asked).
    pub declarations: globals::Declarations,
}

/// The parts of [`Compiled::elapsed`] (the rest is temp files and include checks).
#[derive(Debug, Clone, Copy, Default)]
pub struct Phases {
    /// The compiler process (clang -cc1, or emcc -c), start to exit.
    pub compile: Duration,
    /// Reading the object's symbols and assembling (or finding cached) trampolines.
    pub symbols: Duration,
    /// The linker process (wasm-ld, or emcc), start to exit.
    pub link: Duration,
}

/// Runs a linker command line inside a process that is already running (an incremental compiler
/// session's, which carries lld's wasm driver): the same link without starting a wasm-ld process.
pub trait InProcessLinker {
    /// Runs the link `argv` (`argv[0]` the linker; every path in it absolute) and returns whether
    /// it succeeded and what the linker printed; `Err` says why it could not run it at all (the
    /// pipeline then runs the linker as a process).
    fn link(&mut self, argv: &[String]) -> Result<(bool, String), String>;

    /// Runs the trampolines' assembler command line `argv` (`argv[0]` llvm-mc, every path
    /// absolute; the object goes to its `-o` file) as [`InProcessLinker::link`] runs a link:
    /// whether it succeeded and what it printed, or `Err` when it cannot (the pipeline then runs
    /// the assembler as a process). By default it cannot.
    fn assemble(&mut self, argv: &[String]) -> Result<(bool, String), String> {
        let _ = argv;
        Err("no in-process assembler".into())
    }
}

/// How a patch links besides its objects.
struct LinkSpec<'a> {
    /// The learnt fast-path link line (C's or C++'s).
    learnt: &'a fast::Learnt,
    /// Whether the host has threads (plain emcc links with `-pthread` then).
    threads: bool,
    /// Extra emcc flags when linking with plain emcc.
    emcc_flags: Vec<String>,
    /// Extra linker arguments, after the objects (both paths).
    linker_args: Vec<String>,
    /// Where the fast path's link runs instead of a wasm-ld process, if anywhere.
    in_process: Option<&'a mut dyn InProcessLinker>,
}

/// The least time a session PCH build is given ([`Compiler::session_pch`]).
const SESSION_PCH_TIMEOUT: Duration = Duration::from_secs(120);

/// Compiles patches; cheap to share between threads.
#[derive(Debug)]
pub struct Compiler {
    config: CompilerConfig,
    emcc: PathBuf,
    // Each probe is kept once it succeeds and tried again on the next eval when it failed.
    // Indexed by whether the host has threads ([`HostManifest::threads`]): those patches are
    // compiled and linked with `-pthread`, from command lines learnt with it.
    learnt: [probe::Probe<fast::Learnt>; 2],
    learnt_cpp: [probe::Probe<fast::Learnt>; 2],
    cpp_libraries: [probe::Probe<cpp::Libraries>; 2],
    /// The precompiled headers, by threads as `learnt` (built from the learnt compile line).
    pch: [cpp::Pch; 2],
    /// The precompiled headers of C++ sessions, by toolchain and flags.
    session_pchs: cpp::SessionPchs,
    rust: probe::Probe<rust::Toolchain>,
    prelude: rust::PreludeCache,
    /// The `hotwasm_host` crate patches of an all-hot Rust host call the app's items through.
    host_crate: rust_host_rlib::HostCrateCache,
    trampolines: probe::Probe<trampolines::Cache>,
    /// The C library patches link, made for the current host's exports ([`libc`]).
    patch_libc: Mutex<Option<Arc<libc::PatchLibc>>>,
    /// The standard library Rust patches link, made for the current host's exports.
    patch_std: Mutex<Option<Arc<rust_std::PatchStd>>>,
    layouts: crate::layout::Verified,
    /// Who reads a saved file's globals with clang ([`Compiler::set_reporter`]).
    reporter: Option<std::sync::Arc<dyn globals::Reporter>>,
}

impl Compiler {
    /// Finds emcc; the fast path is learnt on first use (or by [`Compiler::warm_up`]).
    pub fn new(config: CompilerConfig) -> Result<Compiler, CompileError> {
        Ok(Compiler {
            emcc: emcc::find()?,
            config,
            learnt: Default::default(),
            learnt_cpp: Default::default(),
            cpp_libraries: Default::default(),
            pch: Default::default(),
            session_pchs: Default::default(),
            rust: probe::Probe::default(),
            prelude: rust::PreludeCache::default(),
            host_crate: rust_host_rlib::HostCrateCache::default(),
            trampolines: probe::Probe::default(),
            patch_libc: Mutex::new(None),
            patch_std: Mutex::new(None),
            layouts: crate::layout::Verified::default(),
            reporter: None,
        })
    }

    /// Sets who reads the globals (type, initializer) and types of a C or C++ file compiled on
    /// its own, with clang, while its object compiles. Without one, such a file's globals have
    /// no declared type or initializer (a warning says so): an edited initializer does not
    /// take effect and a changed type is caught by its size only.
    pub fn set_reporter(&mut self, reporter: std::sync::Arc<dyn globals::Reporter>) {
        self.reporter = Some(reporter);
    }

    /// Learns the fast path (of a host with `threads` or without) now rather than on the first
    /// eval.
    pub fn warm_up(&self, threads: bool) -> Result<(), CompileError> {
        self.learnt(threads).map(|_| ())
    }

    /// The cc1 arguments an incremental compiler session of `lang` starts with, for a host with
    /// `threads` or without: the fast path's learnt compile line made fit for a session
    /// ([`fast::Learnt::session_args`]), so a session compiles exactly as a one-shot eval would.
    pub fn session_args(
        &self,
        lang: SourceLang,
        threads: bool,
    ) -> Result<Vec<String>, CompileError> {
        let learnt = match lang {
            SourceLang::C => self.learnt(threads)?,
            SourceLang::Cpp => self.learnt_cpp(threads)?,
        };
        Ok(learnt.session_args())
    }

    /// The precompiled standard headers ([`cpp::PCH_HEADERS`]) for a C++ session started with
    /// the cc1 `args` (from [`Compiler::session_args`]), built by the learnt clang on first use.
    pub fn session_pch(&self, threads: bool, args: &[String]) -> Result<PathBuf, String> {
        let clang = self
            .learnt_cpp(threads)
            .map_err(|e| e.to_string())?
            .clang()
            .to_path_buf();
        // The build reads only the standard headers, never a user's text: the compile deadline
        // (a guard against what users write) would stop it on a busy machine (8 s at load 16).
        let limits = process::Limits {
            timeout: self.config.timeout.max(SESSION_PCH_TIMEOUT),
            ..self.limits()
        };
        self.session_pchs
            .get(&clang, args, |cmd| match process::run(cmd, limits) {
                Ok(f) if f.status.success() => Ok(()),
                Ok(f) => Err(f.stderr),
                Err(_) => Err("the precompiled header build did not finish".into()),
            })
    }

    /// A session refused the PCH `pch` ([`cpp::SessionPchs::refused`]): the next one is built again.
    pub fn session_pch_refused(&self, pch: &Path) {
        self.session_pchs.refused(pch);
    }

    fn learnt(&self, threads: bool) -> Result<&fast::Learnt, CompileError> {
        let opt = &self.config.opt;
        self.learnt[usize::from(threads)].get_or_probe(|| {
            fast::Learnt::learn(
                &self.emcc,
                fast::ProbeLang::C,
                &self.c_flags(opt, threads),
                &emcc::link_flags(opt, threads),
            )
            .map_err(|e| CompileError::Learn(e.to_string()))
        })
    }

    /// The fast path of C++ patches: the C flags plus [`cpp::compile_flags`], wasm exceptions.
    fn learnt_cpp(&self, threads: bool) -> Result<&fast::Learnt, CompileError> {
        let opt = &self.config.opt;
        self.learnt_cpp[usize::from(threads)].get_or_probe(|| {
            let mut link = emcc::link_flags(opt, threads);
            link.push("-fwasm-exceptions".into());
            fast::Learnt::learn(
                &self.emcc,
                fast::ProbeLang::Cpp,
                &self.cpp_flags(opt, threads),
                &link,
            )
            .map_err(|e| CompileError::Learn(e.to_string()))
        })
    }

    /// Learns the C++ fast path and reads the C++ libraries now rather than on the first C++ eval.
    pub fn warm_up_cpp(&self, threads: bool) -> Result<(), CompileError> {
        self.cpp_libraries(threads).map(|_| ())
    }

    fn cpp_flags(&self, opt: &str, threads: bool) -> Vec<String> {
        let mut flags = self.c_flags(opt, threads);
        flags.extend(cpp::compile_flags());
        flags
    }

    /// The C++ libraries patches link, found through the learnt C++ link line.
    fn cpp_libraries(&self, threads: bool) -> Result<&cpp::Libraries, CompileError> {
        let learnt = self.learnt_cpp(threads)?;
        self.cpp_libraries[usize::from(threads)].get_or_probe(|| {
            let link = cpp::argv_of(&learnt.link_command(Path::new("."), &[], &[]));
            cpp::Libraries::find(&link).map_err(|e| CompileError::Learn(e.to_string()))
        })
    }

    /// Assembles the trampolines of the host's vars now (at most
    /// [`trampolines::PREPARED_HOST_VARS`] of them) and makes the C library patches link, so the
    /// first eval of a host var or a C library function links at once.
    pub fn warm_up_vars(&self, host: &HostManifest) -> Result<(), CompileError> {
        self.trampolines(host.threads)?
            .prepare(host, self.limits())?;
        // And the C library patches link (~0.1 s: reading and extracting the archives).
        self.patch_libc(host).map(|_| ())
    }

    /// The C library patches link for `host` (made on first use and again when the host's
    /// exports change: the linkable members and the shim object, in the trampoline cache's dir).
    /// When it cannot be made, patches get none (a warning says why) and the check refuses the
    /// library functions the host lacks by name, as before.
    pub fn patch_libc(&self, host: &HostManifest) -> Result<Arc<libc::PatchLibc>, CompileError> {
        let mut current = self.patch_libc.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(made) = current.as_ref().filter(|l| l.fits(host)) {
            return Ok(made.clone());
        }
        let made = if host.threads {
            // Emscripten's PIC libc for threads (`libc-mt.a`) is not split for patches yet.
            Ok(libc::PatchLibc::none(host))
        } else {
            self.make_patch_libc(host)
        };
        let made = made.unwrap_or_else(|e| {
            eprintln!("hotwasm: warning: patches can call only the C library functions the host exports: {e}");
            libc::PatchLibc::none(host)
        });
        let made = Arc::new(made);
        *current = Some(made.clone());
        Ok(made)
    }

    fn make_patch_libc(&self, host: &HostManifest) -> Result<libc::PatchLibc, CompileError> {
        let learnt = self.learnt(false)?;
        let dir = self
            .trampolines(false)?
            .dir()
            .join(format!("libc-{:016x}", libc::exports_key(host)));
        std::fs::create_dir_all(&dir).map_err(CompileError::Io)?;
        std::fs::write(dir.join("shim.c"), libc::shim_source()).map_err(CompileError::Io)?;
        let (obj, dep) = (dir.join("patch.o"), dir.join("patch.d"));
        let mut cmd = if self.config.plain_emcc {
            let flags = self.c_flags(&self.config.opt, false);
            emcc::compile_command(&self.emcc, &flags, "shim.c", &obj, &dep)
        } else {
            learnt.compile_command("shim.c", &dir, &dir)
        };
        cmd.current_dir(&dir);
        let done = self.run(cmd, self.limits(), "the compiler (C library shim)")?;
        if !done.status.success() {
            return Err(CompileError::Learn(format!(
                "compiling the C library shim failed:\n{}",
                done.stderr
            )));
        }
        let link = cpp::argv_of(&learnt.link_command(Path::new("."), &[], &[]));
        let dirs: Vec<PathBuf> = link
            .iter()
            .filter_map(|a| a.strip_prefix("-L"))
            .map(PathBuf::from)
            .collect();
        libc::build_missing(&self.emcc, &dirs)?;
        libc::PatchLibc::make(&dirs, host, &dir, obj)
    }

    fn c_flags(&self, opt: &str, threads: bool) -> Vec<String> {
        emcc::compile_flags(
            opt,
            &self.config.include_dirs,
            &self.config.defines,
            threads,
        )
    }

    /// The trampoline cache (one for both kinds of host: [`trampolines::Cache::objects`] keeps
    /// them apart), assembling with the llvm-mc beside the learnt clang.
    fn trampolines(&self, threads: bool) -> Result<&trampolines::Cache, CompileError> {
        let learnt = self.learnt(threads)?;
        self.trampolines.get_or_probe(|| {
            trampolines::Cache::new(learnt.clang()).map_err(|e| CompileError::Learn(e.to_string()))
        })
    }

    /// Links `object` with the trampolines and globals objects of `plan` into `so`, each var
    /// wrapped; returns the patch and its defined vars (plus `hotwasm_main` when `runs_once`).
    fn bind_and_link(
        &self,
        object: &Path,
        work: &Path,
        plan: &latebind::Plan,
        runs_once: bool,
        spec: LinkSpec<'_>,
        phases: &mut Phases,
    ) -> Result<(Vec<u8>, Vec<String>), CompileError> {
        let so = work.join("patch.so");
        let phase = Instant::now();
        let mut in_process = spec.in_process;
        let helpers = self.trampolines(spec.threads)?.objects(
            plan,
            spec.threads,
            self.limits(),
            in_process.as_deref_mut(),
        )?;
        phases.symbols += phase.elapsed();
        let mut linker_args = latebind::wrap_flags(plan);
        let mut defined: Vec<String> = plan.defines.iter().map(|v| v.name.clone()).collect();
        if runs_once {
            linker_args.push(format!("--export={}", latebind::RUN_ONCE));
            defined.push(latebind::RUN_ONCE.to_string());
        }
        linker_args.extend(spec.linker_args);
        let (cmd, in_process) = if self.config.plain_emcc {
            let mut flags = emcc::link_flags(&self.config.opt, spec.threads);
            flags.extend(spec.emcc_flags);
            let mut objects = vec![object.to_path_buf()];
            objects.extend(helpers);
            let cmd = emcc::link_command(&self.emcc, &flags, &objects, &so, &linker_args);
            (cmd, None)
        } else {
            let cmd = spec.learnt.link_command(work, &helpers, &linker_args);
            (cmd, in_process)
        };
        let wasm = match in_process {
            Some(linker) => self.link_in_process(linker, cmd, work, &so, phases)?,
            None => self.link(cmd, work, &so, phases)?,
        };
        let wasm = inline::inline_trampoline_calls(&wasm).map_err(|e| CompileError::Link {
            stderr: e.to_string(),
        })?;
        Ok((wasm, defined))
    }

    fn rust_toolchain(&self) -> Result<&rust::Toolchain, CompileError> {
        self.rust.get_or_probe(|| {
            rust::Toolchain::find(&self.config.root).map_err(|e| match e {
                e @ CompileError::RustcNotFound(_) => e,
                e => CompileError::RustcNotFound(e.to_string()),
            })
        })
    }

    fn rust_opt_level(&self) -> String {
        let o = self.config.opt.trim_start_matches("-O");
        if o.is_empty() { "2" } else { o }.to_string()
    }

    /// The `hotwasm_host` crate Rust patches of `host` are compiled with (an all-hot Rust host's
    /// functions and statics by path), if `host` is one.
    pub fn host_crate_for(
        &self,
        host: &HostManifest,
    ) -> Result<Option<rust_host_rlib::Built>, CompileError> {
        let tc = self.rust_toolchain()?;
        self.host_crate.get(
            tc,
            &self.config.root,
            &self.rust_opt_level(),
            host,
            self.limits(),
        )
    }

    /// Finds rustc and builds the prelude rlib now rather than on the first Rust eval.
    pub fn warm_up_rust(&self) -> Result<(), CompileError> {
        let tc = self.rust_toolchain()?;
        self.prelude
            .rlib(tc, &self.config, &self.rust_opt_level(), self.limits())
            .map(|_| ())
    }

    /// The standard library Rust patches link for `host` (made on first use and again when the
    /// host's exports change; the rlibs' objects are written once into the trampoline cache's
    /// dir). When it cannot be made, patches get none (a warning says why).
    pub fn patch_std(
        &self,
        tc: &rust::Toolchain,
        host: &HostManifest,
    ) -> Result<Arc<rust_std::PatchStd>, CompileError> {
        let mut current = self.patch_std.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(made) = current.as_ref().filter(|s| s.fits(host)) {
            return Ok(made.clone());
        }
        let dir = self.trampolines(false)?.dir().join("rust-std");
        std::fs::create_dir_all(&dir).map_err(CompileError::Io)?;
        let made = rust_std::PatchStd::make(&tc.rlib_dir()?, host, &dir).unwrap_or_else(|e| {
            eprintln!("hotwasm: warning: Rust patches can use only the std functions the host exports: {e}");
            rust_std::PatchStd::none(host)
        });
        let made = Arc::new(made);
        *current = Some(made.clone());
        Ok(made)
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
        host: &HostManifest,
    ) -> Result<Compiled, CompileError> {
        let started = Instant::now();
        if host.threads {
            return Err(CompileError::RustIntoThreads);
        }
        let tc = self.rust_toolchain()?;
        let opt = self.rust_opt_level();
        let rlib = self.prelude.rlib(tc, &self.config, &opt, self.limits())?;
        let input = work.join(name);
        if let Some(dir) = input.parent() {
            std::fs::create_dir_all(dir).map_err(CompileError::Io)?;
        }
        // An all-hot host: the patch calls the app's functions by path through `hotwasm_host`.
        let host_crate = self.host_crate_for(host)?;
        if let Some(built) = &host_crate {
            built
                .krate
                .refuse_unreachable(source)
                .map_err(CompileError::NotHot)?;
        }
        let text = match &host_crate {
            Some(built) => rust::with_host_crate(&built.krate.open_modules(source)),
            None => rust::with_prelude(source),
        };
        std::fs::write(&input, text).map_err(CompileError::Io)?;
        let (obj, dep) = (work.join("patch.o"), work.join("patch.d"));
        let mut cmd = rust::compile_command(tc, &opt, &rlib, name, work);
        if let Some(built) = &host_crate {
            cmd.arg("--extern").arg(format!(
                "{}={}",
                rust_host_crate::CRATE,
                built.rlib.display()
            ));
        }
        let paths = rust_paths::HostPaths::of(host);
        if !paths.is_empty() {
            // Small functions are compiled only where they are used (rustc makes them
            // cross-crate inlinable): a patch's redefinition must be compiled all the same.
            cmd.args(["-C", "link-dead-code"]);
        }
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
        let symbols = object::read(&object).map_err(|e| CompileError::Link {
            stderr: e.to_string(),
        })?;
        let std = self.patch_std(tc, host)?;
        // C-named std functions a patch links (`__multi3`) are never vars.
        // A call of the app's function by path (`hotwasm_host`) names the host's var.
        let mut plan = latebind::plan(&symbols, host, &|n| {
            (rust::is_user_symbol(n) && !std.defines(n)) || host.var(n).is_some()
        });
        rust::share_statics(&mut plan, &symbols);
        // An all-hot host: the patch's functions bind to the host's of the same path.
        paths.refuse_not_hot(source).map_err(CompileError::NotHot)?;
        let bound = paths.bind(&symbols, &mut plan, host);
        let std_link = std.link_or_refuse(&symbols)?;
        phases.symbols = phase.elapsed();
        let spec = LinkSpec {
            learnt: self.learnt(false)?,
            threads: false,
            emcc_flags: vec!["-fwasm-exceptions".to_string()],
            linker_args: [
                rust::std_linker_args(&plan, &symbols, &std_link, work)?,
                rust_paths::export_args(&bound),
            ]
            .concat(),
            in_process: None,
        };
        let (wasm, defined) = self
            .bind_and_link(
                &obj,
                work,
                &plan,
                symbols.defines(latebind::RUN_ONCE),
                spec,
                &mut phases,
            )
            .map_err(|e| rust_std::wrapped_link_failure(e, &std_link))?;
        let wasm = rust_std::unwrap_imports(&wasm, &std_link.wraps)
            .map_err(|stderr| CompileError::Link { stderr })?;
        let (wasm, defined) = rust_paths::rename_bound(wasm, defined, &mut plan, bound)?;
        Ok(Compiled {
            wasm,
            defined,
            plan,
            layouts: Vec::new(),
            diagnostics,
            stderr,
            elapsed: started.elapsed(),
            phases,
            declared_types: Vec::new(),
            declarations: Default::default(),
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

    /// [`Compiler::link`] by `linker`, in its process, when it can run the link; otherwise (its
    /// process is gone) by a linker process. Files named relative to `work` are named in full.
    fn link_in_process(
        &self,
        linker: &mut dyn InProcessLinker,
        cmd: Command,
        work: &Path,
        so: &Path,
        phases: &mut Phases,
    ) -> Result<Vec<u8>, CompileError> {
        // The linker's process runs elsewhere: a file named relative to `work` is named in full.
        let argv: Vec<String> = std::iter::once(cmd.get_program())
            .chain(cmd.get_args())
            .map(|a| match Path::new(a) {
                p if p.is_relative() && work.join(p).is_file() => work.join(p).into_os_string(),
                _ => a.to_os_string(),
            })
            .map(|a| a.to_string_lossy().into_owned())
            .collect();
        let phase = Instant::now();
        let (ok, printed) = match linker.link(&argv) {
            Ok(done) => done,
            Err(_) => return self.link(cmd, work, so, phases),
        };
        phases.link = phase.elapsed();
        if !ok {
            return Err(CompileError::Link { stderr: printed });
        }
        std::fs::read(so).map_err(CompileError::Io)
    }

    fn run(
        &self,
        cmd: Command,
        limits: process::Limits,
        what: &str,
    ) -> Result<process::Finished, CompileError> {
        self.run_to(cmd, limits, what, std::process::Stdio::null())
    }

    /// [`Compiler::run`] with the process's stdout going to `stdout`.
    fn run_to(
        &self,
        cmd: Command,
        limits: process::Limits,
        what: &str,
        stdout: std::process::Stdio,
    ) -> Result<process::Finished, CompileError> {
        let program = cmd.get_program().to_string_lossy().into_owned();
        process::run_to(cmd, limits, stdout).map_err(|e| match e {
            process::RunError::TimedOut => CompileError::TimedOut(limits.timeout),
            process::RunError::Spawn(error) => CompileError::Spawn {
                program: format!("{what} ({program})"),
                error,
            },
        })
    }

    /// How compiles run (the app root, include dirs, limits).
    pub fn config(&self) -> &CompilerConfig {
        &self.config
    }

    /// The `-I` directories of C/C++ patches.
    pub fn include_dirs(&self) -> &[PathBuf] {
        &self.config.include_dirs
    }

    /// Whether this compiler uses plain emcc.
    pub fn plain_emcc(&self) -> bool {
        self.config.plain_emcc
    }
}

fn canonical(p: &Path) -> PathBuf {
    std::fs::canonicalize(p).unwrap_or_else(|_| p.to_path_buf())
}
