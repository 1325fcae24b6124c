//! Hosts with threads: what a HOT_RELOAD build adds when the app's own flags ask for pthreads
//! (`-pthread` in `[build] cflags` or `ldflags`), and what it refuses (docs/THREADS.md).
//!
//! - The runtime staticlib is Rust, and stable Rust's prebuilt std for wasm32-unknown-emscripten
//!   is compiled without the `atomics` feature, so wasm-ld refuses it in a shared-memory link
//!   ("--shared-memory is disallowed by hotwasm_runtime…"). The link passes
//!   `--no-check-features`: the runtime's code is sound there because only one thread at a time
//!   runs it (the page's main thread, or the loader thread while the page awaits it; workers only
//!   read the slots the host's own C code declares, compiled with atomics), see docs/THREADS.md.
//! - A patch built with `-pthread` allocates its thread-local storage on each thread with
//!   `emscripten_builtin_memalign`: the host keeps it.
//! - Patches are applied on a loader thread of the runtime (`hotwasm_apply_on_loader`), never
//!   on the main thread, so a worker asleep in a wait cannot freeze the page; the client awaits
//!   each apply, so runtime code still runs on one thread at a time.
//! - A trap on a worker reaches the page's main thread with its stack (`worker_traps.js`, a
//!   `--pre-js`), so the client rolls back the var that trapped.
//! - A Rust host cannot: its own std would need the atomics feature (nightly `-Zbuild-std`).

use crate::config::{Config, HostLang};
use std::path::Path;

use super::BuildError;

/// The host functions a threaded host exports besides the registry's: what a `-pthread` patch
/// imports, and the runtime's loader thread, which the page's client applies patches with.
pub const EXPORTS: [&str; 2] = ["emscripten_builtin_memalign", "hotwasm_apply_on_loader"];

/// The script that reports a trap on a worker to the page's client (`--pre-js`).
const WORKER_TRAPS_JS: &str = include_str!("worker_traps.js");

/// The extra link flags of a HOT_RELOAD host with threads; writes the worker-trap script into
/// `dir` (the host's build directory) for its `--pre-js`.
pub fn link_flags(dir: &Path) -> Result<Vec<String>, BuildError> {
    let script = dir.join("hotwasm-worker-traps.js");
    std::fs::write(&script, WORKER_TRAPS_JS)
        .map_err(|e| BuildError::io(format!("writing {}", script.display()), e))?;
    Ok(vec![
        "-Wl,--no-check-features".into(),
        "--pre-js".into(),
        script.display().to_string(),
    ])
}

/// Whether the app's own build flags ask for pthreads.
pub fn threaded(config: &Config) -> bool {
    let pthread = |f: &String| f == "-pthread" || f == "-sUSE_PTHREADS" || f == "-sUSE_PTHREADS=1";
    config.build.cflags.iter().any(pthread) || config.build.ldflags.iter().any(pthread)
}

/// Refuses a HOT_RELOAD build with threads that cannot work, naming the reason and the way out.
pub fn check(config: &Config, hot: bool) -> Result<(), BuildError> {
    if hot && threaded(config) && config.app.lang == HostLang::Rust {
        return Err(BuildError::Config(format!(
            "{}: a Rust host cannot be built with threads (-pthread) for HOT_RELOAD: stable Rust's \
             std for wasm32-unknown-emscripten is compiled without the atomics feature, so its \
             code would race on shared memory (a std with atomics needs nightly Rust's \
             -Zbuild-std and the rust-src component). Build the HOT_RELOAD host without -pthread, or \
             keep the threads in a C or C++ host (docs/THREADS.md)",
            config.file.display()
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(lang: &str, cflags: &str, ldflags: &str) -> Config {
        let text = format!(
            "[app]\nname = \"t\"\nlang = \"{lang}\"\n[build]\npackage = \"t\"\nsources = [\"src/*.c\"]\ncflags = [{cflags}]\nldflags = [{ldflags}]\n"
        );
        Config::parse(&text, Path::new("/app/hotwasm.toml")).unwrap()
    }

    #[test]
    fn the_apps_own_pthread_flag_makes_a_threaded_host() {
        assert!(threaded(&config("c", "\"-O2\", \"-pthread\"", "")));
        assert!(threaded(&config("c", "", "\"-sUSE_PTHREADS=1\"")));
        assert!(!threaded(&config(
            "c",
            "\"-O2\"",
            "\"-sALLOW_MEMORY_GROWTH\""
        )));
    }

    #[test]
    fn a_rust_host_with_threads_is_refused_for_hot_reload_naming_the_way_out() {
        let rust = config("rust", "", "\"-pthread\"");
        let err = check(&rust, true).unwrap_err().to_string();
        assert!(err.contains("without the atomics feature"), "{err}");
        assert!(err.contains("without -pthread"), "{err}");
        assert!(
            check(&rust, false).is_ok(),
            "the plain build is the app's own business"
        );
        assert!(check(&config("c", "\"-pthread\"", ""), true).is_ok());
    }
}
