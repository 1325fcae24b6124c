//! The compiler tells statements, declarations and the final value apart: every input of the
//! issue-21 corpus is classified right by the persistent session.

use crate::util;
use hotwasm_incremental::corpus;
use hotwasm_incremental::Lang;

#[test]
fn every_corpus_input_is_classified_right_by_the_persistent_session() {
    let mut failures = Vec::new();
    for case in corpus::cases() {
        let mut s = util::session(case.lang);
        for setup in case.setup {
            let out = s.eval(setup).unwrap();
            assert!(
                out.ok,
                "{}: setup {setup:?} failed: {:?}",
                case.name,
                out.errors()
            );
        }
        let out = s.eval(case.input).unwrap();
        if let Err(why) = (case.check)(&out) {
            failures.push(format!("{}: {why}", case.name));
        }
    }
    assert!(failures.is_empty(), "{failures:#?}");
}

#[test]
fn a_function_definition_reports_its_signature_and_symbol() {
    let mut s = util::session(Lang::C);
    let out = s.eval("int sq(int x) { return x * x; }").unwrap();
    let d = out.decl("sq").expect("sq declared");
    assert_eq!(d.kind, "Function");
    assert_eq!(d.ty.as_deref(), Some("int (int)"));
    assert_eq!(d.params, ["int"]);
    assert!(d.definition && !d.is_static);
    assert_eq!(d.symbol.as_deref(), Some("sq"));
    assert!(out.statements().is_empty() && out.value().is_none());
}

#[test]
fn cpp_overloads_report_their_mangled_symbols() {
    let mut s = util::session(Lang::Cpp);
    let out = s
        .eval("int twice(int x) { return 2 * x; }\ndouble twice(double x) { return 2 * x; }")
        .unwrap();
    let symbols: Vec<_> = out.decls.iter().filter_map(|d| d.symbol.clone()).collect();
    assert_eq!(symbols, ["_Z5twicei", "_Z5twiced"]);
}

#[test]
fn top_level_statements_run_in_the_run_once_function_not_at_load() {
    let mut s = util::session(Lang::C);
    let out = s.eval("int n = 1;\nn += 2;\nn *= 3;").unwrap();
    assert_eq!(out.statements().len(), 2);
    assert_eq!(
        out.load_initializers.len(),
        1,
        "{:?}",
        out.load_initializers
    );
    assert_eq!(out.run_once.as_deref(), Some("hotwasm_main"));
    let exports = util::linked_exports(&out.object);
    assert!(exports.contains(&"hotwasm_main".to_string()), "{exports:?}");
    let defs = s.eval("int m = 4;").unwrap();
    assert_eq!(defs.run_once, None, "an eval of definitions runs nothing");
}

#[test]
fn a_macro_definition_is_reported_by_name() {
    let mut s = util::session(Lang::C);
    let out = s.eval("#define SQ(x) ((x) * (x))\n#undef NOTHING").unwrap();
    let names: Vec<_> = out
        .macros
        .iter()
        .map(|m| (m.name.as_str(), m.defined))
        .collect();
    assert_eq!(names, [("SQ", true), ("NOTHING", false)]);
}

#[test]
fn a_cpp_global_with_a_constructor_is_dynamic_and_destructed() {
    let mut s = util::session(Lang::Cpp);
    // (A short std::string is constant-initialised in C++20; a vector allocates.)
    let out = s
        .eval("#include <vector>\nstd::vector<int> numbers{1, 2, 3};")
        .unwrap();
    let d = out.decl("numbers").expect("numbers declared");
    assert!(!d.constant_init && d.destructed, "{d:?}");
    assert_eq!(out.load_initializers.len(), 1);
    assert!(
        util::mentions(&out.object, "__cxa_atexit"),
        "the destructor is registered with __cxa_atexit"
    );
}

/// The ABI header the server would give the session as its first input.
fn abi_header() -> String {
    format!(
        "#include \"{}/../abi/include/hotwasm.h\"",
        env!("CARGO_MANIFEST_DIR")
    )
}

#[test]
fn the_final_value_is_recorded_by_the_abi_function_for_its_type() {
    let mut s = util::session(Lang::Cpp);
    assert!(s.eval(&abi_header()).unwrap().ok);
    let cases = [
        ("6 * 7", "hotwasm_value_i64", "int"),
        ("2.5f", "hotwasm_value_f32", "float"),
        ("1 < 2", "hotwasm_value_bool", "bool"),
        ("\"hi\"", "hotwasm_value_str", "const char[3]"),
        ("sizeof(int)", "hotwasm_value_u64", "unsigned long"),
    ];
    for (text, recorder, ty) in cases {
        let out = s.eval(text).unwrap();
        assert!(out.ok, "{text}: {:?}", out.errors());
        let v = out.value().unwrap_or_else(|| panic!("{text}: no value"));
        assert_eq!(v.recorded_by.as_deref(), Some(recorder), "{text}");
        assert_eq!(v.expr_type.as_deref(), Some(ty), "{text}");
        assert!(
            util::imports(&out.object).contains(&recorder.to_string()),
            "{text}"
        );
    }
}

