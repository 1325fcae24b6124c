//! Rust patches link the standard library code they need when the host lacks it
//! (`hotwasm_pipeline::compile::rust_std`): each std case below compiles through the real
//! pipeline (rustc, then wasm-ld) against a host that exports almost nothing, and the patch
//! imports only the host's state (the allocator, the panic machinery) and C library functions.
//!
//! `cargo test -p hotwasm-pipeline --test all rust_std -- --nocapture` prints each case's patch
//! size and compile time.

use crate::late_binding::{build_host, host_manifest, repo_root, toolchain, Session};
use hotwasm_abi::HostManifest;
use hotwasm_pipeline::{CompileError, Compiler, CompilerConfig};
use std::time::Duration;

/// The std cases of issue 18: (name, body of an `i32` function, what it returns).
pub const CASES: [(&str, &str, i64); 6] = [
    ("sort", "let mut v = vec![3i64, 1, 2]; v.sort(); v[0] * 100 + v[1] * 10 + v[2]", 123),
    (
        "sort_unstable_by_key",
        "let mut v = vec![(1i64, 'c'), (3, 'a'), (2, 'b')]; v.sort_unstable_by_key(|p| p.1); v[0].0 * 100 + v[1].0 * 10 + v[2].0",
        321,
    ),
    (
        "btreemap",
        "let mut m = std::collections::BTreeMap::new(); for k in [5i64, 1, 4] { m.insert(k, k * 2); } m.iter().map(|(k, v)| k * 10 + v).sum::<i64>() * 10 + m.len() as i64",
        1203,
    ),
    (
        "format_e",
        "let s = format!(\"{:e}\", 1234.5f64); if s == \"1.2345e3\" { s.len() as i64 } else { -1 }",
        8,
    ),
    (
        "i128",
        "let a: i128 = std::hint::black_box(170141183460469231731687303715884105727); let b: i128 = std::hint::black_box(1_000_000_007); ((a / b) % 1_000_000_009 + (a % b)) as i64",
        1_067_466_130,
    ),
    (
        "iterators",
        "let v: Vec<i64> = (1..=20i64).filter(|n| n % 3 != 0).map(|n| n * n).collect(); v.iter().rev().zip((0i64..).step_by(2)).map(|(a, b)| a - b).take(7).sum()",
        1750,
    ),
];

/// The patch text of `case`: a `#[no_mangle]` function named after it.
pub fn patch(name: &str, body: &str) -> String {
    format!("#[no_mangle]\npub extern \"C\" fn std_{name}() -> i32 {{ let r: i64 = {{ {body} }}; r as i32 }}\n")
}

/// What a host that links almost nothing exports: the allocator shim (as every Rust host
/// defines it) and a few C library functions.
pub fn minimal_host() -> HostManifest {
    let mut exports: Vec<String> = [
        "malloc", "free", "memcpy", "memmove", "memset", "memcmp", "bcmp", "abort",
    ]
    .map(String::from)
    .to_vec();
    exports.extend(rust_allocator_symbols());
    HostManifest {
        version: 1,
        vars: Vec::new(),
        exports,
        layouts: Vec::new(),
        layout_inputs: Vec::new(),
        threads: false,
        cold: Vec::new(),
    }
}

/// The symbols core and alloc leave to the final program, which every Rust host defines: the
/// allocator shim (`__rust_alloc` and friends) and the panic handler (`rust_begin_unwind`),
/// mangled for this toolchain.
fn rust_allocator_symbols() -> Vec<String> {
    nm(&["-u"], &["liballoc-", "libcore-"])
        .into_iter()
        .filter(|s| s.contains("___rustc"))
        .collect()
}

