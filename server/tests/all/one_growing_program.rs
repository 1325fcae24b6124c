//! C and C++ text evals go through one incremental compiler session per language (issue 21):
//! every declaration an eval makes — a type, a macro, a class, a template, an overload, a global —
//! is visible to later evals; a redefinition follows the versioning rules; the session follows
//! the journal across a server restart and an undo, and `reset` starts a fresh one. Real server,
//! real clang session; the page acks without running (tests/browser runs them in Chromium).
use crate::util;
use serde_json::Value;
use util::*;

fn ok(r: &Value) {
    assert_eq!(r["ok"], true, "{r}");
}

fn refused(r: &Value) -> String {
    assert_eq!(r["ok"], false, "{r}");
    r.to_string()
}

#[test]
fn a_c_session_keeps_types_macros_and_functions_for_later_evals() {
    let _dog = watchdog(180);
    let server = Server::start();
    let page = Page::connect(&server, None, 0);
    page.wait_replay();
    let mut repl = repl(&server);
    ok(&eval(
        &mut repl,
        "1",
        "typedef struct { int a, b; } pair;\n#define TWICE(x) (2 * (x))\nenum color { RED, GREEN };\nstatic inline int sq(int x) { return x * x; }\nint pair_sum(pair p) { return p.a + p.b; }",
    ));
    ok(&eval(
        &mut repl,
        "2",
        "pair_sum((pair){3, 4}) + TWICE(GREEN) + sq(2)",
    ));
    ok(&eval(&mut repl, "3", "pair q = {1, 2};\nint total = 0;"));
    ok(&eval(&mut repl, "4", "total += pair_sum(q);\ntotal"));
    // A misclassified input of issue 21: the statement under #ifdef DEBUG does not run.
    ok(&eval(
        &mut repl,
        "5",
        "#ifdef DEBUG\ntotal = 99;\n#endif\ntotal",
    ));
}

fn cpp(repl: &mut Socket, id: &str, source: &str) -> Value {
    eval_lang(repl, id, "cpp", source)
}

#[test]
fn a_cpp_session_keeps_classes_templates_overloads_and_namespaces_for_later_evals() {
    let _dog = watchdog(300);
    let server = server_with_atexit();
    let page = Page::connect(&server, None, 0);
    page.wait_replay();
    let mut repl = repl(&server);
    ok(&cpp(
        &mut repl,
        "1",
        "#define SCALE 3\nstruct Point { int x, y; Point() : x{0}, y{0} {} Point(int a, int b) : x{a}, y{b} {} int sum() const { return x + y; } };\ntemplate <typename T> T twice(T v) { return v + v; }\nint twice_int(int v) { return twice(v); }\nint area(int w) { return w * w; }\nint area(int w, int h) { return w * h; }\nnamespace geo { int dist(Point p) { return p.sum(); } }\nusing geo::dist;",
    ));
    ok(&cpp(
        &mut repl,
        "2",
        "dist(Point(1, 2)) + twice(2.5) + area(3) + area(2, SCALE) + twice_int(4)",
    ));
    // A global with a constructor and a destructor, and the standard library across evals.
    ok(&cpp(
        &mut repl,
        "3",
        "#include <vector>\n#include <algorithm>\nstd::vector<int> v{3, 1, 2};",
    ));
    ok(&cpp(
        &mut repl,
        "4",
        "std::sort(v.begin(), v.end());\nv.size()",
    ));
    // A function with C++ linkage redefined: a new version.
    ok(&cpp(
        &mut repl,
        "5",
        "int area(int w) { return w * w * 2; }",
    ));
    ok(&cpp(&mut repl, "6", "area(3) + area(1, 1)"));
}

/// A server whose host exports the C library every HOT_RELOAD host exports
/// (scripts/libc-exports.txt) and `__cxa_atexit` (C++ globals register their destructors there),
/// and imports the C++ exception tag, as a host built with wasm exceptions does (see cpp_patches).
fn server_with_atexit() -> Server {
    use hotwasm_server::bundle::exports::{list_names, LIBC_EXPORTS};
    let server = Server::start();
    let path = server.root.path().join("build/hot/hotwasm-host.json");
    let mut host: hotwasm_abi::HostManifest =
        serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    host.exports
        .extend(list_names(LIBC_EXPORTS).map(String::from));
    host.exports
        .extend(["__cxa_atexit".into(), "__cpp_exception".into()]);
    host.exports.sort();
    host.exports.dedup();
    std::fs::write(&path, serde_json::to_string(&host).unwrap()).unwrap();
    server
}

