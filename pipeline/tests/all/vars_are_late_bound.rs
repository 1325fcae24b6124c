//! Every call from patch code to a var reaches the var's current implementation: the host's,
//! an earlier eval's, or one of the same patch; a pointer to a var follows redefinitions;
//! `static` functions stay private. Real clang/llvm-mc/wasm-ld patches, a real emcc host,
//! Node (see `late_binding/mod.rs`).
use crate::late_binding;
use late_binding::Session;

#[test]
fn redefining_a_callee_reaches_an_earlier_caller_in_the_same_patch() {
    let mut s = Session::new();
    s.eval("int b(int x) { return x + 1; }\nint a(int x) { return b(x) * 2; }\n")
        .unwrap();
    s.call("before", "a", Some(1));
    s.eval("int b(int x) { return x + 100; }\n").unwrap();
    s.call("after", "a", Some(1));
    let out = s.run();
    assert_eq!((out["before"], out["after"]), (4, 202));
}

#[test]
fn a_later_eval_calls_an_earlier_evals_var_after_declaring_it() {
    let mut s = Session::new();
    s.eval("int helper(int v) { return v * 3; }\n").unwrap();
    s.eval("int helper(int);\nint user(int v) { return helper(v) + 1; }\n")
        .unwrap();
    s.call("user", "user", Some(5));
    s.eval("int helper(int v) { return v * 4; }\n").unwrap();
    s.call("user2", "user", Some(5));
    let out = s.run();
    assert_eq!((out["user"], out["user2"]), (16, 21));
}

#[test]
fn mutual_recursion_across_two_evals() {
    let mut s = Session::new();
    s.eval("int is_odd(int);\nint is_even(int n) { return n == 0 ? 1 : is_odd(n - 1); }\n")
        .unwrap();
    s.eval("int is_even(int);\nint is_odd(int n) { return n == 0 ? 0 : is_even(n - 1); }\n")
        .unwrap();
    s.call("even10", "is_even", Some(10));
    s.call("odd7", "is_odd", Some(7));
    s.call("even7", "is_even", Some(7));
    let out = s.run();
    assert_eq!((out["even10"], out["odd7"], out["even7"]), (1, 1, 0));
}

#[test]
fn a_stored_function_pointer_follows_a_redefinition() {
    let mut s = Session::new();
    s.eval(
        "int f(void) { return 1; }\n\
         static int (*saved)(void);\n\
         int store(void) { saved = f; return 0; }\n\
         int call_saved(void) { return saved(); }\n",
    )
    .unwrap();
    s.call("store", "store", None);
    s.call("first", "call_saved", None);
    s.eval("int f(void) { return 2; }\n").unwrap();
    s.call("second", "call_saved", None);
    let out = s.run();
    assert_eq!((out["first"], out["second"]), (1, 2));
}

#[test]
fn redefining_a_host_var_reaches_the_hosts_own_calls_and_patches_call_it_late_bound() {
    let mut s = Session::new();
    s.host_call("default", 2);
    s.eval("int host_scale(int);\nint twice_scaled(int x) { return 2 * host_scale(x); }\n")
        .unwrap();
    s.call("patch_before", "twice_scaled", Some(1));
    s.eval("int host_scale(int x) { return x * 3; }\n").unwrap();
    s.host_call("host_after", 2);
    s.call("patch_after", "twice_scaled", Some(1));
    let out = s.run();
    assert_eq!(out["default"], 20);
    assert_eq!(
        (out["patch_before"], out["host_after"], out["patch_after"]),
        (20, 6, 6)
    );
}

#[test]
fn static_functions_stay_private_and_direct() {
    let mut s = Session::new();
    s.eval("static int helper(int v) { return v + 1; }\nint pub_fn(int v) { return helper(v); }\n")
        .unwrap();
    let plan = &s.last.as_ref().unwrap().plan;
    let names: Vec<&str> = plan.vars().map(|v| v.name.as_str()).collect();
    assert_eq!(names, vec!["pub_fn"]);
    s.call("r", "pub_fn", Some(1));
    assert_eq!(s.run()["r"], 2);
}

#[test]
fn a_signature_change_is_refused_naming_both_signatures() {
    let mut s = Session::new();
    s.eval("int g(int x) { return x; }\n").unwrap();
    let e = s.eval("int g(float x) { return (int)x; }\n").unwrap_err();
    assert!(e.contains("`ii`") && e.contains("`if`"), "{e}");
    let e = s
        .eval("int g(int, int);\nint h(void) { return g(1, 2); }\n")
        .unwrap_err();
    assert!(e.contains("`ii`") && e.contains("`iii`"), "{e}");
}

#[test]
fn a_pure_library_function_the_host_lacks_runs_from_the_patch_and_a_stateful_one_is_refused() {
    let mut s = Session::new();
    s.eval("#include <stdlib.h>\n#include <math.h>\nint f(int x) { return atoi(\" 40\") + (int)hypot(3.0, 4.0) * x; }\n")
        .unwrap();
    s.call("f", "f", Some(2));
    let e = s
        .eval("#include <stdlib.h>\nint g(const char *s) { return setenv(s, s, 1); }\n")
        .unwrap_err();
    assert!(
        e.contains("`setenv`") && e.contains("does not export"),
        "{e}"
    );
    assert_eq!(s.run()["f"], 50);
}

#[test]
fn a_missing_header_is_reported_as_not_found_with_its_line() {
    let mut s = Session::new();
    let e = s
        .eval("int a = 1;\n#include \"nowhere.h\"\nint f(void) { return 1; }\n")
        .unwrap_err();
    assert!(
        e.contains("eval.c:2") && e.contains("'nowhere.h' file not found"),
        "{e}"
    );
}
