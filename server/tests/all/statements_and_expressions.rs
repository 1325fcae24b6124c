//! An eval may hold statements and a trailing expression besides definitions: the server moves
//! them into a generated run-once function (`hotwasm_main`), so a statement-only eval is sent
//! with an empty manifest and that function to run; a trailing expression reports its value
//! through the `hotwasm_value_*` function of its type; diagnostics keep the user's lines and
//! columns. Real server, real clang; the page here acks without running (tests/node-repl/ runs
//! the patches in real pages and reads the values).
use crate::util;
use serde_json::Value;
use util::*;

/// The function names `wasm` imports.
fn imports(wasm: &[u8]) -> Vec<String> {
    use wasmparser::{Parser, Payload, TypeRef};
    let mut out = Vec::new();
    for p in Parser::new(0).parse_all(wasm) {
        if let Payload::ImportSection(r) = p.unwrap() {
            for i in r {
                let i = i.unwrap();
                if matches!(i.ty, TypeRef::Func(_)) {
                    out.push(i.name.to_string());
                }
            }
        }
    }
    out
}

fn last_patch(page: &Page) -> Received {
    page.patches().pop().expect("a patch arrived")
}

fn ok(r: &Value) {
    assert_eq!(r["ok"], true, "{r}");
}

#[test]
fn a_statement_only_eval_is_sent_with_an_empty_manifest_and_a_run_once_function() {
    let _dog = watchdog(120);
    let server = Server::start();
    let page = Page::connect(&server, None, 0);
    page.wait_replay();
    let mut repl = repl(&server);
    let r = eval(
        &mut repl,
        "s1",
        "#include <stdio.h>\nprintf(\"hi\\n\");\nputs(\"there\");\n",
    );
    ok(&r);
    let seq = r["seq"].as_u64().unwrap();
    let p = last_patch(&page);
    assert_eq!(p.header["manifest"], serde_json::json!([]), "{}", p.header);
    assert_eq!(
        p.header["run"],
        hotwasm_abi::versioned_symbol("hotwasm_main", seq)
    );
    let imported = imports(&p.wasm);
    assert!(
        !imported.iter().any(|i| i.starts_with("hotwasm_value")),
        "{imported:?}"
    );
}

#[test]
fn a_trailing_expression_reports_its_value_through_the_function_of_its_type() {
    let _dog = watchdog(300);
    let server = Server::start();
    let page = Page::connect(&server, None, 0);
    page.wait_replay();
    let mut repl = repl(&server);
    for (i, (source, reporter)) in [
        ("6*7", "hotwasm_value_i64"),
        ("1.5", "hotwasm_value_f64"),
        ("\"hi\"", "hotwasm_value_str"),
        ("(_Bool)1", "hotwasm_value_bool"),
        ("int counter = 2;\n&counter", "hotwasm_value_ptr"),
        (
            "struct pt { int x, y; } p = {1, 2};\np",
            "hotwasm_value_bytes",
        ),
    ]
    .into_iter()
    .enumerate()
    {
        let r = eval(&mut repl, &format!("e{i}"), source);
        ok(&r);
        let imported = imports(&last_patch(&page).wasm);
        assert!(
            imported.iter().any(|n| n == reporter),
            "{source}: {imported:?}"
        );
        assert!(last_patch(&page).header["run"].is_string(), "{source}");
    }
    // C++: the overload of the type (a class object by its bytes).
    for (i, (source, reporter)) in [
        ("1 < 2", "hotwasm_value_bool"),
        ("struct P { int x; };\nP{3}", "hotwasm_value_bytes"),
    ]
    .into_iter()
    .enumerate()
    {
        let r = eval_lang(&mut repl, &format!("cpp{i}"), "cpp", source);
        ok(&r);
        let imported = imports(&last_patch(&page).wasm);
        assert!(
            imported.iter().any(|n| n == reporter),
            "{source}: {imported:?}"
        );
    }
}

