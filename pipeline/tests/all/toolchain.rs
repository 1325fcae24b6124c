//! Finding the compilers and building the Rust prelude: a failure says what to fix and is not
//! kept, so fixing it while the server runs is enough.

use crate::late_binding::{repo_root, toolchain};
use hotwasm_pipeline::{CompileError, Compiler, CompilerConfig};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::Duration;

/// Tests that set `HOTWASM_RUSTC` (process-wide) run one at a time.
static RUSTC_ENV: Mutex<()> = Mutex::new(());

fn compiler(root: &Path, rust_prelude: Option<PathBuf>) -> Compiler {
    toolchain();
    Compiler::new(CompilerConfig {
        root: root.to_path_buf(),
        include_dirs: vec![repo_root().join("abi/include")],
        defines: Vec::new(),
        rust_prelude,
        plain_emcc: false,
        opt: "-O1".into(),
        timeout: Duration::from_secs(120),
        memory_bytes: 2 << 30,
    })
    .unwrap()
}

/// The rustc binary rustup picks in this checkout (not the proxy).
fn real_rustc() -> PathBuf {
    let out = std::process::Command::new("rustc")
        .args(["--print", "sysroot"])
        .current_dir(repo_root())
        .output()
        .unwrap();
    PathBuf::from(String::from_utf8_lossy(&out.stdout).trim()).join("bin/rustc")
}

#[test]
fn a_rust_compiler_installed_after_a_failed_eval_is_found_by_the_next_eval() {
    let _one = RUSTC_ENV.lock().unwrap_or_else(|e| e.into_inner());
    let project = tempfile::tempdir().unwrap();
    let bin = tempfile::tempdir().unwrap();
    let rustc = bin.path().join("rustc");
    std::env::set_var(hotwasm_pipeline::compile::rust::RUSTC_ENV, &rustc);
    let compiler = compiler(project.path(), None);
    let missing = compiler.warm_up_rust().unwrap_err();
    assert!(
        matches!(missing, CompileError::RustcNotFound(_)),
        "{missing}"
    );
    // The user installs it; the server keeps running.
    std::os::unix::fs::symlink(real_rustc(), &rustc).unwrap();
    let found = compiler.warm_up_rust();
    std::env::remove_var(hotwasm_pipeline::compile::rust::RUSTC_ENV);
    found.unwrap();
}

#[test]
fn a_prelude_that_does_not_compile_is_named_by_the_apps_own_path() {
    let _one = RUSTC_ENV.lock().unwrap_or_else(|e| e.into_inner());
    let project = tempfile::tempdir().unwrap();
    let prelude = project.path().join("src/my_prelude.rs");
    std::fs::create_dir_all(prelude.parent().unwrap()).unwrap();
    std::fs::write(&prelude, "pub fn unfinished( {\n").unwrap();
    let error = compiler(project.path(), Some(prelude.clone()))
        .warm_up_rust()
        .unwrap_err()
        .to_string();
    assert!(
        error.contains(&prelude.display().to_string()),
        "the error should name {}: {error}",
        prelude.display()
    );
    assert!(!error.contains("examples/particles"), "{error}");
}
