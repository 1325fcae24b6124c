//! Inputs that hand-written splitting got wrong (issue 21), each with what a correct
//! classification says about it. Both candidates are scored on it (the bench) and candidate (a)
//! is held to it (tests/classification.rs).

use crate::{EvalOutput, Lang};

/// One tricky input: evals run first, the input, and the check of its report.
pub struct Case {
    /// What it shows.
    pub name: &'static str,
    /// Its language.
    pub lang: Lang,
    /// Evals run before it, in the same session.
    pub setup: &'static [&'static str],
    /// The input classified.
    pub input: &'static str,
    /// `Ok` when the report classifies it right; else what is wrong.
    pub check: fn(&EvalOutput) -> Result<(), String>,
}

fn short(name: &str) -> &str {
    name.rsplit("::").next().unwrap_or(name)
}

/// Fails unless the eval compiled and declared `name` (last `::` component) of clang kind `kind`.
pub fn declares(out: &EvalOutput, kind: &str, name: &str) -> Result<(), String> {
    if !out.ok {
        return Err(format!("did not compile: {:?}", out.errors()));
    }
    let found = out
        .all_decls()
        .into_iter()
        .any(|d| d.kind == kind && d.name.as_deref().map(short) == Some(name));
    found.then_some(()).ok_or_else(|| {
        let seen: Vec<_> = out
            .all_decls()
            .iter()
            .map(|d| (d.kind.clone(), d.name.clone()))
            .collect();
        format!("no {kind} `{name}` among {seen:?}")
    })
}

/// Fails unless the eval has exactly `n` top-level statements (the value not counted).
pub fn statements(out: &EvalOutput, n: usize) -> Result<(), String> {
    let got = out.statements().len();
    (got == n)
        .then_some(())
        .ok_or_else(|| format!("{got} statements, expected {n}"))
}

/// Fails unless the eval ends in a value (no `;`) of type `ty`.
pub fn value_of_type(out: &EvalOutput, ty: &str) -> Result<(), String> {
    if !out.ok {
        return Err(format!("did not compile: {:?}", out.errors()));
    }
    match out.value() {
        Some(v) if v.expr_type.as_deref() == Some(ty) => Ok(()),
        Some(v) => Err(format!("a value of type {:?}, expected {ty}", v.expr_type)),
        None => Err("no final expression".into()),
    }
}

/// Fails when the eval ends in a value.
pub fn no_value(out: &EvalOutput) -> Result<(), String> {
    match out.value() {
        None => Ok(()),
        Some(v) => Err(format!(
            "read a value ({:?}) where there is none",
            v.statement
        )),
    }
}

