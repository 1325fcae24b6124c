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
