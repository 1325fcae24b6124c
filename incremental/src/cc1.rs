//! The compiler and linker command lines both candidates run: learnt once from `emcc -v` on a
//! probe (as the server's fast path does), then adapted — for a persistent session (no input, no
//! output, none of the flags that free the AST) or for one process per eval.
//!
//! When this crate joins the pipeline, the server's `compile::fast::Learnt` supplies the lines
//! and [`for_session`] adapts them; [`split_command_line`] duplicates its splitter until then.

use crate::Lang;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The `clang -cc1` and `wasm-ld` lines emcc runs for a SIDE_MODULE patch of one language.
#[derive(Debug, Clone)]
pub struct Learnt {
    /// The full cc1 line (clang binary first) compiling `probe.c`/`probe.cpp` to `probe.o`.
    pub cc1: Vec<String>,
    /// The full wasm-ld line linking `probe.o` to `probe.so`.
    pub link: Vec<String>,
    /// The probe's directory (its paths appear in both lines).
    pub probe_dir: PathBuf,
    /// The temporary directory the probe lived in (kept alive with the lines).
    _dir: std::sync::Arc<tempfile::TempDir>,
}

/// Why learning failed.
#[derive(Debug, thiserror::Error)]
pub enum LearnError {
    /// emcc could not run.
    #[error("emcc could not run ({0}); run `bash scripts/setup.sh` and eval its --print-env")]
    Spawn(std::io::Error),
    /// emcc ran but did not print what was expected.
    #[error("`emcc -v` on a probe printed no {0} line:\n{1}")]
    Missing(&'static str, String),
}

/// The emcc flags the server compiles patches with (pipeline/src/compile/emcc.rs, cpp.rs).
pub fn patch_flags(lang: Lang, opt: &str) -> Vec<String> {
    let mut flags: Vec<String> = [
        opt,
        "-fPIC",
        "-sSIDE_MODULE=1",
        "-fvisibility=default",
        "-Xclang",
        "-fsemantic-interposition",
        "-Wno-version-check",
    ]
    .map(String::from)
    .to_vec();
    if lang == Lang::Cpp {
        flags.extend(
            [
                "-std=c++20",
                "-fwasm-exceptions",
                "-fvisibility-inlines-hidden",
            ]
            .map(String::from),
        );
    }
    flags
}

/// Runs `emcc -v` on a probe of `lang` with `flags` and keeps its cc1 and wasm-ld lines.
pub fn learn(emcc: &Path, lang: Lang, flags: &[String]) -> Result<Learnt, LearnError> {
    let dir = tempfile::tempdir().map_err(LearnError::Spawn)?;
    let probe_dir = dir.path().canonicalize().map_err(LearnError::Spawn)?;
    let src = match lang {
        Lang::C => "probe.c",
        Lang::Cpp => "probe.cpp",
    };
    std::fs::write(probe_dir.join(src), "int probe(void) { return 1; }\n")
        .map_err(LearnError::Spawn)?;
    let run = |args: &[&str]| -> Result<String, LearnError> {
        let out = Command::new(emcc)
            .args(args)
            .current_dir(&probe_dir)
            .output()
            .map_err(LearnError::Spawn)?;
        Ok(String::from_utf8_lossy(&out.stderr).into_owned())
    };
    let mut args: Vec<&str> = flags.iter().map(String::as_str).collect();
    args.extend(["-c", src, "-o", "probe.o", "-v"]);
    let printed = run(&args)?;
    let cc1 = printed
        .lines()
        .find(|l| l.contains(" -cc1 "))
        .map(split_command_line)
        .ok_or_else(|| LearnError::Missing("-cc1", printed.clone()))?;
    let printed = run(&[
        "probe.o",
        "-o",
        "probe.so",
        "-O2",
        "-sSIDE_MODULE=1",
        "-sWASM_BIGINT",
        "-Wno-version-check",
        "-v",
    ])?;
    let link = printed
        .lines()
        .map(split_command_line)
        .rfind(|a| {
            a.first()
                .is_some_and(|p| p.rsplit('/').next().unwrap_or(p).starts_with("wasm-ld"))
        })
        .ok_or_else(|| LearnError::Missing("wasm-ld", printed.clone()))?;
    Ok(Learnt {
        cc1,
        link,
        probe_dir,
        _dir: std::sync::Arc::new(dir),
    })
}

/// Flags a one-shot cc1 line has that a persistent session must not: `-clear-ast-before-backend`
/// frees the AST after the first input (a crash on the next) and `-disable-free` leaks on purpose.
const NOT_IN_A_SESSION: [&str; 5] = [
    "-disable-free",
    "-clear-ast-before-backend",
    "-v",
    "-emit-obj",
    "-sys-header-deps",
];

/// Options followed by a value that name the probe's input or output.
const WITH_PROBE_VALUE: [&str; 4] = ["-o", "-main-file-name", "-dependency-file", "-MT"];

impl Learnt {
    /// The cc1 arguments for [`crate::Session::start`]: without `clang -cc1`, the output, the
    /// flags in [`NOT_IN_A_SESSION`]; the probe input stays as the slot the session fills.
    pub fn for_session(&self) -> Vec<String> {
        let mut out = Vec::new();
        let mut args = self.cc1.iter().skip(2);
        while let Some(a) = args.next() {
            if WITH_PROBE_VALUE.contains(&a.as_str()) {
                args.next();
            } else if !NOT_IN_A_SESSION.contains(&a.as_str()) {
                out.push(a.clone());
            }
        }
        out.push("-fincremental-extensions".into());
        out
    }

