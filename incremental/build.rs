//! Builds the C++ half of the session binary (cxx/session.cpp) against Debian's clang-19 C++
//! API and links it into the binaries only (`rustc-link-arg-bins`), so the library, and anything
//! that depends on it, never links libclang-cpp.

use std::path::PathBuf;
use std::process::Command;

fn llvm_config(arg: &str) -> String {
    let tool = std::env::var("LLVM_CONFIG").unwrap_or_else(|_| "llvm-config-19".into());
    let out = Command::new(&tool).arg(arg).output().unwrap_or_else(|e| {
        panic!("{tool} is missing ({e}): apt-get install llvm-19-dev libclang-19-dev liblld-19-dev")
    });
    assert!(out.status.success(), "{tool} {arg} failed");
    String::from_utf8(out.stdout)
        .expect("utf-8")
        .trim()
        .to_string()
}

fn main() {
    println!("cargo:rerun-if-changed=cxx/session.cpp");
    println!("cargo:rerun-if-env-changed=LLVM_CONFIG");
    let include = llvm_config("--includedir");
    let libdir = llvm_config("--libdir");
    for header in ["clang/Interpreter/Interpreter.h", "lld/Common/Driver.h"] {
        assert!(
            PathBuf::from(&include).join(header).exists(),
            "{include}/{header} is missing: apt-get install libclang-19-dev liblld-19-dev"
        );
    }
    // One translation unit, optimised, no debug info: ~1 min on two shared cores.
    cc::Build::new()
        .cpp(true)
        .file("cxx/session.cpp")
        .include(&include)
        .std("c++17")
        .opt_level(1)
        .debug(false)
        .cargo_metadata(false)
        .define("NDEBUG", None)
        .define("_GNU_SOURCE", None)
        .define("__STDC_CONSTANT_MACROS", None)
        .define("__STDC_FORMAT_MACROS", None)
        .define("__STDC_LIMIT_MACROS", None)
        // Debian's LLVM is built without RTTI and exceptions.
        .flag("-fno-rtti")
        .flag("-fno-exceptions")
        .flag("-Wno-unused-parameter")
        .compile("hotwasm_clang_session");
    let out = std::env::var("OUT_DIR").expect("OUT_DIR");
    let link = [
        format!("{out}/libhotwasm_clang_session.a"),
        format!("-L{libdir}"),
        "-llldWasm".into(),
        "-llldCommon".into(),
        "-l:libclang-cpp.so.19.1".into(),
        "-lLLVM-19".into(),
        "-lstdc++".into(),
        format!("-Wl,-rpath,{libdir}"),
    ];
    for arg in link {
        println!("cargo:rustc-link-arg-bins={arg}");
    }
}
