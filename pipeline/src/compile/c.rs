//! C and C++ source → linked, late-bound SIDE_MODULE. The steps:
//! 1. compile with clang -cc1 (fast path; C++ with the precompiled std headers when it includes
//!    one) or emcc, under time and memory limits;
//!    clang dumps the layouts of the records it laid out into `patch.layouts` on the way
//!    when the layout check can find something ([`crate::layout::Verified::wants`]);
//! 2. check every file it read lies in the project, the toolchain or an include dir (a missing
//!    header is reported as such, with its line);
//! 3. read the object's vars and globals ([`super::latebind::plan`]; C++: what the C++ libraries
//!    define is never a var, and C++-linkage definitions follow [`super::cpp::check_linkage`]);
//! 4. link it with its trampolines and globals objects, every var wrapped (C++: with the C++
//!    libraries it uses).

use super::{
    canonical, cpp, diagnostics, emcc, globals, includes, latebind, object, process, CompileError,
    Compiled, Compiler, InProcessLinker, LinkSpec, Phases,
};
use crate::Diagnostic;
use globals::{ReportJob, Reported};
use hotwasm_abi::HostManifest;
use std::path::{Path, PathBuf};
use std::time::Instant;

/// The language of a [`CSource`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SourceLang {
    /// C.
    C,
    /// C++ (`extern "C"` functions are vars as in C; C++-linkage ones by their mangled name).
    Cpp,
}

/// One C or C++ source to compile.
#[derive(Debug, Clone, Copy)]
pub struct CSource<'a> {
    /// The directory the compiler runs in (the project root for files, the work dir for text).
    pub cwd: &'a Path,
    /// The file to compile, relative to `cwd`; diagnostics name it so.
    pub input: &'a str,
    /// Its text (clang's report of its globals reads it).
    pub text: &'a str,
    /// For text evals, the project file it stands for (relative to the root), whose directory is
    /// searched for `#include "..."` too.
    pub stands_for: Option<&'a str>,
}

/// An object compiled by an incremental session, with what the session reported about it.
#[derive(Debug, Clone)]
pub struct SessionObject<'a> {
    /// Its language.
    pub lang: SourceLang,
    /// The wasm32 relocatable object.
    pub object: &'a [u8],
    /// The file-scope globals it defines or declares, as the compiler reported them.
    pub globals: Vec<globals::Declared>,
    /// The headers the session has read so far (those in the toolchain are system headers).
    pub headers: Vec<PathBuf>,
}

/// What [`Compiler::bind`] links.
struct Bind<'a> {
    lang: SourceLang,
    learnt: &'a super::fast::Learnt,
    object: &'a [u8],
    /// The globals' declarations, as clang reported them.
    globals: Vec<globals::Declared>,
    system_headers: &'a [PathBuf],
    /// Where the link runs instead of a wasm-ld process, if anywhere.
    in_process: Option<&'a mut dyn InProcessLinker>,
}

/// How one source compiles to an object.
#[derive(Clone, Copy)]
struct ObjectSpec<'a> {
    lang: SourceLang,
    /// The learnt fast-path compile line (C's or C++'s, with or without threads).
    learnt: &'a super::fast::Learnt,
    /// Whether to dump record layouts.
    dump: bool,
    /// Whether the host has threads (plain emcc compiles with `-pthread` then).
    threads: bool,
}

/// What compiling to an object left besides `patch.o`.
struct CompiledObject {
    /// Warnings, parsed.
    diagnostics: Vec<Diagnostic>,
    /// The compiler's stderr word for word.
    stderr: String,
    /// The system headers it read (for telling library functions from vars).
    system_headers: Vec<PathBuf>,
    /// The layouts of the records it laid out.
    layouts: Vec<hotwasm_abi::TypeLayout>,
}

impl Compiler {
    /// Compiles C `src` into `work` and links it late-bound against `host`.
    pub fn compile(
        &self,
        src: CSource<'_>,
        work: &Path,
        host: &HostManifest,
    ) -> Result<Compiled, CompileError> {
        self.compile_c_family(src, work, host, SourceLang::C)
    }

