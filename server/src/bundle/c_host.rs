//! A C or C++ host: every `[build] sources` file compiled by emcc (em++ for C++) with
//! `[build] cflags` and hotwasm's `abi/include` (plus `-DHOTWASM_HOT_RELOAD` and PIC code for
//! HOT_RELOAD), recompiled only when the file, a header it included or the flags changed; then
//! linked with the link flags and, for HOT_RELOAD, the runtime staticlib
//! (`libhotwasm_runtime.a`, built by cargo into hotwasm's own target directory).

use super::{fnv1a, run, say, BuildError, Built, TARGET};
use crate::config::{Config, HostLang};
use crate::home::Home;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::SystemTime;

/// Builds the host into `built`.
pub fn build(
    config: &Config,
    home: &Home,
    hot: bool,
    flags: &[String],
    built: &Built,
    link_opt: super::Link,
) -> Result<(), BuildError> {
    let sources = sources(config)?;
    let cflags = compile_flags(config, home, hot);
    let obj_dir = config.out_dir().join("obj").join(format!(
        "{}-{:08x}",
        if hot { "hot" } else { "plain" },
        fnv1a(cflags.join(" ").as_bytes()) as u32
    ));
    std::fs::create_dir_all(&obj_dir)
        .map_err(|e| BuildError::io(format!("creating {}", obj_dir.display()), e))?;
    let objects: Vec<PathBuf> = sources
        .iter()
        .map(|s| obj_dir.join(object_name(&config.root, s)))
        .collect();
    let stale: Vec<(&PathBuf, &PathBuf)> = sources
        .iter()
        .zip(&objects)
        .filter(|(_, o)| is_stale(o))
        .collect();
    compile_all(&config.root, &stale, &cflags, home)?;
    say(&format!(
        "{} of {} sources compiled ({} up to date)",
        stale.len(),
        sources.len(),
        sources.len() - stale.len()
    ));
    let mut link = Command::new(driver(config.app.lang, home)?);
    // `-O2` first: the app's ldflags (added last) may override it.
    link.current_dir(&config.root).arg("-O2").args(&objects);
    super::allhot::forget(&built.dir);
    let all_hot = (hot && config.all_hot())
        .then(|| super::allhot::prepare(config, home, &cflags, &sources, &objects, &built.dir))
        .transpose()?;
    if let Some((_, directory)) = &all_hot {
        link.arg(directory);
    }
    if hot {
        link.arg(runtime_staticlib(home)?);
        if let Some(rsp) = host_type_exports(&sources, &objects, &built.dir)? {
            link.arg(format!("-Wl,@{}", rsp.display()));
        }
    }
    if wasm_exceptions(config, hot) {
        link.arg("-fwasm-exceptions");
    }
    link.args(flags).arg("-o").arg(&built.js);
    if link_opt == super::Link::Fast {
        link.arg("-O1");
    }
    if all_hot.is_some() {
        link.args(super::allhot::link_flags(&built.dir));
    }
    say(&format!("linking {}", built.js.display()));
    run(
        &mut link,
        "the emcc link",
        ": see its output above ([build] ldflags are added last)",
    )?;
    match all_hot {
        Some((plan, _)) => super::allhot::finish(plan, &objects, &built.wasm, &built.dir),
        None => Ok(()),
    }
}

/// Writes `--export-if-defined=` for the typeinfo, type names, vtables and VTTs the app's C++
/// objects define ([`crate::compile::cpp::host_type_symbols`]) to `<dir>/cxx-host-types.rsp`, so
/// `typeid`, `dynamic_cast` and `catch` in a patch agree with the host's classes; `None` when the
/// app has no C++ source.
fn host_type_exports(
    sources: &[PathBuf],
    objects: &[PathBuf],
    dir: &Path,
) -> Result<Option<PathBuf>, BuildError> {
    let mut symbols = std::collections::BTreeSet::new();
    for (source, object) in sources.iter().zip(objects) {
        if !crate::compile::cpp::is_cpp_path(source) {
            continue;
        }
        let bytes = std::fs::read(object)
            .map_err(|e| BuildError::io(format!("reading {}", object.display()), e))?;
        let found = crate::compile::cpp::host_type_symbols(&bytes).map_err(|why| {
            BuildError::Config(format!(
                "cannot read the object {}: {why}",
                object.display()
            ))
        })?;
        symbols.extend(found);
    }
    if !sources.iter().any(|s| crate::compile::cpp::is_cpp_path(s)) {
        return Ok(None);
    }
    let text: String = symbols
        .iter()
        .map(|s| format!("--export-if-defined={s}\n"))
        .collect();
    let file = dir.join("cxx-host-types.rsp");
    super::write_atomically(&file, text.as_bytes())?;
    Ok(Some(file))
}

