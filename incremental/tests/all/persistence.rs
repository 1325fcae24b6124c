//! One growing program: what an eval declares stays visible to every later eval — types,
//! typedefs, macros, functions, C++ classes, templates, overloads, namespaces, `using`.

use crate::util;
use hotwasm_incremental::Lang;

fn ok(s: &mut hotwasm_incremental::Session, text: &str) -> hotwasm_incremental::EvalOutput {
    let out = s.eval(text).unwrap();
    assert!(out.ok, "{text:?}: {:?}", out.errors());
    out
}

#[test]
fn c_types_macros_and_functions_persist_across_evals() {
    let mut s = util::session(Lang::C);
    ok(&mut s, "#define K 3\ntypedef struct { int a, b; } pair;");
    ok(&mut s, "int pair_sum(pair p) { return p.a + p.b; }");
    let out = ok(&mut s, "pair_sum((pair){K, 4})");
    assert_eq!(
        out.value().and_then(|v| v.expr_type.as_deref()),
        Some("int")
    );
}

#[test]
fn cpp_classes_templates_overloads_and_namespaces_persist_across_evals() {
    let mut s = util::session(Lang::Cpp);
    ok(
        &mut s,
        "#define SCALE 10\nstruct Pt { int x, y; int sum() const { return x + y; } };",
    );
    ok(
        &mut s,
        "template <typename T> T twice(T v) { return v + v; }",
    );
    ok(
        &mut s,
        "int twice_i(int v) { return v * 2; }\ndouble twice_i(double v) { return v * 2; }",
    );
    ok(
        &mut s,
        "namespace geo { inline int area(Pt p) { return p.x * p.y; } }\nusing geo::area;",
    );
    let out = ok(
        &mut s,
        "twice(Pt{1, 2}.sum()) + twice_i(2.5) + area(Pt{3, 4}) * SCALE",
    );
    assert_eq!(
        out.value().and_then(|v| v.expr_type.as_deref()),
        Some("double")
    );
}

#[test]
fn cpp_std_headers_are_parsed_once_per_session() {
    let mut s = util::session(Lang::Cpp);
    let first = ok(
        &mut s,
        "#include <vector>\n#include <string>\n#include <algorithm>",
    );
    assert!(first.header_decls > 100, "{}", first.header_decls);
    ok(&mut s, "std::vector<int> v{3, 1, 2};");
    let again = ok(
        &mut s,
        "#include <vector>\nstd::sort(v.begin(), v.end());\nv[0]",
    );
    assert_eq!(
        again.header_decls, 0,
        "the include guard holds: nothing parsed again"
    );
    assert_eq!(
        again.value().and_then(|v| v.expr_type.as_deref()),
        Some("int")
    );
}

#[test]
fn a_later_eval_calls_an_earlier_function_through_an_import() {
    let mut s = util::session(Lang::C);
    ok(&mut s, "int sq(int x) { return x * x; }");
    let out = ok(&mut s, "int sq_plus(int x) { return sq(x) + 1; }");
    assert!(
        util::imports(&out.object).contains(&"sq".to_string()),
        "{:?}",
        util::imports(&out.object)
    );
}

#[test]
fn a_template_used_again_is_emitted_again_while_a_global_is_imported() {
    let mut s = util::session(Lang::Cpp);
    ok(&mut s, "int counter = 0;\ntemplate <class T> __attribute__((noinline)) T tw(T v) { return v + v; }\nint u1(int x) { return tw(x); }");
    let out = ok(&mut s, "int u2(int x) { counter++; return tw(x); }");
    let imports = util::imports(&out.object);
    assert!(imports.contains(&"counter".to_string()), "{imports:?}");
    assert!(!imports.iter().any(|i| i.contains("twIi")), "{imports:?}");
    assert!(
        util::mentions(&out.object, "_Z2twIiET_S0_"),
        "the instantiation is in this object (weak)"
    );
}

