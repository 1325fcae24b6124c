//! C++ patches through the server's own compile pipeline (fast path: clang -cc1 with the
//! precompiled std headers, llvm-mc trampolines, wasm-ld with the PIC C++ libraries), run under
//! Node in a C host that links no C++ and in a C++ host built with -fwasm-exceptions
//! (tests/fixtures/cpp/host.cpp). Sources: tests/fixtures/cpp/.
use crate::late_binding;
use hotwasm_abi::{HostManifest, HostVar, Signature};
use hotwasm_server::bundle::exports::{list_names, LIBC_EXPORTS};
use late_binding::{build_host, host_manifest, Session};
use std::path::PathBuf;
use std::process::Command;
use std::sync::OnceLock;

fn fixture(name: &str) -> String {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../tests/fixtures/cpp")
        .join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The C library every HOT_RELOAD host exports (scripts/libc-exports.txt, as `hotwasm build` uses it).
fn libc() -> Vec<&'static str> {
    list_names(LIBC_EXPORTS).collect()
}

/// `host` exporting [`libc`] and importing the C++ exception tag (a host manifest lists the host's
/// JS-library imports among its exports; a host built with -fwasm-exceptions imports the tag).
fn manifest_with_libc(mut host: HostManifest) -> HostManifest {
    host.exports.extend(libc().iter().map(|s| s.to_string()));
    host.exports.push("__cpp_exception".into());
    host.exports.sort();
    host.exports.dedup();
    host
}

/// The C host of the late-binding tests (links no C++), exporting the C library list.
pub fn c_host() -> Session {
    static JS: OnceLock<PathBuf> = OnceLock::new();
    let js = JS.get_or_init(|| {
        build_host(
            "tests/fixtures/cpp/c_host.c",
            "emcc",
            &["-fwasm-exceptions".into()],
            &[libc().as_slice(), &["host_imports_the_exception_tag"]].concat(),
        )
    });
    Session::with_host(js.clone(), manifest_with_libc(host_manifest()))
}

/// The host functions of tests/fixtures/cpp/shapes.h the C++ host exports.
const SHAPES_API: [&str; 4] = [
    "host_make_circle",
    "host_is_circle",
    "host_area_of",
    "host_throws",
];

/// The C++ host: -fwasm-exceptions, its C++ exception ABI exported, and the typeinfo and vtables
/// of its own classes (shapes.h), found in its object as `hotwasm build --hot` finds them.
pub fn cpp_host() -> Session {
    static HOST: OnceLock<(PathBuf, Vec<String>)> = OnceLock::new();
    let (js, types) = HOST.get_or_init(|| {
        late_binding::toolchain();
        let cache = Command::new("em-config").arg("CACHE").output().unwrap();
        let cache = PathBuf::from(String::from_utf8_lossy(&cache.stdout).trim());
        let lib = cache.join("sysroot/lib/wasm32-emscripten");
        let mut exports =
            hotwasm_server::compile::cpp::host_abi_exports(&[lib.join("pic"), lib]).unwrap();
        let types = host_types("tests/fixtures/cpp/host.cpp");
        exports.extend(types.iter().cloned());
        let rsp = std::env::temp_dir().join(format!("hotwasm-cxx-abi-{}.rsp", std::process::id()));
        let lines: Vec<String> = exports
            .iter()
            .map(|s| format!("--export-if-defined={s}"))
            .collect();
        std::fs::write(&rsp, lines.join("\n")).unwrap();
        let mut with_catching = libc();
        with_catching.push("call_ii_catching");
        with_catching.extend(SHAPES_API);
        let js = build_host(
            "tests/fixtures/cpp/host.cpp",
            "em++",
            &[
                "-fwasm-exceptions".into(),
                format!("-Wl,@{}", rsp.display()),
            ],
            &with_catching,
        );
        (js, types)
    });
    let mut host = manifest_with_libc(host_manifest());
    host.exports.extend(SHAPES_API.map(String::from));
    host.exports.extend(types.iter().cloned());
    Session::with_host(js.clone(), host)
}

/// The typeinfo, type names and vtables the object of C++ `source` defines (compiled as the
/// host is), read by the function `hotwasm build --hot` uses.
fn host_types(source: &str) -> Vec<String> {
    let object = std::env::temp_dir().join(format!("hotwasm-host-types-{}.o", std::process::id()));
    let out = Command::new("em++")
        .args(["-c", "-O1", "-fwasm-exceptions", "-fPIC"])
        .arg(late_binding::repo_root().join(source))
        .arg("-o")
        .arg(&object)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let types =
        hotwasm_server::compile::cpp::host_type_symbols(&std::fs::read(&object).unwrap()).unwrap();
    let _ = std::fs::remove_file(&object);
    types
}

