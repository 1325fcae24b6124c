//! The precompiled standard headers of C++ patches: which patches want them, the `clang -cc1`
//! command that builds them from a patch's own command (clang refuses a PCH built with other
//! options), and the cache that builds them once per server; and the same headers precompiled
//! for incremental compiler sessions ([`SessionPchs`]), kept on disk per toolchain and flags.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Mutex, OnceLock};

/// Standard headers precompiled once for C++ patches that include any of them. Parsing them is
/// most of a small C++ patch's compile (0.7 s of 0.8 s measured); loading the precompiled form
/// costs about 80 ms, so patches that include none of them compile without it.
pub const PCH_HEADERS: [&str; 21] = [
    "algorithm",
    "array",
    "cmath",
    "cstdint",
    "cstdio",
    "cstdlib",
    "cstring",
    "functional",
    "map",
    "memory",
    "numeric",
    "optional",
    "stdexcept",
    "string",
    "string_view",
    "tuple",
    "unordered_map",
    "unordered_set",
    "utility",
    "vector",
    "set",
];

/// The text of the header that is precompiled.
pub fn pch_source() -> String {
    let mut text = String::from("// Precompiled by hotwasm for C++ patches that include these.\n");
    for h in PCH_HEADERS {
        text.push_str(&format!("#include <{h}>\n"));
    }
    text
}

/// Whether `source` includes one of [`PCH_HEADERS`] (so the precompiled headers save time).
pub fn wants_pch(source: &str) -> bool {
    source.lines().any(|line| {
        let line = line.trim_start();
        let Some(rest) = line.strip_prefix('#') else {
            return false;
        };
        let Some(rest) = rest.trim_start().strip_prefix("include") else {
            return false;
        };
        let rest = rest.trim_start();
        rest.strip_prefix('<')
            .and_then(|r| r.split('>').next())
            .is_some_and(|name| PCH_HEADERS.contains(&name.trim()))
    })
}

/// Turns the `clang -cc1` command of a patch (as the fast path runs it: `-o <obj>`, input last,
/// maybe a dependency file) into the command that precompiles `header` into `pch` with the same
/// target, language and optimisation options (clang refuses a PCH built with others).
pub fn pch_build_command(patch_cc1: &[String], header: &Path, pch: &Path) -> Command {
    let header_s = header.display().to_string();
    let mut args: Vec<String> = Vec::with_capacity(patch_cc1.len());
    let mut it = patch_cc1.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "-emit-obj" => args.push("-emit-pch".into()),
            "-o" => {
                it.next();
                args.extend(["-o".into(), pch.display().to_string()]);
            }
            // `-x <language> <input>`: the learnt line names the input right after its language.
            "-x" => {
                it.next();
                it.next();
                args.extend(["-x".into(), "c++-header".into(), header_s.clone()]);
            }
            "-main-file-name" => {
                it.next();
                args.extend([a.clone(), file_name(&header_s).into()]);
            }
            // The patch's dependency file is not the header's.
            "-dependency-file" | "-MT" => {
                it.next();
            }
            "-sys-header-deps" => {}
            _ => args.push(a.clone()),
        }
    }
    let mut cmd = Command::new(&args[0]);
    cmd.args(&args[1..]);
    cmd
}

/// Inserts `-include-pch <pch>` into a patch's `clang -cc1` command (right after `-cc1`).
pub fn with_pch(patch_cc1: &[String], pch: &Path) -> Vec<String> {
    let at = patch_cc1
        .iter()
        .position(|a| a == "-cc1")
        .map_or(1, |i| i + 1);
    let mut args = patch_cc1.to_vec();
    args.splice(
        at..at,
        ["-include-pch".to_string(), pch.display().to_string()],
    );
    args
}

/// The argv of a command (program first), to transform a learnt command.
pub fn argv_of(cmd: &Command) -> Vec<String> {
    std::iter::once(cmd.get_program())
        .chain(cmd.get_args())
        .map(|a| a.to_string_lossy().into_owned())
        .collect()
}

fn command_like(template: &Command, argv: &[String]) -> Command {
    let mut cmd = Command::new(&argv[0]);
    cmd.args(&argv[1..]);
    if let Some(dir) = template.get_current_dir() {
        cmd.current_dir(dir);
    }
    cmd
}

/// The precompiled standard headers, built once (on the first C++ patch that includes one of
/// [`PCH_HEADERS`]) from that patch's own `clang -cc1` command, in a directory kept for the
/// server's life. A build that fails is not retried: patches then compile without it.
#[derive(Debug, Default)]
pub struct Pch {
    built: OnceLock<Result<(tempfile::TempDir, PathBuf), String>>,
}

