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

/// `server` with a page that got its replay and a REPL connection (dropped in reverse order).
fn connected(server: Server) -> (Server, Page, Socket) {
    let page = Page::connect(&server, None, 0);
    page.wait_replay();
    let repl = repl(&server);
    (server, page, repl)
}

#[test]
fn a_c_session_keeps_types_macros_and_functions_for_later_evals() {
    let _dog = watchdog(180);
    let (_server, _page, mut repl) = connected(Server::start());
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
    let (_server, _page, mut repl) = connected(server_with_atexit());
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
    let (_server, page, mut repl) = connected(server_with_atexit());
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
    let (_server, _page, mut repl) = connected(Server::start());
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
    let (_server, page, mut repl) = connected(Server::start());
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

/// Sends a `session_reset` and waits for its answer; returns `after_seq`.
fn session_reset(ws: &mut Socket) -> u64 {
    send(ws, serde_json::json!({"type":"session_reset","id":"r1"}));
    let r = recv_type(ws, "session_reset_result");
    assert_eq!(r["id"], "r1", "{r}");
    r["after_seq"].as_u64().expect("after_seq")
}

#[test]
fn a_session_reset_needs_the_token_and_starts_a_program_that_survives_a_restart() {
    let _dog = watchdog(180);
    let server = Server::start();
    // The reset travels on the same socket as an eval: no token (or a wrong one), no socket.
    let without = format!("ws://127.0.0.1:{}/repl", server.port);
    assert!(tungstenite::connect(&without).is_err());
    let wrong = format!("ws://127.0.0.1:{}/repl?token=00", server.port);
    assert!(tungstenite::connect(&wrong).is_err());
    let mut ws = repl(&server);
    let r = eval(
        &mut ws,
        "1",
        "typedef int meters;\nmeters height(void) { return 3; }",
    );
    ok(&r);
    let defined = r["seq"].as_u64().unwrap();
    assert_eq!(session_reset(&mut ws), defined);
    let r = refused(&eval(&mut ws, "2", "meters h = 2;"));
    assert!(
        r.contains("meters"),
        "a fresh session does not know the type: {r}"
    );
    // What the pages run stays: a later eval may still declare and call the function.
    ok(&eval(&mut ws, "3", "int height(void);\nheight()"));
    drop(ws);
    let server = server.restart();
    let mut ws = util::repl(&server);
    let r = refused(&eval(&mut ws, "4", "meters h = 2;"));
    assert!(r.contains("meters"), "the reset holds after a restart: {r}");
    ok(&eval(&mut ws, "5", "height()"));
}

/// The function names `wasm` imports.
fn imported(wasm: &[u8]) -> Vec<String> {
    let mut out = Vec::new();
    for p in wasmparser::Parser::new(0).parse_all(wasm) {
        if let Ok(wasmparser::Payload::ImportSection(r)) = p {
            out.extend(r.into_iter().flatten().map(|i| i.name.to_string()));
        }
    }
    out
}

#[test]
fn the_inputs_the_hand_written_scanners_misclassified_run_as_clang_reads_them() {
    let _dog = watchdog(900);
    for (i, case) in hotwasm_incremental::corpus::cases().iter().enumerate() {
        // A server each: the cases reuse names, and a journaled global keeps its type.
        let (_server, page, mut ws) = connected(server_with_atexit());
        let lang = match case.lang {
            hotwasm_incremental::Lang::C => "c",
            hotwasm_incremental::Lang::Cpp => "cpp",
        };
        for (j, setup) in case.setup.iter().enumerate() {
            ok(&eval_lang(&mut ws, &format!("{i}-setup{j}"), lang, setup));
        }
        let before = page.patches().len();
        let r = eval_lang(&mut ws, &format!("{i}"), lang, case.input);
        assert_eq!(r["ok"], true, "{}: {r}", case.name);
        let patches = page.patches();
        assert_eq!(patches.len(), before + 1, "{}", case.name);
        let patch = patches.last().unwrap();
        // What clang said the input is: the same compile, in a session of its own.
        agrees_with_its_own_session(case, case.setup, case.input, patch);
    }
}

/// Compiles `input` (after `setup`) in a clang session of its own and checks the server's `patch`
/// against it: the case's own check; statements, the value and dynamic initializers run once
/// after the swap (a `run` function in the header) and nothing else does; the value's recorder is
/// imported exactly when there is a value.
fn agrees_with_its_own_session(
    case: &hotwasm_incremental::corpus::Case,
    setup: &[&str],
    input: &str,
    patch: &Received,
) {
    let mut session = hotwasm_incremental::Session::start_with(
        &hotwasm_incremental::Session::default_program(),
        case.lang,
        &learnt(case.lang).for_session(),
    )
    .expect("a session starts");
    session.eval("#include \"hotwasm.h\"").unwrap();
    for setup in setup {
        assert!(session.eval(setup).unwrap().ok);
    }
    let out = session.eval(input).unwrap();
    (case.check)(&out).unwrap_or_else(|e| panic!("{}: {e}", case.name));
    let runs = !out.statements().is_empty() || out.value().is_some();
    assert!(!runs || out.run_once.is_some(), "{}", case.name);
    assert_eq!(
        patch.header["run"].is_string(),
        out.run_once.is_some(),
        "{}: {}",
        case.name,
        patch.header
    );
    let imports = imported(&patch.wasm);
    match out.value().and_then(|v| v.recorded_by.clone()) {
        Some(f) => assert!(imports.contains(&f), "{}: {imports:?}", case.name),
        None => assert!(
            !imports.iter().any(|i| i.starts_with("hotwasm_value")),
            "{}: {imports:?}",
            case.name
        ),
    }
}

/// The cc1 lines of `lang` learnt from the real emcc, once per test binary.
fn learnt(lang: hotwasm_incremental::Lang) -> &'static hotwasm_incremental::cc1::Learnt {
    use hotwasm_incremental::{cc1, Lang};
    use std::sync::OnceLock;
    static C: OnceLock<cc1::Learnt> = OnceLock::new();
    static CPP: OnceLock<cc1::Learnt> = OnceLock::new();
    let cell = if lang == Lang::C { &C } else { &CPP };
    cell.get_or_init(|| {
        let path = std::env::var_os("PATH").unwrap_or_default();
        let emcc = std::env::split_paths(&path)
            .map(|d| d.join("emcc"))
            .find(|p| p.exists())
            .expect("emcc is on PATH");
        let mut flags = cc1::patch_flags(lang, "-O2");
        flags.push(format!("-I{}", repo_root().join("abi/include").display()));
        cc1::learn(&emcc, lang, &flags).expect("learn")
    })
}

