//! `hotwasm init` apps work on the first try, in every host language: a fresh app is built with
//! `hotwasm build --hot`, served by `hotwasm serve`, run by a page (Node + the real web client,
//! `init_apps/page.mjs`), and saving its patch file changes the running app without losing its
//! state. The plain build of the same app builds too.
use crate::util;

use std::path::Path;
use std::process::Command;

fn hotwasm(args: &[&str]) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_hotwasm"))
        .args(args)
        .envs(util::toolchain_env())
        .output()
        .unwrap();
    let said = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "hotwasm {args:?} failed:\n{said}");
    said
}

/// init → build --hot (and plain) → serve + page → save the patch → the app changed.
fn first_try(lang: &str, patch: &str, new_source: &str) {
    let dir = tempfile::tempdir().unwrap();
    let app = dir.path().join(format!("first-{lang}"));
    let app_s = app.to_str().unwrap();
    hotwasm(&["init", "--lang", lang, app_s]);
    let built = hotwasm(&["build", "--hot", "--project", app_s]);
    assert!(built.contains("hotwasm-host.json"), "{built}");
    let bundle = app.join(format!("build/hot/first-{lang}.js"));
    assert!(bundle.is_file(), "{built}");
    let plain = hotwasm(&["build", "--project", app_s]);
    assert!(
        app.join(format!("build/plain/first-{lang}.wasm")).is_file(),
        "{plain}"
    );

    let page = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/all/init_apps_page.mjs");
    let out = Command::new("node")
        .arg("--experimental-websocket")
        .arg(page)
        .arg(env!("CARGO_BIN_EXE_hotwasm"))
        .arg(&app)
        .arg(&bundle)
        .arg(app.join(patch))
        .arg(new_source)
        .envs(util::toolchain_env())
        .output()
        .unwrap();
    let said = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "the page failed:\n{said}");
    assert!(said.contains("ok: "), "{said}");
    eprintln!(
        "{lang}: {}",
        said.lines().find(|l| l.starts_with("ok: ")).unwrap()
    );
}

#[test]
fn a_new_c_app_live_edits_on_the_first_try() {
    let _dog = util::watchdog(900);
    first_try(
        "c",
        "patches/app_value.c",
        "#include \"app.h\"\n\nint32_t app_value(int32_t frame) {\n  return frame % 100 + 1000;\n}\n",
    );
}

#[test]
fn a_new_cpp_app_live_edits_on_the_first_try() {
    let _dog = util::watchdog(900);
    first_try(
        "cpp",
        "patches/app_value.cpp",
        "#include \"app.h\"\n\nint32_t app_value(int32_t frame) {\n  return frame % 100 + 1000;\n}\n",
    );
}

#[test]
fn a_new_rust_app_live_edits_on_the_first_try() {
    let _dog = util::watchdog(1200);
    first_try(
        "rust",
        "patches/app_value.rs",
        "fn app_value(frame: i32) -> i32 {\n    frame % 100 + 1000\n}\n",
    );
}