#[test]
fn a_std_vector_global_is_constructed_after_the_swap_and_used_by_later_evals() {
    let _dog = watchdog(300);
    let server = server_with_atexit();
    let page = Page::connect(&server, None, 0);
    page.wait_replay();
    let mut repl = repl(&server);
    let r = cpp(
        &mut repl,
        "1",
        "#include <vector>\nstd::vector<int> v{1, 2, 3};",
    );
    ok(&r);
    let p = page.patches().pop().expect("a patch arrived");
    assert!(
        p.header["run"]
            .as_str()
            .is_some_and(|r| r.starts_with("hotwasm_main")),
        "the vector is constructed after the swap, by the run-once function: {}",
        p.header
    );
    ok(&cpp(&mut repl, "2", "v.push_back(4);\nv.size()"));
}

#[test]
fn a_record_redefined_with_another_layout_is_refused_naming_it_and_the_same_layout_is_accepted() {
    let _dog = watchdog(180);
    let server = Server::start();
    let page = Page::connect(&server, None, 0);
    page.wait_replay();
    let mut repl = repl(&server);
    ok(&eval(
        &mut repl,
        "1",
        "struct cell { int x; };\nstruct cell here = {1};",
    ));
    ok(&eval(&mut repl, "2", "struct cell { int x; };"));
    let r = refused(&eval(&mut repl, "3", "struct cell { int x; double y; };"));
    assert!(
        r.contains("`cell`") && r.contains("different layout"),
        "{r}"
    );
    // The session forgot the refused eval: the type is the accepted one.
    ok(&eval(&mut repl, "4", "here.x + (int)sizeof(struct cell)"));
}

#[test]
fn a_function_redefined_is_a_new_version_and_a_global_keeps_its_storage() {
    let _dog = watchdog(180);
    let server = Server::start();
    let page = Page::connect(&server, None, 0);
    page.wait_replay();
    let mut repl = repl(&server);
    ok(&eval(
        &mut repl,
        "1",
        "int counter = 5;\nint next(void) { return ++counter; }",
    ));
    let r = eval(
        &mut repl,
        "2",
        "int counter = 5;\nint next(void) { return counter += 2; }",
    );
    ok(&r);
    let seq = r["seq"].as_u64().unwrap();
    let p = page.patches().pop().expect("a patch arrived");
    let manifest = p.header["manifest"].to_string();
    assert!(
        manifest.contains(&hotwasm_abi::versioned_symbol("next", seq)),
        "{manifest}"
    );
    // A var keeps its signature: a new one is refused naming it, and the session forgets the
    // refused definition (the accepted one is what later evals call).
    let r = refused(&eval(
        &mut repl,
        "3",
        "long next(long by) { return counter += by; }",
    ));
    assert!(r.contains("`next`"), "{r}");
    ok(&eval(&mut repl, "4", "next() + counter"));
}

#[test]
fn the_session_is_replayed_from_the_journal_after_a_restart_and_follows_an_undo() {
    let _dog = watchdog(240);
    let server = Server::start();
    let mut repl = repl(&server);
    ok(&eval(
        &mut repl,
        "1",
        "typedef struct { int a, b; } pair;\n#define ADD(p) ((p).a + (p).b)",
    ));
    let r = eval(&mut repl, "2", "int pair_sum(pair p) { return ADD(p); }");
    ok(&r);
    let second = r["seq"].as_u64().unwrap();
    drop(repl);
    let server = server.restart();
    let mut repl = util::repl(&server);
    ok(&eval(&mut repl, "3", "pair_sum((pair){3, 4})"));
    send(
        &mut repl,
        serde_json::json!({"type":"undo","id":"u","seq":second,"state":false}),
    );
    loop {
        let v = recv(&mut repl);
        if v["type"] == "undo_result" {
            break;
        }
    }
    let r = refused(&eval(&mut repl, "4", "pair_sum((pair){3, 4})"));
    assert!(r.contains("pair_sum"), "{r}");
    ok(&eval(&mut repl, "5", "ADD(((pair){3, 4}))"));
}
