//! Candidate (b): one clang process per eval; the context carried from the AST.

use crate::util;
use hotwasm_incremental::percall::PerCallSession;
use hotwasm_incremental::Lang;

#[test]
fn per_call_context_carries_types_macros_and_functions_to_the_next_eval() {
    let mut s = PerCallSession::new(util::learnt(Lang::C), &[]).unwrap();
    let (first, _) = s.eval("#define K 3\ntypedef struct { int a, b; } pair;\nint pair_sum(pair p) { return p.a + p.b; }\nint g = 2;\ng++;\nint h = 1;").unwrap();
    assert!(first.ok, "{:?}", first.diagnostics);
    assert_eq!(first.statements().len(), 1);
    let (next, _) = s.eval("pair_sum((pair){K, g})").unwrap();
    assert!(next.ok, "{:?}", next.diagnostics);
    assert_eq!(
        next.value().and_then(|v| v.expr_type.as_deref()),
        Some("int")
    );
    assert!(
        util::imports(&next.object).contains(&"pair_sum".to_string()),
        "the function is not compiled again"
    );
}

#[test]
fn per_call_cannot_tell_a_final_call_with_semicolon_from_one_without() {
    let mut s = PerCallSession::new(util::learnt(Lang::C), &[]).unwrap();
    s.eval("int sq(int x) { return x * x; }").unwrap();
    let (with, _) = s.eval("sq(3);").unwrap();
    assert!(
        with.value().is_some(),
        "clang 19's AST dump has no semi-missing flag: guessed a value"
    );
}

#[test]
fn per_call_cpp_overloads_carry_to_the_next_eval() {
    let mut s = PerCallSession::new(util::learnt(Lang::Cpp), &[]).unwrap();
    let (first, _) = s
        .eval("int sq(int x) { return x * x; }\ndouble sq(double x) { return x * x; }")
        .unwrap();
    assert!(first.ok, "{:?}", first.diagnostics);
    let (next, _) = s.eval("sq(9) + sq(1.5)").unwrap();
    assert!(next.ok, "{:?}", next.diagnostics);
    assert_eq!(
        next.value().and_then(|v| v.expr_type.as_deref()),
        Some("double")
    );
}