/// The symbols `llvm-nm <flags>` lists for the sysroot rlibs whose names start with `prefixes`.
fn nm(flags: &[&str], prefixes: &[&str]) -> Vec<String> {
    let out = std::process::Command::new("rustc")
        .args(["--print", "sysroot"])
        .current_dir(repo_root())
        .output()
        .unwrap();
    let dir = std::path::PathBuf::from(String::from_utf8_lossy(&out.stdout).trim())
        .join("lib/rustlib/wasm32-unknown-emscripten/lib");
    let rlibs: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| {
            let n = p.file_name().unwrap().to_string_lossy().into_owned();
            prefixes.iter().any(|p| n.starts_with(p)) && n.ends_with(".rlib")
        })
        .collect();
    let nm = std::process::Command::new("llvm-nm")
        .args(flags)
        .args(&rlibs)
        .output()
        .unwrap();
    let mut names: Vec<String> = String::from_utf8_lossy(&nm.stdout)
        .lines()
        .filter_map(|l| l.split_whitespace().last())
        .filter(|s| !s.ends_with(':') && !s.ends_with(".o"))
        .map(String::from)
        .collect();
    names.sort();
    names.dedup();
    names
}

/// A host that exports every global symbol of core, alloc, std and compiler_builtins: what a
/// HOT_RELOAD host that links all of them would offer (the figures' "host has it" baseline).
fn full_host() -> HostManifest {
    let mut host = minimal_host();
    host.exports.extend(nm(
        &["--defined-only", "--extern-only"],
        &["libcore-", "liballoc-", "libstd-", "libcompiler_builtins-"],
    ));
    host
}

pub fn compiler(root: &std::path::Path) -> Compiler {
    toolchain();
    Compiler::new(CompilerConfig {
        root: root.to_path_buf(),
        include_dirs: vec![repo_root().join("abi/include")],
        defines: Vec::new(),
        rust_prelude: None,
        plain_emcc: false,
        opt: "-O2".into(),
        timeout: Duration::from_secs(120),
        memory_bytes: 2 << 30,
    })
    .unwrap()
}

fn imports(wasm: &[u8]) -> Vec<String> {
    let mut out = Vec::new();
    for p in wasmparser::Parser::new(0).parse_all(wasm) {
        if let Ok(wasmparser::Payload::ImportSection(r)) = p {
            for i in r.into_iter().flatten() {
                out.push(format!("{}.{}", i.module, i.name));
            }
        }
    }
    out
}

#[test]
fn std_code_the_host_lacks_is_linked_into_the_patch() {
    let project = tempfile::tempdir().unwrap();
    let compiler = compiler(project.path());
    let host = minimal_host();
    compiler.warm_up_rust().unwrap();
    compiler.warm_up(false).unwrap();
    let tc = hotwasm_pipeline::compile::rust::Toolchain::find(&repo_root()).unwrap();
    let t0 = std::time::Instant::now();
    compiler.patch_std(&tc, &host).unwrap();
    println!(
        "reading the std rlibs for a host (once per host exports): {:?}",
        t0.elapsed()
    );
    for (name, body, _) in CASES {
        let work = tempfile::tempdir().unwrap();
        let compiled = compiler
            .compile_rust(&patch(name, body), "eval.rs", work.path(), &host)
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        let missing: Vec<String> = imports(&compiled.wasm)
            .into_iter()
            .filter(|i| {
                let n = i.split_once('.').map_or(i.as_str(), |(_, n)| n);
                let n = n
                    .strip_prefix("GOT.func.")
                    .or(n.strip_prefix("GOT.mem."))
                    .unwrap_or(n);
                !host.exports_symbol(n)
                    && ![
                        "__memory_base",
                        "__table_base",
                        "__stack_pointer",
                        "memory",
                        "__indirect_function_table",
                    ]
                    .contains(&n)
                    && !n.starts_with("hotwasm_")
            })
            .collect();
        assert!(
            missing.is_empty(),
            "{name} imports what the host lacks: {missing:?}"
        );
        println!(
            "{name}: patch {} bytes, compile {:?} (rustc {:?}, link {:?})",
            compiled.wasm.len(),
            compiled.elapsed,
            compiled.phases.compile,
            compiled.phases.link
        );
    }
}

/// The figures' baseline: the same cases against a host that links and exports all of std, so
/// the patches import it (`-- --nocapture` prints them).
#[test]
fn std_cases_import_std_from_a_host_that_links_it() {
    let project = tempfile::tempdir().unwrap();
    let compiler = compiler(project.path());
    let host = full_host();
    compiler.warm_up_rust().unwrap();
    for (name, body, _) in CASES {
        let work = tempfile::tempdir().unwrap();
        let compiled = compiler
            .compile_rust(&patch(name, body), "eval.rs", work.path(), &host)
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        println!(
            "{name} (host links std): patch {} bytes, compile {:?} (rustc {:?}, link {:?})",
            compiled.wasm.len(),
            compiled.elapsed,
            compiled.phases.compile,
            compiled.phases.link
        );
    }
}

