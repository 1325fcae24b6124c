//! `hotwasm build [--hot]`: builds the app's host for the browser (the bundle: `<name>.js` +
//! `<name>.wasm`) as `hotwasm.toml` says.
//!
//! The story of one build:
//! 1. **exports**: what the host keeps ([`exports`]: the app's functions; with HOT_RELOAD also
//!    the registry ABI, the C library list and, for Rust hosts, Rust's std);
//! 2. **link flags**: MODULARIZE under the app's factory name, the runtime methods the web
//!    client needs, `MAIN_MODULE=2` with HOT_RELOAD ([`link_flags`]);
//! 3. **compile and link**: cargo for a Rust host ([`rust_host`]), emcc/em++ plus the runtime
//!    staticlib for a C/C++ host ([`c_host`]), into `<out_dir>/hot` or `<out_dir>/plain` as
//!    `<name>.js` + `<name>.wasm`;
//! 4. **host manifest** (HOT_RELOAD): asked from the built host itself ([`manifest`]), with the
//!    layouts of the types it shares with patches, measured beside steps 1–3 ([`layouts`]);
//! 5. **report**: what was built, where, and its sizes.

pub mod allhot;
pub mod bss;
pub mod c_host;
pub mod exports;
pub mod layouts;
pub mod ldflags;
pub mod manifest;
pub mod rust_host;
pub mod threads;

use crate::config::{Config, HostLang};
use crate::home::Home;
use crate::toolchain::ToolchainError;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

/// The Rust target of every browser build.
pub use crate::toolchain::TARGET;

/// What the web client needs from every bundle (`Module.FS`, `Module.stackSave`, ...).
pub const CLIENT_RUNTIME_METHODS: [&str; 13] = [
    "FS",
    "stackSave",
    "stackRestore",
    "UTF8ToString",
    "stringToNewUTF8",
    "ccall",
    "cwrap",
    "HEAPU8",
    "HEAPU32",
    "HEAPF32",
    "wasmTable",
    // Emscripten's dynamic linker tables (JS-side, outside linear memory): a state snapshot
    // restore (web/snapshots.js) forgets the GOT entries and loaded-library records of the
    // patches it undoes, so nothing keeps pointing into memory the restore freed.
    "GOT",
    "LDSO",
];

/// The runtime methods of [`CLIENT_RUNTIME_METHODS`] only a HOT_RELOAD host has.
const DYNAMIC_LINKER_METHODS: [&str; 2] = ["GOT", "LDSO"];

/// Why a build failed.
#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    /// A tool is missing.
    #[error(transparent)]
    Toolchain(#[from] ToolchainError),
    /// A file could not be read or written.
    #[error("{what}: {error}")]
    Io {
        /// What was being done.
        what: String,
        /// Why it failed.
        error: std::io::Error,
    },
    /// A build command failed; its own output was shown above.
    #[error("{command} failed ({status}){hint}")]
    Command {
        /// The command, shortened.
        command: String,
        /// Its exit status.
        status: String,
        /// What to look at.
        hint: String,
        /// Its stderr word for word (already echoed while it ran): what `hotwasm serve` sends
        /// to the pages when a host rebuild fails.
        output: String,
    },
    /// The config cannot be built as written.
    #[error("{0}")]
    Config(String),
}

impl BuildError {
    /// An I/O error while doing `what`.
    pub fn io(what: String, error: std::io::Error) -> BuildError {
        BuildError::Io { what, error }
    }
}

/// What a build produced.
#[derive(Debug, Clone)]
pub struct Built {
    /// `<out_dir>/hot` or `<out_dir>/plain`.
    pub dir: PathBuf,
    /// `<name>.js`.
    pub js: PathBuf,
    /// `<name>.wasm`.
    pub wasm: PathBuf,
    /// `hotwasm-host.json` (HOT_RELOAD only).
    pub manifest: Option<PathBuf>,
}

