//! A patch compiled against a changed layout of a type the host shares with it is refused before
//! it is sent, naming the type, the field and both offsets; a header edit that keeps every
//! layout is accepted. Real apps (copies of the C and C++ examples), built with
//! `hotwasm build --hot`, served by `hotwasm serve`, patched through the protocol. (The C case
//! of a field added in the middle runs in headless Chromium: tests/browser/layout-check.test.mjs.)
use crate::util;

use std::path::Path;
use std::process::Command;
use util::*;

/// Copies `examples/<example>` (its sources and config, not its build) into a temp dir and
/// builds its HOT_RELOAD host there.
fn built_copy(example: &str) -> tempfile::TempDir {
    built_copy_edited(example, |_| {})
}

/// [`built_copy`], with `edit` applied to the copy before the build.
fn built_copy_edited(example: &str, edit: impl FnOnce(&Path)) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let from = repo_root().join("examples").join(example);
    for entry in std::fs::read_dir(&from).unwrap().flatten() {
        let name = entry.file_name();
        if name != "build" {
            copy_tree(&entry.path(), &dir.path().join(name));
        }
    }
    edit(dir.path());
    let out = Command::new(env!("CARGO_BIN_EXE_hotwasm"))
        .args(["build", "--hot", "--project"])
        .arg(dir.path())
        .envs(toolchain_env())
        .output()
        .unwrap();
    let said =
        String::from_utf8_lossy(&out.stderr).into_owned() + &String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{said}");
    assert!(said.contains("measured the layouts of"), "{said}");
    dir
}

fn copy_tree(from: &Path, to: &Path) {
    if from.is_dir() {
        std::fs::create_dir_all(to).unwrap();
        for entry in std::fs::read_dir(from).unwrap().flatten() {
            copy_tree(&entry.path(), &to.join(entry.file_name()));
        }
    } else {
        std::fs::copy(from, to).unwrap();
    }
}

/// Replaces `old` (which must be there) with `new` in the app's file `rel`.
fn edit(app: &Path, rel: &str, old: &str, new: &str) {
    let path = app.join(rel);
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(text.contains(old), "{rel} has no `{old}`");
    std::fs::write(&path, text.replacen(old, new, 1)).unwrap();
}

/// The header edits and patch of one app: accepted as built, accepted after an edit that keeps
/// the layout, refused after `float mass;` is inserted before `moved` of `ty`.
struct Case {
    example: &'static str,
    lang: &'static str,
    header: &'static str,
    /// A line of the header to insert a field before.
    before: &'static str,
    ty: &'static str,
    moved: &'static str,
    /// (offset of `moved` in the host, in the edited header)
    offsets: (u32, u32),
    patch: &'static str,
}

fn refuses_a_field_added_in_the_middle(case: Case) {
    let app = built_copy(case.example);
    let manifest = std::fs::read_to_string(app.path().join("build/hot/hotwasm-host.json")).unwrap();
    assert!(
        manifest.contains(&format!("\"name\": \"{}\"", case.ty)),
        "{manifest}"
    );
    let header = case.header;
    let root = app.path().to_path_buf();
    let server = Server::serve_app(app, &["--no-watch"]);
    let mut repl = repl(&server);

    let r = eval_lang(&mut repl, "as-built", case.lang, case.patch);
    assert_eq!(r["ok"], true, "{r}");

    // Comments, a new function and a renamed type spelling leave every layout as it is.
    edit(
        &root,
        header,
        case.before,
        &format!("  /* a note */\n{}", case.before),
    );
    std::fs::write(
        root.join(header),
        std::fs::read_to_string(root.join(header))
            .unwrap()
            .replace("#endif", "int layout_unrelated(int);\n#endif"),
    )
    .unwrap();
    let r = eval_lang(&mut repl, "compatible", case.lang, case.patch);
    assert_eq!(r["ok"], true, "{r}");

    edit(
        &root,
        header,
        case.before,
        &format!("  float mass;\n{}", case.before),
    );
    let r = eval_lang(&mut repl, "moved", case.lang, case.patch);
    assert_eq!(r["ok"], false, "{r}");
    assert_eq!(r["stage"], "check", "{r}");
    assert!(r["seq"].is_null(), "nothing was journaled or sent: {r}");
    let e = r["error"].as_str().unwrap();
    eprintln!("{}: {e}", case.example);
    let (host, patch) = case.offsets;
    for part in [
        format!("`{}`", case.ty),
        "field `mass` (float) is at offset".to_string(),
        format!(
            "field `{}` (float) is at offset {patch} in the patch but at offset {host} in the host",
            case.moved
        ),
        "`hotwasm build --hot`".to_string(),
    ] {
        assert!(e.contains(&part), "no `{part}` in: {e}");
    }
}

#[test]
fn cpp_a_field_added_in_the_middle_of_a_shared_struct_is_refused_a_compatible_edit_is_not() {
    let _dog = watchdog(900);
    refuses_a_field_added_in_the_middle(Case {
        example: "cpp-host",
        lang: "cpp",
        header: "include/orbits.h",
        before: "  float radius;",
        ty: "Planet",
        moved: "radius",
        offsets: (4, 8),
        patch: "#include \"orbits.h\"\nextern \"C\" uint32_t planet_color(const Planet *p) {\n  return p->radius > 100.0f ? 0xff4040ffu : 0xff40ff40u;\n}\n",
    });
}

#[test]
fn patch_defines_that_lay_a_shared_struct_out_unlike_the_host_flags_are_refused_on_the_first_eval()
{
    let _dog = watchdog(600);
    // The header grows a field only under BOUNCE_TRAIL, which the patches define and the host's
    // cflags do not: the header never changes, the first eval naming `Ball` is checked anyway.
    let app = built_copy_edited("c-host", |app| {
        edit(
            app,
            "src/bounce.h",
            "  float vx, vy;",
            "#ifdef BOUNCE_TRAIL\n  float trail;\n#endif\n  float vx, vy;",
        );
        edit(
            app,
            "hotwasm.toml",
            "include_dirs = [\"src\"]",
            "include_dirs = [\"src\"]\ndefines = [\"BOUNCE_TRAIL\"]",
        );
    });
    let server = Server::serve_app(app, &["--no-watch"]);
    let mut repl = repl(&server);
    let r = eval(
        &mut repl,
        "unrelated",
        "int twice(int x) { return 2 * x; }\n",
    );
    assert_eq!(r["ok"], true, "a patch naming no shared type: {r}");
    let r = eval(
        &mut repl,
        "flags",
        "#include \"bounce.h\"\nuint32_t ball_color(const Ball *ball) { return ball->hits ? 1u : 2u; }\n",
    );
    assert_eq!(r["stage"], "check", "{r}");
    let e = r["error"].as_str().unwrap();
    assert!(
        e.contains(
            "field `trail` (float) is at offset 8 in the patch but the host has no such field"
        ),
        "{e}"
    );
}