    /// Compiles C++ `src` (its `input` ends in `.cpp`/`.cc`) into `work` and links it late-bound
    /// against `host`, with the C++ libraries it uses.
    pub fn compile_cpp(
        &self,
        src: CSource<'_>,
        work: &Path,
        host: &HostManifest,
    ) -> Result<Compiled, CompileError> {
        self.compile_c_family(src, work, host, SourceLang::Cpp)
    }

    fn compile_c_family(
        &self,
        src: CSource<'_>,
        work: &Path,
        host: &HostManifest,
        lang: SourceLang,
    ) -> Result<Compiled, CompileError> {
        let started = Instant::now();
        let learnt = match lang {
            SourceLang::C => self.learnt(host.threads)?,
            SourceLang::Cpp => self.learnt_cpp(host.threads)?,
        };
        let mut phases = Phases::default();
        let lang_name = match lang {
            SourceLang::C => "c",
            SourceLang::Cpp => "cpp",
        };
        let dump = self.layouts.wants(host, src.text, lang_name);
        let how = ObjectSpec {
            lang,
            learnt,
            dump: dump.is_some(),
            threads: host.threads,
        };
        // Clang's report of the file (its globals' types and initializers, the declarations and
        // includes the vars header repeats) parses it once more in a session process. A C file's
        // (~0.1 s) runs beside the object's compile, so a file of functions gets its prototypes
        // at no wait; a C++ file's (seconds with the std headers, until the session has a PCH)
        // is read after the compile, and only when the object has globals.
        let (object, early) = std::thread::scope(|scope| {
            let report = (lang == SourceLang::C)
                .then(|| scope.spawn(|| self.report(src, lang, host.threads)));
            let object = self.compile_object(src, work, how, &mut phases);
            let report = report.map(|r| r.join().unwrap_or_else(|_| Err("it panicked".into())));
            (object, report)
        });
        let mut object = object?;
        if let Some(dump) = dump {
            self.layouts.record(dump, &host.layouts, &object.layouts);
        }

        let bytes = std::fs::read(work.join("patch.o")).map_err(CompileError::Io)?;
        let report = match early {
            Some(report) => report,
            None if uses_globals(&bytes) => self.report(src, lang, host.threads),
            None => Ok(Reported::default()),
        };
        // Without the report, a file of functions alone loses only its prototypes (the vars
        // header declares them from their signatures); one with globals is warned.
        let reported = report.unwrap_or_else(|why| {
            if uses_globals(&bytes) {
                object.diagnostics.push(unreported(src.input, &why));
            }
            Reported::default()
        });
        let bound = Bind {
            lang,
            learnt,
            object: &bytes,
            globals: reported.globals,
            system_headers: &object.system_headers,
            in_process: None,
        };
        let (wasm, defined, plan) = self.bind(bound, work, host, &mut phases)?;
        Ok(Compiled {
            wasm,
            defined,
            plan,
            layouts: object.layouts,
            diagnostics: object.diagnostics,
            stderr: object.stderr,
            elapsed: started.elapsed(),
            phases,
            declared_types: reported.types,
            declarations: reported.declarations,
        })
    }

    /// Links a C or C++ object an incremental session compiled (steps 3 and 4; the session did
    /// 1, and the caller checked what it read with [`Compiler::read_outside`]): its globals as the session's report declares them, `system_headers` the headers
    /// the session read (for telling library functions from vars). `work` holds `patch.o`.
    /// With `in_process` (the session's own lld), the link runs there rather than in a wasm-ld
    /// process (the same command line and output); without it, or when it cannot run the link,
    /// in a process.
    pub fn link_session_object(
        &self,
        object: SessionObject<'_>,
        work: &Path,
        host: &HostManifest,
        in_process: Option<&mut dyn InProcessLinker>,
    ) -> Result<Compiled, CompileError> {
        let started = Instant::now();
        let learnt = match object.lang {
            SourceLang::C => self.learnt(host.threads)?,
            SourceLang::Cpp => self.learnt_cpp(host.threads)?,
        };
        let roots: Vec<PathBuf> = learnt.header_roots().iter().map(|p| canonical(p)).collect();
        std::fs::write(work.join("patch.o"), object.object).map_err(CompileError::Io)?;
        let system_headers: Vec<PathBuf> = object
            .headers
            .iter()
            .map(|h| canonical(h))
            .filter(|h| roots.iter().any(|r| h.starts_with(r)))
            .collect();
        let bound = Bind {
            lang: object.lang,
            learnt,
            object: object.object,
            globals: object.globals,
            system_headers: &system_headers,
            in_process: in_process.map(|l| l as &mut dyn InProcessLinker),
        };
        let mut phases = Phases::default();
        let (wasm, defined, plan) = self.bind(bound, work, host, &mut phases)?;
        Ok(Compiled {
            wasm,
            defined,
            plan,
            layouts: Vec::new(),
            diagnostics: Vec::new(),
            stderr: String::new(),
            elapsed: started.elapsed(),
            phases,
            declared_types: Vec::new(),
            declarations: Default::default(),
        })
    }