const STD_CONTAINERS_5: i64 = 9134; // natively (g++ -O2 -std=c++20): cpp_containers(5)
const STD_CONTAINERS_40: i64 = 11140;

#[test]
fn a_std_heavy_patch_gives_the_native_result_in_a_host_that_links_no_cpp() {
    let mut s = c_host();
    s.eval_cpp(&fixture("std_containers.cpp")).unwrap();
    let compiled = s.last.as_ref().unwrap();
    eprintln!(
        "std-heavy C++ patch: {} bytes, compile {:?} (+ symbols {:?}) + link {:?}",
        compiled.wasm.len(),
        compiled.phases.compile,
        compiled.phases.symbols,
        compiled.phases.link
    );
    let vars: Vec<&str> = compiled.plan.vars().map(|v| v.name.as_str()).collect();
    assert_eq!(vars, ["cpp_containers"], "library calls are never vars");
    s.call("five", "cpp_containers", Some(5));
    s.call("forty", "cpp_containers", Some(40));
    let out = s.run();
    assert_eq!(
        (out["five"], out["forty"]),
        (STD_CONTAINERS_5, STD_CONTAINERS_40)
    );
}

#[test]
fn a_std_heavy_patch_gives_the_native_result_in_a_cpp_host() {
    let mut s = cpp_host();
    s.eval_cpp(&fixture("std_containers.cpp")).unwrap();
    s.call("five", "cpp_containers", Some(5));
    assert_eq!(s.run()["five"], STD_CONTAINERS_5);
}

#[test]
fn a_second_patch_binds_to_the_cpp_library_an_earlier_one_brought() {
    let mut s = c_host();
    s.eval_cpp(&fixture("std_containers.cpp")).unwrap();
    s.eval_cpp(
        "#include <string>\nextern \"C\" int digits(int n) { return (int)std::to_string(n).size(); }\n",
    )
    .unwrap();
    s.call("digits", "digits", Some(123456));
    s.call("again", "cpp_containers", Some(5));
    let out = s.run();
    assert_eq!((out["digits"], out["again"]), (6, STD_CONTAINERS_5));
}

#[test]
fn a_cpp_patch_links_the_c_library_functions_the_host_lacks() {
    let mut s = c_host();
    s.eval_cpp(
        "#include <cmath>\n#include <cstdlib>\n#include <cctype>\n\
         extern \"C\" int cpp_libc(int x) { return (int)std::hypot(3.0 * x, 4.0 * x) + std::toupper('a') + std::atoi(\"7\"); }\n",
    )
    .unwrap();
    s.call("v", "cpp_libc", Some(2));
    assert_eq!(s.run()["v"], 10 + 65 + 7);
}

#[test]
fn each_overload_is_its_own_var_and_a_redefinition_reaches_only_its_callers() {
    let mut s = c_host();
    s.eval_cpp(&fixture("overloads.cpp")).unwrap();
    let mut vars: Vec<String> = s.last.as_ref().unwrap().defined.clone();
    vars.sort();
    assert_eq!(vars, ["_Z5twiced", "_Z5twicei", "cpp_overloads"]);
    s.call("before", "cpp_overloads", Some(4));
    s.eval_cpp(&fixture("overload_redefined.cpp")).unwrap();
    assert_eq!(s.last.as_ref().unwrap().defined, ["_Z5twicei"]);
    s.call("after", "cpp_overloads", Some(4));
    let out = s.run();
    assert_eq!((out["before"], out["after"]), (809, 1209));
}

#[test]
fn a_cpp_linkage_definition_named_like_an_extern_c_var_is_refused_with_the_fix() {
    let mut host = host_manifest();
    host.vars.push(HostVar {
        name: "cpp_value".into(),
        signature: Signature::parse("ii").unwrap(),
    });
    let mut s = Session::with_host(late_binding::host_js(), manifest_with_libc(host));
    let e = s.eval_cpp(&fixture("not_extern_c.cpp")).unwrap_err();
    assert!(
        e.contains("`cpp_value(int)` has C++ linkage") && e.contains("extern \"C\""),
        "{e}"
    );
    let e = s
        .eval_cpp(&fixture("run_once_cpp_linkage.cpp"))
        .unwrap_err();
    assert!(e.contains("extern \"C\" void hotwasm_main(void)"), "{e}");
}

