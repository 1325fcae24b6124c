//! Shared helpers: the cc1 and wasm-ld lines learnt once per test binary from the real emcc.

use hotwasm_incremental::cc1::{self, Learnt};
use hotwasm_incremental::{Lang, Session};
use std::path::PathBuf;
use std::sync::OnceLock;

fn emcc() -> PathBuf {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .map(|d| d.join("emcc"))
        .find(|p| p.exists())
        .expect("emcc is not on PATH: eval \"$(bash scripts/setup.sh --print-env)\"")
}

/// The learnt lines for `lang` at -O2 with the server's patch flags.
pub fn learnt(lang: Lang) -> &'static Learnt {
    static C: OnceLock<Learnt> = OnceLock::new();
    static CPP: OnceLock<Learnt> = OnceLock::new();
    let cell = match lang {
        Lang::C => &C,
        Lang::Cpp => &CPP,
    };
    cell.get_or_init(|| cc1::learn(&emcc(), lang, &cc1::patch_flags(lang, "-O2")).expect("learn"))
}

/// A fresh incremental session for `lang`.
pub fn session(lang: Lang) -> Session {
    let program = PathBuf::from(env!("CARGO_BIN_EXE_hotwasm-clang-session"));
    Session::start_with(&program, lang, &learnt(lang).for_session()).expect("session starts")
}

/// Whether `bytes` contain `name` (a symbol or section name in a wasm file).
pub fn mentions(bytes: &[u8], name: &str) -> bool {
    bytes.windows(name.len()).any(|w| w == name.as_bytes())
}

/// The names of the functions and globals a wasm object imports (wasmparser's reading of the
/// linking section would be the production way; the import section suffices here).
pub fn imports(object: &[u8]) -> Vec<String> {
    let mut names = Vec::new();
    for payload in wasmparser::Parser::new(0).parse_all(object) {
        if let Ok(wasmparser::Payload::ImportSection(reader)) = payload {
            for import in reader.into_iter().flatten() {
                names.push(import.name.to_string());
            }
        }
    }
    names
}

/// The exports of the side module `object` links into (wasm-ld as emcc runs it).
pub fn linked_exports(object: &[u8]) -> Vec<String> {
    let dir = tempfile::tempdir().expect("tempdir");
    let obj = dir.path().join("eval.o");
    std::fs::write(&obj, object).expect("write");
    let so = dir.path().join("eval.so");
    let line = learnt(Lang::C).link_line(&[obj], &so);
    let (_, ok, printed) = hotwasm_incremental::link::wasm_ld_process(&line).expect("wasm-ld");
    assert!(ok, "{printed}");
    let bytes = std::fs::read(&so).expect("read");
    let mut names = Vec::new();
    for payload in wasmparser::Parser::new(0).parse_all(&bytes) {
        if let Ok(wasmparser::Payload::ExportSection(reader)) = payload {
            names.extend(reader.into_iter().flatten().map(|e| e.name.to_string()));
        }
    }
    names
}
