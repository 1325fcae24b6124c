//! Inputs that end inside an unfinished construct (a REPL user's half-typed line): each is
//! refused at once with an error saying what is open, where, and how to finish it, and the
//! session keeps every earlier declaration. (clang 19's parser looped for ever on them in
//! incremental mode: the session overran its deadline and was killed.)

use crate::util;
use hotwasm_incremental::{Lang, Session};
use std::time::Duration;

/// A session whose deadline is short enough that a parser loop fails the test quickly.
fn session(lang: Lang) -> Session {
    let mut s = util::session(lang);
    s.set_timeout(Duration::from_secs(5));
    s
}

/// Evaluates `input`, which must be refused with one error at (`line`, `column`) whose message
/// holds `says`; then `next` must compile in the same session.
fn refused_then_usable(s: &mut Session, input: &str, at: (u32, u32), says: &str, next: &str) {
    let out = s
        .eval(input)
        .unwrap_or_else(|e| panic!("{input:?}: the session did not answer: {e}"));
    assert!(!out.ok && out.object.is_empty(), "{input:?} was accepted");
    let errors = out.errors();
    assert_eq!(errors.len(), 1, "{input:?}: {errors:?}");
    let e = errors[0];
    assert_eq!((e.line, e.column), at, "{input:?}: {e:?}");
    assert!(e.message.contains(says), "{input:?}: {}", e.message);
    assert!(e.file.starts_with("eval_"), "{e:?}");
    let out = s
        .eval(next)
        .unwrap_or_else(|e| panic!("after {input:?}: {e}"));
    assert!(out.ok, "after {input:?}, {next:?}: {:?}", out.errors());
}

#[test]
fn a_c_eval_ending_inside_a_loop_body_is_refused_and_the_next_eval_sees_the_earlier_global() {
    let mut s = session(Lang::C);
    assert!(s.eval("int total = 0;").unwrap().ok);
    refused_then_usable(
        &mut s,
        "for (int i = 0; i < 3; i++) { total +=",
        (1, 29),
        "the eval ends inside an unfinished '{' opened at line 1: finish it with '}'",
        "for (int i = 0; i < 3; i++) { total += i; }\ntotal + 1",
    );
}

#[test]
fn an_unfinished_macro_call_names_the_macro() {
    let mut s = session(Lang::C);
    let setup = "#define TWICE(x) ((x)*2)\nstruct P { int a; } p = {4};";
    assert!(s.eval(setup).unwrap().ok);
    refused_then_usable(
        &mut s,
        "TWICE(p.a",
        (1, 6),
        "inside the call of macro 'TWICE' opened at line 1: close its arguments with ')'",
        "TWICE(p.a)",
    );
}

#[test]
fn unfinished_c_constructs_are_each_refused_with_their_fix() {
    let mut s = session(Lang::C);
    assert!(s.eval("int kept = 1;").unwrap().ok);
    let cases: &[(&str, (u32, u32), &str)] = &[
        ("int f(int a) {\n  return a;", (1, 14), "unfinished '{'"),
        (
            "int y = (kept +",
            (1, 9),
            "unfinished '(' opened at line 1: finish it with ')'",
        ),
        ("int arr[3] = {1, 2", (1, 14), "unfinished '{'"),
        ("int v = arr2[0", (1, 13), "unfinished '['"),
        // A stray `)` does not close the `{` of a statement expression (found by fuzzing).
        ("int s = ({ 1; )", (1, 10), "unfinished '{'"),
        ("const char *s = \"abc", (1, 17), "add its closing quote"),
        ("char c = 'x;", (1, 10), "add its closing quote"),
        (
            "int z = 1; /* a note",
            (1, 12),
            "inside a '/*' comment opened here: close it with '*/'",
        ),
        (
            "int w = kept + \\",
            (1, 16),
            "ends with a '\\' line continuation",
        ),
        (
            "#if 1\nint q = 1;",
            (1, 1),
            "inside '#if' opened at line 1 without its '#endif'",
        ),
        (
            "#ifdef DEBUG\nint q = 1;",
            (1, 1),
            "inside '#ifdef' opened at line 1",
        ),
        (
            "#define LONG 1 + \\",
            (1, 18),
            "ends with a '\\' line continuation",
        ),
    ];
    for (input, at, says) in cases {
        refused_then_usable(&mut s, input, *at, says, "kept + 1");
    }
}

#[test]
fn unfinished_cpp_constructs_are_each_refused_with_their_fix() {
    let mut s = session(Lang::Cpp);
    assert!(s.eval("int total = 0;").unwrap().ok);
    let cases: &[(&str, (u32, u32), &str)] = &[
        (
            "for (int i = 0; i < 3; i++) { total +=",
            (1, 29),
            "unfinished '{'",
        ),
        ("namespace n { int x = 1;", (1, 13), "unfinished '{'"),
        ("struct S { int a;", (1, 10), "unfinished '{'"),
        ("auto l = [](int x) { return x;", (1, 20), "unfinished '{'"),
        ("auto m = [](int x", (1, 12), "unfinished '('"),
        ("const char *r = R\"(abc", (1, 17), "add its closing quote"),
        (
            "#ifndef NDEBUG\nint q = 1;",
            (1, 1),
            "inside '#ifndef' opened at line 1",
        ),
    ];
    for (input, at, says) in cases {
        refused_then_usable(&mut s, input, *at, says, "total += 1;\ntotal");
    }
}