    /// The first of the files an incremental session read (`read`, relative to the project root
    /// or absolute) that lies outside the project, its include dirs and the toolchain's headers:
    /// such a compile is refused and its output withheld, as for a one-shot compile.
    pub fn read_outside(
        &self,
        lang: SourceLang,
        threads: bool,
        read: &[String],
    ) -> Result<Option<String>, CompileError> {
        let learnt = match lang {
            SourceLang::C => self.learnt(threads)?,
            SourceLang::Cpp => self.learnt_cpp(threads)?,
        };
        let mut allowed = vec![canonical(&self.config.root)];
        allowed.extend(learnt.header_roots().iter().map(|p| canonical(p)));
        allowed.extend(self.config.include_dirs.iter().map(|p| canonical(p)));
        Ok(includes::first_outside(read, &self.config.root, &allowed))
    }

    /// Steps 3 and 4: reads the object's vars and globals and links it late-bound.
    fn bind(
        &self,
        bound: Bind<'_>,
        work: &Path,
        host: &HostManifest,
        phases: &mut Phases,
    ) -> Result<(Vec<u8>, Vec<String>, latebind::Plan), CompileError> {
        let phase = Instant::now();
        let symbols = object::read(bound.object).map_err(|e| CompileError::Link {
            stderr: e.to_string(),
        })?;
        let declared = bound.globals;
        let libc = self.patch_libc(host)?;
        let learnt = bound.learnt;
        let (mut plan, mut spec) = match bound.lang {
            SourceLang::C => (
                latebind::plan_declared(&symbols, host, Some(&declared), &|n| !libc.defines(n)),
                LinkSpec {
                    learnt,
                    threads: host.threads,
                    emcc_flags: Vec::new(),
                    linker_args: Vec::new(),
                    in_process: None,
                },
            ),
            SourceLang::Cpp => self.cpp_plan(&symbols, host, &declared, learnt, &libc)?,
        };
        latebind::mark_library_calls(&mut plan, host, bound.system_headers);
        latebind::mark_unlinkable_calls(&mut plan, |n| libc.why_not(n));
        let libc_objects = libc.objects(undefined_symbols(&symbols));
        phases.symbols = phase.elapsed();

        let runs_once = symbols.defines(latebind::RUN_ONCE);
        let obj = work.join("patch.o");
        spec.in_process = bound.in_process;
        spec.linker_args
            .extend(libc_objects.iter().map(|p| p.display().to_string()));
        let (wasm, defined) = self.bind_and_link(&obj, work, &plan, runs_once, spec, phases)?;
        Ok((wasm, defined, plan))
    }