/// `[build] sources` expanded (relative to the app root), in a stable order.
pub fn sources(config: &Config) -> Result<Vec<PathBuf>, BuildError> {
    let mut out = Vec::new();
    for pattern in &config.build.sources {
        let full = config.path(pattern);
        let matches: Vec<PathBuf> = glob::glob(&full.to_string_lossy())
            .map_err(|e| {
                BuildError::Config(format!(
                    "{}: [build] sources: `{pattern}` is not a glob: {e}",
                    config.file.display()
                ))
            })?
            .filter_map(Result::ok)
            .filter(|p| p.is_file())
            .collect();
        if matches.is_empty() {
            return Err(BuildError::Config(format!(
                "{}: [build] sources: `{pattern}` matches no file in {}",
                config.file.display(),
                config.root.display()
            )));
        }
        out.extend(matches);
    }
    out.sort();
    out.dedup();
    Ok(out)
}

/// The compile flags: `-O2` (the app's cflags may override it), the app's cflags, hotwasm's
/// `abi/include`; with HOT_RELOAD `-DHOTWASM_HOT_RELOAD` and PIC; wasm exceptions as
/// `wasm_exceptions` says.
pub fn compile_flags(config: &Config, home: &Home, hot: bool) -> Vec<String> {
    let mut flags = vec!["-O2".to_string()];
    flags.extend(super::rooted_flags(&config.root, &config.build.cflags));
    flags.push(format!("-I{}", home.abi_include().display()));
    if hot {
        flags.extend(["-DHOTWASM_HOT_RELOAD".to_string(), "-fPIC".into()]);
        if config.all_hot() {
            flags.extend(super::allhot::COMPILE_FLAGS.map(String::from));
        }
    }
    if wasm_exceptions(config, hot) {
        flags.push("-fwasm-exceptions".into());
    }
    flags
}

/// Whether the host compiles and links with wasm exceptions: every HOT_RELOAD host (so it
/// imports the exception tag a C++ patch's `throw`/`catch` needs, the mode patches and the Rust
/// runtime use) and every C++ host (so its own `throw`/`catch` behave the same plain and hot).
fn wasm_exceptions(config: &Config, hot: bool) -> bool {
    hot || config.app.lang == HostLang::Cpp
}

/// `src/a/b.c` → `src__a__b.c.o`.
fn object_name(root: &Path, source: &Path) -> String {
    let rel = source.strip_prefix(root).unwrap_or(source);
    format!("{}.o", rel.to_string_lossy().replace(['/', '\\'], "__"))
}

fn driver(lang: HostLang, home: &Home) -> Result<PathBuf, BuildError> {
    let tool = if lang == HostLang::Cpp {
        "em++"
    } else {
        "emcc"
    };
    Ok(crate::toolchain::require(home, tool)?)
}

/// Compiles `jobs` (source, object) on as many threads as there are cores; the first failure
/// is the error (the other compiles finish first, their errors printed by emcc).
fn compile_all(
    root: &Path,
    jobs: &[(&PathBuf, &PathBuf)],
    cflags: &[String],
    home: &Home,
) -> Result<(), BuildError> {
    let threads = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(jobs.len().max(1));
    let next = std::sync::atomic::AtomicUsize::new(0);
    let results: Vec<Result<(), BuildError>> = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..threads)
            .map(|_| {
                scope.spawn(|| {
                    let mut outcome = Ok(());
                    loop {
                        let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                        let Some((source, object)) = jobs.get(i) else {
                            return outcome;
                        };
                        if let Err(e) = compile(root, source, object, cflags, home) {
                            outcome = outcome.and(Err(e));
                        }
                    }
                })
            })
            .collect();
        workers
            .into_iter()
            .map(|w| {
                w.join()
                    .unwrap_or_else(|_| Err(BuildError::Config("a compile thread panicked".into())))
            })
            .collect()
    });
    results.into_iter().collect()
}

/// Compiles one source in the app root (so paths in flags mean what the app's author meant).
fn compile(
    root: &Path,
    source: &Path,
    object: &Path,
    cflags: &[String],
    home: &Home,
) -> Result<(), BuildError> {
    let tool = if crate::compile::cpp::is_cpp_path(source) {
        "em++"
    } else {
        "emcc"
    };
    let program = crate::toolchain::require(home, tool)?;
    say(&format!("{tool} -c {}", source.display()));
    let deps = object.with_extension("d");
    let mut cmd = Command::new(program);
    cmd.current_dir(root)
        .arg("-c")
        .arg(source)
        .args(cflags)
        .arg("-MMD")
        .arg("-MF")
        .arg(&deps)
        .arg("-o")
        .arg(object);
    run(
        &mut cmd,
        &format!("{tool} -c {}", source.display()),
        ": fix the error shown above",
    )
}