#[test]
fn a_c_global_assigned_by_a_statement_gets_its_value_from_the_run_once_function() {
    let _dog = watchdog(120);
    let server = Server::start();
    let page = Page::connect(&server, None, 0);
    page.wait_replay();
    let mut repl = repl(&server);
    // C wants constant initializers at file scope (the session is C, as clang sees it): the
    // refusal is clang's own, at the user's line; a statement assigns the value instead.
    let r = eval(
        &mut repl,
        "n0",
        "int twice(int v) { return 2 * v; }\nint doubled = twice(21);\n",
    );
    assert_eq!(r["ok"], false, "{r}");
    assert_eq!(r["diagnostics"][0]["line"], 2, "{r}");
    assert!(r.to_string().contains("not a compile-time constant"), "{r}");
    let r = eval(
        &mut repl,
        "n1",
        "int twice(int v) { return 2 * v; }\nint doubled;\ndoubled = twice(21);\n",
    );
    ok(&r);
    let p = last_patch(&page);
    assert!(p.header["run"].is_string(), "{}", p.header);
    assert_eq!(p.header["manifest"][0]["var"], "twice");
}

#[test]
fn a_void_trailing_expression_runs_as_a_statement() {
    let _dog = watchdog(120);
    let server = Server::start();
    let page = Page::connect(&server, None, 0);
    page.wait_replay();
    let mut repl = repl(&server);
    let r = eval(&mut repl, "v1", "static void nothing(void) {}\nnothing()");
    ok(&r);
    assert!(r["diagnostics"].as_array().unwrap().is_empty(), "{r}");
    let imported = imports(&last_patch(&page).wasm);
    assert!(
        !imported.iter().any(|i| i.starts_with("hotwasm_value")),
        "{imported:?}"
    );
}

#[test]
fn a_compile_error_in_a_statement_or_expression_keeps_the_users_line_and_column() {
    let _dog = watchdog(120);
    let server = Server::start();
    let mut repl = repl(&server);
    let r = eval(
        &mut repl,
        "c1",
        "int ok = 1;\nint twice(int x) { return 2 * x; }\n  ok += nope;\n",
    );
    assert_eq!(r["ok"], false, "{r}");
    let d = &r["diagnostics"][0];
    assert_eq!(
        (d["line"].as_u64(), d["column"].as_u64()),
        (Some(3), Some(9)),
        "{r}"
    );
    assert!(d["message"].as_str().unwrap().contains("nope"), "{r}");
    let r = eval(&mut repl, "c2", "int ok = 1;\n\nok +\n   missing");
    let d = &r["diagnostics"][0];
    assert_eq!(
        (d["line"].as_u64(), d["column"].as_u64()),
        (Some(4), Some(4)),
        "{r}"
    );
}

#[test]
fn definitions_only_compile_as_written_with_nothing_to_run() {
    let _dog = watchdog(120);
    let server = Server::start();
    let page = Page::connect(&server, None, 0);
    page.wait_replay();
    let mut repl = repl(&server);
    let r = eval(
        &mut repl,
        "d1",
        "int triple(int x) { return 3 * x; }\nint offset = 4;\n",
    );
    ok(&r);
    let p = last_patch(&page);
    assert!(p.header["run"].is_null(), "{}", p.header);
    assert_eq!(p.header["manifest"][0]["var"], "triple");
}

#[test]
fn a_host_older_than_value_printing_refuses_an_expression_before_sending_and_says_to_rebuild() {
    let _dog = watchdog(120);
    let server = Server::start();
    let manifest = server.root.path().join("build/hot/hotwasm-host.json");
    let mut old: Value = serde_json::from_str(HOST_MANIFEST).unwrap();
    old["exports"]
        .as_array_mut()
        .unwrap()
        .retain(|e| !e.as_str().unwrap().starts_with("hotwasm_value_"));
    std::fs::write(&manifest, old.to_string()).unwrap();
    let mut repl = repl(&server);
    let r = eval(&mut repl, "old1", "6*7");
    assert_eq!(r["ok"], false, "{r}");
    assert_eq!(r["stage"], "check", "{r}");
    let error = r["error"].as_str().unwrap();
    assert!(
        error.contains("hotwasm_value_i64") && error.contains("rebuild the host"),
        "{error}"
    );
    // Statements need nothing new from the host.
    ok(&eval(
        &mut repl,
        "old2",
        "#include <stdio.h>\nputs(\"still fine\");\n",
    ));
}