    /// Steps 1 and 2: runs the compiler (writing `work/patch.o` and `work/patch.d`, and with
    /// `dump` the record layouts) and checks what it read.
    fn compile_object(
        &self,
        src: CSource<'_>,
        work: &Path,
        how: ObjectSpec<'_>,
        phases: &mut Phases,
    ) -> Result<CompiledObject, CompileError> {
        let ObjectSpec {
            lang,
            learnt,
            dump,
            threads,
        } = how;
        let (obj, dep) = (work.join("patch.o"), work.join("patch.d"));
        let mut cmd = if self.config.plain_emcc {
            let flags = match lang {
                SourceLang::C => self.c_flags(&self.config.opt, threads),
                SourceLang::Cpp => self.cpp_flags(&self.config.opt, threads),
            };
            let mut cmd = emcc::compile_command(&self.emcc, &flags, src.input, &obj, &dep);
            for flag in crate::layout::DUMP_FLAGS.iter().filter(|_| dump) {
                cmd.args(["-Xclang", flag]);
            }
            cmd
        } else {
            let mut cmd = learnt.compile_command(src.input, src.cwd, work);
            cmd.args(crate::layout::DUMP_FLAGS.iter().filter(|_| dump));
            cmd
        };
        let quote_dir = self.quote_dir(src);
        if let Some(dir) = &quote_dir {
            cmd.arg("-iquote").arg(dir);
        }
        let mut pch_dir = None;
        if lang == SourceLang::Cpp && !self.config.plain_emcc {
            let limits = self.limits();
            (cmd, pch_dir) = self.pch[usize::from(threads)].apply(cmd, src.text, |build| {
                match process::run(build, limits) {
                    Ok(f) if f.status.success() => Ok(()),
                    Ok(f) => Err(f.stderr),
                    Err(_) => Err("the precompiled header build did not finish".into()),
                }
            });
        }
        cmd.current_dir(src.cwd);
        let phase = Instant::now();
        let dump_file = work.join("patch.layouts");
        let dump = std::fs::File::create(&dump_file).map_err(CompileError::Io)?;
        let finished = self.run_to(cmd, self.limits(), "the compiler", dump.into())?;
        phases.compile = phase.elapsed();

        let header_roots: Vec<PathBuf> =
            learnt.header_roots().iter().map(|p| canonical(p)).collect();
        let mut allowed = vec![
            canonical(&self.config.root),
            canonical(work),
            canonical(src.cwd),
        ];
        allowed.extend(header_roots.iter().cloned());
        allowed.extend(self.config.include_dirs.iter().map(|p| canonical(p)));
        allowed.extend(quote_dir);
        allowed.extend(pch_dir.as_deref().map(canonical));
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
        let system_headers = deps
            .iter()
            .map(|d| canonical(&src.cwd.join(d)))
            .filter(|d| header_roots.iter().any(|r| d.starts_with(r)))
            .collect();
        let dump = std::fs::read_to_string(&dump_file).map_err(CompileError::Io)?;
        Ok(CompiledObject {
            diagnostics,
            stderr: finished.stderr,
            system_headers,
            layouts: crate::layout::parse_dump(&dump, src.cwd),
        })
    }

