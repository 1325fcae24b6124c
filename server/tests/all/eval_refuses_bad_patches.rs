//! Compile errors come back as structured diagnostics at the user's line:column with the raw
//! output; a signature mismatch names both signatures; an unknown import names the symbol.
use crate::util;
use util::*;

#[test]
fn a_compile_error_reports_line_and_column() {
    let _dog = watchdog(60);
    let server = Server::start();
    let mut repl = repl(&server);
    let r = eval(
        &mut repl,
        "bad",
        "int f(int x) {\n  return x +\n    undefined_name;\n}\n",
    );
    assert_eq!(r["ok"], false);
    assert_eq!(r["stage"], "compile");
    let d = &r["diagnostics"][0];
    assert_eq!(d["file"], "eval.c");
    assert_eq!(d["line"], 3);
    assert_eq!(d["column"], 5);
    assert_eq!(d["severity"], "error");
    assert!(
        d["message"].as_str().unwrap().contains("undefined_name"),
        "{d}"
    );
    assert!(
        r["raw_output"]
            .as_str()
            .unwrap()
            .contains("eval.c:3:5: error:"),
        "{r}"
    );
}

#[test]
fn a_signature_mismatch_names_both_signatures() {
    let _dog = watchdog(60);
    let server = Server::start();
    let mut repl = repl(&server);
    let r = eval(&mut repl, "sig", "int step_particle(int a) { return a; }\n");
    assert_eq!(r["ok"], false);
    assert_eq!(r["stage"], "check");
    let e = r["error"].as_str().unwrap();
    assert!(e.contains("`vppf`") && e.contains("`ii`"), "{e}");
}

#[test]
fn a_library_function_a_patch_cannot_link_is_refused_naming_it_and_the_fix() {
    let _dog = watchdog(60);
    let server = Server::start();
    let page = Page::connect(&server, None, 0);
    page.wait_replay();
    let mut repl = repl(&server);
    let r = eval(
        &mut repl,
        "imp",
        "#include <stdlib.h>\nint f(const char *s) { return setenv(s, s, 1); }\n",
    );
    assert_eq!(r["ok"], false);
    assert_eq!(r["stage"], "check");
    let e = r["error"].as_str().unwrap();
    assert!(
        e.contains("`setenv`") && e.contains("state") && e.contains("[build] exports"),
        "{r}"
    );
    assert!(page.patches().is_empty(), "a refused patch is never sent");
    // A pure one the host lacks is linked into the patch instead.
    let r = eval(
        &mut repl,
        "pure",
        "#include <stdlib.h>\nint f(const char *s) { return atoi(s); }\n",
    );
    assert_eq!(r["ok"], true, "{r}");
}

#[test]
fn functions_of_one_patch_may_call_host_vars_by_name() {
    let _dog = watchdog(60);
    let server = Server::start();
    let mut repl = repl(&server);
    let src =
        "#include \"particles.h\"\nuint32_t particle_color(const World *w, const Particle *p);\n\
               uint32_t background_color(const World *w) { return particle_color(w, 0); }\n";
    let r = eval(&mut repl, "ok", src);
    assert_eq!(r["ok"], true, "{r}");
}