impl Pch {
    /// `patch` with `-include-pch` added when `source` includes a standard header and the PCH is
    /// (or can now be) built; `build` runs the build command under the caller's limits. Returns the
    /// command to run and the PCH directory, which the include check must allow (the patch's
    /// dependency file lists the headers inside the PCH).
    pub fn apply(
        &self,
        patch: Command,
        source: &str,
        build: impl FnOnce(Command) -> Result<(), String>,
    ) -> (Command, Option<PathBuf>) {
        if !wants_pch(source) {
            return (patch, None);
        }
        let built = self.built.get_or_init(|| {
            let dir = tempfile::Builder::new()
                .prefix("hotwasm-pch")
                .tempdir()
                .map_err(|e| e.to_string())?;
            let header = dir.path().join("hotwasm_std.hpp");
            let pch = dir.path().join("hotwasm_std.pch");
            std::fs::write(&header, pch_source()).map_err(|e| e.to_string())?;
            let mut cmd = pch_build_command(&argv_of(&patch), &header, &pch);
            cmd.current_dir(dir.path());
            build(cmd)?;
            Ok((dir, pch))
        });
        match built {
            Ok((dir, pch)) => (
                command_like(&patch, &with_pch(&argv_of(&patch), pch)),
                Some(dir.path().to_path_buf()),
            ),
            Err(_) => (patch, None),
        }
    }

    /// Why the PCH could not be built, if it was tried and failed.
    pub fn failure(&self) -> Option<&str> {
        self.built.get()?.as_ref().err().map(String::as_str)
    }
}

/// The session's cc1 `args` without its `-iquote` directories (a file's own directory: one PCH
/// serves every file, clang does not check them) and `-include-pch` (the PCH itself).
fn pch_relevant(args: &[String]) -> Vec<String> {
    let mut out = Vec::with_capacity(args.len());
    let mut it = args.iter();
    while let Some(a) = it.next() {
        if a == "-iquote" || a == "-include-pch" {
            it.next();
        } else {
            out.push(a.clone());
        }
    }
    out
}

/// The command that precompiles `header` into `pch` for sessions started with the cc1 `args`
/// (`hotwasm-incremental`'s: the probe input last after `-x`, `-fincremental-extensions`), run by
/// `clang` (the learnt compile's, the LLVM the session links: clang refuses a PCH of another
/// version, or of other language options, `-fincremental-extensions` among them).
pub fn session_pch_command(clang: &Path, args: &[String], header: &Path, pch: &Path) -> Command {
    let mut argv: Vec<String> = vec![
        clang.display().to_string(),
        "-cc1".into(),
        "-emit-obj".into(),
        "-o".into(),
        String::new(),
    ];
    argv.extend(pch_relevant(args));
    pch_build_command(&argv, header, pch)
}

/// What names a session PCH: the clang that builds it (path, size, modification time: a new
/// toolchain is a new PCH), the flags it is built with and the headers.
fn session_pch_key(clang: &Path, args: &[String]) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut hash = std::collections::hash_map::DefaultHasher::new();
    clang.hash(&mut hash);
    if let Ok(meta) = std::fs::metadata(clang) {
        meta.len().hash(&mut hash);
        meta.modified().ok().hash(&mut hash);
    }
    pch_relevant(args).hash(&mut hash);
    pch_source().hash(&mut hash);
    hash.finish()
}

/// `args` with `-include-pch pch` in front (a session then starts with [`PCH_HEADERS`] read).
pub fn session_args_with_pch(args: &[String], pch: &Path) -> Vec<String> {
    let mut out = vec!["-include-pch".to_string(), pch.display().to_string()];
    let mut it = args.iter();
    while let Some(a) = it.next() {
        if a == "-include-pch" {
            it.next();
        } else {
            out.push(a.clone());
        }
    }
    out
}

/// Whether the files a session eval's preprocessing named (clang's report: every `#include`,
/// skipped ones too) include one of [`PCH_HEADERS`]: an eval compiled with the PCH must, as a
/// patch compiled with it did, or it would see declarations it never included.
pub fn includes_a_pch_header<P: AsRef<Path>>(files: impl IntoIterator<Item = P>) -> bool {
    files.into_iter().any(|f| {
        let path = f.as_ref();
        let in_libcxx = path.parent().is_some_and(|d| d.ends_with("c++/v1"));
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
        in_libcxx && PCH_HEADERS.contains(&name)
    })
}

