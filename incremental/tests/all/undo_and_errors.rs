//! Inputs that leave: an undone input's declarations are gone from lookup; a failed input
//! leaves the session as it was.

use crate::util;
use hotwasm_incremental::Lang;

#[test]
fn undo_forgets_the_declarations_of_the_last_input() {
    let mut s = util::session(Lang::C);
    assert!(s.eval("int keep(void) { return 1; }").unwrap().ok);
    assert!(s.eval("int gone(int x) { return x; }").unwrap().ok);
    assert_eq!(s.undo(1).unwrap(), 1);
    let out = s.eval("gone(1)").unwrap();
    assert!(!out.ok);
    assert!(
        out.errors()[0].message.contains("gone"),
        "{:?}",
        out.errors()
    );
    let out = s
        .eval("double gone(double x) { return x; }\nkeep()")
        .unwrap();
    assert!(
        out.ok,
        "a new signature for an undone name: {:?}",
        out.errors()
    );
}

#[test]
fn undo_forgets_a_cpp_class_and_an_overload() {
    let mut s = util::session(Lang::Cpp);
    assert!(s.eval("int f(int x) { return x; }").unwrap().ok);
    assert!(
        s.eval("struct Gone { int v; };\nint f(double x) { return 2; }")
            .unwrap()
            .ok
    );
    assert_eq!(s.undo(1).unwrap(), 1);
    assert!(!s.eval("Gone{1}.v").unwrap().ok, "the class is gone");
    let out = s.eval("struct Gone { double w; };\nf(1.5)").unwrap();
    assert!(out.ok, "{:?}", out.errors());
    assert_eq!(
        out.value().and_then(|v| v.expr_type.as_deref()),
        Some("int")
    );
}

#[test]
fn undo_past_the_first_input_undoes_what_there_is() {
    let mut s = util::session(Lang::C);
    assert!(s.eval("int a1 = 1;").unwrap().ok);
    assert_eq!(s.undo(5).unwrap(), 1);
    assert!(!s.eval("a1").unwrap().ok, "the first input is undone too");
    assert!(s.eval("double a1 = 2;").unwrap().ok);
}

#[test]
fn a_failed_eval_leaves_no_declarations_behind() {
    let mut s = util::session(Lang::C);
    assert!(s.eval("int before = 1;").unwrap().ok);
    let bad = s.eval("int half_made = 2;\nint broken = nope;").unwrap();
    assert!(!bad.ok && bad.object.is_empty());
    let d = &bad.errors()[0];
    assert_eq!((d.file.as_str(), d.line, d.column), ("eval_2", 2, 14));
    let out = s.eval("half_made").unwrap();
    assert!(!out.ok, "a declaration of a failed eval must not survive");
    let out = s.eval("int half_made = 3;\nhalf_made + before").unwrap();
    assert!(out.ok, "{:?}", out.errors());
}

#[test]
fn a_failed_top_level_statement_leaves_the_declarations_after_it_at_namespace_scope() {
    // clang 19 left the failed statement's context open: the qualified declaration after it was
    // made inside the statement and the session crashed (found by fuzzing).
    let mut s = util::session(Lang::Cpp);
    assert!(s.eval("namespace std {}").unwrap().ok);
    let out = s.eval("break;\nint std::v3;").unwrap();
    assert!(!out.ok);
    assert!(
        out.errors()[0]
            .message
            .contains("'break' statement not in loop"),
        "{:?}",
        out.errors()
    );
    let out = s
        .eval("namespace std { int v4; }\nint after = std::v4;")
        .unwrap();
    assert!(out.ok, "{:?}", out.errors());
}

#[test]
fn pragmas_about_the_current_file_are_ignored_in_an_eval_and_still_work_in_its_headers() {
    // An eval is a buffer without a file: `#pragma once` in one crashed the session (fuzzing).
    let dir = tempfile::tempdir().unwrap();
    let header = dir.path().join("once.h");
    std::fs::write(&header, "#pragma once\nstruct Once { int v; };\n").unwrap();
    for lang in [Lang::C, Lang::Cpp] {
        let mut s = util::session(lang);
        for pragma in [
            "#pragma once",
            "_Pragma(\"once\")",
            "#pragma GCC system_header",
        ] {
            let out = s
                .eval(&format!(
                    "{pragma}\nint after_{}(void) {{ return 1; }}",
                    pragma.len()
                ))
                .unwrap();
            assert!(out.ok, "{lang:?} {pragma}: {:?}", out.errors());
            assert!(
                out.diagnostics.iter().any(|d| d.severity == "warning"
                    && d.message
                        .contains("is ignored in an eval: an eval is not a file")),
                "{lang:?} {pragma}: {:?}",
                out.diagnostics
            );
        }
        let include = format!("#include \"{}\"\n", header.display());
        assert!(s.eval(&include).unwrap().ok);
        let out = s
            .eval(&format!("{include}struct Once twice = {{2}};"))
            .unwrap();
        assert!(
            out.ok,
            "{lang:?}: the header's #pragma once: {:?}",
            out.errors()
        );
    }
}

