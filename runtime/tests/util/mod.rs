//! Builds patch fixtures from `tests/fixtures/` into native shared objects with the
//! `cc` crate, once per test binary, and hands out a unique copy per load (the dynamic linker
//! returns the already-loaded library for a known path).

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::OnceLock;

static BUILD_DIR: OnceLock<tempfile::TempDir> = OnceLock::new();
static COPIES: AtomicUsize = AtomicUsize::new(0);

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures")
}

/// Compiles `tests/fixtures/<name>.c` (with `-D` defines) into a shared object.
pub fn build(name: &str, defines: &[(&str, &str)]) -> PathBuf {
    let dir = BUILD_DIR
        .get_or_init(|| tempfile::tempdir().expect("temp dir"))
        .path();
    let tag: String = defines.iter().map(|(k, v)| format!("-{k}{v}")).collect();
    let out = dir.join(format!("{name}{tag}.so"));
    if out.exists() {
        return out;
    }
    let mut build = cc::Build::new();
    build
        .target("x86_64-unknown-linux-gnu")
        .host("x86_64-unknown-linux-gnu")
        .opt_level(1);
    build.cargo_metadata(false).pic(true).warnings(true);
    let mut cmd = build.get_compiler().to_command();
    for (k, v) in defines {
        cmd.arg(format!("-D{k}={v}"));
    }
    cmd.args(["-shared", "-fPIC", "-o"])
        .arg(&out)
        .arg(fixtures().join(format!("{name}.c")));
    let status = cmd.status().expect("run the C compiler");
    assert!(status.success(), "compiling fixture {name} failed");
    out
}

/// A copy of `lib` at a path no other load used.
pub fn unique_copy(lib: &Path) -> String {
    let n = COPIES.fetch_add(1, Ordering::Relaxed);
    let dir = BUILD_DIR.get().expect("built first").path();
    let to = dir.join(format!(
        "copy-{n}-{}",
        lib.file_name().unwrap().to_string_lossy()
    ));
    std::fs::copy(lib, &to).expect("copy patch");
    to.to_string_lossy().into_owned()
}
