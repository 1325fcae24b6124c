//! The host's side of the layout fingerprints ([`crate::layout`]): the layouts of the types
//! the host shares with patches, measured by the real compiler while the host builds.
//!
//! **Shared** means: a struct, union or class named in a header under `[patches] include_dirs`
//! (the headers patches include), whatever header defines it (so a `struct timespec` field or
//! a `std::vector<Planet>` a shared header names is covered too). The measurement: one
//! translation unit including every such header, compiled `-fsyntax-only` by the host's own
//! driver and flags (a C/C++ host's `[build] cflags`; for a Rust host, whose Rust types
//! mirror the C headers, the flags patches compile with), with clang dumping the layout of
//! every complete record. It runs on its own thread beside the host's compile and link.

use super::c_host;
use crate::config::{Config, HostLang};
use crate::home::Home;
use hotwasm_abi::{LayoutInput, TypeLayout};
use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// Most headers left out before giving up on measuring.
const MAX_SKIPPED: usize = 8;

/// Header file extensions, C first.
const C_HEADERS: [&str; 1] = ["h"];
const CPP_HEADERS: [&str; 5] = ["hpp", "hh", "hxx", "h++", "H"];

/// What measuring found.
#[derive(Debug, Default)]
pub struct Measured {
    /// The shared types' layouts.
    pub layouts: Vec<TypeLayout>,
    /// The files they were measured from, hashed.
    pub inputs: Vec<LayoutInput>,
    /// Headers left out because they did not compile in the measuring unit (their types are not
    /// checked), with why.
    pub skipped: Vec<(PathBuf, String)>,
    /// How long the compiler ran.
    pub elapsed: Duration,
}

/// Starts measuring on a thread; join it for the result.
pub fn start(config: &Config, home: &Home) -> JoinHandle<Result<Measured, String>> {
    let (config, home) = (config.clone(), home.clone());
    std::thread::spawn(move || measure(&config, &home))
}

/// Measures the layouts of the types shared through `config`'s `[patches] include_dirs`.
pub fn measure(config: &Config, home: &Home) -> Result<Measured, String> {
    let started = Instant::now();
    let headers = headers(config);
    if headers.is_empty() {
        return Ok(Measured::default());
    }
    let cpp = config.app.lang == HostLang::Cpp || headers.iter().any(|h| is_cpp_header(h));
    let dir = config.out_dir().join("layouts");
    std::fs::create_dir_all(&dir).map_err(|e| format!("creating {}: {e}", dir.display()))?;
    let mut measured = Measured::default();
    let mut kept = headers.clone();
    // A header that does not compile where the unit includes it (it needs another first, or is
    // not C) is left out, named, and the rest measured again.
    let (dump, mut inputs) = loop {
        match dump(config, home, cpp, &dir, &kept) {
            Ok(done) => break done,
            Err(Failed { why, header }) => match header {
                Some(i) if i < kept.len() && measured.skipped.len() < MAX_SKIPPED => {
                    measured.skipped.push((kept.remove(i), why));
                }
                _ => return Err(why),
            },
        }
    };
    inputs.sort();
    inputs.dedup();
    measured.inputs = inputs
        .iter()
        .filter_map(|p| {
            Some(LayoutInput {
                path: p.display().to_string(),
                hash: crate::layout::file_hash(p)?,
            })
        })
        .collect();
    let words = words(&headers);
    measured.layouts = crate::layout::parse_dump(&dump, &config.root)
        .into_iter()
        .filter(|l| words.contains(crate::layout::simple_name(&l.name)))
        .collect();
    let outside = defined_outside(config, home, cpp, &dir, &kept, &measured.layouts)?;
    measured.layouts.retain(|l| !outside.contains(&l.name));
    measured.elapsed = started.elapsed();
    Ok(measured)
}

/// Every header under `[patches] include_dirs`, sorted (`.hpp` and the like only for a C++
/// host: a C or Rust host shares no C++-only type).
fn headers(config: &Config) -> Vec<PathBuf> {
    let cpp_host = config.app.lang == HostLang::Cpp;
    let mut out: Vec<PathBuf> = config
        .include_dirs()
        .iter()
        .flat_map(|dir| {
            glob::glob(&dir.join("**/*").to_string_lossy())
                .into_iter()
                .flatten()
                .flatten()
        })
        .filter(|p| p.is_file())
        .filter(|p| {
            let ext = p.extension().and_then(|e| e.to_str()).unwrap_or("");
            C_HEADERS.contains(&ext) || (cpp_host && CPP_HEADERS.contains(&ext))
        })
        .collect();
    out.sort();
    out.dedup();
    out
}