/// The corpus.
pub fn cases() -> Vec<Case> {
    vec![
        Case {
            name: "statement under #ifdef DEBUG (undefined) does not run",
            lang: Lang::C,
            setup: &[],
            input: "int hits = 0;\n#ifdef DEBUG\nhits++;\n#endif\n",
            check: |o| declares(o, "Var", "hits").and(statements(o, 0)),
        },
        Case {
            name: "statement under #ifdef DEBUG (defined earlier) runs",
            lang: Lang::C,
            setup: &["#define DEBUG 1\nint hits = 0;"],
            input: "#ifdef DEBUG\nhits++;\n#endif\n",
            check: |o| statements(o, 1),
        },
        Case {
            name: "[[maybe_unused]] global stays a global",
            lang: Lang::Cpp,
            setup: &[],
            input: "[[maybe_unused]] int counter = 0;",
            check: |o| declares(o, "Var", "counter").and(statements(o, 0)),
        },
        Case {
            name: "default template argument does not swallow the rest",
            lang: Lang::Cpp,
            setup: &[],
            input: "template <typename T = int> T zero() { return T{}; }\nint after = zero();",
            check: |o| declares(o, "FunctionTemplate", "zero").and(declares(o, "Var", "after")),
        },
        Case {
            name: "operator= does not swallow the rest",
            lang: Lang::Cpp,
            setup: &[],
            input: "struct V { int x; V& operator=(const V& o) { x = o.x; return *this; } };\nint after = 1;",
            check: |o| declares(o, "CXXRecord", "V").and(declares(o, "Var", "after")),
        },
        Case {
            name: "immediately called lambda is a value",
            lang: Lang::Cpp,
            setup: &[],
            input: "[](int x) { return x * 2; }(21)",
            check: |o| value_of_type(o, "int"),
        },
        Case {
            name: "compound literal member is a value",
            lang: Lang::C,
            setup: &["struct p { int x, y; };"],
            input: "(struct p){1, 2}.x",
            check: |o| value_of_type(o, "int"),
        },
        Case {
            name: "labelled loop is a statement",
            lang: Lang::C,
            setup: &["int total = 0;"],
            input: "loop: for (int i = 0; i < 3; i++) { if (i == 1) continue; total += i; }",
            check: |o| statements(o, 1).and(no_value(o)),
        },
        Case {
            name: "constructor with member initializers is one definition",
            lang: Lang::Cpp,
            setup: &["struct Point { int x, y; Point(); };"],
            input: "Point::Point() : x{0}, y{0} {}",
            check: |o| declares(o, "CXXConstructor", "Point").and(statements(o, 0)),
        },
        Case {
            name: "multi-line raw string stays one literal",
            lang: Lang::Cpp,
            setup: &[],
            input: "const char *doc = R\"(line one\n\"quoted\"; int fake = 1;\n)\";\nint after = 3;",
            check: |o| {
                declares(o, "Var", "doc")
                    .and(declares(o, "Var", "after"))
                    .and(match declares(o, "Var", "fake") {
                        Ok(()) => Err("read `fake` out of the string".into()),
                        Err(_) => Ok(()),
                    })
            },
        },
        Case {
            name: "CRLF #define continuation",
            lang: Lang::C,
            setup: &[],
            input: "#define TWICE(x) \\\r\n  ((x) * 2)\r\nint four = TWICE(2);\r\n",
            check: |o| declares(o, "Var", "four").and(statements(o, 0)),
        },
        Case {
            name: "K&R definition keeps its body",
            lang: Lang::C,
            setup: &[],
            input: "int kr(a, b)\n  int a; int b;\n{ return a + b; }",
            check: |o| {
                declares(o, "Function", "kr")?;
                let d = o.decl("kr").expect("declared");
                (d.definition && d.params.len() == 2)
                    .then_some(())
                    .ok_or_else(|| format!("kr: definition {} params {:?}", d.definition, d.params))
            },
        },
        Case {
            name: "lo < x && x > hi is a value",
            lang: Lang::Cpp,
            setup: &["int lo = 1, x = 5, hi = 3;"],
            input: "lo < x && x > hi",
            check: |o| value_of_type(o, "bool"),
        },
        Case {
            name: "int(3.7)+1 is a value",
            lang: Lang::Cpp,
            setup: &[],
            input: "int(3.7)+1",
            check: |o| value_of_type(o, "int"),
        },
        Case {
            name: "a * b; multiplies when a is a variable",
            lang: Lang::C,
            setup: &["int a = 6, b = 7;"],
            input: "a * b;",
            check: |o| statements(o, 1).and(no_value(o)),
        },
        Case {
            name: "a * b; declares a pointer when a is a type",
            lang: Lang::C,
            setup: &["typedef int a;"],
            input: "a * b;",
            check: |o| declares(o, "Var", "b").and(statements(o, 0)),
        },
        Case {
            name: "a call with ; is a statement, not a value",
            lang: Lang::C,
            setup: &["int sq(int x) { return x * x; }"],
            input: "sq(3);",
            check: |o| statements(o, 1).and(no_value(o)),
        },
        Case {
            name: "a call without ; is the value",
            lang: Lang::C,
            setup: &["int sq(int x) { return x * x; }"],
            input: "sq(9)",
            check: |o| value_of_type(o, "int").and(statements(o, 0)),
        },
    ]
}
