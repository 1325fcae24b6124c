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

/// A C++ eval using `<vector>`, `<string>` and `<algorithm>`, linked in the session process.
fn std_eval_line(s: &mut hotwasm_incremental::Session, dir: &std::path::Path) -> Vec<String> {
    let out = s
        .eval("#include <vector>\n#include <string>\n#include <algorithm>\nint digits(int k) { std::vector<int> v{k, 3, 1}; std::sort(v.begin(), v.end()); return (int)std::to_string(v[2]).size(); }")
        .unwrap();
    assert!(out.ok, "{:?}", out.errors());
    let obj = dir.join("eval.o");
    std::fs::write(&obj, &out.object).unwrap();
    let mut line = util::learnt(Lang::Cpp).link_line(&[obj], &dir.join("p.so"));
    line.extend(["-lc++-except", "-lc++abi-except", "-lunwind-except"].map(String::from));
    line
}

#[test]
fn a_cpp_patch_linked_with_cached_archive_members_matches_the_archive_link() {
    let mut s = util::session(Lang::Cpp);
    let dir = tempfile::tempdir().unwrap();
    let line = std_eval_line(&mut s, dir.path());
    let cache = link::MemberCache::new(dir.path().join("cache"));
    let members = cache.members_for(&line).expect("the archives are cached");
    assert!(!members.iter().any(|a| a.starts_with("-l")), "{members:?}");
    assert!(
        members.iter().any(|a| a.ends_with("-string.o")),
        "{members:?}"
    );
    let with_archives = s.link(&link::in_process_argv(&line)).unwrap();
    assert!(with_archives.ok, "{}", with_archives.messages);
    let a = std::fs::read(dir.path().join("p.so")).unwrap();
    let with_members = s.link(&link::in_process_argv(&members)).unwrap();
    assert!(with_members.ok, "{}", with_members.messages);
    let b = std::fs::read(dir.path().join("p.so")).unwrap();
    let sorted = |mut v: Vec<String>| {
        v.sort();
        v
    };
    assert_eq!(
        sorted(util::imports(&a)),
        sorted(util::imports(&b)),
        "the same symbols are left to the host"
    );
    assert_eq!(
        sorted(util::linked_exports(&a)),
        sorted(util::linked_exports(&b))
    );
    let bodies = |wasm: &[u8]| {
        wasmparser::Parser::new(0)
            .parse_all(wasm)
            .filter(|p| matches!(p, Ok(wasmparser::Payload::CodeSectionEntry(_))))
            .count()
    };
    assert_eq!(bodies(&a), bodies(&b), "the same functions are linked");
}

/// Compiles the C `source` to a wasm32 PIC object in `dir` named `name`.
fn object(dir: &std::path::Path, name: &str, source: &str) -> std::path::PathBuf {
    let src = dir.join(format!("{name}.c"));
    std::fs::write(&src, source).unwrap();
    let obj = dir.join(format!("{name}.o"));
    let status = std::process::Command::new("clang-19")
        .args([
            "--target=wasm32-unknown-emscripten",
            "-fPIC",
            "-O2",
            "-c",
            "-o",
        ])
        .arg(&obj)
        .arg(&src)
        .status()
        .unwrap();
    assert!(status.success());
    obj
}

/// Makes `dir/libpick.a` of `members` with llvm-ar (replacing any earlier one).
fn archive(dir: &std::path::Path, members: &[std::path::PathBuf]) {
    let ar = dir.join("libpick.a");
    let _ = std::fs::remove_file(&ar);
    let status = std::process::Command::new("llvm-ar-19")
        .arg("rcs")
        .arg(&ar)
        .args(members)
        .status()
        .unwrap();
    assert!(status.success());
}

#[test]
fn a_rebuilt_archive_is_read_again_and_its_new_members_are_linked() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let main = object(
        d,
        "main",
        "int pick(void); int run(void) { return pick(); }",
    );
    let old = object(d, "old", "int pick(void) { return 1; }");
    let new = object(
        d,
        "new",
        "int helper(void); int pick(void) { return helper(); }",
    );
    let helper = object(d, "helper", "int helper(void) { return 2; }");
    let line: Vec<String> = vec![
        "wasm-ld".into(),
        format!("-L{}", d.display()),
        main.display().to_string(),
        "-lpick".into(),
    ];
    let cache = link::MemberCache::new(d.join("cache"));
    archive(d, std::slice::from_ref(&old));
    let first = cache.members_for(&line).unwrap();
    assert!(first.last().unwrap().ends_with("-old.o"), "{first:?}");
    // A toolchain change: the archive is rebuilt (other members, so another size).
    archive(d, &[old.clone(), new.clone(), helper.clone()]);
    let second = cache.members_for(&line).unwrap();
    let picked = &second[3..];
    assert_eq!(picked.len(), 1, "first definition of pick wins: {second:?}");
    assert!(picked[0].ends_with("-old.o"));
    assert_ne!(
        first.last(),
        second.last(),
        "the member comes from a new cache directory"
    );
    archive(d, &[new, helper]);
    let third = cache.members_for(&line).unwrap();
    let picked = &third[3..];
    assert_eq!(picked.len(), 2, "pick and what it needs: {third:?}");
    let new_member = picked
        .iter()
        .find(|m| m.ends_with("-new.o"))
        .expect("new.o");
    assert!(picked.iter().any(|m| m.ends_with("-helper.o")));
    assert_eq!(
        std::fs::read(new_member).unwrap(),
        std::fs::read(d.join("new.o")).unwrap()
    );
}

#[test]
fn a_symbol_no_archive_defines_is_left_to_the_host_and_odd_lines_keep_their_archives() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let main = object(
        d,
        "main",
        "int elsewhere(void); int run(void) { return elsewhere(); }",
    );
    let old = object(d, "old", "int pick(void) { return 1; }");
    archive(d, &[old]);
    let cache = link::MemberCache::new(d.join("cache"));
    let line = |extra: &[&str]| -> Vec<String> {
        let mut l = vec!["wasm-ld".to_string(), format!("-L{}", d.display())];
        l.extend(extra.iter().map(|s| s.to_string()));
        l.push(main.display().to_string());
        l.push("-lpick".into());
        l
    };
    let plain = cache.members_for(&line(&[])).unwrap();
    assert_eq!(plain.len(), 3, "no member is needed: {plain:?}");
    assert!(matches!(
        cache.members_for(&line(&["--whole-archive"])),
        Err(link::Unchanged::Unsure(_))
    ));
    assert_eq!(
        cache.members_for(&line(&[])[..3]),
        Err(link::Unchanged::NoArchives)
    );
}