/// Sends `source` as text standing for the project file `name` and waits for its result.
fn eval_named(ws: &mut Socket, id: &str, lang: &str, name: &str, source: &str) -> Value {
    send(
        ws,
        serde_json::json!({"type":"eval","id":id,"lang":lang,"source":source,"name":name}),
    );
    loop {
        let v = recv(ws);
        if v["type"] == "eval_result" && v["id"] == id {
            return v;
        }
        assert_ne!(v["type"], "error", "{v}");
    }
}

#[test]
fn named_text_evals_are_split_by_clang_too_each_as_a_file_of_its_own() {
    let _dog = watchdog(900);
    for (i, case) in hotwasm_incremental::corpus::cases().iter().enumerate() {
        let (_server, page, mut ws) = connected(server_with_atexit());
        let (lang, name) = match case.lang {
            hotwasm_incremental::Lang::C => ("c", "src/case.c"),
            hotwasm_incremental::Lang::Cpp => ("cpp", "src/case.cpp"),
        };
        // A named eval is a file of its own: what the case sets up is in the same text.
        let mut text = case.setup.join("\n");
        text.push('\n');
        text.push_str(case.input);
        let r = eval_named(&mut ws, &format!("{i}"), lang, name, &text);
        if case.name.contains("lambda") {
            // As on the console (see above): evaluated, or refused naming the session's end.
            let e = r["error"].as_str().unwrap_or_default();
            assert!(r["ok"] == true || e.contains("ended unexpectedly"), "{r}");
            ok(&eval_named(
                &mut ws,
                &format!("{i}-after"),
                lang,
                name,
                "6 * 7",
            ));
            continue;
        }
        assert_eq!(r["ok"], true, "{}: {r}", case.name);
        let patch = page.patches().pop().expect("a patch arrived");
        agrees_with_its_own_session(case, &[], &text, &patch);
    }
}

