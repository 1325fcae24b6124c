//! A Rust REPL session is one growing program (issue 21, item 3), through the real server with
//! real rustc: the items of an eval (struct, fn, impl, const, use, static) are usable by name in
//! later evals, its functions are vars that later evals call late-bound (their calls are in the
//! patch's `hotwasm.vars`), an eval of items only is accepted, a redefinition code compiled since
//! could not survive is refused naming it, an undone eval's items are gone, and a restarted
//! server keeps the session (it is read from the journal). What the code computes is shown in a
//! real page: tests/browser/rust-session.test.mjs.
use crate::util;
use serde_json::{json, Value};
use util::*;

const ITEMS: &str = "#[derive(Debug, Clone, Copy)]\n\
struct Pt { x: f64, y: f64 }\n\
fn area(p: Pt) -> f64 { p.x * p.y }\n\
fn label(p: Pt) -> String { format!(\"{}x{}\", p.x, p.y) }\n\
impl Pt { fn twice(self) -> Pt { Pt { x: self.x * 2.0, y: self.y * 2.0 } } }\n\
const ONE: f64 = 1.0;\n";

/// The vars a delivered patch binds to (`hotwasm.vars`: `<name> <signature>` lines).
fn bound_vars(wasm: &[u8]) -> Vec<String> {
    let mut out = Vec::new();
    for p in wasmparser::Parser::new(0).parse_all(wasm) {
        if let Ok(wasmparser::Payload::CustomSection(c)) = p {
            if c.name() == "hotwasm.vars" {
                let text = String::from_utf8_lossy(c.data()).to_string();
                out.extend(
                    text.lines()
                        .filter_map(|l| l.split(' ').next().map(String::from)),
                );
            }
        }
    }
    out
}

fn ok(r: &Value) {
    assert_eq!(r["ok"], true, "{r}");
}