#[test]
fn a_shared_static_beside_linked_std_code_is_refused_naming_both() {
    let project = tempfile::tempdir().unwrap();
    let compiler = compiler(project.path());
    let work = tempfile::tempdir().unwrap();
    let source = format!(
        "#[no_mangle]\npub static mut SORTS: i32 = 0;\n{}",
        patch("sort", CASES[0].1)
    );
    let err = compiler
        .compile_rust(&source, "eval.rs", work.path(), &minimal_host())
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("`SORTS`") && err.contains("standard library"),
        "{err}"
    );
}

#[test]
fn std_state_the_host_lacks_is_refused_naming_the_symbol_and_the_fix() {
    let project = tempfile::tempdir().unwrap();
    let compiler = compiler(project.path());
    let work = tempfile::tempdir().unwrap();
    let err = compiler
        .compile_rust(
            &patch("print", "println!(\"hi\"); 1i64"),
            "eval.rs",
            work.path(),
            &minimal_host(),
        )
        .unwrap_err();
    let text = err.to_string();
    assert!(matches!(err, CompileError::StdNotLinkable(_)), "{text}");
    assert!(
        text.contains("std::io::stdio::_print") && text.contains("hotwasm build --hot"),
        "{text}"
    );
}

/// A host under Node that links no Rust at all: the late-binding C host plus the symbols every
/// Rust program defines (the allocator shim over `malloc`, a panic handler that aborts), under
/// this toolchain's mangled names.
fn rust_std_host() -> std::path::PathBuf {
    let names = rust_allocator_symbols();
    let named = |suffix: &str| names.iter().find(|n| n.ends_with(suffix)).unwrap().clone();
    let fixture = repo_root().join("tests/fixtures/late_binding_host.c");
    let source = format!(
        "#include \"{}\"\n#include <stdlib.h>\n\
         void *{alloc}(size_t size, size_t align) {{ return align <= 8 ? malloc(size) : aligned_alloc(align, (size + align - 1) / align * align); }}\n\
         void {dealloc}(void *p, size_t size, size_t align) {{ free(p); }}\n\
         void *{realloc}(void *p, size_t old, size_t align, size_t size) {{ void *q = {alloc}(size, align); memcpy(q, p, old < size ? old : size); free(p); return q; }}\n\
         void {no_shim}(void) {{}}\n\
         void {unwind}(void *info) {{ __builtin_trap(); }}\n\
         void {oom}(size_t size, size_t align) {{ __builtin_trap(); }}\n",
        fixture.display(),
        alloc = named("12___rust_alloc"),
        dealloc = named("14___rust_dealloc"),
        realloc = named("14___rust_realloc"),
        no_shim = named("___rust_no_alloc_shim_is_unstable_v2"),
        unwind = named("17rust_begin_unwind"),
        oom = named("26___rust_alloc_error_handler"),
    );
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR"));
    let path = dir.join("rust_std_host.c");
    if std::fs::read_to_string(&path).ok().as_deref() != Some(source.as_str()) {
        std::fs::write(&path, &source).unwrap();
    }
    let exports: Vec<&str> = names
        .iter()
        .map(String::as_str)
        .chain(["memcmp", "bcmp"])
        .collect();
    build_host(path.to_str().unwrap(), "emcc", &[], &exports)
}

#[test]
fn std_cases_return_the_right_values_in_a_host_that_links_no_rust() {
    let mut host = minimal_host();
    host.exports.extend(host_manifest().exports);
    host.exports.sort();
    host.exports.dedup();
    let mut session = Session::with_host(rust_std_host(), host);
    for (name, body, _) in CASES {
        session
            .eval_rust(&patch(name, body))
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        session.call(name, &format!("std_{name}"), None);
    }
    let out = session.run();
    for (name, _, want) in CASES {
        assert_eq!(out[name], want, "{name}");
    }
}