/// Most session PCHs kept in their directory (16 MB each).
const SESSION_PCHS_KEPT: usize = 6;

/// The standard headers precompiled for incremental sessions, one file per toolchain and flags
/// in a directory shared by every server on the machine ([`SessionPchs::in_temp_dir`]): built
/// once (atomically: written beside, then renamed), used by every session started with the same
/// flags, and built again when the toolchain or the flags change (another key) or when a
/// session refuses the file ([`SessionPchs::refused`]).
#[derive(Debug)]
pub struct SessionPchs {
    dir: PathBuf,
    /// The builds of this process by key: a failed build is not retried.
    built: Mutex<HashMap<u64, Result<PathBuf, String>>>,
}

impl Default for SessionPchs {
    fn default() -> Self {
        SessionPchs::in_temp_dir()
    }
}

impl SessionPchs {
    /// Kept in `hotwasm-session-pch` of the system's temporary directory.
    pub fn in_temp_dir() -> SessionPchs {
        SessionPchs::in_dir(std::env::temp_dir().join("hotwasm-session-pch"))
    }

    /// Kept in `dir`.
    pub fn in_dir(dir: PathBuf) -> SessionPchs {
        SessionPchs {
            dir,
            built: Mutex::new(HashMap::new()),
        }
    }

    /// The PCH for sessions started with `args`, built by `clang` (with `build`, under the
    /// caller's limits) unless the file for this toolchain and these flags exists.
    pub fn get(
        &self,
        clang: &Path,
        args: &[String],
        build: impl FnOnce(Command) -> Result<(), String>,
    ) -> Result<PathBuf, String> {
        let key = session_pch_key(clang, args);
        let mut built = self.built.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(done) = built.get(&key) {
            if done.as_ref().map_or(true, |p| p.exists()) {
                return done.clone();
            }
        }
        let pch = self.dir.join(format!("std-{key:016x}.pch"));
        let done = if pch.exists() {
            Ok(pch)
        } else {
            self.build(clang, args, &pch, build)
        };
        built.insert(key, done.clone());
        done
    }

    fn build(
        &self,
        clang: &Path,
        args: &[String],
        pch: &Path,
        build: impl FnOnce(Command) -> Result<(), String>,
    ) -> Result<PathBuf, String> {
        std::fs::create_dir_all(&self.dir).map_err(|e| e.to_string())?;
        // The header stays beside its PCH: clang checks that the file a PCH was built from exists.
        let header = pch.with_extension("hpp");
        if std::fs::read_to_string(&header).ok() != Some(pch_source()) {
            crate::files::write_atomically(&header, pch_source().as_bytes())
                .map_err(|e| e.to_string())?;
        }
        let partial = pch.with_extension(format!("partial-{}", std::process::id()));
        let mut cmd = session_pch_command(clang, args, &header, &partial);
        cmd.current_dir(&self.dir);
        let result =
            build(cmd).and_then(|()| std::fs::rename(&partial, pch).map_err(|e| e.to_string()));
        let _ = std::fs::remove_file(&partial);
        self.prune(pch);
        result.map(|()| pch.to_path_buf())
    }

    /// Removes the oldest PCHs (and their headers) beyond [`SESSION_PCHS_KEPT`], never `keep`:
    /// every project (its include directories are flags) and toolchain makes its own.
    fn prune(&self, keep: &Path) {
        let Ok(dir) = std::fs::read_dir(&self.dir) else {
            return;
        };
        let mut pchs: Vec<(std::time::SystemTime, PathBuf)> = dir
            .flatten()
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|e| e == "pch") && p != keep)
            .filter_map(|p| Some((std::fs::metadata(&p).ok()?.modified().ok()?, p)))
            .collect();
        pchs.sort();
        let over = pchs.len().saturating_sub(SESSION_PCHS_KEPT - 1);
        for (_, old) in pchs.into_iter().take(over) {
            let _ = std::fs::remove_file(&old);
            let _ = std::fs::remove_file(old.with_extension("hpp"));
        }
    }

    /// A session refused `pch` (clang found it stale: a header it was built from changed): the
    /// file is removed, so the next [`SessionPchs::get`] builds it again.
    pub fn refused(&self, pch: &Path) {
        let _ = std::fs::remove_file(pch);
        let mut built = self.built.lock().unwrap_or_else(|e| e.into_inner());
        built.retain(|_, done| done.as_deref().ok() != Some(pch));
    }
}