fn is_cpp_header(path: &Path) -> bool {
    let ext = path.extension().and_then(|e| e.to_str()).unwrap_or("");
    CPP_HEADERS.contains(&ext)
}

/// Why measuring a unit failed.
struct Failed {
    /// The compiler's first error (or what else went wrong).
    why: String,
    /// The index of the header whose inclusion led to it, when clang says.
    header: Option<usize>,
}

impl From<String> for Failed {
    fn from(why: String) -> Failed {
        Failed { why, header: None }
    }
}

/// Compiles a unit including `headers` and returns clang's layout dump and the project headers
/// it read (absolute), or why it failed.
fn dump(
    config: &Config,
    home: &Home,
    cpp: bool,
    dir: &Path,
    headers: &[PathBuf],
) -> Result<(String, Vec<PathBuf>), Failed> {
    let unit = dir.join(if cpp { "shared.cpp" } else { "shared.c" });
    let text: String = headers
        .iter()
        .map(|h| format!("#include \"{}\"\n", h.display()))
        .collect();
    std::fs::write(&unit, text).map_err(|e| format!("writing {}: {e}", unit.display()))?;
    let tool = if cpp { "em++" } else { "emcc" };
    let program = crate::toolchain::require(home, tool).map_err(|e| e.to_string())?;
    let mut cmd = Command::new(program);
    cmd.current_dir(&config.root)
        .args(flags(config, home))
        .arg("-fsyntax-only")
        .arg("-MMD")
        .arg("-MF")
        .arg(dir.join("shared.d"));
    for flag in crate::layout::DUMP_ALL_FLAGS {
        cmd.args(["-Xclang", flag]);
    }
    let out = cmd
        .arg(&unit)
        .output()
        .map_err(|e| Failed::from(format!("running {tool}: {e}")))?;
    if !out.status.success() {
        return Err(failure(&String::from_utf8_lossy(&out.stderr), &unit));
    }
    let deps = std::fs::read_to_string(dir.join("shared.d")).unwrap_or_default();
    let deps = c_host::dependencies(&deps)
        .iter()
        .map(|d| config.root.join(d))
        .filter(|d| *d != unit)
        .collect();
    Ok((String::from_utf8_lossy(&out.stdout).into_owned(), deps))
}

/// The records among `layouts` that the compiler says are defined outside the app (in a system
/// header: the C library's `pthread_attr_t`, `struct timespec`, C++'s `std::` types): a shared
/// header may name them, but they are not the app's shared types. Asked of clang itself: a unit
/// including the same headers redefines each record, and the note on each redefinition
/// ("previous definition is here") names the file that defines it. A name clang places nowhere
/// (a template instance, a name it could not redeclare) stays shared.
fn defined_outside(
    config: &Config,
    home: &Home,
    cpp: bool,
    dir: &Path,
    headers: &[PathBuf],
    layouts: &[TypeLayout],
) -> Result<HashSet<String>, String> {
    if layouts.is_empty() {
        return Ok(HashSet::new());
    }
    let unit = dir.join(if cpp { "defined.cpp" } else { "defined.c" });
    let mut text: String = headers
        .iter()
        .map(|h| format!("#include \"{}\"\n", h.display()))
        .collect();
    // Line of the unit → the record its redefinition names.
    let mut probes = std::collections::HashMap::new();
    for layout in layouts {
        for probe in redefinitions(&layout.name, cpp) {
            probes.insert(text.lines().count() + 1, layout.name.clone());
            text.push_str(&probe);
            text.push('\n');
        }
    }
    std::fs::write(&unit, text).map_err(|e| format!("writing {}: {e}", unit.display()))?;
    let tool = if cpp { "em++" } else { "emcc" };
    let program = crate::toolchain::require(home, tool).map_err(|e| e.to_string())?;
    let out = Command::new(program)
        .current_dir(&config.root)
        .args(flags(config, home))
        .args(["-fsyntax-only", "-ferror-limit=0", "-fno-color-diagnostics"])
        .arg(&unit)
        .output()
        .map_err(|e| format!("running {tool}: {e}"))?;
    let project: Vec<PathBuf> = std::iter::once(config.root.clone())
        .chain(config.include_dirs())
        .map(|p| std::fs::canonicalize(&p).unwrap_or(p))
        .collect();
    let unit_prefix = format!("{}:", unit.display());
    let mut outside = HashSet::new();
    let mut current: Option<&String> = None;
    for line in String::from_utf8_lossy(&out.stderr).lines() {
        if let Some(rest) = line.strip_prefix(&unit_prefix) {
            let n: Option<usize> = rest.split(':').next().and_then(|n| n.parse().ok());
            current = n
                .and_then(|n| probes.get(&n))
                .filter(|_| rest.contains(" error: "));
            continue;
        }
        let Some((file, _)) = line.split_once(':').filter(|(_, r)| r.contains(" note: ")) else {
            continue;
        };
        if let Some(name) = current.take() {
            let file = config.root.join(file);
            let file = std::fs::canonicalize(&file).unwrap_or(file);
            if !project.iter().any(|p| file.starts_with(p)) {
                outside.insert(name.clone());
            }
        }
    }
    Ok(outside)
}