#[test]
fn redefining_a_c_function_replaces_it_even_with_a_new_signature() {
    let mut s = util::session(Lang::C);
    ok(&mut s, "int sq(int x) { return x * x; }");
    let again = ok(&mut s, "int sq(int x) { return x + x; }");
    assert_eq!(again.replaced, ["sq"]);
    assert_eq!(
        again.decl("sq").and_then(|d| d.symbol.as_deref()),
        Some("sq")
    );
    let retyped = ok(&mut s, "double sq(double x) { return x * 2; }");
    assert_eq!(retyped.replaced, ["sq"]);
    let out = ok(&mut s, "sq(1.5)");
    assert_eq!(
        out.value().and_then(|v| v.expr_type.as_deref()),
        Some("double")
    );
}

#[test]
fn redefining_a_cpp_class_replaces_it_and_keeps_other_overloads() {
    let mut s = util::session(Lang::Cpp);
    ok(
        &mut s,
        "struct P { int a; };\nint f(int x) { return x; }\nint f(double x) { return 2; }",
    );
    let again = ok(
        &mut s,
        "struct P { double b; };\nint f(int x) { return x + 1; }",
    );
    assert_eq!(again.replaced, ["P", "f"]);
    let out = ok(&mut s, "P{1.5}.b + f(2.5)");
    assert_eq!(
        out.value().and_then(|v| v.expr_type.as_deref()),
        Some("double")
    );
}

#[test]
fn a_redefinition_beside_another_error_replaces_nothing() {
    let mut s = util::session(Lang::C);
    ok(&mut s, "int sq(int x) { return x * x; }");
    let out = s
        .eval("int sq(int x) { return x + x; }\nint bad = nope;")
        .unwrap();
    assert!(!out.ok && out.replaced.is_empty());
    let out = ok(&mut s, "sq(3)");
    assert!(out.replaced.is_empty());
}

#[test]
fn a_library_declaration_is_never_replaced() {
    let mut s = util::session(Lang::C);
    ok(&mut s, "#include <stdlib.h>");
    let out = s.eval("double abs(double x) { return x; }").unwrap();
    assert!(!out.ok && out.replaced.is_empty(), "{:?}", out.errors());
}

#[test]
fn a_function_a_header_declares_can_be_defined_again_and_again() {
    for lang in [Lang::C, Lang::Cpp] {
        let mut s = util::session(lang);
        // The prototype stands for an app header's declaration (a host var).
        ok(
            &mut s,
            "#ifdef __cplusplus\nextern \"C\"\n#endif\nint color(int);",
        );
        ok(&mut s, "int color(int x) { return x; }");
        let again = ok(&mut s, "int color(int x) { return x + 1; }");
        assert_eq!(again.replaced, ["color"], "{lang:?}");
        ok(&mut s, "int color(int x) { return x + 2; }");
        ok(&mut s, "color(1)");
    }
}

#[test]
fn a_definition_a_later_eval_redeclares_can_be_defined_again() {
    for lang in [Lang::C, Lang::Cpp] {
        let mut s = util::session(lang);
        ok(
            &mut s,
            "int counter = 0;\nint bump(void) { return ++counter; }",
        );
        // A later eval refers to both by declaration only (as a patch header would).
        ok(
            &mut s,
            "extern int counter;\nint bump(void);\nint bump_ten(void) { return counter += 10; }",
        );
        let again = ok(
            &mut s,
            "int counter = 0;\nint bump(void) { return counter += 100; }",
        );
        let mut replaced = again.replaced.clone();
        replaced.sort();
        assert_eq!(replaced, ["bump", "counter"], "{lang:?}");
        ok(&mut s, "bump() + bump_ten()");
    }
}

#[test]
fn a_redefinition_that_first_includes_a_header_keeps_what_the_header_declares() {
    for lang in [Lang::C, Lang::Cpp] {
        let mut s = util::session(lang);
        ok(&mut s, "int up(int c) { return c; }");
        // The first parse fails (a redefinition), the second must still see toupper although
        // the header's include guard is defined by then.
        let again = ok(
            &mut s,
            "#include <ctype.h>\nint up(int c) { return toupper(c); }",
        );
        assert_eq!(again.replaced, ["up"], "{lang:?}");
        ok(&mut s, "int shout(int c) { return toupper(c) + up(c); }");
    }
}

