//! The fast path: the exact `clang -cc1` and `wasm-ld` command lines emcc runs for a
//! SIDE_MODULE, learnt once from `emcc -v` on a probe file and then run directly with the probe's
//! paths swapped for the patch's. This skips emcc's Python start-up and the node-run wasm-opt,
//! which are most of an emcc invocation.

use super::{emcc, process, CompileError};
use std::path::{Path, PathBuf};
use std::process::Command;

const PROBE: &str = "hotwasm_probe";

/// The language a learnt command line compiles: its probe file's extension and text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProbeLang {
    /// C (`hotwasm_probe.c`).
    C,
    /// C++ (`hotwasm_probe.cpp`); emcc picks the C++ front end from the extension.
    Cpp,
}

impl ProbeLang {
    fn extension(self) -> &'static str {
        match self {
            ProbeLang::C => "c",
            ProbeLang::Cpp => "cpp",
        }
    }

    fn source(self) -> &'static str {
        match self {
            ProbeLang::C => "int hotwasm_probe(void) { return 1; }\n",
            ProbeLang::Cpp => "extern \"C\" int hotwasm_probe(void) { return 1; }\n",
        }
    }
}

/// The command lines learnt from emcc, with the probe directory still in them.
#[derive(Debug, Clone)]
pub struct Learnt {
    compile: Vec<String>,
    link: Vec<String>,
    probe_dir: String,
    probe_src: String,
}

impl Learnt {
    /// Runs emcc verbosely on a probe source and keeps its clang and (last) wasm-ld commands.
    pub fn learn(
        emcc_path: &Path,
        lang: ProbeLang,
        compile_flags: &[String],
        link_flags: &[String],
    ) -> Result<Learnt, CompileError> {
        let dir = tempfile::Builder::new()
            .prefix("hotwasm-learn")
            .tempdir()
            .map_err(CompileError::Io)?;
        let probe_dir = std::fs::canonicalize(dir.path()).map_err(CompileError::Io)?;
        let src = format!("{PROBE}.{}", lang.extension());
        std::fs::write(probe_dir.join(&src), lang.source()).map_err(CompileError::Io)?;
        let obj = probe_dir.join(format!("{PROBE}.o"));
        let limits = process::Limits {
            timeout: std::time::Duration::from_secs(120),
            address_space: None,
        };

        let mut cmd = emcc::compile_command(
            emcc_path,
            compile_flags,
            &src,
            &obj,
            &probe_dir.join(format!("{PROBE}.d")),
        );
        cmd.arg("-v").current_dir(&probe_dir);
        let out = run_learning(cmd, limits)?;
        let compile = out
            .lines()
            .find(|l| l.contains(" -cc1 "))
            .map(split_command_line)
            .ok_or_else(|| {
                CompileError::Learn(format!("`emcc -v -c` printed no `-cc1` line:\n{out}"))
            })?;

        let mut cmd = emcc::link_command(
            emcc_path,
            link_flags,
            std::slice::from_ref(&obj),
            &probe_dir.join(format!("{PROBE}.so")),
            &[],
        );
        cmd.arg("-v").current_dir(&probe_dir);
        let out = run_learning(cmd, limits)?;
        let link = out
            .lines()
            .map(split_command_line)
            .rfind(|argv| {
                argv.first()
                    .is_some_and(|p| file_name(p).starts_with("wasm-ld"))
            })
            .ok_or_else(|| {
                CompileError::Learn(format!("`emcc -v` printed no wasm-ld line:\n{out}"))
            })?;
        if link
            .iter()
            .chain(&compile)
            .any(|a| a.contains("emscripten_temp"))
        {
            return Err(CompileError::Learn(
                "emcc used temporary files the fast path cannot reproduce".into(),
            ));
        }
        let probe_dir = probe_dir.to_string_lossy().into_owned();
        let compile = compile.into_iter().filter(|a| a != "-v").collect();
        Ok(Learnt {
            compile,
            link,
            probe_dir,
            probe_src: src,
        })
    }

    /// The `clang -cc1` command compiling `input` (relative to `cwd`) into `work/patch.o`, with
    /// its dependency file at `work/patch.d`.
    pub fn compile_command(&self, input: &str, cwd: &Path, work: &Path) -> Command {
        let src = &self.probe_src;
        let mut args = Vec::with_capacity(self.compile.len());
        let mut main_file_name = false;
        for arg in &self.compile {
            let arg = if main_file_name {
                file_name(input).to_string()
            } else if arg == src {
                input.to_string()
            } else {
                self.swap_paths(arg, work, cwd)
            };
            main_file_name = arg == "-main-file-name";
            args.push(arg);
        }
        command(&args)
    }

    /// The `wasm-ld` command linking `work/patch.o` and `objects` into `work/patch.so`, with
    /// `linker_args` (e.g. `--export=f`, `--wrap=f`) appended.
    pub fn link_command(
        &self,
        work: &Path,
        objects: &[PathBuf],
        linker_args: &[String],
    ) -> Command {
        let mut cmd = command(
            &self
                .link
                .iter()
                .map(|a| self.swap_paths(a, work, work))
                .collect::<Vec<_>>(),
        );
        cmd.args(objects).args(linker_args);
        cmd
    }