/// Whether `object` is missing or older than a file its dependency list (`.d`) names.
fn is_stale(object: &Path) -> bool {
    let Some(built) = modified(object) else {
        return true;
    };
    let Ok(deps) = std::fs::read_to_string(object.with_extension("d")) else {
        return true;
    };
    dependencies(&deps)
        .iter()
        .any(|d| modified(Path::new(d)).is_none_or(|m| m > built))
}

fn modified(path: &Path) -> Option<SystemTime> {
    path.metadata().and_then(|m| m.modified()).ok()
}

/// The prerequisites of a make-style dependency file.
pub fn dependencies(text: &str) -> Vec<String> {
    let joined = text.replace("\\\n", " ");
    let Some((_, rest)) = joined.split_once(": ") else {
        return Vec::new();
    };
    let mut out = Vec::new();
    let mut current = String::new();
    let mut chars = rest.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' if chars.peek() == Some(&' ') => {
                current.push(' ');
                chars.next();
            }
            ' ' | '\n' | '\t' => {
                if !current.is_empty() {
                    out.push(std::mem::take(&mut current));
                }
            }
            _ => current.push(c),
        }
    }
    if !current.is_empty() {
        out.push(current);
    }
    out
}

/// The cargo profile of the runtime staticlib (hotwasm's Cargo.toml: size over speed).
pub const STATICLIB_PROFILE: &str = "staticlib";

/// Builds (or finds up to date) `libhotwasm_runtime.a` in hotwasm's own target directory.
pub fn runtime_staticlib(home: &Home) -> Result<PathBuf, BuildError> {
    let target_dir = home.root().join("target/hotwasm-runtime-staticlib");
    say("cargo build -p hotwasm-runtime-staticlib (the runtime C/C++ hosts link; a first build takes a minute)");
    let mut cmd = Command::new(crate::toolchain::require(home, "cargo")?);
    cmd.current_dir(home.root())
        .args([
            "build",
            "-q",
            "-p",
            "hotwasm-runtime-staticlib",
            "--target",
            TARGET,
        ])
        .args(["--profile", STATICLIB_PROFILE])
        .env("CARGO_TARGET_DIR", &target_dir)
        .env_remove("RUSTFLAGS");
    run(
        &mut cmd,
        "cargo build -p hotwasm-runtime-staticlib",
        ": see cargo's output above",
    )?;
    Ok(target_dir
        .join(TARGET)
        .join(STATICLIB_PROFILE)
        .join("libhotwasm_runtime.a"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dependency_files_list_every_prerequisite() {
        let d = "obj/a.o: src/a.c include/app.h \\\n  /abi/hotwasm.h dir\\ with\\ space/x.h\n";
        assert_eq!(
            dependencies(d),
            vec![
                "src/a.c",
                "include/app.h",
                "/abi/hotwasm.h",
                "dir with space/x.h"
            ]
        );
    }

    #[test]
    fn an_object_is_stale_when_a_header_it_included_is_newer() {
        let dir = tempfile::tempdir().unwrap();
        let (src, header, obj) = (
            dir.path().join("a.c"),
            dir.path().join("a.h"),
            dir.path().join("a.c.o"),
        );
        std::fs::write(&src, "").unwrap();
        std::fs::write(&header, "").unwrap();
        assert!(is_stale(&obj), "missing object");
        std::fs::write(&obj, "").unwrap();
        assert!(is_stale(&obj), "missing .d");
        std::fs::write(
            obj.with_extension("d"),
            format!(
                "{}: {} {}\n",
                obj.display(),
                src.display(),
                header.display()
            ),
        )
        .unwrap();
        let old = SystemTime::now() - std::time::Duration::from_secs(60);
        for f in [&src, &header] {
            std::fs::File::options()
                .write(true)
                .open(f)
                .unwrap()
                .set_modified(old)
                .unwrap();
        }
        assert!(!is_stale(&obj));
        std::fs::File::options()
            .write(true)
            .open(&header)
            .unwrap()
            .set_modified(SystemTime::now() + std::time::Duration::from_secs(5))
            .unwrap();
        assert!(is_stale(&obj));
    }
}
