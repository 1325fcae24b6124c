//! What the vars header repeats of an eval or a saved file comes from clang, never from reading
//! the text: the declaration of each function and global it defines (as clang prints it from the
//! decl), its own `#include` directives, and the functions an app header declares. Real clang, in
//! the session program a saved file's report runs in; no server.
use hotwasm_abi::{HostManifest, HostVar, Signature};
use hotwasm_server::compile::globals::{Include, Reported};
use hotwasm_server::compile::{Compiler, CompilerConfig};
use hotwasm_server::vars;
use std::path::Path;
use std::time::Duration;

/// A compiler for a project at `root` whose patches see `include_dirs`, with the server's reporter.
fn compiler(root: &Path, include_dirs: Vec<std::path::PathBuf>) -> Compiler {
    let config = CompilerConfig {
        root: root.to_path_buf(),
        include_dirs,
        defines: Vec::new(),
        rust_prelude: None,
        plain_emcc: false,
        opt: "-O2".into(),
        timeout: Duration::from_secs(60),
        memory_bytes: 2 << 30,
    };
    let mut compiler = Compiler::new(config.clone()).unwrap();
    compiler.set_reporter(hotwasm_server::sessions::file_reporter(&config));
    compiler
}

/// Clang's report of `text` saved as `file` in a fresh project.
fn report(file: &str, text: &str, beside: &[(&str, &str)]) -> Reported {
    let dir = tempfile::tempdir().unwrap();
    for (name, text) in beside {
        std::fs::write(dir.path().join(name), text).unwrap();
    }
    let path = dir.path().join(file);
    std::fs::write(&path, text).unwrap();
    let compiler = compiler(dir.path(), Vec::new());
    compiler.report_file(&path, false).unwrap()
}

fn printed<'a>(r: &'a Reported, symbol: &str) -> &'a str {
    r.declarations
        .printed
        .get(symbol)
        .unwrap_or_else(|| panic!("no declaration of {symbol} in {:?}", r.declarations))
}

#[test]
fn c_declarations_are_printed_by_clang_where_the_text_reader_got_them_wrong() {
    let src = r#"#include <stdio.h>
#include "beside.h"
#ifdef NOT_DEFINED
#include <math.h>
#endif
/* int helper(int) { */
static int twice(int v) { return v * 2; }
int helper(int v)
{ return twice(v) * 3; }
const char *name_of(const int *p, double (*f)(double)) { (void)p; (void)f; return "x{"; }
int kr(a, b) int a; double b; { return a + (int)b; }
int krf(x) float x; { return (int)x; }
int noargs() { return 1; }
__attribute__((visibility("default"))) int visible(int x) { return x; }
int (*pick(int which))(int) { (void)which; return 0; }
int sum(int n, ...) { return n; }
unsigned int xs[4] = {1};
int (*fp)(int) = 0;
"#;
    let r = report("file.c", src, &[("beside.h", "#include <string.h>\n")]);
    assert_eq!(printed(&r, "helper"), "int helper(int v)");
    assert_eq!(
        printed(&r, "name_of"),
        "const char *name_of(const int *p, double (*f)(double))"
    );
    // K&R: a prototype of the types its callers pass (float is passed as double).
    assert_eq!(printed(&r, "kr"), "int kr(int a, double b)");
    assert_eq!(printed(&r, "krf"), "int krf(double x)");
    assert_eq!(printed(&r, "noargs"), "int noargs(void)");
    assert_eq!(printed(&r, "visible"), "int visible(int x)");
    assert_eq!(printed(&r, "pick"), "int (*pick(int which))(int)");
    assert_eq!(printed(&r, "sum"), "int sum(int n, ...)");
    assert_eq!(printed(&r, "xs"), "extern unsigned int xs[4]");
    assert_eq!(printed(&r, "fp"), "extern int (*fp)(int)");
    assert!(
        !r.declarations.printed.contains_key("twice"),
        "a static function is no var"
    );
    let inc = |name: &str, angled| Include {
        name: name.into(),
        angled,
    };
    assert_eq!(
        r.declarations.includes,
        [inc("stdio.h", true), inc("beside.h", false)],
        "the file's own includes, not those under #ifdef or inside beside.h"
    );
}

#[test]
fn cpp_overloads_default_arguments_and_attributes_are_printed_by_clang() {
    let src = r#"int twice(int x) { return x * 2; }
double twice(double x) { return x * 2; }
int add(int a, int b = 2) { return a + b; }
extern "C" int cf(int x) { return x; }
[[nodiscard]] int nd(int x) { return x; }
namespace ns { int in_ns(int x) { return x; } }
struct S { int get() const { return 1; } };
"#;
    let r = report("file.cpp", src, &[]);
    assert_eq!(printed(&r, "_Z5twicei"), "int twice(int x)");
    assert_eq!(printed(&r, "_Z5twiced"), "double twice(double x)");
    assert_eq!(printed(&r, "_Z3addii"), "int add(int a, int b = 2)");
    assert_eq!(printed(&r, "cf"), "int cf(int x)");
    assert_eq!(printed(&r, "_Z2ndi"), "int nd(int x)");
    assert_eq!(printed(&r, "_ZN2ns5in_nsEi"), "int in_ns(int x)");
}

fn host_var(name: &str, signature: &str) -> HostVar {
    HostVar {
        name: name.into(),
        signature: Signature::parse(signature).unwrap(),
    }
}

#[test]
fn a_host_function_an_app_header_declares_is_left_to_that_header_as_clang_reads_it() {
    let dir = tempfile::tempdir().unwrap();
    let include = dir.path().join("include");
    std::fs::create_dir_all(&include).unwrap();
    let lua_h = r#"#ifndef lua_h
#define lua_h
#define LUA_API extern
typedef struct lua_State lua_State;
LUA_API int   (lua_gettop) (lua_State *L);
int lua_gettopx(void);
extern int (lua_count);
#define DECLARE(n) int n(void);
DECLARE(made_by_macro)
/* int in_a_comment(void); */
#endif
"#;
    std::fs::write(include.join("lua.h"), lua_h).unwrap();
    // A C++ header is read as C++ when it does not compile as C.
    let cpp_h =
        "class Widget { public: int size() const; };\nextern \"C\" int widget_count(void);\n";
    std::fs::write(include.join("widget.h"), cpp_h).unwrap();
    let compiler = compiler(dir.path(), vec![include]);
    let headers = vars::app_headers(&compiler, false);
    let lua = &headers.iter().find(|(n, _)| n == "lua.h").unwrap().1;
    for declared in ["lua_gettop", "lua_gettopx", "made_by_macro"] {
        assert!(lua.iter().any(|f| f == declared), "{declared} in {lua:?}");
    }
    for not_declared in ["gettop", "lua_count", "in_a_comment"] {
        assert!(!lua.iter().any(|f| f == not_declared), "{not_declared}");
    }
    let widget = &headers.iter().find(|(n, _)| n == "widget.h").unwrap().1;
    assert_eq!(widget, &["widget_count".to_string()]);

    let host = HostManifest {
        vars: vec![
            host_var("lua_gettop", "ip"),
            host_var("lua_count", "i"),
            host_var("widget_count", "i"),
        ],
        ..HostManifest::default()
    };
    let text = vars::header_for(&host, &[], &headers, compiler.include_dirs());
    assert!(
        text.contains(
            "lua_gettop (host var, version 1, signature `ip`): declared in the app's lua.h"
        ),
        "{text}"
    );
    assert!(text.contains("declared in the app's widget.h"), "{text}");
    assert!(text.contains("int32_t lua_count(void);"), "{text}");
}