    /// The cc1 arguments of a persistent incremental session (hotwasm-incremental's
    /// `Session::start`): the learnt line without `clang -cc1`, its output, dependency file and
    /// the flags that free the AST after one input, plus `-fincremental-extensions`; the probe
    /// input stays as the slot the session fills with its own buffer.
    pub fn session_args(&self) -> Vec<String> {
        const WITH_VALUE: [&str; 4] = ["-o", "-main-file-name", "-dependency-file", "-MT"];
        const NOT_IN_A_SESSION: [&str; 5] = [
            "-disable-free",
            "-clear-ast-before-backend",
            "-v",
            "-emit-obj",
            "-sys-header-deps",
        ];
        let mut out = Vec::new();
        let mut args = self.compile.iter().skip(2);
        while let Some(a) = args.next() {
            if WITH_VALUE.contains(&a.as_str()) {
                args.next();
            } else if !NOT_IN_A_SESSION.contains(&a.as_str()) {
                out.push(a.clone());
            }
        }
        out.push("-fincremental-extensions".into());
        out
    }

    /// The clang binary the learnt compile runs.
    pub fn clang(&self) -> &Path {
        Path::new(&self.compile[0])
    }

    /// Directories the learnt compile reads headers from (sysroot, clang resource dir).
    pub fn header_roots(&self) -> Vec<PathBuf> {
        let mut roots = Vec::new();
        let mut next_is_dir = false;
        for arg in &self.compile {
            if next_is_dir && arg.starts_with('/') {
                roots.push(PathBuf::from(arg));
            }
            next_is_dir = matches!(
                arg.as_str(),
                "-isysroot" | "-resource-dir" | "-internal-isystem" | "-isystem"
            );
        }
        roots
    }

    fn swap_paths(&self, arg: &str, work: &Path, cwd: &Path) -> String {
        let probe_prefix = format!("{}/{PROBE}", self.probe_dir);
        if arg.contains(&probe_prefix) {
            arg.replace(&probe_prefix, &format!("{}/patch", work.display()))
        } else {
            arg.replace(&self.probe_dir, &cwd.display().to_string())
        }
    }
}

fn command(args: &[String]) -> Command {
    let mut cmd = Command::new(&args[0]);
    cmd.args(&args[1..]);
    cmd
}

fn file_name(path: &str) -> &str {
    path.rsplit('/').next().unwrap_or(path)
}

fn run_learning(cmd: Command, limits: process::Limits) -> Result<String, CompileError> {
    match process::run(cmd, limits) {
        Ok(f) if f.status.success() => Ok(f.stderr),
        Ok(f) => Err(CompileError::Learn(format!(
            "emcc failed on the probe ({}):\n{}",
            f.status, f.stderr
        ))),
        Err(process::RunError::TimedOut) => Err(CompileError::Learn(
            "emcc took over 120 s on the probe".into(),
        )),
        Err(process::RunError::Spawn(e)) => Err(CompileError::Spawn {
            program: "emcc".into(),
            error: e,
        }),
    }
}

/// Splits a printed command line into its words as a POSIX shell would (clang quotes with
/// `"..."` and backslashes, emcc with Python's `shlex.quote`); a line whose quotes do not close is
/// no command line (no words).
pub fn split_command_line(line: &str) -> Vec<String> {
    shlex::split(line).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_clang_and_shlex_quoting() {
        assert_eq!(
            split_command_line(r#" "/usr/bin/clang" -cc1 -o "a b.o" x\ y"#),
            vec!["/usr/bin/clang", "-cc1", "-o", "a b.o", "x y"]
        );
        assert_eq!(
            split_command_line("wasm-ld-19 'it'\"'\"'s' ''"),
            vec!["wasm-ld-19", "it's", ""]
        );
        assert!(split_command_line("clang \"unclosed").is_empty());
    }

    #[test]
    fn swaps_probe_paths_for_the_patch() {
        let learnt = Learnt {
            compile: [
                "clang",
                "-cc1",
                "-main-file-name",
                "hotwasm_probe.c",
                "-fdebug-compilation-dir=/p",
                "-o",
                "/p/hotwasm_probe.o",
                "-isysroot",
                "/sys",
                "-x",
                "c",
                "hotwasm_probe.c",
            ]
            .map(String::from)
            .to_vec(),
            link: ["wasm-ld", "-o", "/p/hotwasm_probe.so", "/p/hotwasm_probe.o"]
                .map(String::from)
                .to_vec(),
            probe_dir: "/p".into(),
            probe_src: "hotwasm_probe.c".into(),
        };
        let c = learnt.compile_command("side-modules/a.c", Path::new("/root"), Path::new("/w"));
        let args: Vec<_> = c
            .get_args()
            .map(|a| a.to_string_lossy().into_owned())
            .collect();
        assert_eq!(
            args,
            vec![
                "-cc1",
                "-main-file-name",
                "a.c",
                "-fdebug-compilation-dir=/root",
                "-o",
                "/w/patch.o",
                "-isysroot",
                "/sys",
                "-x",
                "c",
                "side-modules/a.c"
            ]
        );
        let l = learnt.link_command(Path::new("/w"), &[], &["--export=f".into()]);
        let args: Vec<_> = l
            .get_args()
            .map(|a| a.to_string_lossy().into_owned())
            .collect();
        assert_eq!(args, vec!["-o", "/w/patch.so", "/w/patch.o", "--export=f"]);
        assert_eq!(learnt.header_roots(), vec![PathBuf::from("/sys")]);
    }
}
