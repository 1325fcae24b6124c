//! What editors need to understand an app's patches, written by `hotwasm init` and `hotwasm
//! build`: a `compile_commands.json` for clangd (every C and C++ patch file with the clang
//! driver line emcc runs for it with the patch flags — the line the fast path learns its
//! `-cc1` command from — so include dirs, defines, hotwasm's headers, the generated
//! `<hotwasm_vars.h>`, the Emscripten sysroot and target all match the real compile), and a
//! `.hotwasm/rust-project.json` for rust-analyzer (each Rust patch a crate depending on the
//! prelude crate `hotwasm_patch`, both for `wasm32-unknown-emscripten` with that target's cfg,
//! on the project's own toolchain).

use crate::compile::{cpp, emcc, fast, rust};
use crate::config::Config;
use crate::home::Home;
use serde_json::json;
use std::path::{Path, PathBuf};
use std::process::Command;

/// clangd's compilation database (at the app root unless the app has one of its own).
pub const COMPILE_COMMANDS: &str = "compile_commands.json";
/// rust-analyzer's project file for the Rust patches (in `.hotwasm/`).
pub const RUST_PROJECT: &str = "rust-project.json";

/// Why the editor files could not be written.
#[derive(Debug, thiserror::Error)]
pub enum EditorError {
    /// emcc could not tell its clang command line.
    #[error("could not learn emcc's clang command line for {0} patches: {1}")]
    Emcc(&'static str, String),
    /// rustc could not be asked about the target.
    #[error("could not ask rustc about {target} for rust-analyzer: {0}", target = rust::TARGET)]
    Rustc(String),
    /// A file could not be written.
    #[error("cannot write {0}: {1}")]
    Write(String, std::io::Error),
}

/// What was written, for the command to report.
#[derive(Debug, Default)]
pub struct Written {
    /// The files written.
    pub files: Vec<PathBuf>,
    /// Things the user should know (an own compile_commands.json kept, no rust-src).
    pub notes: Vec<String>,
}

/// Writes the editor files of the app `config` describes (the patch flags as `hotwasm serve`
/// compiles with, `[patches] opt` included). Needs emcc on `PATH` for C/C++ and the project's
/// rustc for Rust patches.
pub fn write(config: &Config, home: &Home) -> Result<Written, EditorError> {
    let root = std::fs::canonicalize(&config.root).unwrap_or_else(|_| config.root.clone());
    let mut written = Written::default();
    let (c_files, rust_files) = patch_files(config, &root);
    if !c_files.is_empty() {
        write_compile_commands(config, home, &root, &c_files, &mut written)?;
    }
    seed_vars_header(config, home, &root, &mut written)?;
    if !rust_files.is_empty() || config.rust_prelude().is_some() {
        let project = rust_project(config, &root, &rust_files, &mut written)?;
        write_file(
            &root.join(".hotwasm").join(RUST_PROJECT),
            &project,
            &mut written,
        )?;
    }
    Ok(written)
}

/// clangd's database for `files` at the app root, unless the app has one of its own: then in
/// `.hotwasm/` (which always gets a copy, to tell the two apart next time).
fn write_compile_commands(
    config: &Config,
    home: &Home,
    root: &Path,
    files: &[PathBuf],
    written: &mut Written,
) -> Result<(), EditorError> {
    let commands = compile_commands(config, home, root, files)?;
    let own = root.join(COMPILE_COMMANDS);
    let ours = root.join(".hotwasm").join(COMPILE_COMMANDS);
    let previous = std::fs::read(&ours).ok();
    let foreign = std::fs::read(&own)
        .ok()
        .is_some_and(|now| Some(&now) != previous.as_ref());
    write_file(&ours, &commands, written)?;
    if foreign {
        written.notes.push(format!(
            "{} is your own, so hotwasm left it alone: its patch entries are in {} (give clangd `--compile-commands-dir=.hotwasm`, or merge them)",
            own.display(),
            ours.display()
        ));
        Ok(())
    } else {
        write_file(&own, &commands, written)
    }
}

/// The patch files the `[patches] watch` globs match now: C and C++ ones, Rust ones (the prelude
/// is not a patch).
fn patch_files(config: &Config, root: &Path) -> (Vec<PathBuf>, Vec<PathBuf>) {
    let prelude = config.rust_prelude().map(|p| canonical(&p));
    let mut files: Vec<PathBuf> = config
        .watch()
        .iter()
        .flat_map(|g| {
            glob::glob(&root.join(g).to_string_lossy())
                .into_iter()
                .flatten()
                .flatten()
        })
        .filter(|p| p.is_file())
        .map(|p| canonical(&p))
        .collect();
    files.sort();
    files.dedup();
    let ext = |p: &PathBuf| p.extension().and_then(|e| e.to_str()).map(str::to_owned);
    let c = files
        .iter()
        .filter(|p| ext(p).is_some_and(|e| e == "c" || cpp::EXTENSIONS.contains(&e.as_str())))
        .cloned()
        .collect();
    let rust = files
        .into_iter()
        .filter(|p| ext(p).as_deref() == Some("rs") && Some(p) != prelude.as_ref())
        .collect();
    (c, rust)
}

/// The compilation database: one entry per C/C++ patch file.
fn compile_commands(
    config: &Config,
    home: &Home,
    root: &Path,
    files: &[PathBuf],
) -> Result<String, EditorError> {
    let include_dirs = crate::serve::patch_include_dirs(config, root, home);
    let opt = format!("-O{}", config.opt());
    let threads = crate::bundle::threads::threaded(config);
    let c_flags = emcc::compile_flags(&opt, &include_dirs, &config.patches.defines, threads);
    let mut cpp_flags = c_flags.clone();
    cpp_flags.extend(cpp::compile_flags());
    let is_c = |f: &PathBuf| f.extension().is_some_and(|e| e == "c");
    // emcc is asked only for the languages the app's patches are in (about 1 s each).
    let c = if files.iter().any(is_c) {
        driver_line(&c_flags, "c").map_err(|e| EditorError::Emcc("C", e))?
    } else {
        Vec::new()
    };
    let cxx = if files.iter().any(|f| !is_c(f)) {
        driver_line(&cpp_flags, "cpp").map_err(|e| EditorError::Emcc("C++", e))?
    } else {
        Vec::new()
    };
    let entries: Vec<_> = files
        .iter()
        .map(|file| {
            let mut arguments = if is_c(file) { c.clone() } else { cxx.clone() };
            arguments.push(file.display().to_string());
            json!({
                "directory": root.display().to_string(),
                "file": file.display().to_string(),
                "arguments": arguments,
            })
        })
        .collect();
    Ok(serde_json::to_string_pretty(&entries).unwrap_or_default() + "\n")
}

/// The clang driver line emcc runs to compile a `.{ext}` file with `flags` (from `emcc -v`), the
/// source, `-o` and `-v` left out.
fn driver_line(flags: &[String], ext: &str) -> Result<Vec<String>, String> {
    let emcc = emcc::find().map_err(|e| e.to_string())?;
    let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
    let src = format!("hotwasm_editor.{ext}");
    std::fs::write(dir.path().join(&src), "int hotwasm_editor;\n").map_err(|e| e.to_string())?;
    let out = Command::new(&emcc)
        .args(flags)
        .args(["-v", "-c", &src, "-o", "hotwasm_editor.o"])
        .current_dir(dir.path())
        .output()
        .map_err(|e| format!("running {}: {e}", emcc.display()))?;
    let stderr = String::from_utf8_lossy(&out.stderr);
    if !out.status.success() {
        return Err(format!("emcc failed on a probe: {stderr}"));
    }
    let argv = stderr
        .lines()
        .map(fast::split_command_line)
        .find(|a| {
            a.first()
                .is_some_and(|p| p.rsplit('/').next().unwrap_or(p).starts_with("clang"))
                && a.iter().any(|x| x == &src)
                && !a.iter().any(|x| x == "-cc1")
        })
        .ok_or_else(|| format!("`emcc -v` printed no clang line:\n{stderr}"))?;
    let mut kept = Vec::with_capacity(argv.len());
    let mut args = argv.into_iter();
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "-o" => {
                args.next();
            }
            "-v" => {}
            a if a == src => {}
            _ => kept.push(arg),
        }
    }
    Ok(kept)
}

