//! The layout check compares shared types by structure and only the app's own: a C++ patch sees a
//! C library type with an anonymous member as the C host does (C and C++ name the member's type
//! differently), and a type a shared header names but a system header defines (`pthread_attr_t`,
//! `struct timespec`) is not one of the app's shared types. Real emcc/em++ dumps and the real host
//! measurement. (Issue 20, item 10: a C++ patch including a header that used `pthread_attr_t`
//! was refused, "field `__u` is `union pthread_attr_t::(unnamed)` in the patch but `union
//! (unnamed)` in the host".)

use crate::util::*;
use hotwasm_server::config::Config;
use hotwasm_server::home::Home;
use hotwasm_server::layout;
use std::path::Path;
use std::process::Command;

const SHARED_H: &str = "#include <pthread.h>\n#include <time.h>\n/* a thread's pthread_attr_t */\n#ifdef __cplusplus\nextern \"C\" {\n#endif\ntypedef struct Holder {\n  pthread_attr_t attr;\n  struct timespec started;\n  int n;\n} Holder;\n#ifdef __cplusplus\n}\n#endif\n";

/// An app whose shared header (`include/shared.h`) names C library types.
fn app(lang: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let (src, text) = match lang {
        "c" => (
            "src/app.c",
            "#include \"shared.h\"\nint main(void) { return 0; }\n",
        ),
        _ => (
            "src/app.cpp",
            "#include \"shared.h\"\nint main() { return 0; }\n",
        ),
    };
    for (path, text) in [
        ("include/shared.h", SHARED_H),
        (src, text),
        (
            "hotwasm.toml",
            &format!("[app]\nname = \"t\"\nlang = \"{lang}\"\n[build]\nsources = [\"src/*\"]\ncflags = [\"-Iinclude\"]\n[patches]\ninclude_dirs = [\"include\"]\n"),
        ),
    ] {
        let path = dir.path().join(path);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }
    dir
}

fn home() -> Home {
    let home = Home::at(repo_root());
    hotwasm_server::toolchain::adopt_env(&home).unwrap();
    home
}

/// clang's record layouts of `source` compiled (as a patch is: to an object) by `tool` in `dir` with `dump_flags`.
fn dump(
    tool: &str,
    dir: &Path,
    file: &str,
    source: &str,
    dump_flags: &[&str],
) -> Vec<hotwasm_abi::TypeLayout> {
    std::fs::write(dir.join(file), source).unwrap();
    let mut cmd = Command::new(tool);
    cmd.current_dir(dir)
        .args(["-c", "-o", "/dev/null", "-Iinclude", file]);
    for flag in dump_flags {
        cmd.args(["-Xclang", flag]);
    }
    let out = cmd.envs(toolchain_env()).output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    layout::parse_dump(&String::from_utf8_lossy(&out.stdout), dir)
}

#[test]
fn a_cpp_patch_and_a_c_host_agree_on_a_c_library_type_with_an_anonymous_member() {
    let _dog = watchdog(120);
    let dir = app("c");
    let host = dump(
        "emcc",
        dir.path(),
        "shared.c",
        "#include \"shared.h\"\n",
        &layout::DUMP_ALL_FLAGS,
    );
    let patch = dump(
        "em++",
        dir.path(),
        "patch.cpp",
        "#include \"shared.h\"\nextern \"C\" int f(Holder *h) { return h->n + (int)sizeof(pthread_attr_t); }\n",
        &layout::DUMP_FLAGS,
    );
    for name in ["pthread_attr_t", "Holder"] {
        assert!(
            host.iter().any(|l| l.name == name),
            "the host has no {name}: {host:#?}"
        );
        assert!(
            patch.iter().any(|l| l.name == name),
            "the patch has no {name}: {:?}",
            patch.iter().map(|l| &l.name).collect::<Vec<_>>()
        );
    }
    layout::check(&host, &patch).unwrap();
}

#[test]
fn types_a_system_header_defines_are_not_the_apps_shared_types() {
    let _dog = watchdog(240);
    let home = home();
    for lang in ["c", "cpp"] {
        let dir = app(lang);
        let config = Config::find(Some(dir.path())).unwrap();
        let measured = hotwasm_server::bundle::layouts::measure(&config, &home).unwrap();
        let names: Vec<&str> = measured.layouts.iter().map(|l| l.name.as_str()).collect();
        assert!(names.contains(&"Holder"), "{lang}: {names:?}");
        for system in ["pthread_attr_t", "timespec"] {
            assert!(
                !names.contains(&system),
                "{lang}: {system} counted as shared: {names:?}"
            );
        }
    }
}