fn manifest_vars(page: &Page, seq: u64) -> Vec<String> {
    let p = page
        .patches()
        .into_iter()
        .find(|p| p.header["seq"] == seq)
        .expect("the page got the patch");
    p.header["manifest"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["var"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn a_struct_and_fns_of_one_eval_are_used_by_name_in_later_evals_through_late_bound_calls() {
    let _dog = watchdog(240);
    let server = Server::start_rust(&[], &["--no-watch"]);
    let page = Page::connect(&server, None, 0);
    page.wait_replay();
    let mut repl = repl(&server);
    let defs = eval_lang(&mut repl, "items", "rust", ITEMS);
    ok(&defs);
    let mut vars = manifest_vars(&page, defs["seq"].as_u64().unwrap());
    vars.sort();
    assert_eq!(vars, ["area", "label"], "the eval's functions are vars");
    let uses = eval_lang(
        &mut repl,
        "uses",
        "rust",
        "let p = Pt { x: 1.5, y: ONE }.twice();\n(area(p), label(p))",
    );
    ok(&uses);
    let seq = uses["seq"].as_u64().unwrap();
    let patch = page
        .patches()
        .into_iter()
        .find(|p| p.header["seq"] == seq)
        .unwrap();
    let mut called = bound_vars(&patch.wasm);
    called.sort();
    assert_eq!(called, ["area", "label"], "both calls are late-bound");
}

#[test]
fn an_eval_of_items_only_is_accepted() {
    let _dog = watchdog(240);
    let server = Server::start_rust(&[], &["--no-watch"]);
    let page = Page::connect(&server, None, 0);
    page.wait_replay();
    let mut repl = repl(&server);
    ok(&eval_lang(
        &mut repl,
        "type",
        "rust",
        "#[derive(Debug)]\nenum Dir { Up, Down }\n",
    ));
    ok(&eval_lang(
        &mut repl,
        "fn",
        "rust",
        "pub fn sq(x: i64) -> i64 { x * x }\n",
    ));
    ok(&eval_lang(
        &mut repl,
        "static",
        "rust",
        "static mut HITS: u32 = 0;\n",
    ));
    ok(&eval_lang(
        &mut repl,
        "use",
        "rust",
        "unsafe { HITS += 1; }\n(sq(9), Dir::Up, Dir::Down)",
    ));
}

#[test]
fn a_changed_signature_or_layout_is_refused_naming_the_item_and_the_way_out() {
    let _dog = watchdog(240);
    let server = Server::start_rust(&[], &["--no-watch"]);
    let page = Page::connect(&server, None, 0);
    page.wait_replay();
    let mut repl = repl(&server);
    ok(&eval_lang(&mut repl, "items", "rust", ITEMS));
    let sig = eval_lang(&mut repl, "sig", "rust", "fn area(p: &Pt) -> f64 { p.x }\n");
    assert_eq!(sig["ok"], false, "{sig}");
    let error = sig["error"].as_str().unwrap();
    assert!(
        error.contains("`fn area(p: Pt) -> f64`") && error.contains("`fn area(p: &Pt) -> f64`"),
        "{error}"
    );
    assert!(
        error.contains("another name") && error.contains(":undo"),
        "{error}"
    );
    let layout = eval_lang(
        &mut repl,
        "layout",
        "rust",
        "struct Pt { x: f32, y: f32 }\n",
    );
    assert_eq!(layout["ok"], false, "{layout}");
    let error = layout["error"].as_str().unwrap();
    assert!(
        error.contains("`Pt`") && error.contains("layout"),
        "{error}"
    );
    // The same signature with a new body, and the same fields with a new derive, are accepted.
    ok(&eval_lang(
        &mut repl,
        "body",
        "rust",
        "fn area(q: Pt) -> f64 { q.x * q.y * 1.0 }\n",
    ));
    ok(&eval_lang(
        &mut repl,
        "derive",
        "rust",
        "#[derive(Debug, Clone, Copy, PartialEq)]\nstruct Pt { x: f64, y: f64 }\n",
    ));
}

fn undo(repl: &mut Socket, seq: u64) -> Value {
    send(
        repl,
        json!({"type":"undo","id":"u","seq":seq,"state":false}),
    );
    loop {
        let v = recv(repl);
        if v["type"] == "undo_result" || v["type"] == "error" {
            return v;
        }
    }
}

#[test]
fn an_undone_eval_takes_its_items_with_it() {
    let _dog = watchdog(240);
    let server = Server::start_rust(&[], &["--no-watch"]);
    let page = Page::connect(&server, None, 0);
    page.wait_replay();
    let mut repl = repl(&server);
    let defs = eval_lang(&mut repl, "defs", "rust", "fn gone() -> i32 { 1 }\n");
    ok(&defs);
    ok(&eval_lang(&mut repl, "call", "rust", "gone()"));
    let u = undo(&mut repl, defs["seq"].as_u64().unwrap());
    assert_eq!(u["ok"], true, "{u}");
    let after = eval_lang(&mut repl, "again", "rust", "gone()");
    assert_eq!(after["ok"], false, "{after}");
    assert!(
        after["raw_output"]
            .as_str()
            .unwrap()
            .contains("cannot find function `gone`"),
        "{after}"
    );
}

#[test]
fn a_restarted_server_keeps_the_sessions_items_from_its_journal() {
    let _dog = watchdog(240);
    let server = Server::start_rust(&[], &["--no-watch"]);
    let mut first = repl(&server);
    ok(&eval_lang(&mut first, "items", "rust", ITEMS));
    drop(first);
    let server = server.restart();
    let page = Page::connect(&server, None, 0);
    assert_eq!(page.wait_replay(), 1, "the definitions are replayed");
    let mut again = repl(&server);
    ok(&eval_lang(
        &mut again,
        "uses",
        "rust",
        "area(Pt { x: 2.0, y: 3.0 })",
    ));
}

#[test]
fn a_compile_error_in_an_item_or_a_statement_is_at_the_users_line_and_column() {
    let _dog = watchdog(240);
    let server = Server::start_rust(&[], &["--no-watch"]);
    let mut repl = repl(&server);
    let error_at = |r: &Value| {
        assert_eq!(r["ok"], false, "{r}");
        let d = r["diagnostics"]
            .as_array()
            .unwrap()
            .iter()
            .find(|d| d["severity"] == "error")
            .unwrap_or_else(|| panic!("an error diagnostic: {r}"))
            .clone();
        (d["line"].as_u64().unwrap(), d["column"].as_u64().unwrap())
    };
    // In a function that becomes a var (hotwasm writes text before it on its line).
    let item = eval_lang(&mut repl, "item", "rust", "fn f() -> i32 { missing }\n");
    assert_eq!(error_at(&item), (1, 17));
    // In a statement after an item (the statements run in another function).
    let stmt = eval_lang(
        &mut repl,
        "stmt",
        "rust",
        "struct A;\nlet n: i32 = 1;\nlet s: String = n;\n",
    );
    assert_eq!(error_at(&stmt), (3, 17));
    // A syntax error, found before rustc runs.
    let syntax = eval_lang(&mut repl, "syntax", "rust", "let a = 1;\nlet b = ;\n");
    assert_eq!(error_at(&syntax).0, 2);
}

/// The names a patch imports and exports (any kind: functions, data through `GOT.mem`).
fn imports_and_exports(wasm: &[u8]) -> (Vec<String>, Vec<String>) {
    let (mut imports, mut exports) = (Vec::new(), Vec::new());
    for p in wasmparser::Parser::new(0).parse_all(wasm) {
        match p {
            Ok(wasmparser::Payload::ImportSection(r)) => {
                imports.extend(r.into_iter().flatten().map(|i| i.name.to_string()))
            }
            Ok(wasmparser::Payload::ExportSection(r)) => {
                exports.extend(r.into_iter().flatten().map(|e| e.name.to_string()))
            }
            _ => {}
        }
    }
    (imports, exports)
}

#[test]
fn a_thread_local_and_a_macro_of_one_eval_are_used_by_later_evals_with_one_storage() {
    let _dog = watchdog(240);
    let server = Server::start_rust(&[], &["--no-watch"]);
    let page = Page::connect(&server, None, 0);
    page.wait_replay();
    let mut repl = repl(&server);
    let defs = eval_lang(
        &mut repl,
        "defs",
        "rust",
        "thread_local! {\n    static COUNT: std::cell::Cell<i32> = std::cell::Cell::new(0);\n}\nmacro_rules! bump { ($k:ident) => { $k.with(|c| c.set(c.get() + 1)) }; }\n",
    );
    ok(&defs);
    let patch_of = |seq: &Value| {
        page.patches()
            .into_iter()
            .find(|p| p.header["seq"] == *seq)
            .expect("the page got the patch")
    };
    let (_, exported) = imports_and_exports(&patch_of(&defs["seq"]).wasm);
    assert!(
        exported.iter().any(|e| e == "hotwasm__tls_COUNT"),
        "the eval exports its thread-local key: {exported:?}"
    );
    for id in ["use1", "use2"] {
        let uses = eval_lang(&mut repl, id, "rust", "bump!(COUNT);\nCOUNT.get()");
        ok(&uses);
        let (imported, exported) = imports_and_exports(&patch_of(&uses["seq"]).wasm);
        assert!(
            imported.iter().any(|i| i == "hotwasm__tls_COUNT")
                && !exported.iter().any(|e| e == "hotwasm__tls_COUNT"),
            "a later eval uses the first eval's storage and defines none: {imported:?} {exported:?}"
        );
    }
}