/// rust-analyzer's view of the Rust patches: the prelude crate `hotwasm_patch` (the app's
/// `[patches] rust_prelude`, else an empty one) and each patch a crate depending on it, for the
/// target with the project toolchain's std.
fn rust_project(
    config: &Config,
    root: &Path,
    files: &[PathBuf],
    written: &mut Written,
) -> Result<String, EditorError> {
    let tc = rust::Toolchain::find(root).map_err(|e| EditorError::Rustc(e.to_string()))?;
    let ask = |args: &[&str]| -> Result<String, EditorError> {
        let out = Command::new(&tc.rustc)
            .args(args)
            .current_dir(root)
            .output()
            .map_err(|e| EditorError::Rustc(format!("{}: {e}", tc.rustc.display())))?;
        if !out.status.success() {
            let why = String::from_utf8_lossy(&out.stderr);
            return Err(EditorError::Rustc(why.trim().to_string()));
        }
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    };
    let sysroot = PathBuf::from(ask(&["--print", "sysroot"])?.trim());
    let cfg: Vec<String> = ask(&["--print", "cfg", "--target", rust::TARGET])?
        .lines()
        .map(String::from)
        .collect();
    let prelude = match config.rust_prelude() {
        Some(p) => p,
        None => {
            let empty = root.join(".hotwasm").join("hotwasm_patch.rs");
            write_file(
                &empty,
                "//! No [patches] rust_prelude in hotwasm.toml.\n",
                written,
            )?;
            empty
        }
    };
    let crate_of = |root_module: &Path, deps: serde_json::Value| {
        json!({
            "display_name": root_module.file_stem().map(|s| s.to_string_lossy().into_owned()),
            "root_module": root_module.display().to_string(),
            "edition": "2021",
            "deps": deps,
            "cfg": cfg,
            "target": rust::TARGET,
            "is_workspace_member": true,
        })
    };
    let mut crates = vec![crate_of(&prelude, json!([]))];
    crates.extend(
        files
            .iter()
            .map(|f| crate_of(f, json!([{ "crate": 0, "name": "hotwasm_patch" }]))),
    );
    let src = sysroot.join("lib/rustlib/src/rust/library");
    let mut project = json!({ "sysroot": sysroot.display().to_string(), "crates": crates });
    if src.is_dir() {
        project["sysroot_src"] = json!(src.display().to_string());
    } else {
        written.notes.push(format!(
            "rust-analyzer needs the standard library's source to check Rust patches: run `rustup component add rust-src` in {}",
            root.display()
        ));
    }
    Ok(serde_json::to_string_pretty(&project).unwrap_or_default() + "\n")
}