/// How the final link optimises.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Link {
    /// As `hotwasm build` links: the optimisation level of the build (`-O2` for C/C++, the
    /// release profile's `-O3` for Rust), with binaryen's wasm-opt and the JS minifier.
    Release,
    /// `-O1`: no wasm-opt, no JS minifier. What `hotwasm serve` uses when a save rebuilds the
    /// host: measured on the particle demo, an incremental rebuild took 13.6 s instead of 37.7 s
    /// (the link 4 s instead of 23 s; wasm-opt runs under node) for a bundle of 448 KB + 250 KB
    /// of JS instead of 324 KB + 162 KB. The compiled code is the same.
    Fast,
}

/// Builds the host of `config`; `hot` selects HOT_RELOAD.
pub fn build(config: &Config, home: &Home, hot: bool) -> Result<Built, BuildError> {
    build_linked(config, home, hot, Link::Release)
}

/// Builds the host of `config` with the final link of `link`.
pub fn build_linked(
    config: &Config,
    home: &Home,
    hot: bool,
    link: Link,
) -> Result<Built, BuildError> {
    let started = Instant::now();
    let mode = if hot { "HOT_RELOAD" } else { "plain" };
    let dir = config.bundle_dir(hot);
    std::fs::create_dir_all(&dir)
        .map_err(|e| BuildError::io(format!("creating {}", dir.display()), e))?;
    crate::toolchain::require(home, "emcc")?;
    if hot {
        crate::toolchain::require(home, "node")?;
    }
    say(&format!(
        "building the {mode} {} host `{}` from {}",
        config.app.lang.as_str(),
        config.app.name,
        config.file.display()
    ));
    threads::check(config, hot)?;
    let measuring = hot.then(|| layouts::start(config, home));
    let exports = exports::plan(config, home, hot, &dir)?;
    let list = write_export_list(&dir, &exports.functions)?;
    let flags = link_flags(config, hot, &list, &exports.response_files)?;
    refuse_finalize(config, home, &flags)?;
    let built = Built {
        js: dir.join(format!("{}.js", config.app.name)),
        wasm: dir.join(format!("{}.wasm", config.app.name)),
        manifest: hot.then(|| dir.join(manifest::FILE_NAME)),
        dir,
    };
    match config.app.lang {
        HostLang::Rust => rust_host::build(config, home, hot, &flags, &built, link)?,
        HostLang::C | HostLang::Cpp => c_host::build(config, home, hot, &flags, &built, link)?,
    }
    if hot {
        trim_bss(&built.wasm)?;
    }
    if let (Some(path), Some(measuring)) = (&built.manifest, measuring) {
        let layouts = shared_layouts(measuring);
        manifest::write(home, &built, path, layouts, threads::threaded(config))?;
        allhot::extend_manifest(&built.dir, path)?;
    }
    report(&built, mode, started);
    Ok(built)
}

/// Takes the zero bytes at the end of a HOT_RELOAD host's data out of its wasm ([`bss`]).
fn trim_bss(wasm: &Path) -> Result<(), BuildError> {
    let bytes = std::fs::read(wasm)
        .map_err(|e| BuildError::io(format!("reading {}", wasm.display()), e))?;
    let trimmed = bss::trim_trailing_zeros(&bytes).map_err(|why| {
        BuildError::Config(format!(
            "cannot read the linked host {}: {why}",
            wasm.display()
        ))
    })?;
    if let Some((trimmed, removed)) = trimmed {
        write_atomically(wasm, &trimmed)?;
        say(&format!(
            "took {:.1} KB of zero-initialised data (.bss) out of {} (the memory is new, so zero, when it loads)",
            removed as f64 / 1024.0,
            wasm.display()
        ));
    }
    Ok(())
}

/// The measured layouts of the shared types, saying what was measured (an unmeasurable header
/// only turns its checks off: the host itself built).
fn shared_layouts(
    measuring: std::thread::JoinHandle<Result<layouts::Measured, String>>,
) -> layouts::Measured {
    let waited = Instant::now();
    let measured = measuring
        .join()
        .unwrap_or_else(|_| Err("the measuring thread panicked".into()));
    let waited = waited.elapsed().as_secs_f64();
    match measured {
        Ok(m) => {
            for (header, why) in &m.skipped {
                say(&format!(
                    "warning: {} does not compile where hotwasm measures the shared headers (it may need another header first: {why}): patches' layouts of its types are not checked",
                    header.display()
                ));
            }
            say(&format!(
                "measured the layouts of {} shared types in {:.2} s, beside the build (it waited {waited:.2} s for them)",
                m.layouts.len(),
                m.elapsed.as_secs_f64()
            ));
            m
        }
        Err(why) => {
            say(&format!("warning: the shared types' layouts were not measured ({why}): patches' layouts are not checked"));
            layouts::Measured::default()
        }
    }
}