#[test]
fn a_struct_value_is_recorded_as_its_bytes_in_c_and_cpp() {
    let mut s = util::session(Lang::Cpp);
    assert!(s.eval(&abi_header()).unwrap().ok);
    let out = s.eval("struct Q { int a, b; };\nQ{1, 2}").unwrap();
    assert!(out.ok, "{:?}", out.errors());
    let v = out.value().expect("a value");
    assert_eq!(v.recorded_by.as_deref(), Some("hotwasm_value_bytes"));
    assert_eq!(v.expr_type.as_deref(), Some("struct Q"));
    let mut c = util::session(Lang::C);
    assert!(c.eval(&abi_header()).unwrap().ok);
    let out = c.eval("struct p { int x, y; };\n(struct p){1, 2}").unwrap();
    assert!(out.ok, "{:?}", out.errors());
    assert_eq!(
        out.value().and_then(|v| v.recorded_by.as_deref()),
        Some("hotwasm_value_bytes")
    );
}

#[test]
fn a_value_without_a_recorder_for_its_type_is_still_classified() {
    let mut s = util::session(Lang::Cpp);
    assert!(s.eval(&abi_header()).unwrap().ok);
    let out = s.eval("struct D { int a; ~D() {} };\nD{1}").unwrap();
    assert!(out.ok, "{:?}", out.errors());
    let v = out.value().expect("a value");
    assert_eq!(
        v.recorded_by, None,
        "a destructor to run: not shown as bytes"
    );
    assert_eq!(v.expr_type.as_deref(), Some("struct D"));
}

#[test]
fn each_eval_reports_its_declarations_as_clang_prints_them_and_its_own_includes() {
    let mut s = util::session(Lang::C);
    let out = s
        .eval("#include <stdio.h>\n#ifdef NOT_DEFINED\n#include <math.h>\n#endif\nint kr(a, c) int a; char c; { return a + c; }\nint (*pick(int w))(int) { (void)w; return 0; }\nstatic int hidden(void) { return 1; }\nconst char *names[2] = {\"a\", \"b\"};\n")
        .unwrap();
    assert!(out.ok, "{:?}", out.errors());
    let declaration = |out: &hotwasm_incremental::EvalOutput, name: &str| {
        out.decl(name).and_then(|d| d.declaration.clone())
    };
    assert_eq!(
        declaration(&out, "kr").as_deref(),
        Some("int kr(int a, int c)")
    );
    assert_eq!(
        declaration(&out, "pick").as_deref(),
        Some("int (*pick(int w))(int)")
    );
    assert_eq!(
        declaration(&out, "names").as_deref(),
        Some("extern const char *names[2]")
    );
    let includes: Vec<_> = out
        .includes
        .iter()
        .map(|i| (i.name.as_str(), i.angled))
        .collect();
    assert_eq!(includes, [("stdio.h", true)]);
    // A later eval's own includes only: none here.
    let out = s.eval("int later(void) { return kr(1, 2); }\n").unwrap();
    assert!(out.ok && out.includes.is_empty(), "{:?}", out.includes);

    let mut s = util::session(Lang::Cpp);
    let out = s
        .eval("struct P { int get() const &; };\nint P::get() const & { return 1; }\nint twice(int x, int by = 2) { return x * by; }\ntemplate <class T> T ident(T t) { return t; }\n")
        .unwrap();
    assert!(out.ok, "{:?}", out.errors());
    assert_eq!(
        declaration(&out, "P::get").as_deref(),
        Some("int get() const &")
    );
    assert_eq!(
        declaration(&out, "twice").as_deref(),
        Some("int twice(int x, int by = 2)")
    );
    assert_eq!(declaration(&out, "ident"), None, "a template is no var");
}

#[test]
fn a_final_expression_is_printed_so_clang_does_not_warn_that_its_value_is_unused() {
    for lang in [Lang::C, Lang::Cpp] {
        let mut s = util::session(lang);
        assert!(s.eval(&abi_header()).unwrap().ok);
        assert!(s.eval("int total = 3;").unwrap().ok);
        for text in [
            "total",
            "total * 2",
            "total == 3",
            "\"str\" \"cat\"",
            "(char)65",
        ] {
            let out = s.eval(text).unwrap();
            assert!(out.ok, "{lang:?} {text}: {:?}", out.errors());
            assert!(out.value().is_some(), "{lang:?} {text}: no value");
            let warnings: Vec<_> = out
                .diagnostics
                .iter()
                .filter(|d| d.severity == "warning")
                .collect();
            assert!(warnings.is_empty(), "{lang:?} {text}: {warnings:?}");
        }
        let discarded = s.eval("total * 2;").unwrap();
        assert!(
            discarded
                .diagnostics
                .iter()
                .any(|d| d.severity == "warning" && d.message.contains("unused")),
            "{lang:?}: a statement with `;` still warns: {:?}",
            discarded.diagnostics
        );
    }
}
