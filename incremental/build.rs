//! Builds the C++ half of the session binary (cxx/*.cpp) against Debian's clang-19 C++
//! API and links it into the binaries only (`rustc-link-arg-bins`), so the library, and anything
//! that depends on it, never links libclang-cpp.

use std::path::PathBuf;
use std::process::Command;

#[path = "src/protocol_version.rs"]
mod protocol_version;
use protocol_version::PROTOCOL_VERSION;

/// The C++ half's sources and headers.
const CXX_SOURCES: &[&str] = &["cxx/session.cpp", "cxx/unfinished.cpp", "cxx/unfinished.h"];

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

/// One translation unit, optimised, no debug info: ~1 min on two shared cores.
fn compile_session(include: &str) {
    cc::Build::new()
        .cpp(true)
        .files(CXX_SOURCES.iter().filter(|f| f.ends_with(".cpp")))
        .include(include)
        .std("c++17")
        .opt_level(1)
        .debug(false)
        .cargo_metadata(false)
        .define("NDEBUG", None)
        .define(
            "HOTWASM_SESSION_PROTOCOL",
            PROTOCOL_VERSION.to_string().as_str(),
        )
        .define("_GNU_SOURCE", None)
        .define("__STDC_CONSTANT_MACROS", None)
        .define("__STDC_FORMAT_MACROS", None)
        .define("__STDC_LIMIT_MACROS", None)
        // Debian's LLVM is built without RTTI and exceptions.
        .flag("-fno-rtti")
        .flag("-fno-exceptions")
        .flag("-Wno-unused-parameter")
        .compile("hotwasm_clang_session");
}

/// Where the compiled archive of this exact source, build script and compiler is kept: the
/// workspace's `target/cxx-cache` (or `HOTWASM_CXX_CACHE`), named by a hash of all three, of the
/// protocol version it is compiled with and of the LLVM version.
fn cached_archive(include: &str) -> Option<PathBuf> {
    use std::hash::{Hash, Hasher};
    let mut hash = std::collections::hash_map::DefaultHasher::new();
    for file in CXX_SOURCES {
        std::fs::read(file).ok()?.hash(&mut hash);
    }
    std::fs::read("build.rs").ok()?.hash(&mut hash);
    PROTOCOL_VERSION.hash(&mut hash);
    include.hash(&mut hash);
    llvm_config("--version").hash(&mut hash);
    let cxx = cc::Build::new().cpp(true).get_compiler();
    let version = Command::new(cxx.path()).arg("--version").output().ok()?;
    version.stdout.hash(&mut hash);
    let dir = match std::env::var_os("HOTWASM_CXX_CACHE") {
        Some(dir) => PathBuf::from(dir),
        None => {
            PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").ok()?).join("../target/cxx-cache")
        }
    };
    Some(dir.join(format!("session-{:016x}.a", hash.finish())))
}

/// Keeps `archive` as `cache` (written beside it, then renamed: two builds at once never read
/// half a file). A cache that cannot be written only costs the next build a compile.
fn store(archive: &std::path::Path, cache: &std::path::Path) {
    let Some(dir) = cache.parent() else { return };
    let partial = cache.with_extension(format!("partial-{}", std::process::id()));
    let stored = std::fs::create_dir_all(dir)
        .and_then(|()| std::fs::copy(archive, &partial))
        .and_then(|_| std::fs::rename(&partial, cache));
    if stored.is_err() {
        let _ = std::fs::remove_file(&partial);
    }
}

fn main() {
    for file in CXX_SOURCES {
        println!("cargo:rerun-if-changed={file}");
    }
    println!("cargo:rerun-if-changed=src/protocol_version.rs");
    println!("cargo:rerun-if-env-changed=LLVM_CONFIG");
    println!("cargo:rerun-if-env-changed=HOTWASM_CXX_CACHE");
    let include = llvm_config("--includedir");
    let libdir = llvm_config("--libdir");
    for header in ["clang/Interpreter/Interpreter.h", "lld/Common/Driver.h"] {
        assert!(
            PathBuf::from(&include).join(header).exists(),
            "{include}/{header} is missing: apt-get install libclang-19-dev liblld-19-dev"
        );
    }
    let out = std::env::var("OUT_DIR").expect("OUT_DIR");
    let archive = PathBuf::from(&out).join("libhotwasm_clang_session.a");
    // The same C++ is compiled the same way for every profile (clippy's, the tests' debug build,
    // scripts/hotwasm's release build): compile it once per source and compiler, and copy.
    let cache = cached_archive(&include);
    let copied = cache
        .as_ref()
        .is_some_and(|c| std::fs::copy(c, &archive).is_ok());
    if !copied {
        compile_session(&include);
        if let Some(cache) = cache {
            store(&archive, &cache);
        }
    }
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