/// Writes the `-sEXPORTED_FUNCTIONS` list to a file named by its content's hash, so a changed
/// list changes the link command (cargo relinks) and an unchanged one does not.
fn write_export_list(
    dir: &Path,
    functions: &std::collections::BTreeSet<String>,
) -> Result<PathBuf, BuildError> {
    let json = exports::exported_functions_json(functions);
    let path = dir.join(format!(
        "exported-functions-{:016x}.json",
        fnv1a(json.as_bytes())
    ));
    if !path.is_file() {
        write_atomically(&path, json.as_bytes())?;
    }
    // Earlier lists of this bundle are stale now.
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.starts_with("exported-functions-") && entry.path() != path {
            let _ = std::fs::remove_file(entry.path());
        }
    }
    Ok(path)
}

/// The emcc link flags of every host (Rust hands them to rustc as `-C link-arg`): the runtime
/// methods are the client's (`GOT` and `LDSO` only with HOT_RELOAD: a plain host has no dynamic
/// linker), `[build] runtime_methods` and any `-sEXPORTED_RUNTIME_METHODS` of `[build] ldflags`,
/// merged into one list ([`ldflags`]).
pub fn link_flags(
    config: &Config,
    hot: bool,
    list: &Path,
    rsp: &[PathBuf],
) -> Result<Vec<String>, BuildError> {
    let (from_ldflags, ldflags) =
        ldflags::take_runtime_methods(&config.build.ldflags, &config.file.display().to_string())
            .map_err(BuildError::Config)?;
    let mut methods: Vec<String> = CLIENT_RUNTIME_METHODS
        .iter()
        .filter(|m| hot || !DYNAMIC_LINKER_METHODS.contains(m))
        .map(|m| m.to_string())
        .collect();
    for m in config.build.runtime_methods.iter().chain(&from_ldflags) {
        if !methods.contains(m) {
            methods.push(m.clone());
        }
    }
    let mut flags = vec![
        "-sMODULARIZE=1".to_string(),
        format!("-sEXPORT_NAME={}", config.app.export_name),
        "-sENVIRONMENT=web,node".into(),
        "-sALLOW_MEMORY_GROWTH=1".into(),
        "-sWASM_BIGINT".into(),
        "-sFILESYSTEM=1".into(),
        "-sEXIT_RUNTIME=0".into(),
        format!("-sEXPORTED_FUNCTIONS=@{}", list.display()),
        format!("-sEXPORTED_RUNTIME_METHODS={}", methods.join(",")),
        "-Wno-version-check".into(),
    ];
    if hot {
        flags.push("-sMAIN_MODULE=2".into());
        flags.push("-sALLOW_TABLE_GROWTH=1".into());
        if threads::threaded(config) {
            flags.extend(threads::link_flags(
                list.parent().unwrap_or(Path::new(".")),
            )?);
        }
        for rsp in rsp {
            flags.push(format!("-Wl,@{}", rsp.display()));
        }
    }
    flags.extend(rooted_flags(&config.root, &ldflags));
    Ok(flags)
}

