//! The terminal client: `hotwasm repl` reads entries from stdin (ended by `;;` or a blank line),
//! evaluates each in the connected pages and prints the outcome and diagnostics; `--rust` takes
//! Rust entries.

use crate::util;

use std::io::Write;
use std::process::{Command, Stdio};
use util::{Page, Server};

fn run_repl(server: &Server, args: &[&str], input: &str) -> String {
    let mut child = Command::new(env!("CARGO_BIN_EXE_hotwasm"))
        .arg("repl")
        .args(args)
        .args(["--root", server.root.path().to_str().unwrap()])
        .envs(util::toolchain_env())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start hotwasm repl");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr)
}

#[test]
fn repl_evaluates_c_entries_and_prints_diagnostics() {
    let _dog = util::watchdog(120);
    let server = Server::start();
    let page = Page::connect(&server, None, 0);
    page.wait_replay();
    let out = run_repl(
        &server,
        &[],
        "int repl_answer(int x) {\n  return x + 41;\n}\n;;\nint broken(void) {\n  return 1\n}\n;;\n",
    );
    assert!(out.contains("ok: patch"), "{out}");
    assert!(
        out.contains("repl.c:3:1") || out.contains("repl.c:2:11"),
        "the second entry's error is located: {out}"
    );
    let patches = page.patches();
    assert_eq!(patches.len(), 1, "only the good entry was delivered");
}

#[test]
fn repl_with_rust_flag_evaluates_rust_entries() {
    let _dog = util::watchdog(180);
    let server = Server::start_rust(&[], &["--no-watch"]);
    let page = Page::connect(&server, None, 0);
    page.wait_replay();
    let out = run_repl(
        &server,
        &["--rust"],
        "#[no_mangle]\npub extern \"C\" fn repl_twice(x: i32) -> i32 {\n    x * 2\n}\n;;\n",
    );
    assert!(out.contains("ok: patch"), "{out}");
    assert_eq!(page.patches().len(), 1);
}

#[test]
fn a_cpp_line_switches_the_repl_to_cpp_entries() {
    let _dog = util::watchdog(300);
    let server = Server::start();
    let page = Page::connect(&server, None, 0);
    page.wait_replay();
    let out = run_repl(
        &server,
        &[],
        ":cpp\nnamespace { int twice(int x) { return 2 * x; } }\nextern \"C\" int repl_cpp(int x) { return twice(x); }\n;;\n",
    );
    assert!(
        out.contains("now C++ declarations and definitions"),
        "{out}"
    );
    assert!(out.contains("ok: patch"), "{out}");
    // The anonymous namespace's `twice` is a var too (by its mangled name), then `repl_cpp`.
    assert_eq!(page.patches()[0].header["manifest"][1]["var"], "repl_cpp");
}

#[test]
fn help_lists_the_commands() {
    let _dog = util::watchdog(60);
    let server = Server::start();
    let out = run_repl(
        &server,
        &[],
        ":help\n:quit\nint never_sent(void) { return 1; }\n;;\n",
    );
    for command in [
        ":vars",
        ":rollback NAME",
        ":load FILE",
        ":reset",
        ":c :cpp :rust",
        ":quit",
    ] {
        assert!(out.contains(command), "`{command}` in :help: {out}");
    }
    assert!(
        !out.contains("ok: patch"),
        ":quit leaves before the entry: {out}"
    );
}

#[test]
fn vars_lists_every_var_with_exact_versions_and_prototypes_and_rollback_reaches_the_pages() {
    let _dog = util::watchdog(120);
    let server = Server::start();
    let page = Page::connect(&server, None, 0);
    page.wait_replay();
    let out = run_repl(
        &server,
        &[],
        "int repl_v(int x) { return x; }\n;;\nint repl_v(int x) { return x + 1; }\n;;\n:vars\n:rollback repl_v\n:vars\n",
    );
    assert_eq!(out.matches("ok: patch").count(), 2, "{out}");
    assert!(
        out.contains("step_particle  vppf  version 1  (host)"),
        "host vars are listed with their signatures: {out}"
    );
    let first = out.find("repl_v  ii  version 2  (entry ").expect(&out);
    assert!(
        out.contains("int repl_v(int x);"),
        "with the prototype: {out}"
    );
    let rolled = out.find("rolled back repl_v on every page").expect(&out);
    let after = out.rfind("repl_v  ii  version 1  (entry ").expect(&out);
    assert!(first < rolled && rolled < after, "{out}");
    util::wait_until("the page gets the rollback", 10, || {
        page.messages
            .lock()
            .unwrap()
            .iter()
            .any(|m| m["type"] == "rollback" && m["var"] == "repl_v")
    });
}

#[test]
fn load_evaluates_a_file_in_the_language_of_its_extension() {
    let _dog = util::watchdog(120);
    let server = Server::start();
    let page = Page::connect(&server, None, 0);
    page.wait_replay();
    let file = server.root.path().join("loaded.c");
    std::fs::write(&file, "int repl_loaded(int x) {\n  return x * 5;\n}\n").unwrap();
    let input = format!(":load {}\n:load missing.c\n", file.display());
    let out = run_repl(&server, &[], &input);
    assert!(out.contains("ok: patch"), "{out}");
    assert!(out.contains("cannot read missing.c"), "{out}");
    assert_eq!(
        page.patches()[0].header["manifest"][0]["var"],
        "repl_loaded"
    );
}

#[test]
fn a_compile_error_shows_the_source_line_with_a_caret_under_the_column() {
    let _dog = util::watchdog(120);
    let server = Server::start();
    let page = Page::connect(&server, None, 0);
    page.wait_replay();
    let out = run_repl(&server, &[], "int broken(void) {\n  return 1\n}\n;;\n");
    assert!(out.contains("repl.c:2:11: error"), "{out}");
    assert!(
        out.contains("    2 |   return 1\n      |           ^\n"),
        "the caret sits under column 11: {out}"
    );
    assert!(page.patches().is_empty());
}

#[test]
fn an_unknown_lang_is_refused_naming_every_language() {
    let out = Command::new(env!("CARGO_BIN_EXE_hotwasm"))
        .args(["repl", "--lang", "go"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("invalid value 'go' for '--lang <LANG>'")
            && stderr.contains("[possible values: c, rust, cpp]"),
        "{stderr}"
    );
}

#[test]
fn reset_starts_a_fresh_program_for_later_entries() {
    let _dog = util::watchdog(120);
    let server = Server::start();
    let out = run_repl(
        &server,
        &[],
        "typedef int meters;\nmeters tall(void) { return 3; }\n;;\nmeters low(void) { return 1; }\n;;\n:reset\nmeters gone(void) { return 2; }\n;;\n",
    );
    assert_eq!(out.matches("ok: patch").count(), 2, "{out}");
    assert!(out.contains("fresh compiler sessions"), "{out}");
    assert!(
        out.contains("repl.c:1:1: error:") && out.contains("'meters'"),
        "the fresh session does not know the type: {out}"
    );
}