#[test]
fn every_other_still_open_construct_gets_a_note() {
    let mut s = session(Lang::C);
    let out = s.eval("int f(void) {\n  if (1) {\n    g(1,").unwrap();
    assert!(!out.ok);
    let e = &out.errors()[0];
    assert_eq!((e.line, e.column), (3, 6), "{e:?}");
    let notes: Vec<(u32, u32)> = out
        .diagnostics
        .iter()
        .filter(|d| d.severity == "note")
        .map(|d| (d.line, d.column))
        .collect();
    assert_eq!(notes, [(2, 10), (1, 13)], "{:?}", out.diagnostics);
}

#[test]
fn brackets_in_literals_comments_directives_and_else_branches_are_not_counted() {
    let mut s = session(Lang::C);
    let balanced = [
        "char open = '{'; const char *paren = \"(\"; /* { */ // (\nint after = 1;",
        "#define BEGIN {\n#define END }\nint g(void) BEGIN return 2; END",
        "#ifdef NOT_DEFINED\nint h(void) {\n#else\nint h(void) {\n#endif\n  return 3;\n}",
        "#define LONG(a) \\\n  ((a) + 1)\nint i = LONG(2);",
        "int arr2[2] = { [0] = 1 };",
    ];
    for input in balanced {
        let out = s.eval(input).unwrap();
        assert!(out.ok, "{input:?}: {:?}", out.errors());
    }
}

#[test]
fn a_macro_defined_in_the_refused_eval_is_named_and_stays_undefined() {
    let mut s = session(Lang::C);
    let out = s
        .eval("#define SQUARE(x) ((x) * (x))\nint n = SQUARE(1 + 2")
        .unwrap();
    let e = &out.errors()[0];
    assert_eq!((e.line, e.column), (2, 15), "{e:?}");
    assert!(e.message.contains("macro 'SQUARE'"), "{e:?}");
    // A refused eval is not run at all: not even its directives.
    assert!(out.macros.is_empty(), "{:?}", out.macros);
    assert!(!s.eval("int m = SQUARE(3);").unwrap().ok);
}

#[test]
fn every_saved_eval_fuzz_finding_is_answered_and_leaves_the_session_usable() {
    // fuzz/regressions/eval-*.bin: the first byte's bit 0 picks C++, the rest is the eval.
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz/regressions");
    let mut seen = 0;
    for entry in std::fs::read_dir(&dir).expect("fuzz/regressions exists") {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        if !name.starts_with("eval-") {
            continue;
        }
        seen += 1;
        let bytes = std::fs::read(&path).unwrap();
        // A live-session history (`eval-history-*`): its inputs in order, each framed by a
        // little-endian u32 length, accepted ones undone as the harness does; the last is judged.
        let mut inputs = Vec::new();
        if name.contains("-history-") {
            let mut rest = &bytes[..];
            while let Some((len, tail)) = rest.split_first_chunk::<4>() {
                let len = (u32::from_le_bytes(*len) as usize).min(tail.len());
                inputs.push(&tail[..len]);
                rest = &tail[len..];
            }
        } else {
            inputs.push(&bytes[..]);
        }
        let (last, earlier) = inputs.split_last().expect("an input");
        let (lang, text) = last.split_first().expect("a language byte");
        let lang = if lang & 1 == 1 { Lang::Cpp } else { Lang::C };
        let mut s = session(lang);
        for input in earlier
            .iter()
            .filter(|i| i.first().map(|b| b & 1) == Some(u8::from(lang == Lang::Cpp)))
        {
            let text = String::from_utf8_lossy(&input[1..]);
            let out = s
                .eval(&text)
                .unwrap_or_else(|e| panic!("{name}: the session did not answer: {e}"));
            if out.ok {
                s.undo(1).unwrap();
            }
        }
        let text = String::from_utf8_lossy(text);
        let out = s
            .eval(&text)
            .unwrap_or_else(|e| panic!("{name}: the session did not answer: {e}"));
        if !out.ok {
            let errors = out.errors();
            let first = errors
                .first()
                .unwrap_or_else(|| panic!("{name}: refused without an error"));
            // clang ends a line at `\n`, `\r\n` and a lone `\r`.
            let breaks = text.matches(['\n', '\r']).count() as u32;
            assert!(
                !first.file.starts_with("eval_") || first.line <= breaks + 2,
                "{name}: {first:?}"
            );
        }
        let after = s.eval("int usable_after = 1;").unwrap();
        assert!(after.ok, "{name}: {:?}", after.errors());
    }
    assert!(seen >= 3, "no eval regressions found in {}", dir.display());
}

#[test]
fn brackets_a_macro_of_an_earlier_eval_opens_or_closes_are_counted() {
    // Found by fuzzing: `OPEN` expands to an unfinished call of TWICE, whose arguments the
    // preprocessor then read for ever.
    let mut s = session(Lang::C);
    let setup = "#define TWICE(x) (2*(x))\n#define OPEN TWICE(\n#define BEGIN {\n#define END }";
    assert!(s.eval(setup).unwrap().ok);
    refused_then_usable(
        &mut s,
        "int four = OPEN 2;",
        (1, 12),
        "unfinished '(' that macro 'OPEN' opens at line 1: finish it with ')'",
        "int four = OPEN 2);",
    );
    let out = s.eval("int g(void) BEGIN return 4; END").unwrap();
    assert!(out.ok, "a macro's closing brace closes: {:?}", out.errors());
}