#[test]
fn a_named_eval_finds_its_quoted_includes_beside_its_file_and_reports_errors_at_the_users_lines() {
    let _dog = watchdog(300);
    let (server, page, mut ws) = connected(server_with_atexit());
    let dir = server.root.path().join("src/game");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("tuning.h"), "#define SPEED 12\n").unwrap();
    let r = eval_named(
        &mut ws,
        "inc",
        "c",
        "src/game/step.c",
        "#include \"tuning.h\"\n#define TWICE_SPEED (2 * SPEED)\nint speed(void) { return TWICE_SPEED; }\nspeed()",
    );
    ok(&r);
    assert!(page.patches().last().unwrap().header["run"].is_string());
    let r = eval_named(
        &mut ws,
        "err",
        "c",
        "src/game/step.c",
        "int fine = 1;\nint broken(void) {\n  return fine +;\n}\n",
    );
    assert_eq!(r["ok"], false, "{r}");
    let d = &r["diagnostics"][0];
    assert_eq!(
        (
            d["file"].as_str(),
            d["line"].as_u64(),
            d["severity"].as_str()
        ),
        (Some("src/game/step.c"), Some(3), Some("error")),
        "{r}"
    );
    assert_eq!(d["column"], 16, "{r}");
    // The console's session calls the var the named eval defined (the journal declares it),
    // but the file's own macro stayed in that file.
    ok(&eval(&mut ws, "console-var", "speed()"));
    let r = eval(&mut ws, "console-macro", "TWICE_SPEED");
    assert_eq!(r["ok"], false, "{r}");
    assert!(
        r["error"].as_str().unwrap().contains("does not compile"),
        "{r}"
    );
}

#[test]
fn a_call_of_an_undeclared_host_function_names_the_app_header_that_declares_it() {
    let _dog = watchdog(180);
    let server = Server::start();
    let page = Page::connect(&server, None, 0);
    page.wait_replay();
    let mut repl = repl(&server);
    let r = eval(&mut repl, "1", "background_color(0)");
    let said = refused(&r);
    assert!(
        said.contains("the app's particles.h declares it")
            && said.contains(r#"#include \"particles.h\"` once"#),
        "{said}"
    );
    let r = eval(&mut repl, "2", "not_in_the_app(1)");
    assert!(!refused(&r).contains("function of the app"), "{r}");
    let r = cpp(&mut repl, "3", "int c = background_color(nullptr);");
    assert!(refused(&r).contains(r#"inside `extern \"C\""#), "{r}");
    // Included once, the header's declarations stay for every later eval.
    ok(&eval(&mut repl, "4", "#include \"particles.h\""));
    ok(&eval(
        &mut repl,
        "5",
        "uint32_t (*pick)(const World *) = background_color;",
    ));
}

#[test]
fn a_console_eval_after_a_named_eval_sees_what_the_named_eval_defined() {
    // The console's session is found in step without rebuilding its prelude while the journal is
    // unchanged; a named eval is a journal entry of another kind, whose function the next console
    // eval must see.
    let _dog = watchdog(180);
    let server = Server::start();
    let page = Page::connect(&server, None, 0);
    page.wait_replay();
    let mut ws = repl(&server);
    ok(&eval(&mut ws, "1", "6 * 7"));
    ok(&eval(&mut ws, "2", "6 * 8"));
    ok(&eval_named(
        &mut ws,
        "3",
        "c",
        "src/extra.c",
        "int triple(int x) { return 3 * x; }",
    ));
    ok(&eval(&mut ws, "4", "triple(14)"));
    ok(&eval(&mut ws, "5", "triple(15) + 1"));
}
