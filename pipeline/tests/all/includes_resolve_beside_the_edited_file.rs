//! A text eval that stands for a project file finds `#include "..."` files beside that file (the
//! page's editor tab of `patches/ball.c` may include `patches/shapes.h`); a missing header is
//! reported as "file not found" at its line, never as a compiler crash.
use crate::late_binding;
use late_binding::Session;

#[test]
fn quoted_includes_resolve_in_the_directory_of_the_file_the_text_stands_for() {
    let mut s = Session::new();
    let patches = s.project().join("patches");
    std::fs::create_dir_all(&patches).unwrap();
    std::fs::write(patches.join("shapes.h"), "#define SIDES 3\n").unwrap();
    let src = "#include \"shapes.h\"\nint sides(void) { return SIDES; }\n";
    let e = s.eval(src).unwrap_err();
    assert!(e.contains("'shapes.h' file not found"), "{e}");
    s.eval_as(src, "patches/tri.c").unwrap();
    s.call("sides", "sides", None);
    assert_eq!(s.run()["sides"], 3);
}

#[test]
fn a_missing_header_names_the_including_line_and_where_it_was_searched() {
    let mut s = Session::new();
    let e = s
        .eval("// first line\n#include <no_such_header.h>\nint f(void) { return 1; }\n")
        .unwrap_err();
    assert!(
        e.contains("eval.c:2") && e.contains("'no_such_header.h' file not found"),
        "{e}"
    );
    assert!(e.contains("include_dirs"), "{e}");
    assert!(!e.contains("memory cap"), "{e}");
}