#[test]
fn a_cpp_linkage_call_of_a_host_var_is_refused_and_a_namespaced_namesake_is_not() {
    let mut s = c_host();
    let e = s
        .eval_cpp(
            "int host_scale(int);\nextern \"C\" int user(int v) { return host_scale(v) + 1; }\n",
        )
        .unwrap_err();
    assert!(
        e.contains("`host_scale(int)` with C++ linkage") && e.contains("extern \"C\""),
        "{e}"
    );
    s.eval_cpp("namespace ui { int host_scale(int v) { return v - 1; } }\nextern \"C\" int ui_user(int v) { return ui::host_scale(v); }\n")
        .unwrap();
    s.eval_cpp("extern \"C\" int host_scale(int);\nextern \"C\" int user2(int v) { return host_scale(v) + 1; }\n")
        .unwrap();
    s.call("ui", "ui_user", Some(5));
    s.call("user2", "user2", Some(5));
    let out = s.run();
    assert_eq!(
        (out["ui"], out["user2"]),
        (4, 51),
        "the host's host_scale is x * 10"
    );
}

#[test]
fn an_exception_caught_inside_the_patch_just_works() {
    let mut s = c_host();
    s.eval_cpp(&fixture("throws.cpp")).unwrap();
    s.call("caught", "cpp_catches", Some(7));
    s.call("none", "cpp_catches", Some(0));
    let out = s.run();
    assert_eq!(
        (out["caught"], out["none"]),
        (-10, 0),
        "-strlen(\"escaping 7\")"
    );
}

#[test]
fn an_escaping_exception_reaches_js_and_the_host_keeps_running() {
    let mut s = c_host();
    s.eval_cpp(&fixture("throws.cpp")).unwrap();
    s.call_via("escaped", "call_ii", "cpp_throws", 3);
    s.call("after", "cpp_catches", Some(0));
    let out = s.run();
    assert_eq!(
        out["escaped"], -1,
        "a WebAssembly.Exception, which hot.call treats as a trap"
    );
    assert_eq!(out["after"], 0);
}

#[test]
fn a_cpp_host_catches_a_patch_exception_by_its_std_type() {
    let mut s = cpp_host();
    s.eval_cpp(&fixture("throws.cpp")).unwrap();
    s.call_via("caught", "call_ii_catching", "cpp_throws", 3);
    assert_eq!(
        s.run()["caught"],
        -1010,
        "caught as std::exception: -1000 - strlen(what())"
    );
}

#[test]
fn a_cpp_compile_error_names_the_users_line() {
    let mut s = c_host();
    let e = s
        .eval_cpp("#include <vector>\nextern \"C\" int f(int n) {\n  std::vector<int> v(n);\n  return v.size() + missing;\n}\n")
        .unwrap_err();
    assert!(e.contains("eval.cpp:4:") && e.contains("missing"), "{e}");
}

#[test]
fn hotwasm_main_in_cpp_runs_once_when_extern_c() {
    let mut s = c_host();
    s.eval_cpp(&fixture("run_once.cpp")).unwrap();
    let compiled = s.last.as_ref().unwrap();
    assert_eq!(compiled.defined, ["hotwasm_main"]);
    let vars: Vec<&str> = compiled.plan.vars().map(|v| v.name.as_str()).collect();
    assert!(
        vars.is_empty(),
        "hotwasm_main is not a var, nor is anything it calls: {vars:?}"
    );
}

/// Warm compile + link times of C++ patches (printed; run with --ignored --nocapture).
#[test]
#[ignore]
fn warm_cpp_patch_times() {
    let mut s = c_host();
    let small = "extern \"C\" int small_value(int frame) { return frame % 100 + 1; }\n";
    for (label, src) in [
        ("std-heavy", fixture("std_containers.cpp")),
        ("trivial", small.to_string()),
    ] {
        for round in 0..4 {
            s.eval_cpp(&src).unwrap();
            let c = s.last.as_ref().unwrap();
            eprintln!(
                "{label} round {round}: {} bytes, compile {:?}, symbols {:?}, link {:?}, total {:?}",
                c.wasm.len(), c.phases.compile, c.phases.symbols, c.phases.link, c.elapsed
            );
        }
    }
}
