//! A named C++ text eval (the page editor's file, `hotwasm eval NAME`) that includes a standard
//! header compiles in a session started with the standard headers precompiled, as the old
//! one-process path compiled it with its PCH: it works, its errors point at the user's file and
//! lines, it sees no header its text does not include (clang's list of its includes decides),
//! and neither a precompiled header clang refuses (stale) nor a session started ahead for
//! another file's directory is used. Real server, real clang sessions; the page acks without
//! running.
use crate::util;
use serde_json::Value;
use std::path::{Path, PathBuf};
use util::*;

/// A server with the session PCH of named evals switched on (`HOTWASM_SESSION_PCH=1`; off by
/// default, see `one_shot`) whose host exports what C++ evals link (`__cxa_atexit`, the libc), with its own
/// temporary directory (where the session PCHs are kept: `hotwasm-session-pch`).
fn cpp_server(tmp: &Path) -> Server {
    use hotwasm_server::bundle::exports::{list_names, LIBC_EXPORTS};
    let tmp = tmp.display().to_string();
    let server = Server::start_with_env(
        tempfile::tempdir().unwrap(),
        &["--no-watch"],
        &[("TMPDIR", &tmp), ("HOTWASM_SESSION_PCH", "1")],
    );
    let path = server.root.path().join("build/hot/hotwasm-host.json");
    let mut host: hotwasm_abi::HostManifest =
        serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    host.exports
        .extend(list_names(LIBC_EXPORTS).map(String::from));
    host.exports
        .extend(["__cxa_atexit".into(), "__cpp_exception".into()]);
    host.exports.sort();
    host.exports.dedup();
    std::fs::write(&path, serde_json::to_string(&host).unwrap()).unwrap();
    server
}

/// The result of a named C++ eval. The first that includes a standard header builds the PCH
/// (seconds on a busy machine): the socket's 20 s read timeout is waited out again (the test's
/// watchdog bounds the whole).
fn eval_named(ws: &mut Socket, id: &str, name: &str, source: &str) -> Value {
    send(
        ws,
        serde_json::json!({"type":"eval","id":id,"lang":"cpp","source":source,"name":name}),
    );
    loop {
        let v: Value = match ws.read() {
            Ok(tungstenite::Message::Text(t)) => serde_json::from_str(&t).unwrap(),
            Ok(_) => continue,
            Err(tungstenite::Error::Io(e)) if e.kind() == std::io::ErrorKind::WouldBlock => {
                continue
            }
            Err(e) => panic!("the server's socket failed: {e}"),
        };
        if v["type"] == "eval_result" && v["id"] == id {
            return v;
        }
        assert_ne!(v["type"], "error", "{v}");
    }
}

/// The session PCHs the server keeps under `tmp`.
fn pchs(tmp: &Path) -> Vec<PathBuf> {
    let dir = tmp.join("hotwasm-session-pch");
    let mut found: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|d| d.flatten().map(|e| e.path()).collect())
        .unwrap_or_default();
    found.retain(|p| p.extension().is_some_and(|e| e == "pch"));
    found
}

#[test]
fn a_named_cpp_eval_including_vector_compiles_and_reports_errors_at_the_users_lines() {
    let _dog = watchdog(300);
    let tmp = tempfile::tempdir().unwrap();
    let server = cpp_server(tmp.path());
    let page = Page::connect(&server, None, 0);
    page.wait_replay();
    let mut ws = repl(&server);
    let name = "src/game/sorted.cpp";
    // An `#include` clang skips is no include: the text sees no std::vector. (First: a later
    // prelude repeats the `#include`s of the journal's entries.)
    let r = eval_named(
        &mut ws,
        "skipped",
        name,
        "#if 0\n#include <vector>\n#endif\nint count() { std::vector<int> v; return (int)v.size(); }\n",
    );
    assert_eq!(r["ok"], false, "{r}");
    assert!(r.to_string().contains("std"), "{r}");
    let r = eval_named(
        &mut ws,
        "sorted",
        name,
        "#include <vector>\n#include <algorithm>\nint smallest() {\n  std::vector<int> v{3, 1, 2};\n  std::sort(v.begin(), v.end());\n  return v[0];\n}\nsmallest()",
    );
    assert_eq!(r["ok"], true, "{r}");
    assert_eq!(pchs(tmp.path()).len(), 1, "the eval used a session PCH");
    let r = eval_named(
        &mut ws,
        "broken",
        name,
        "#include <vector>\nint broken() {\n  std::vector<int> v{1};\n  return v.size() +;\n}\n",
    );
    assert_eq!(r["ok"], false, "{r}");
    let d = &r["diagnostics"][0];
    assert_eq!(
        (
            d["file"].as_str(),
            d["line"].as_u64(),
            d["severity"].as_str()
        ),
        (Some(name), Some(4), Some("error")),
        "{r}"
    );
}

#[test]
fn a_refused_pch_is_built_again_and_a_session_started_for_another_directory_is_not_used() {
    let _dog = watchdog(300);
    let tmp = tempfile::tempdir().unwrap();
    let server = cpp_server(tmp.path());
    let page = Page::connect(&server, None, 0);
    page.wait_replay();
    let mut ws = repl(&server);
    for (dir, speed) in [("src/a", 12), ("src/b", 7), ("src/c", 3)] {
        let d = server.root.path().join(dir);
        std::fs::create_dir_all(&d).unwrap();
        std::fs::write(d.join("tuning.h"), format!("#define SPEED {speed}\n")).unwrap();
    }
    let text = |speed: u32| {
        format!("#include <vector>\n#include \"tuning.h\"\nstatic_assert(SPEED == {speed}, \"the tuning.h beside this file\");\nint first() {{ std::vector<int> v{{SPEED}}; return v[0]; }}\n")
    };
    let r = eval_named(&mut ws, "a1", "src/a/step.cpp", &text(12));
    assert_eq!(r["ok"], true, "{r}");
    // A session was started ahead for src/a; src/b's eval must not use it.
    let r = eval_named(&mut ws, "b1", "src/b/step.cpp", &text(7));
    assert_eq!(r["ok"], true, "{r}");
    let built = pchs(tmp.path());
    assert_eq!(built.len(), 1, "{built:?}");
    // A PCH clang refuses (here: not a PCH at all, put in place as a build would: renamed over
    // it) is not used: it is built again for the eval that found it refused.
    let stale = built[0].with_extension("stale");
    std::fs::write(&stale, "stale").unwrap();
    std::fs::rename(&stale, &built[0]).unwrap();
    let r = eval_named(&mut ws, "c1", "src/c/step.cpp", &text(3));
    assert_eq!(r["ok"], true, "{r}");
    let rebuilt = pchs(tmp.path());
    assert_eq!(rebuilt.len(), 1, "{rebuilt:?}");
    let size = std::fs::metadata(&rebuilt[0]).unwrap().len();
    assert!(size > 1 << 20, "the PCH was built again ({size} bytes)");
}