/// Declarations that redefine the record `name` (as the layout dump names it), each on one line.
fn redefinitions(name: &str, cpp: bool) -> Vec<String> {
    if name.contains(['<', '(', ' ']) {
        return Vec::new();
    }
    let probe = "{ char hotwasm_probe; };";
    if !cpp {
        // A tag, or a typedef of an anonymous record: whichever it is, one of the two clashes.
        return vec![
            format!("struct {name} {probe}"),
            format!("typedef char {name};"),
        ];
    }
    let mut scopes: Vec<&str> = name.split("::").collect();
    let Some(last) = scopes.pop() else {
        return Vec::new();
    };
    let open: String = scopes
        .iter()
        .map(|s| format!("namespace {s} {{ "))
        .collect();
    vec![format!(
        "{open}struct {last} {probe}{}",
        " }".repeat(scopes.len())
    )]
}

/// The first error of a failed measuring compile of `unit`, and which of its `#include` lines
/// (0-based) led to it: `In file included from <unit>:3:` before the error, or the error itself
/// at `<unit>:3:`.
fn failure(stderr: &str, unit: &Path) -> Failed {
    let unit = format!("{}:", unit.display());
    let mut header = None;
    for line in stderr.lines() {
        if header.is_none() {
            header = line.split_once(unit.as_str()).and_then(|(_, rest)| {
                let n: usize = rest.split(':').next()?.parse().ok()?;
                n.checked_sub(1)
            });
        }
        if line.contains("error:") {
            return Failed {
                why: line.trim().to_string(),
                header,
            };
        }
    }
    Failed {
        why: "the compiler failed without an error message".into(),
        header: None,
    }
}

/// The flags the shared types are measured with: a C/C++ host's own compile flags; for a
/// Rust host, those of C patches.
fn flags(config: &Config, home: &Home) -> Vec<String> {
    match config.app.lang {
        HostLang::C | HostLang::Cpp => c_host::compile_flags(config, home, true),
        HostLang::Rust => {
            let mut dirs = config.include_dirs();
            dirs.push(home.abi_include());
            crate::compile::emcc::compile_flags(
                &format!("-O{}", config.opt()),
                &dirs,
                &config.patches.defines,
                false, // A Rust host has no threads (refused: bundle/threads.rs).
            )
        }
    }
}

/// Every identifier written in `headers`.
fn words(headers: &[PathBuf]) -> HashSet<String> {
    headers
        .iter()
        .filter_map(|h| std::fs::read_to_string(h).ok())
        .flat_map(|text| {
            crate::layout::identifiers(&text)
                .map(String::from)
                .collect::<Vec<_>>()
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failed_measure_names_the_include_line_that_led_to_the_error() {
        let unit = Path::new("/app/build/layouts/shared.c");
        let stderr = "In file included from /app/build/layouts/shared.c:2:\nIn file included from /app/src/b.h:1:\n/app/src/c.h:4:3: error: unknown type name 'Vec2'\n";
        let f = failure(stderr, unit);
        assert_eq!(f.header, Some(1));
        assert_eq!(f.why, "/app/src/c.h:4:3: error: unknown type name 'Vec2'");
        let f = failure("emcc: error: no input files\n", unit);
        assert_eq!(f.header, None);
    }
}