    /// The cc1 line (clang binary first) compiling `input` to `output` in one process, with
    /// `-fincremental-extensions` (candidate b).
    pub fn for_process(&self, input: &Path, output: &Path) -> Vec<String> {
        let mut out = vec![self.cc1[0].clone(), "-cc1".into()];
        let mut args = self.cc1.iter().skip(2).peekable();
        while let Some(a) = args.next() {
            match a.as_str() {
                "-o" | "-main-file-name" => {
                    args.next();
                }
                "-v" => {}
                _ if args.peek().is_none() => {} // the probe input, last
                _ => out.push(a.clone()),
            }
        }
        out.extend([
            "-fincremental-extensions".into(),
            "-o".into(),
            output.display().to_string(),
        ]);
        out.push(input.display().to_string());
        out
    }

    /// The wasm-ld line linking `objects` into `output` (argv[0] the linker binary).
    pub fn link_line(&self, objects: &[PathBuf], output: &Path) -> Vec<String> {
        let probe_obj = self.probe_dir.join("probe.o");
        let mut out = Vec::new();
        let mut args = self.link.iter();
        while let Some(a) = args.next() {
            if a == "-o" {
                args.next();
                out.extend(["-o".into(), output.display().to_string()]);
            } else if a == "probe.o" || Path::new(a) == probe_obj {
                out.extend(objects.iter().map(|o| o.display().to_string()));
            } else {
                out.push(a.clone());
            }
        }
        out
    }
}

/// Splits a printed command line: clang quotes with `"..."` and backslashes, emcc (Python's
/// shlex) with `'...'`. (A copy of the server's `compile::fast::split_command_line`.)
pub fn split_command_line(line: &str) -> Vec<String> {
    let mut args = Vec::new();
    let mut cur = String::new();
    let mut in_arg = false;
    let mut chars = line.trim().chars();
    while let Some(c) = chars.next() {
        match c {
            '"' => {
                in_arg = true;
                while let Some(c) = chars.next() {
                    match c {
                        '"' => break,
                        '\\' => cur.extend(chars.next()),
                        c => cur.push(c),
                    }
                }
            }
            '\'' => {
                in_arg = true;
                cur.extend(chars.by_ref().take_while(|&c| c != '\''));
            }
            '\\' => {
                in_arg = true;
                cur.extend(chars.next());
            }
            c if c.is_whitespace() => {
                if in_arg {
                    args.push(std::mem::take(&mut cur));
                    in_arg = false;
                }
            }
            c => {
                in_arg = true;
                cur.push(c);
            }
        }
    }
    if in_arg {
        args.push(cur);
    }
    args
}