/// An all-hot C++ host's template instantiation is replaced by an explicit specialization
/// (docs/ALL-HOT.md): a later eval may specialize it again, a new version.
#[test]
fn an_explicit_specialization_can_be_defined_again() {
    let mut s = util::session(Lang::Cpp);
    ok(
        &mut s,
        "template <typename T> T twice(T x) { return x + x; }",
    );
    ok(
        &mut s,
        "template <> int twice<int>(int x) { return x * 10; }",
    );
    let again = ok(
        &mut s,
        "template <> int twice<int>(int x) { return x * 20; }",
    );
    assert_eq!(again.replaced.len(), 1, "{:?}", again.replaced);
    let exports = util::linked_exports(&again.object);
    assert!(
        exports.iter().any(|e| e == "_Z5twiceIiET_S0_"),
        "{exports:?}"
    );
    // And once more: the chain of declarations stays usable.
    ok(
        &mut s,
        "template <> int twice<int>(int x) { return x * 30; }",
    );
    ok(&mut s, "int use_twice() { return twice(2); }");
}

/// Whether `object` defines `name` itself: it mentions it and does not import it.
fn defines(object: &[u8], name: &str) -> bool {
    util::mentions(object, name) && !util::imports(object).iter().any(|i| i == name)
}

#[test]
fn a_template_first_used_by_a_failed_input_is_emitted_by_the_next() {
    let mut s = util::session(Lang::Cpp);
    ok(&mut s, "template <class T> __attribute__((noinline)) T tw(T v) { return v + v; }\ntemplate <class T> __attribute__((noinline)) constexpr T cx(T v) { return v * 3; }\nint f(int x) { return x; }");
    // A redefinition is parsed twice: the first parse fails, after it instantiated `cx<int>`
    // (constexpr: at once) and queued `tw<int>`.
    let again = ok(&mut s, "int f(int x) { return tw(x) + cx(x); }");
    assert_eq!(again.replaced, ["f"]);
    assert!(
        defines(&again.object, "_Z2twIiET_S0_"),
        "{:?}",
        util::imports(&again.object)
    );
    assert!(
        defines(&again.object, "_Z2cxIiET_S0_"),
        "{:?}",
        util::imports(&again.object)
    );
    // A failed input that is the first to use them, then one that compiles.
    let failed = s
        .eval("long g(long x) { return tw(x) + cx(x) + not_declared; }")
        .unwrap();
    assert!(!failed.ok);
    let next = ok(&mut s, "long h(long x) { return tw(x) + cx(x); }");
    assert!(
        defines(&next.object, "_Z2twIlET_S0_"),
        "{:?}",
        util::imports(&next.object)
    );
    assert!(
        defines(&next.object, "_Z2cxIlET_S0_"),
        "{:?}",
        util::imports(&next.object)
    );
}

#[test]
fn a_c_tentative_definition_defines_its_storage() {
    let mut s = util::session(Lang::C);
    let out = ok(&mut s, "int tentative;\nint tentative_list[];");
    let exports = util::linked_exports(&out.object);
    assert!(
        exports.iter().any(|e| e == "tentative") && exports.iter().any(|e| e == "tentative_list"),
        "{exports:?}"
    );
    let later = ok(&mut s, "extern int tentative;\ntentative = 5;");
    assert!(
        util::imports(&later.object)
            .iter()
            .any(|i| i == "tentative"),
        "a later eval uses the same storage"
    );
    assert!(!util::mentions(&later.object, "tentative_list"));
}

#[test]
fn a_lambda_in_a_top_level_statement_mangles_as_a_lambda_at_namespace_scope() {
    let mut s = util::session(Lang::Cpp);
    ok(&mut s, "int seed = 1;");
    for i in 0..8 {
        let out = ok(
            &mut s,
            &format!("[](int x) __attribute__((noinline)) {{ seed += 2 * x + {i}; }}(21);"),
        );
        // `$_N::operator()(int) const`, as clang names a lambda outside any function.
        assert!(
            util::mentions(&out.object, "$_") && util::mentions(&out.object, "clEi"),
            "eval {i}"
        );
    }
}