/// Writes `<hotwasm_vars.h>` from the HOT_RELOAD host's manifest when there is none yet (before
/// the first `hotwasm serve`, which keeps it current from then on), so a patch including it
/// opens without errors.
fn seed_vars_header(
    config: &Config,
    home: &Home,
    root: &Path,
    written: &mut Written,
) -> Result<(), EditorError> {
    let header = crate::vars::include_dir(root).join(crate::vars::HEADER);
    let manifest = config
        .bundle_dir(true)
        .join(crate::bundle::manifest::FILE_NAME);
    if header.exists() {
        return Ok(());
    }
    let Ok(Some(host)) = crate::hub::read_host_manifest(&manifest) else {
        return Ok(());
    };
    let include_dirs = crate::serve::patch_include_dirs(config, root, home);
    let patches = crate::compile::CompilerConfig {
        root: root.to_path_buf(),
        include_dirs: include_dirs.clone(),
        defines: config.patches.defines.clone(),
        rust_prelude: None,
        plain_emcc: false,
        opt: format!("-O{}", config.opt()),
        timeout: crate::security::COMPILE_TIMEOUT,
        memory_bytes: crate::security::COMPILER_MEMORY,
    };
    let headers = crate::vars::app_headers_of(patches, host.threads);
    let text = crate::vars::header_for(&host, &[], &headers, &include_dirs);
    write_file(&header, &text, written)
}

/// What `hotwasm build --check` warns about: each path the config names that does not exist
/// (a source glob matching nothing, an include dir, the prelude, the page, the Cargo package).
pub fn missing_paths(config: &Config) -> Vec<String> {
    let file = config.file.display();
    let mut out = Vec::new();
    for g in &config.build.sources {
        let pattern = config.path(g);
        let matched = glob::glob(&pattern.to_string_lossy())
            .map(|mut m| m.next().is_some())
            .unwrap_or(false);
        if !matched {
            out.push(format!("{file}: [build] sources: `{g}` matches no file"));
        }
    }
    if config.build.package.is_some() && !config.path("Cargo.toml").is_file() {
        out.push(format!(
            "{file}: [build] package: there is no Cargo.toml beside hotwasm.toml"
        ));
    }
    let named = [
        ("[patches] include_dirs", config.include_dirs()),
        (
            "[patches] rust_prelude",
            config.rust_prelude().into_iter().collect(),
        ),
        ("[serve] page", config.page_dir().into_iter().collect()),
    ];
    for (key, paths) in named {
        for p in paths.iter().filter(|p| !p.exists()) {
            out.push(format!("{file}: {key}: {} does not exist", p.display()));
        }
    }
    out
}

fn write_file(path: &Path, text: &str, written: &mut Written) -> Result<(), EditorError> {
    let write = || {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        if std::fs::read_to_string(path).ok().as_deref() != Some(text) {
            std::fs::write(path, text)?;
        }
        Ok(())
    };
    write().map_err(|e| EditorError::Write(path.display().to_string(), e))?;
    written.files.push(path.to_path_buf());
    Ok(())
}

fn canonical(p: &Path) -> PathBuf {
    std::fs::canonicalize(p).unwrap_or_else(|_| p.to_path_buf())
}
