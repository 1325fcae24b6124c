//! The C++ runtime across patch and host (issue 18, item 4), through the server's compile
//! pipeline and real hosts under Node (the fixtures of `cpp_patches`): a C++ global with a
//! constructor and destructor in a host that links no C++ and in a C++ host (every host exports
//! `__cxa_atexit`); `typeid`, `dynamic_cast` and exceptions across a class the host defines and
//! one the patch defines in a C++ host (it exports its classes' typeinfo and vtables); and the
//! refusal, naming the fix, of a host class in a host that has none, and of `std::cout`.
use crate::cpp_patches::{c_host, cpp_host};
use crate::late_binding::Session;

/// Globals with constructors and destructors; each call changes them, so the result shows the
/// constructors ran once, before the first call, and the state carries on between calls.
const GLOBALS: &str = r#"#include <map>
#include <string>
#include <vector>
std::vector<int> v{1, 2, 3};
std::string s = "ab";
std::map<int, int> m{{1, 2}};
extern "C" int cpp_globals(int n) {
  v.push_back(n);
  s += 'c';
  m[n] = n;
  int sum = 0;
  for (int x : v) sum += x;
  return sum * 10000 + static_cast<int>(s.size()) * 100 + static_cast<int>(m.size());
}
"#;

/// The host's header shapes.h, copied into the session's project (patches include only headers
/// inside it), and the line that includes it.
fn shapes_include(s: &Session) -> String {
    let header = crate::late_binding::repo_root().join("tests/fixtures/cpp/shapes.h");
    let copy = s.project().join("shapes.h");
    std::fs::copy(&header, &copy).unwrap();
    format!("#include \"{}\"\n", copy.display())
}

#[test]
fn a_cpp_global_with_a_destructor_works_in_a_host_that_links_no_cpp() {
    let mut s = c_host();
    s.eval_cpp(GLOBALS).unwrap();
    s.call("first", "cpp_globals", Some(4));
    s.call("second", "cpp_globals", Some(5));
    let out = s.run();
    assert_eq!((out["first"], out["second"]), (100_302, 150_403));
}

#[test]
fn a_cpp_global_with_a_destructor_works_in_a_cpp_host() {
    let mut s = cpp_host();
    s.eval_cpp(GLOBALS).unwrap();
    s.call("first", "cpp_globals", Some(4));
    assert_eq!(s.run()["first"], 100_302);
}

#[test]
fn typeid_and_dynamic_cast_agree_across_host_and_patch_classes_in_a_cpp_host() {
    let mut s = cpp_host();
    let patch = shapes_include(&s)
        + r#"#include <typeinfo>
struct PatchSquare : HostShape {
  explicit PatchSquare(int side) : side(side) {}
  int sides() const override { return 4; }
  int area() const override { return side * side; }
  int side;
};

extern "C" int cpp_rtti(int n) {
  HostShape *circle = host_make_circle(n);  // the host's object, vtable and typeinfo
  PatchSquare square(n);                    // the patch's
  int r = 0;
  if (dynamic_cast<HostCircle *>(circle) != nullptr) r += 1;
  if (typeid(*circle) == typeid(HostCircle)) r += 10;
  if (dynamic_cast<PatchSquare *>(circle) == nullptr) r += 100;
  if (host_is_circle(&square) == 0 && host_is_circle(circle) == 1) r += 1000;
  if (dynamic_cast<HostShape *>(static_cast<HostShape *>(&square)) == &square) r += 10000;
  delete circle;
  return r * 100 + host_area_of(&square);
}
"#;
    s.eval_cpp(&patch).unwrap();
    s.call("rtti", "cpp_rtti", Some(3));
    assert_eq!(
        s.run()["rtti"],
        1_111_100 + 9,
        "every check passed and the host called the patch's area()"
    );
}

#[test]
fn exceptions_cross_between_patch_and_a_cpp_host_both_ways() {
    let mut s = cpp_host();
    let patch = shapes_include(&s)
        + r#"
extern "C" int cpp_catches_host(int code) {
  try {
    return host_throws(code);
  } catch (const HostError &e) {
    return -100 - e.code;
  }
}

extern "C" int cpp_catches_host_as_std(int code) {
  try {
    return host_throws(code);
  } catch (const std::runtime_error &e) {
    return -200;
  }
}

extern "C" int cpp_throws_host_error(int code) {
  if (code != 0) throw HostError(code);
  return 0;
}
"#;
    s.eval_cpp(&patch).unwrap();
    s.call("patch caught", "cpp_catches_host", Some(7));
    s.call("patch caught as std", "cpp_catches_host_as_std", Some(7));
    s.call_via(
        "host caught",
        "call_ii_catching",
        "cpp_throws_host_error",
        5,
    );
    let out = s.run();
    assert_eq!(
        (
            out["patch caught"],
            out["patch caught as std"],
            out["host caught"]
        ),
        (-107, -200, -3005),
        "the patch catches the host's HostError by its type and its std base; the host catches the patch's"
    );
}

#[test]
fn a_host_class_in_a_host_without_cpp_classes_is_refused_naming_the_fix() {
    let mut s = c_host();
    let patch = shapes_include(&s)
        + "extern \"C\" int cpp_circle_sides(int r) { HostCircle c(r); return c.sides(); }\n";
    let e = s.eval_cpp(&patch).unwrap_err();
    assert!(
        e.contains("which the host does not export")
            && e.contains("typeinfo or vtable of a C++ class")
            && e.contains("define the class in the patch"),
        "{e}"
    );
}

#[test]
fn std_cout_is_refused_naming_what_to_print_with_instead() {
    let mut s = c_host();
    let e = s
        .eval_cpp("#include <iostream>\nextern \"C\" int cpp_prints(int n) { std::cout << n << '\\n'; return n; }\n")
        .unwrap_err();
    assert!(
        e.contains("which the host does not export") && e.contains("std::printf"),
        "{e}"
    );
}