/// Refuses link flags that need binaryen's `wasm-emscripten-finalize` when the toolchain's
/// binaryen has none (npm's, which scripts/setup.sh installs), naming each and what works.
fn refuse_finalize(config: &Config, home: &Home, flags: &[String]) -> Result<(), BuildError> {
    let Some(why) = ldflags::needs_finalize(flags) else {
        return Ok(());
    };
    let out = Command::new(crate::toolchain::require(home, "em-config")?)
        .arg("BINARYEN_ROOT")
        .output()
        .map_err(|e| BuildError::io("running em-config BINARYEN_ROOT".into(), e))?;
    let root = PathBuf::from(String::from_utf8_lossy(&out.stdout).trim());
    if root.join("bin/wasm-emscripten-finalize").is_file() {
        return Ok(());
    }
    Err(BuildError::Config(format!(
        "{}: [build] ldflags cannot link with this toolchain: emcc would rewrite the wasm with binaryen's wasm-emscripten-finalize, and the binaryen in {} has none (it is npm's, which runs as JavaScript). {why}",
        config.file.display(),
        root.display()
    )))
}

/// Flags with every relative path that names something under `root` made absolute (`-Isrc`,
/// `--js-library src/draw.js`, `-include app.h`), so they mean the same whatever directory
/// cargo, rustc or emcc run in.
pub fn rooted_flags(root: &Path, flags: &[String]) -> Vec<String> {
    const JOINED: [&str; 6] = [
        "-I",
        "-L",
        "-isystem",
        "-iquote",
        "--js-library=",
        "--pre-js=",
    ];
    let rooted = |rel: &str| {
        let path = Path::new(rel);
        (!rel.is_empty() && path.is_relative() && root.join(path).exists())
            .then(|| root.join(path).display().to_string())
    };
    flags
        .iter()
        .map(|flag| {
            if !flag.starts_with('-') {
                return rooted(flag).unwrap_or_else(|| flag.clone());
            }
            JOINED
                .iter()
                .find_map(|prefix| {
                    let rest = flag.strip_prefix(prefix)?;
                    rooted(rest).map(|abs| format!("{prefix}{abs}"))
                })
                .unwrap_or_else(|| flag.clone())
        })
        .collect()
}

/// Prints a progress line (stderr, so stdout stays for results).
pub fn say(what: &str) {
    eprintln!("hotwasm build: {what}");
}

/// Runs `cmd`, naming it (`what`) on failure with `hint` and its stderr.
pub fn run(cmd: &mut Command, what: &str, hint: &str) -> Result<(), BuildError> {
    let mut child = cmd
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| BuildError::io(format!("starting {what}"), e))?;
    let stderr = tee_stderr(&mut child);
    let status = child
        .wait()
        .map_err(|e| BuildError::io(format!("waiting for {what}"), e))?;
    let output = stderr.join().unwrap_or_default();
    if status.success() {
        Ok(())
    } else {
        Err(BuildError::Command {
            command: what.to_string(),
            status: status.to_string(),
            hint: hint.to_string(),
            output,
        })
    }
}

/// Echoes a spawned child's piped stderr to ours line by line as it comes (the user watches
/// the build) and keeps it (a failed build's errors reach the pages).
pub fn tee_stderr(child: &mut std::process::Child) -> std::thread::JoinHandle<String> {
    let pipe = child.stderr.take();
    std::thread::spawn(move || {
        let mut kept = String::new();
        if let Some(pipe) = pipe {
            use std::io::BufRead;
            for line in std::io::BufReader::new(pipe).lines().map_while(Result::ok) {
                eprintln!("{line}");
                kept.push_str(&line);
                kept.push('\n');
            }
        }
        kept
    })
}

/// Writes `bytes` to `path` through a temporary file of a unique name in the same directory.
pub fn write_atomically(path: &Path, bytes: &[u8]) -> Result<(), BuildError> {
    hotwasm_pipeline::files::write_atomically(path, bytes)
        .map_err(|e| BuildError::io(format!("writing {}", path.display()), e))
}

/// FNV-1a, for content-named files (not security relevant).
pub use hotwasm_abi::fnv1a;

