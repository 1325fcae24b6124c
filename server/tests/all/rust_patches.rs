//! Rust evals: compiled with rustc against the prelude crate, linked as a SIDE_MODULE that
//! imports std from the host, checked against the real host manifest and delivered; compile
//! errors come back at the user's line:column; a missing host export is refused by name.
use crate::util;
use serde_json::Value;
use util::*;

fn rust_server(env: &[(&str, &str)]) -> Server {
    Server::start_rust(env, &["--no-watch"])
}

fn rust_server_with(env: &[(&str, &str)], args: &[&str]) -> Server {
    Server::start_rust(env, args)
}

fn imports(wasm: &[u8]) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for p in wasmparser::Parser::new(0).parse_all(wasm) {
        if let wasmparser::Payload::ImportSection(r) = p.unwrap() {
            for i in r {
                let i = i.unwrap();
                out.push((i.module.to_string(), i.name.to_string()));
            }
        }
    }
    out
}

fn host_exports() -> Vec<String> {
    let text = std::fs::read_to_string(particles_manifest()).unwrap();
    let v: Value = serde_json::from_str(&text).unwrap();
    v["exports"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e.as_str().unwrap().to_string())
        .collect()
}

const BACKGROUND: &str = "// a plain Rust patch\n\
#[no_mangle]\n\
pub extern \"C\" fn background_color(world: *const World) -> u32 {\n    \
    let frame = unsafe { (*world).frame };\n    \
    0xff00_0000 | (frame as u32 & 0xff)\n\
}\n";

const STD_HEAVY: &str = "use std::collections::HashMap;\n\
#[no_mangle]\n\
pub extern \"C\" fn background_color(world: *const World) -> u32 {\n    \
    let frame = unsafe { (*world).frame };\n    \
    let words: Vec<String> = (1..=4).map(|i| format!(\"w{}-{}\", i, frame % 1)).collect();\n    \
    let mut counts: HashMap<&str, u32> = HashMap::new();\n    \
    for w in &words { *counts.entry(w.as_str()).or_insert(0) += 1; }\n    \
    let total: u32 = counts.values().sum();\n    \
    let caught = std::panic::catch_unwind(|| { if total == 4 { panic!(\"caught\"); } 0u32 });\n    \
    0xff00_0000 | (total * 0x20 + if caught.is_err() { 0x10 } else { 0 })\n\
}\n\
#[no_mangle]\n\
pub extern \"C\" fn hotwasm_main() { println!(\"{}\", format!(\"{:?}\", vec![1, 2, 3])); }\n";

#[test]
fn a_rust_eval_is_delivered_with_versioned_symbols() {
    let _dog = watchdog(120);
    let server = rust_server(&[]);
    let page = Page::connect(&server, None, 0);
    page.wait_replay();
    let mut repl = repl(&server);
    let r = eval_lang(&mut repl, "rs1", "rust", BACKGROUND);
    assert_eq!(r["ok"], true, "{r}");
    let seq = r["seq"].as_u64().unwrap();
    let patches = page.patches();
    let p = &patches[0];
    let manifest = &p.header["manifest"];
    assert_eq!(manifest.as_array().unwrap().len(), 1, "{manifest}");
    assert_eq!(manifest[0]["var"], "background_color");
    assert_eq!(manifest[0]["signature"], "ip");
    let symbol = format!("background_color__hw{seq}");
    assert_eq!(manifest[0]["symbol"], symbol.as_str());
    assert!(exports(&p.wasm).iter().any(|(n, _)| *n == symbol));
    assert!(p.wasm.len() < 16 * 1024, "{} bytes", p.wasm.len());
}

#[test]
fn a_std_heavy_rust_patch_imports_only_what_the_host_exports() {
    let _dog = watchdog(120);
    let server = rust_server(&[]);
    let page = Page::connect(&server, None, 0);
    page.wait_replay();
    let mut repl = repl(&server);
    let r = eval_lang(&mut repl, "std", "rust", STD_HEAVY);
    assert_eq!(r["ok"], true, "{r}");
    let p = &page.patches()[0];
    let manifest = p.header["manifest"].as_array().unwrap();
    let vars: Vec<&str> = manifest
        .iter()
        .map(|m| m["var"].as_str().unwrap())
        .collect();
    assert_eq!(vars, ["background_color"], "mangled exports are not vars");
    assert!(p.header["run"]
        .as_str()
        .unwrap()
        .starts_with("hotwasm_main__hw"));
    let host = host_exports();
    let linker = [
        "memory",
        "__indirect_function_table",
        "__memory_base",
        "__table_base",
        "__stack_pointer",
    ];
    let imported = imports(&p.wasm);
    assert!(
        imported.iter().any(|(_, n)| n.contains("format")),
        "{imported:?}"
    );
    for (module, name) in imported {
        assert!(
            linker.contains(&name.as_str()) || host.contains(&name),
            "{module}.{name} is not exported by the host"
        );
    }
    assert!(p.wasm.len() < 64 * 1024, "{} bytes", p.wasm.len());
}