    /// A C++ patch's plan and link: symbols the C++ libraries define are never vars nor shared
    /// globals; C++-linkage definitions named like an `extern "C"` host var are refused; the link
    /// exports only the patch's vars and globals and adds the libraries.
    fn cpp_plan<'a>(
        &self,
        symbols: &object::Symbols,
        host: &HostManifest,
        declared: &[globals::Declared],
        learnt: &'a super::fast::Learnt,
        libc: &super::libc::PatchLibc,
    ) -> Result<(latebind::Plan, LinkSpec<'a>), CompileError> {
        let libs = self.cpp_libraries(host.threads)?;
        let mut plan = latebind::plan_declared(symbols, host, Some(declared), &|n| {
            libs.is_var_name(n) && !libc.defines(n)
        });
        plan.globals.retain(|g| !libs.defines(&g.name));
        plan.global_uses.retain(|g| !libs.defines(&g.name));
        cpp::check_linkage(
            plan.defines.iter().map(|v| v.name.as_str()),
            |n| host.var(n).is_some(),
            cpp::demangle,
        )?;
        cpp::check_call_linkage(
            plan.calls.iter().map(|v| v.name.as_str()),
            |n| host.var(n).is_some(),
            cpp::demangle,
        )?;
        let keys: Vec<String> = plan
            .globals
            .iter()
            .map(|g| latebind::init_key_symbol(&g.name))
            .collect();
        let globals = plan
            .globals
            .iter()
            .map(|g| g.name.as_str())
            .chain(keys.iter().map(String::as_str));
        let mut linker_args =
            cpp::link_exports(plan.defines.iter().map(|v| v.name.as_str()), globals);
        // The archives cost ~45 ms of link time even unused: only when the patch needs them.
        if libs.needed_by(undefined_symbols(symbols)) {
            linker_args.extend(libs.link_args.iter().cloned());
        }
        let spec = LinkSpec {
            learnt,
            threads: host.threads,
            emcc_flags: cpp::emcc_link_flags(),
            linker_args,
            in_process: None,
        };
        Ok((plan, spec))
    }

    /// Clang's report of `src`'s file-scope declarations ([`globals::Reporter`]); an error
    /// without a reporter or a session line.
    fn report(
        &self,
        src: CSource<'_>,
        lang: SourceLang,
        threads: bool,
    ) -> Result<Reported, String> {
        let reporter = self
            .reporter
            .clone()
            .ok_or("no compiler session program to read it")?;
        // The report reads clang's AST; its object is thrown away, so it is not optimised.
        let mut args: Vec<String> = self
            .session_args(lang, threads)
            .map_err(|e| e.to_string())?
            .into_iter()
            .map(|a| match a.as_str() {
                "-O1" | "-O2" | "-O3" | "-Os" | "-Oz" => "-O0".to_string(),
                _ => a,
            })
            .collect();
        let dir = self.quote_dir(src).or_else(|| {
            let file = canonical(&src.cwd.join(src.input));
            file.parent().map(Path::to_path_buf)
        });
        if let Some(dir) = dir {
            args.extend(["-iquote".to_string(), dir.display().to_string()]);
        }
        // The precompiled standard headers, as the file's own compile has them (a session PCH).
        if lang == SourceLang::Cpp && cpp::wants_pch(src.text) {
            match self.session_pch(threads, &args) {
                Ok(pch) => args = cpp::session_args_with_pch(&args, &pch),
                Err(e) => eprintln!("hotwasm: the session's precompiled headers could not be built; the report reads the standard headers: {e}"),
            }
        }
        let job = ReportJob {
            lang,
            args,
            cwd: src.cwd.to_path_buf(),
            text: src.text.to_string(),
        };
        reporter.report(&job)
    }

    /// Clang's report of a file read on its own (an app header, for the functions it declares):
    /// as its extension says (`.c` C, `.cpp`/`.hpp`/… C++), a `.h` as C, or as C++ when it does
    /// not compile as C. An error says why clang could not read it.
    pub fn report_file(&self, header: &Path, threads: bool) -> Result<Reported, String> {
        let text = std::fs::read_to_string(header).map_err(|e| e.to_string())?;
        let (dir, file) = match (header.parent(), header.file_name()) {
            (Some(dir), Some(file)) => (dir, file.to_string_lossy()),
            _ => return Err(format!("{} is not a file", header.display())),
        };
        let src = CSource {
            cwd: dir,
            input: &file,
            text: &text,
            stands_for: None,
        };
        let ext = header.extension().and_then(|e| e.to_str()).unwrap_or("");
        match ext {
            "c" => self.report(src, SourceLang::C, threads),
            "cpp" | "cc" | "cxx" | "hpp" | "hh" | "hxx" => {
                self.report(src, SourceLang::Cpp, threads)
            }
            _ => self.report(src, SourceLang::C, threads).or_else(|as_c| {
                self.report(src, SourceLang::Cpp, threads)
                    .map_err(|as_cpp| format!("as C: {as_c}; as C++: {as_cpp}"))
            }),
        }
    }

    /// The project directory of the file a text eval stands for, if it exists.
    fn quote_dir(&self, src: CSource<'_>) -> Option<PathBuf> {
        self.quote_dir_of(src.stands_for?)
    }

    /// The project directory of the file `rel` (relative to the project root) if it exists:
    /// where a text eval standing for that file finds its `#include "..."`s.
    pub fn quote_dir_of(&self, rel: &str) -> Option<PathBuf> {
        let rel = Path::new(rel);
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

/// The functions and data an object uses without defining them.
fn undefined_symbols(symbols: &object::Symbols) -> impl Iterator<Item = &str> {
    symbols
        .functions
        .iter()
        .filter(|f| !f.defined)
        .map(|f| f.name.as_str())
        .chain(
            symbols
                .data
                .iter()
                .filter(|d| d.size.is_none())
                .map(|d| d.name.as_str()),
        )
}

/// Whether the object `bytes` defines or uses a global (whose declaration late binding wants).
fn uses_globals(bytes: &[u8]) -> bool {
    object::read(bytes).is_ok_and(|symbols| !latebind::data_names(&symbols).is_empty())
}

/// The warning for a source whose globals clang could not report (`why`).
fn unreported(file: &str, why: &str) -> Diagnostic {
    Diagnostic {
        file: file.to_string(),
        line: 1,
        column: 1,
        severity: "warning".into(),
        message: format!("clang could not report this file's globals ({why}): a global it defines keeps its running value even if its initializer was edited"),
    }
}