#[test]
fn a_session_refuses_a_command_line_of_the_other_language() {
    let args = util::learnt(Lang::C).for_session();
    let program = std::path::PathBuf::from(env!("CARGO_BIN_EXE_hotwasm-clang-session"));
    let err = hotwasm_incremental::Session::start_with(&program, Lang::Cpp, &args)
        .err()
        .unwrap();
    assert!(err.to_string().contains("learn the line"), "{err}");
}

#[test]
fn a_compile_over_its_deadline_stops_the_session_and_says_so() {
    let mut s = util::session(Lang::Cpp);
    s.set_timeout(std::time::Duration::from_millis(1));
    let err = s
        .eval("#include <vector>\n#include <string>\n#include <algorithm>")
        .unwrap_err();
    assert!(
        matches!(err, hotwasm_incremental::SessionError::TimedOut(_)),
        "{err}"
    );
    assert!(err.to_string().contains("start a new session"), "{err}");
    s.set_timeout(std::time::Duration::from_secs(60));
    let err = s.eval("int x = 1;").unwrap_err();
    assert!(
        matches!(err, hotwasm_incremental::SessionError::Died { .. }),
        "{err}"
    );
}

#[test]
fn a_preprocessor_bomb_ends_a_capped_session_not_the_machine() {
    let program = std::path::PathBuf::from(env!("CARGO_BIN_EXE_hotwasm-clang-session"));
    let limits = hotwasm_incremental::SessionLimits {
        timeout: std::time::Duration::from_secs(60),
        address_space: Some(1 << 30), // the server's compiler cap
    };
    let args = util::learnt(Lang::C).for_session();
    let mut s =
        hotwasm_incremental::Session::start_limited(&program, Lang::C, &args, limits).unwrap();
    assert!(
        s.eval("int fine = 1;").unwrap().ok,
        "a capped session compiles"
    );
    let mut bomb = String::from("#define A0 \"x\"\n");
    for i in 1..=40 {
        bomb.push_str(&format!("#define A{i} A{p} A{p}\n", p = i - 1));
    }
    bomb.push_str("const char *big = A40;");
    let err = s.eval(&bomb).unwrap_err();
    assert!(
        matches!(err, hotwasm_incremental::SessionError::Died { .. }),
        "{err}"
    );
}

/// A program that answers the handshake as one built before it had a protocol version did
/// (its Ready frame has no `protocol`), then waits for its stdin to close.
fn program_from_before_the_handshake(dir: &std::path::Path) -> std::path::PathBuf {
    let mut frame = Vec::new();
    hotwasm_incremental::protocol::write_frame(
        &mut frame,
        br#"{"ok":true,"error":"","setup_ms":1.0}"#,
    )
    .unwrap();
    std::fs::write(dir.join("ready.bin"), frame).unwrap();
    let program = dir.join("hotwasm-clang-session");
    std::fs::write(
        &program,
        format!(
            "#!/bin/sh\ncat '{}'\ncat >/dev/null\n",
            dir.join("ready.bin").display()
        ),
    )
    .unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&program, std::fs::Permissions::from_mode(0o755)).unwrap();
    program
}

#[test]
fn a_session_program_of_another_protocol_version_is_refused_with_its_path_and_how_to_rebuild_it() {
    let dir = tempfile::tempdir().unwrap();
    let program = program_from_before_the_handshake(dir.path());
    let args = util::learnt(Lang::C).for_session();
    let err = hotwasm_incremental::Session::start_with(&program, Lang::C, &args)
        .err()
        .expect("an older program is refused");
    let message = err.to_string();
    assert!(
        message.contains(&program.display().to_string()),
        "{message}"
    );
    assert!(
        message.contains(&format!(
            "speaks protocol version 0, this build speaks {}",
            hotwasm_incremental::protocol::PROTOCOL_VERSION
        )),
        "{message}"
    );
    assert!(
        message.contains("rebuild it with `scripts/hotwasm`"),
        "{message}"
    );
}