fn file_name(path: &str) -> &str {
    path.rsplit('/').next().unwrap_or(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn includes_of_standard_headers_want_the_pch() {
        assert!(wants_pch("#include <vector>\nint x;"));
        assert!(wants_pch("  #  include < string >"));
        assert!(!wants_pch("#include \"vector\"\n"));
        assert!(!wants_pch("#include <stdio.h>\nextern \"C\" int f(int);"));
        assert!(!wants_pch("// #include <vector> is mentioned here\n"));
    }

    #[test]
    fn the_pch_command_reuses_the_patch_command() {
        let cc1: Vec<String> = [
            "/clang",
            "-cc1",
            "-emit-obj",
            "-main-file-name",
            "a.cpp",
            "-O2",
            "-dependency-file",
            "/w/patch.d",
            "-MT",
            "/w/patch.o",
            "-sys-header-deps",
            "-o",
            "/w/patch.o",
            "-x",
            "c++",
            "a.cpp",
            "-iquote",
            "/q",
        ]
        .map(String::from)
        .to_vec();
        let cmd = pch_build_command(&cc1, Path::new("/c/std.hpp"), Path::new("/c/std.pch"));
        let args: Vec<_> = cmd
            .get_args()
            .map(|a| a.to_string_lossy().into_owned())
            .collect();
        assert_eq!(
            args,
            [
                "-cc1",
                "-emit-pch",
                "-main-file-name",
                "std.hpp",
                "-O2",
                "-o",
                "/c/std.pch",
                "-x",
                "c++-header",
                "/c/std.hpp",
                "-iquote",
                "/q"
            ]
        );
        let with = with_pch(&cc1, Path::new("/c/std.pch"));
        assert_eq!(&with[..4], ["/clang", "-cc1", "-include-pch", "/c/std.pch"]);
    }

    #[test]
    fn a_session_pch_is_named_by_the_clang_file_and_the_flags_not_by_the_quote_directory() {
        let dir = tempfile::tempdir().unwrap();
        let clang = dir.path().join("clang");
        std::fs::write(&clang, "one build").unwrap();
        let args: Vec<String> = ["-O2", "-x", "c++", "probe.cpp", "-fincremental-extensions"]
            .map(String::from)
            .to_vec();
        let key = session_pch_key(&clang, &args);
        let mut quoted = args.clone();
        quoted.extend(["-iquote".into(), "/app/src".into()]);
        assert_eq!(key, session_pch_key(&clang, &quoted));
        let mut other = args.clone();
        other[0] = "-O0".into();
        assert_ne!(key, session_pch_key(&clang, &other), "other flags");
        std::fs::write(&clang, "another build of clang").unwrap();
        assert_ne!(key, session_pch_key(&clang, &args), "another toolchain");
        let with = session_args_with_pch(&quoted, Path::new("/c/std.pch"));
        assert_eq!(&with[..2], ["-include-pch", "/c/std.pch"]);
        assert_eq!(&with[2..], &quoted[..]);
    }

    #[test]
    fn only_libcxx_headers_of_the_pch_count_as_its_includes() {
        assert!(includes_a_pch_header(["/sysroot/include/c++/v1/vector"]));
        assert!(!includes_a_pch_header(["/app/src/vector"]));
        assert!(!includes_a_pch_header(["/sysroot/include/c++/v1/deque"]));
    }

    #[test]
    fn the_oldest_session_pchs_beyond_the_kept_number_are_removed_never_the_new_one() {
        let dir = tempfile::tempdir().unwrap();
        let pchs = SessionPchs::in_dir(dir.path().to_path_buf());
        let old = std::time::SystemTime::now() - std::time::Duration::from_secs(3600);
        let files: Vec<PathBuf> = (0..8u64)
            .map(|i| {
                let p = dir.path().join(format!("std-{i}.pch"));
                std::fs::write(&p, "pch").unwrap();
                std::fs::write(p.with_extension("hpp"), "hpp").unwrap();
                let at = old + std::time::Duration::from_secs(i * 60);
                std::fs::File::open(&p).unwrap().set_modified(at).unwrap();
                p
            })
            .collect();
        // The new one is the oldest by time here: it stays all the same.
        pchs.prune(&files[0]);
        let left: Vec<bool> = files.iter().map(|p| p.exists()).collect();
        assert_eq!(left, [true, false, false, true, true, true, true, true]);
        assert!(!files[1].with_extension("hpp").exists());
    }
}