#[test]
fn a_rust_compile_error_reports_the_users_line_and_column() {
    let _dog = watchdog(120);
    let server = rust_server(&[]);
    let mut repl = repl(&server);
    let src = "#[no_mangle]\npub extern \"C\" fn background_color(_w: *const World) -> u32 {\n    let a: u32 = 1;\n    a + missing_name\n}\n";
    let r = eval_lang(&mut repl, "bad", "rust", src);
    assert_eq!(r["ok"], false);
    assert_eq!(r["stage"], "compile");
    let d = &r["diagnostics"][0];
    assert_eq!(d["file"], "eval.rs");
    assert_eq!(d["line"], 4, "{r}");
    assert_eq!(d["column"], 9, "{r}");
    assert_eq!(d["severity"], "error");
    assert!(
        d["message"].as_str().unwrap().contains("missing_name"),
        "{d}"
    );
    let raw = r["raw_output"].as_str().unwrap();
    assert!(raw.contains("eval.rs:4:9"), "{raw}");
}

#[test]
fn a_missing_host_export_is_refused_with_its_demangled_name_and_the_fix() {
    let _dog = watchdog(120);
    let server = rust_server(&[]);
    let page = Page::connect(&server, None, 0);
    page.wait_replay();
    let mut repl = repl(&server);
    // A std function the demo host never uses and that holds std state (the panic hook): the
    // patch cannot copy it (stateless std code it would copy, see pipeline's rust_std tests).
    let src = "#[no_mangle]\npub extern \"C\" fn background_color(_w: *const World) -> u32 {\n    \
               let hook = std::panic::take_hook();\n    std::panic::set_hook(hook);\n    7\n}\n";
    let r = eval_lang(&mut repl, "std-miss", "rust", src);
    assert_eq!(r["ok"], false, "{r}");
    assert!(
        r["stage"] == "compile" || r["stage"] == "check",
        "refused before sending: {r}"
    );
    eprintln!("refusal stage: {}", r["stage"]);
    let e = r["error"].as_str().unwrap();
    assert!(e.contains("std::"), "demangled: {e}");
    assert!(e.contains("(symbol `_"), "raw name: {e}");
    assert!(e.contains("somewhere in your host's Rust code"), "{e}");
    assert!(e.contains("hotwasm build --hot"), "{e}");
    assert!(
        !e.contains("bug report"),
        "a refusal, not the linker's crash: {e}"
    );
    eprintln!("refusal: {e}");
    // A C function the patch declares itself is a var that no eval defines yet (late binding):
    // accepted with a warning, calls trap until an eval defines it.
    let src = "extern \"C\" { fn not_in_host(x: u32) -> u32; }\n#[no_mangle]\npub extern \"C\" fn background_color(_w: *const World) -> u32 {\n    unsafe { not_in_host(3) }\n}\n";
    let r = eval_lang(&mut repl, "pending", "rust", src);
    assert_eq!(r["ok"], true, "{r}");
    assert!(
        r["diagnostics"][0]["message"]
            .as_str()
            .unwrap()
            .contains("`not_in_host` is declared but no eval defines it yet"),
        "{r}"
    );
    wait_until("the pending-var patch", 10, || page.patches().len() == 1);
}

#[test]
fn without_rustc_a_rust_eval_says_how_to_get_it() {
    let _dog = watchdog(60);
    let server = rust_server(&[("HOTWASM_RUSTC", "/nonexistent/rustc")]);
    let mut repl = repl(&server);
    let r = eval_lang(&mut repl, "norustc", "rust", BACKGROUND);
    assert_eq!(r["ok"], false);
    assert_eq!(r["stage"], "compile");
    let e = r["error"].as_str().unwrap();
    assert!(e.contains("rustc") && e.contains("scripts/setup.sh"), "{e}");
    // C still works.
    let r = eval(&mut repl, "c", "int f(int x) { return x; }\n");
    assert_eq!(r["ok"], true, "{r}");
}

#[test]
fn saving_a_watched_rust_file_delivers_it_and_errors_reach_the_page() {
    let _dog = watchdog(120);
    let server = rust_server_with(&[], &[]);
    let page = Page::connect(&server, None, 0);
    page.wait_replay();
    let file = server.root.path().join("patches/bg.rs");
    std::fs::write(&file, BACKGROUND).unwrap();
    wait_until("a patch from the saved .rs file", 60, || {
        !page.patches().is_empty()
    });
    let p = &page.patches()[0];
    assert_eq!(p.header["manifest"][0]["var"], "background_color");
    std::fs::write(&file, "#[no_mangle]\npub extern \"C\" fn background_color(_w: *const World) -> u32 {\n    nope\n}\n").unwrap();
    wait_until("diagnostics for the bad save", 60, || {
        page.messages
            .lock()
            .unwrap()
            .iter()
            .any(|m| m["type"] == "diagnostics")
    });
    let msgs = page.messages.lock().unwrap().clone();
    let d = msgs.iter().find(|m| m["type"] == "diagnostics").unwrap();
    assert_eq!(d["name"], "patches/bg.rs");
    assert_eq!(d["diagnostics"][0]["file"], "patches/bg.rs");
    assert_eq!(d["diagnostics"][0]["line"], 3, "{d}");
    assert_eq!(d["diagnostics"][0]["column"], 5, "{d}");
    // The prelude is not a patch: saving it, then the patch file again, delivers only the
    // patch file (the watch handles saves in order, so a prelude patch would come first).
    let prelude = server
        .root
        .path()
        .join("examples/particles/patches/prelude.rs");
    let text = std::fs::read_to_string(&prelude).unwrap();
    std::fs::write(&prelude, text).unwrap();
    std::fs::write(&file, BACKGROUND).unwrap();
    wait_until("the patch of the second good save", 60, || {
        page.patches().len() >= 2
    });
    let p = &page.patches()[1];
    assert_eq!(
        p.header["manifest"][0]["var"], "background_color",
        "saving the prelude delivers nothing"
    );
}
