//! The objects a session emits are wasm32 relocatable objects that wasm-ld links into a
//! SIDE_MODULE, as a process or inside the session process.

use crate::util;
use hotwasm_incremental::{link, Lang};

#[test]
fn each_eval_object_links_into_a_side_module_in_and_out_of_process() {
    let mut s = util::session(Lang::C);
    let out = s.eval("int sq(int x) { return x * x; }").unwrap();
    assert_eq!(&out.object[..4], b"\0asm");
    let dir = tempfile::tempdir().unwrap();
    let obj = dir.path().join("eval.o");
    std::fs::write(&obj, &out.object).unwrap();
    let learnt = util::learnt(Lang::C);
    // Same file name in two directories: the name lands in the module's name section.
    let (a_dir, b_dir) = (dir.path().join("a"), dir.path().join("b"));
    std::fs::create_dir_all(&a_dir).unwrap();
    std::fs::create_dir_all(&b_dir).unwrap();
    let process = learnt.link_line(std::slice::from_ref(&obj), &a_dir.join("p.so"));
    let (_, ok, printed) = link::wasm_ld_process(&process).unwrap();
    assert!(ok, "{printed}");
    let inproc = learnt.link_line(std::slice::from_ref(&obj), &b_dir.join("p.so"));
    let linked = s.link(&link::in_process_argv(&inproc)).unwrap();
    assert!(linked.ok, "{}", linked.messages);
    let a = std::fs::read(a_dir.join("p.so")).unwrap();
    let b = std::fs::read(b_dir.join("p.so")).unwrap();
    assert_eq!(a, b, "the in-process link writes the same side module");
    assert!(util::mentions(&a, "dylink.0"));
}

#[test]
fn a_cpp_eval_after_an_in_process_link_keeps_wasm_exceptions() {
    let mut s = util::session(Lang::Cpp);
    let out = s
        .eval("int thrower(int x) { if (x) throw x; return 0; }")
        .unwrap();
    assert!(out.ok, "{:?}", out.errors());
    let dir = tempfile::tempdir().unwrap();
    let obj = dir.path().join("eval.o");
    std::fs::write(&obj, &out.object).unwrap();
    let line = util::learnt(Lang::Cpp).link_line(&[obj], &dir.path().join("p.so"));
    assert!(s.link(&link::in_process_argv(&line)).unwrap().ok);
    let out = s
        .eval("int catcher(int x) { try { return thrower(x); } catch (int e) { return e; } }")
        .expect("the session survives a C++ eval after the linker reset LLVM's options");
    assert!(out.ok, "{:?}", out.errors());
}

#[test]
fn a_function_in_an_anonymous_namespace_is_emitted_and_exported_under_its_mangled_name() {
    // Nothing calls `bonus`: clang alone would not emit it (internal linkage), and a local
    // symbol could not replace the host's function of that name (docs/ALL-HOT.md).
    let mut s = util::session(Lang::Cpp);
    let out = s
        .eval("namespace { int bonus(int x) { return x * 100; } }\nnamespace geo { namespace { int inner() { return 1; } } }\n")
        .unwrap();
    assert!(out.ok, "{:?}", out.errors());
    let exports = util::linked_exports(&out.object);
    for name in ["_ZN12_GLOBAL__N_15bonusEi", "_ZN3geo12_GLOBAL__N_15innerEv"] {
        assert!(
            exports.iter().any(|e| e == name),
            "{name} not in {exports:?}"
        );
    }
}

#[test]
fn the_session_assembles_a_trampoline_to_the_same_object_as_an_llvm_mc_process() {
    let mut s = util::session(Lang::C);
    let dir = tempfile::tempdir().unwrap();
    let asm = dir.path().join("t.s");
    std::fs::write(
        &asm,
        ".functype hw_target (i32) -> (i32)\n.globl hw_tramp\nhw_tramp:\n  .functype hw_tramp (i32) -> (i32)\n  local.get 0\n  call hw_target\n  end_function\n",
    )
    .unwrap();
    let line = |out: &std::path::Path| -> Vec<String> {
        let mc = ["llvm-mc-19", "llvm-mc"]
            .iter()
            .find_map(|n| which(n))
            .expect("llvm-mc on PATH");
        [
            mc,
            "-triple=wasm32-unknown-emscripten".into(),
            "-filetype=obj".into(),
            "-mattr=+mutable-globals,+sign-ext,+reference-types,+multivalue".into(),
            asm.display().to_string(),
            "-o".into(),
            out.display().to_string(),
        ]
        .into()
    };
    let (by_process, in_session) = (dir.path().join("p.o"), dir.path().join("s.o"));
    let argv = line(&by_process);
    let status = std::process::Command::new(&argv[0])
        .args(&argv[1..])
        .status()
        .unwrap();
    assert!(status.success());
    let done = s.assemble(&line(&in_session)).unwrap();
    assert!(done.ok, "{}", done.messages);
    assert_eq!(
        std::fs::read(&by_process).unwrap(),
        std::fs::read(&in_session).unwrap(),
        "the same object bytes"
    );
    let bad = s
        .assemble(&[line(&in_session), vec!["--bogus".into()]].concat())
        .unwrap();
    assert!(
        !bad.ok && bad.messages.contains("--bogus"),
        "{}",
        bad.messages
    );
    std::fs::write(&asm, "  not_an_instruction\n").unwrap();
    let broken = s.assemble(&line(&in_session)).unwrap();
    assert!(!broken.ok && !broken.messages.is_empty());
}

fn which(name: &str) -> Option<String> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|d| d.join(name))
        .find(|p| p.is_file())
        .map(|p| p.display().to_string())
}
