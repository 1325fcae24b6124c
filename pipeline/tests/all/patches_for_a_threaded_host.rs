//! A host built with threads (its manifest says `threads`): its patches are compiled and linked
//! with `-pthread` (their memory import is shared, as the engine requires of a side module
//! loaded into shared memory), and a late-bound call keeps its slot's address in linear memory,
//! not in a wasm global: a worker instantiates the patch without running its constructors, so
//! a global set by one would stay 0 there (tests/threads/evals-through-server.test.mjs runs such
//! calls on real workers).

use crate::late_binding::{host_manifest, repo_root, toolchain};
use hotwasm_pipeline::compile::{CSource, Compiler, CompilerConfig};
use std::time::Duration;
use wasmparser::{Parser, Payload, TypeRef};

/// A patch calling the host var `host_scale` late-bound.
const CALLS_A_VAR: &str = "int host_scale(int);\nint scaled(int v) { return host_scale(v) + 1; }\n";
/// The same patch without the call.
const CALLS_NOTHING: &str = "int scaled(int v) { return v + 1; }\n";

/// What a linked patch's wasm says about shared memory and its own mutable globals.
#[derive(Debug, PartialEq)]
struct Shape {
    memory_shared: bool,
    mutable_globals_defined: usize,
}

fn shape(wasm: &[u8]) -> Shape {
    let mut s = Shape {
        memory_shared: false,
        mutable_globals_defined: 0,
    };
    for payload in Parser::new(0).parse_all(wasm) {
        match payload.unwrap() {
            Payload::ImportSection(r) => {
                for import in r {
                    if let TypeRef::Memory(m) = import.unwrap().ty {
                        s.memory_shared = m.shared;
                    }
                }
            }
            Payload::GlobalSection(r) => {
                for g in r {
                    s.mutable_globals_defined += usize::from(g.unwrap().ty.mutable);
                }
            }
            _ => {}
        }
    }
    s
}

fn compile(threads: bool, source: &str) -> Shape {
    toolchain();
    let project = tempfile::tempdir().unwrap();
    let work = tempfile::tempdir().unwrap();
    let compiler = Compiler::new(CompilerConfig {
        root: project.path().to_path_buf(),
        include_dirs: vec![repo_root().join("abi/include")],
        defines: Vec::new(),
        rust_prelude: None,
        plain_emcc: false,
        opt: "-O2".into(),
        timeout: Duration::from_secs(120),
        memory_bytes: 2 << 30,
    })
    .unwrap();
    std::fs::write(work.path().join("patch.c"), source).unwrap();
    let host = hotwasm_abi::HostManifest {
        threads,
        ..host_manifest()
    };
    let src = CSource {
        cwd: work.path(),
        input: "patch.c",
        text: source,
        stands_for: None,
    };
    let compiled = compiler.compile(src, work.path(), &host).unwrap();
    let calls = compiled.plan.calls.iter().any(|v| v.name == "host_scale");
    assert_eq!(
        calls,
        source == CALLS_A_VAR,
        "host_scale is called late-bound"
    );
    shape(&compiled.wasm)
}

#[test]
fn a_threaded_hosts_patch_imports_shared_memory_and_keeps_its_slot_addresses_in_it() {
    let calls = compile(true, CALLS_A_VAR);
    assert!(calls.memory_shared, "{calls:?}");
    // No wasm global more than the same patch without the call (the -pthread module's own TLS
    // globals are in both): the slot's address lives in memory.
    assert_eq!(calls, compile(true, CALLS_NOTHING));
}

#[test]
fn a_host_without_threads_keeps_its_patch_memory_unshared() {
    let calls = compile(false, CALLS_A_VAR);
    assert!(!calls.memory_shared, "{calls:?}");
    let nothing = compile(false, CALLS_NOTHING);
    assert_eq!(
        calls.mutable_globals_defined,
        nothing.mutable_globals_defined + 1,
        "the trampoline's slot global"
    );
}
