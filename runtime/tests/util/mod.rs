//! Builds patch fixtures from `tests/fixtures/` into native shared objects with the
//! `cc` crate, once per test binary, and hands out a unique copy per load (the dynamic linker
//! returns the already-loaded library for a known path).
// Each test binary uses a different part of this module.
#![allow(dead_code)]

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
    let args: Vec<String> = defines.iter().map(|(k, v)| format!("-D{k}={v}")).collect();
    compile(&format!("{name}.c"), &args)
        .unwrap_or_else(|stderr| panic!("compiling fixture {name} failed:\n{stderr}"))
}

/// Compiles the C file `tests/fixtures/<source>` with `args` (and hotwasm's `abi/include` on
/// the include path) into a shared object; `Err` holds the compiler's stderr.
pub fn compile(source: &str, args: &[String]) -> Result<PathBuf, String> {
    let dir = BUILD_DIR
        .get_or_init(|| tempfile::tempdir().expect("temp dir"))
        .path();
    let tag: String = args
        .iter()
        .flat_map(|a| a.chars())
        .filter(|c| c.is_ascii_alphanumeric())
        .collect();
    let out = dir.join(format!("{}{tag}.so", source.replace('/', "_")));
    if out.exists() {
        return Ok(out);
    }
    let mut build = cc::Build::new();
    build
        .target("x86_64-unknown-linux-gnu")
        .host("x86_64-unknown-linux-gnu")
        .opt_level(1);
    build.cargo_metadata(false).pic(true).warnings(true);
    let mut cmd = build.get_compiler().to_command();
    cmd.args(args)
        .arg(format!(
            "-I{}",
            fixtures().join("../../abi/include").display()
        ))
        .args(["-shared", "-fPIC", "-o"])
        .arg(&out)
        .arg(fixtures().join(source));
    let output = cmd.output().expect("run the C compiler");
    if output.status.success() {
        Ok(out)
    } else {
        Err(String::from_utf8_lossy(&output.stderr).into_owned())
    }
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