fn report(built: &Built, mode: &str, started: Instant) {
    let kb = |p: &Path| {
        std::fs::metadata(p).map_or("missing".into(), |m| {
            format!("{:.1} KB", m.len() as f64 / 1024.0)
        })
    };
    let name = |p: &Path| {
        p.file_name()
            .unwrap_or_default()
            .to_string_lossy()
            .into_owned()
    };
    println!(
        "built the {mode} host in {:.1} s: {}",
        started.elapsed().as_secs_f64(),
        built.dir.display()
    );
    println!("  {:<24} {}", name(&built.wasm), kb(&built.wasm));
    println!("  {:<24} {}", name(&built.js), kb(&built.js));
    if let Some(m) = &built.manifest {
        let summary =
            hotwasm_abi::HostManifest::read(m)
                .ok()
                .flatten()
                .map_or("unreadable".into(), |h| {
                    format!(
                        "{} vars, {} exports, {} shared types",
                        h.vars.len(),
                        h.exports.len(),
                        h.layouts.len()
                    )
                });
        println!("  {:<24} {summary}", name(m));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(text: &str) -> Config {
        Config::parse(text, Path::new("/app/hotwasm.toml")).unwrap()
    }

    #[test]
    fn hot_links_add_main_module_and_the_std_response_file_plain_links_do_not() {
        let c = config("[app]\nname = \"a\"\nlang = \"rust\"\nexport_name = \"createA\"\n[build]\npackage = \"a\"\nldflags = [\"-sSTACK_SIZE=1MB\"]\nruntime_methods = [\"FS\", \"addFunction\"]\n");
        let hot = link_flags(
            &c,
            true,
            Path::new("/o/list.json"),
            &[PathBuf::from("/o/std.rsp")],
        )
        .unwrap();
        assert!(hot.contains(&"-sEXPORT_NAME=createA".to_string()));
        assert!(hot.contains(&"-sMAIN_MODULE=2".to_string()));
        assert!(hot.contains(&"-Wl,@/o/std.rsp".to_string()));
        assert!(hot.contains(&"-sEXPORTED_FUNCTIONS=@/o/list.json".to_string()));
        assert_eq!(hot.last().unwrap(), "-sSTACK_SIZE=1MB");
        let methods = hot
            .iter()
            .find(|f| f.starts_with("-sEXPORTED_RUNTIME_METHODS="))
            .unwrap();
        assert!(methods.ends_with(",GOT,LDSO,addFunction"), "{methods}");
        let plain = link_flags(&c, false, Path::new("/o/list.json"), &[]).unwrap();
        assert!(!plain
            .iter()
            .any(|f| f.contains("MAIN_MODULE") || f.contains(".rsp")));
        let methods = plain
            .iter()
            .find(|f| f.starts_with("-sEXPORTED_RUNTIME_METHODS="))
            .unwrap();
        assert!(
            !methods.contains("GOT") && !methods.contains("LDSO"),
            "{methods}"
        );
    }

    #[test]
    fn relative_paths_in_flags_resolve_against_the_app_root() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        std::fs::create_dir_all(root.join("src")).unwrap();
        std::fs::write(root.join("src/draw.js"), "").unwrap();
        let flags: Vec<String> = [
            "-Isrc",
            "--js-library",
            "src/draw.js",
            "-Inot-there",
            "-O2",
            "-sEXPORT_ES6=0",
            "/abs/x",
        ]
        .map(String::from)
        .to_vec();
        let r = root.display();
        assert_eq!(
            rooted_flags(root, &flags),
            vec![
                format!("-I{r}/src"),
                "--js-library".into(),
                format!("{r}/src/draw.js"),
                "-Inot-there".into(),
                "-O2".into(),
                "-sEXPORT_ES6=0".into(),
                "/abs/x".into(),
            ]
        );
    }

    #[test]
    fn the_export_list_file_is_named_by_its_content() {
        let dir = tempfile::tempdir().unwrap();
        let set = |names: &[&str]| names.iter().map(|s| s.to_string()).collect();
        let a = write_export_list(dir.path(), &set(&["main", "frame"])).unwrap();
        let again = write_export_list(dir.path(), &set(&["frame", "main"])).unwrap();
        let b = write_export_list(dir.path(), &set(&["main"])).unwrap();
        assert_eq!(a, again);
        assert_ne!(a, b);
        assert!(!a.exists(), "the earlier list is removed");
        let a = write_export_list(dir.path(), &set(&["main", "frame"])).unwrap();
        assert_eq!(
            std::fs::read_to_string(&a).unwrap(),
            r#"["_frame","_main"]"#
        );
    }
}
