//! What adopters and a fresh machine hit (issue 20), each against the real server, real
//! WebSockets and real emcc: unreadable saved files never wedge the compile queue, every
//! refused eval is answered with its id, HTTP refusals carry their own status, the server
//! refuses connections past its limit, the server rebuilds with an edited hotwasm.toml, a
//! release build after the server's fast rebuild relinks, debug flags in `[build] ldflags`
//! link or are refused with the reason, and a patch using the C library compiles from an empty
//! Emscripten cache.
//!
//! CI time (2-core machine, shared): the empty-cache test ~100 s (it builds the PIC libc and
//! compiler-rt), the Rust release-relink test ~105 s with a warm target directory
//! (target/field-reports-rust-host or $CARGO_TARGET_DIR), the config test ~50 s, the rest
//! seconds.

use crate::util::*;
use serde_json::{json, Value};
use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

/// Every message of `ty` the page has seen so far.
fn of_type(page: &Page, ty: &str) -> Vec<Value> {
    page.messages
        .lock()
        .unwrap()
        .iter()
        .filter(|m| m["type"] == ty)
        .cloned()
        .collect()
}

const ANSWER: &str = "int fr_answer(int a) { return a + 5; }\n";

#[test]
fn unreadable_saved_files_never_wedge_the_compile_queue() {
    let _dog = watchdog(240);
    let server = Server::start_with(tempfile::tempdir().unwrap(), &[]);
    let page = Page::connect(&server, None, 0);
    assert_eq!(page.wait_replay(), 0);
    // More unreadable files than the queue holds (4), one save after another: each one is
    // answered with diagnostics naming it and the fix, none keeps a place in the queue.
    for i in 1..=6 {
        let name = format!("patches/bad{i}.c");
        std::fs::write(server.root.path().join(&name), b"\xff\xfe int x;\n").unwrap();
        wait_until(&format!("diagnostics for {name}"), 60, || {
            of_type(&page, "diagnostics").len() >= i
        });
        let d = of_type(&page, "diagnostics").pop().unwrap();
        assert_eq!(d["name"], name, "{d}");
        let message = d["diagnostics"][0]["message"].as_str().unwrap();
        assert!(
            message.contains(&format!(
                "{name} is not UTF-8 text (byte 0xff at offset 0, line 1)"
            )) && message.contains("save it as UTF-8"),
            "{message}"
        );
    }
    // The queue is free: an eval from a terminal still compiles and is delivered.
    let mut ws = repl(&server);
    let result = eval(&mut ws, "after-bad-files", ANSWER);
    assert_eq!(result["ok"], true, "{result}");
    assert_eq!(result["stage"], "done", "{result}");
}

#[test]
fn every_eval_past_a_full_queue_is_answered_busy_with_its_id() {
    let _dog = watchdog(240);
    let server = Server::start();
    let mut ws = repl(&server);
    // A burst of evals: the queue takes four (two of them compile as soon as their threads
    // start), the rest are refused at once (a compile takes far longer than reading a message).
    let ids: Vec<String> = (0..12).map(|i| format!("burst-{i}")).collect();
    for id in &ids {
        send(
            &mut ws,
            json!({"type":"eval","id":id,"lang":"c","source":ANSWER}),
        );
    }
    let mut answered = std::collections::BTreeMap::new();
    while answered.len() < ids.len() {
        let v = recv(&mut ws);
        match v["type"].as_str() {
            Some("eval_result") => {
                assert_eq!(v["ok"], true, "{v}");
                answered.insert(v["id"].as_str().unwrap().to_string(), "result");
            }
            Some("error") => {
                assert_eq!(v["code"], "busy", "{v}");
                let id = v["id"].as_str().unwrap_or_else(|| panic!("no id: {v}"));
                answered.insert(id.to_string(), "busy");
            }
            _ => {}
        }
    }
    let busy = answered.values().filter(|a| **a == "busy").count();
    assert!(busy >= 1, "a full queue refused none: {answered:?}");
    assert!(busy <= ids.len() - 4, "the queue holds four: {answered:?}");
}

/// The status line of the answer to `request`, sent on a fresh connection.
fn status_line(port: u16, request: &[u8]) -> String {
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    s.write_all(request).unwrap();
    let mut answer = String::new();
    let _ = s.read_to_string(&mut answer);
    answer.lines().next().unwrap_or_default().to_string()
}

#[test]
fn connections_past_the_limit_are_refused_with_503_naming_it_and_served_again_after() {
    let _dog = watchdog(120);
    let server = Server::start();
    let get = format!("GET / HTTP/1.1\r\nHost: 127.0.0.1:{}\r\n\r\n", server.port);
    assert_eq!(status_line(server.port, get.as_bytes()), "HTTP/1.1 200 OK");
    // 256 connections that sent half a request head hold their threads (until the 10 s read
    // timeout); the server accepts in order, so the next one is the 257th.
    let mut held: Vec<TcpStream> = (0..256)
        .map(|_| {
            let mut s = TcpStream::connect(("127.0.0.1", server.port)).unwrap();
            s.write_all(b"GET / HTTP/1.1\r\n").unwrap();
            s
        })
        .collect();
    let mut s = TcpStream::connect(("127.0.0.1", server.port)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    let mut answer = String::new();
    let _ = s.read_to_string(&mut answer);
    assert!(
        answer.starts_with("HTTP/1.1 503 Service Unavailable\r\n"),
        "{answer}"
    );
    assert!(
        answer.contains("already has 256 connections open: close pages or terminals"),
        "{answer}"
    );
    // Closing the held connections frees their places.
    held.clear();
    wait_until(
        "a request served after the held connections closed",
        30,
        || status_line(server.port, get.as_bytes()) == "HTTP/1.1 200 OK",
    );
}

#[test]
fn each_http_refusal_carries_its_own_status() {
    let _dog = watchdog(60);
    let server = Server::start();
    let host = format!("Host: 127.0.0.1:{}\r\n", server.port);
    let cases: [(String, &str); 5] = [
        (
            format!("GET /nothing-here HTTP/1.1\r\n{host}\r\n"),
            "404 Not Found",
        ),
        (
            format!("POST / HTTP/1.1\r\n{host}\r\n"),
            "405 Method Not Allowed",
        ),
        (
            "GET / HTTP/1.1\r\nHost: evil.example:80\r\n\r\n".into(),
            "403 Forbidden",
        ),
        (
            format!("GET /repl?token={} HTTP/1.1\r\n{host}\r\n", server.token),
            "400 Bad Request",
        ),
        (
            format!(
                "GET / HTTP/1.1\r\n{host}X-Big: {}\r\n\r\n",
                "a".repeat(20_000)
            ),
            "431 Request Header Fields Too Large",
        ),
    ];
    for (request, want) in cases {
        assert_eq!(
            status_line(server.port, request.as_bytes()),
            format!("HTTP/1.1 {want}"),
            "{}",
            &request[..request.len().min(60)]
        );
    }
}

/// The next message of one of `types` within `secs` (a host build may take longer than one
/// read timeout: each timeout is waited through).
fn next_of(ws: &mut Socket, types: &[&str], secs: u64) -> Value {
    let deadline = std::time::Instant::now() + Duration::from_secs(secs);
    loop {
        assert!(
            std::time::Instant::now() < deadline,
            "no {types:?} within {secs} s"
        );
        match ws.read() {
            Ok(tungstenite::Message::Text(t)) => {
                let v: Value = serde_json::from_str(&t).unwrap();
                if types.contains(&v["type"].as_str().unwrap_or_default()) {
                    return v;
                }
            }
            Ok(_) => {}
            Err(tungstenite::Error::Io(e))
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) => {}
            Err(e) => panic!("connection lost: {e}"),
        }
    }
}

/// Runs the real `hotwasm` command; panics with its output when it fails.
fn hotwasm(args: &[&str]) -> String {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_hotwasm"))
        .args(args)
        .envs(toolchain_env())
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "hotwasm {args:?} failed:\n{text}");
    text
}

/// Waits for one host rebuild's outcome: `host_reload` (built) or `host_build failed`.
fn rebuilt(ws: &mut Socket, files: &str) -> Value {
    let building = next_of(ws, &["host_build"], 60);
    assert_eq!(building["status"], "building", "{building}");
    assert_eq!(building["files"], json!([files]), "{building}");
    next_of(ws, &["host_reload", "host_build"], 900)
}

#[test]
fn serve_rebuilds_with_an_edited_hotwasm_toml_and_keeps_the_last_valid_one() {
    let _dog = watchdog(600);
    let root = tempfile::tempdir().unwrap();
    let app = root.path().to_path_buf();
    hotwasm(&[
        "init",
        "--lang",
        "c",
        "--name",
        "fr-app",
        app.to_str().unwrap(),
    ]);
    // The host builds only with the flag the edited config adds.
    let source = app.join("src/app.c");
    let mut text = std::fs::read_to_string(&source).unwrap();
    text.push_str("#ifndef FR_FLAG\n#error built with a stale hotwasm.toml\n#endif\n");
    std::fs::write(&source, &text).unwrap();
    let config = app.join("hotwasm.toml");
    let original = std::fs::read_to_string(&config).unwrap();
    let server = Server::serve_app(root, &[]);
    let mut ws = repl(&server);

    // The edit adds the flag: the server reloads it and rebuilds the host with it.
    let fixed = original.replace(
        "cflags = [\"-Iinclude\"]",
        "cflags = [\"-Iinclude\", \"-DFR_FLAG=1\"]",
    );
    assert_ne!(fixed, original, "the scaffold's cflags line moved");
    std::fs::write(&config, &fixed).unwrap();
    let outcome = rebuilt(&mut ws, "hotwasm.toml");
    assert_eq!(outcome["type"], "host_reload", "{outcome}");

    // An invalid edit is refused with the reason; the server keeps the config it had.
    let invalid = fixed.replace("[serve]", "[serve]\nport = \"x\"");
    let line = 1 + invalid
        .lines()
        .position(|l| l == "port = \"x\"")
        .expect("the scaffold has a [serve] table");
    std::fs::write(&config, invalid).unwrap();
    let d = next_of(&mut ws, &["diagnostics"], 60);
    assert_eq!(d["name"], "hotwasm.toml", "{d}");
    let message = d["diagnostics"][0]["message"].as_str().unwrap();
    assert!(
        message.contains(&format!(
            "hotwasm.toml:{line}:8: invalid type: string \"x\", expected u16"
        )) && message.contains("the server keeps the config it had"),
        "{message}"
    );
    // A saved host source rebuilds with the kept config (the flag is still there).
    text.push_str("/* saved again */\n");
    std::fs::write(&source, &text).unwrap();
    let outcome = rebuilt(&mut ws, "src/app.c");
    assert_eq!(outcome["type"], "host_reload", "{outcome}");
}

/// The size of the built host's wasm.
fn wasm_size(app: &std::path::Path, name: &str) -> u64 {
    std::fs::metadata(app.join(format!("build/hot/{name}.wasm")))
        .unwrap()
        .len()
}

#[test]
fn a_release_build_after_a_server_rebuild_relinks_instead_of_keeping_the_fast_link() {
    let _dog = watchdog(1200);
    let root = tempfile::tempdir().unwrap();
    let app = root.path().to_path_buf();
    hotwasm(&[
        "init",
        "--lang",
        "rust",
        "--name",
        "fr-rust",
        app.to_str().unwrap(),
    ]);
    // A marked-mode host: the server's fast link (-O1) is a flavour of its own there (an
    // all-hot host, what init writes, always links at -O1).
    let config = app.join("hotwasm.toml");
    let text = std::fs::read_to_string(&config).unwrap();
    std::fs::write(&config, text.replace("mode = \"all\"", "mode = \"marked\"")).unwrap();
    // The app's cargo target directory is kept between runs (its dependencies take minutes).
    let target = repo_root().join("target/field-reports-rust-host");
    std::fs::create_dir_all(&target).unwrap();
    std::os::unix::fs::symlink(&target, app.join("target")).unwrap();
    let server = Server::serve_app(root, &[]);
    let mut ws = repl(&server);
    // A saved host source: the server rebuilds the host with its fast link (-O1).
    let main = app.join("src/main.rs");
    let mut text = std::fs::read_to_string(&main).unwrap();
    text.push_str("// saved\n");
    std::fs::write(&main, &text).unwrap();
    let outcome = rebuilt(&mut ws, "src/main.rs");
    assert_eq!(outcome["type"], "host_reload", "{outcome}");
    let fast = wasm_size(&app, "fr-rust");
    let mut server = server;
    server.child.kill().unwrap();
    server.child.wait().unwrap();

    // The documented release build links again: the bundle is not the server's -O1 host.
    let out = std::process::Command::new("bash")
        .arg(repo_root().join("scripts/emscripten-bundle.sh"))
        .arg(&app)
        .env("HOT_RELOAD", "1")
        .envs(toolchain_env())
        .output()
        .unwrap();
    let log = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{log}");
    assert!(log.contains("relinking"), "{log}");
    let release = wasm_size(&app, "fr-rust");
    assert!(
        release < fast,
        "the release host ({release} bytes) is smaller than the -O1 one ({fast} bytes)"
    );
}

/// A HOT_RELOAD host's manifest as far as patches see it: the test host's vars and the C
/// library every HOT_RELOAD host exports (scripts/libc-exports.txt).
fn manifest_with_the_hosts_c_library() -> String {
    let mut m: Value = serde_json::from_str(HOST_MANIFEST).unwrap();
    let list = std::fs::read_to_string(repo_root().join("scripts/libc-exports.txt")).unwrap();
    let exports = m["exports"].as_array_mut().unwrap();
    for name in list
        .lines()
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
    {
        exports.push(name.trim().into());
    }
    m.to_string()
}

/// The names of the functions a module imports.
fn function_imports(wasm: &[u8]) -> Vec<String> {
    let mut out = Vec::new();
    for payload in wasmparser::Parser::new(0).parse_all(wasm) {
        if let Ok(wasmparser::Payload::ImportSection(r)) = payload {
            for import in r.into_iter().flatten() {
                if matches!(import.ty, wasmparser::TypeRef::Func(_)) {
                    out.push(import.name.to_string());
                }
            }
        }
    }
    out
}

const USES_THE_C_LIBRARY: &str = r#"#include <stdio.h>
#include <stdlib.h>
static int by_value(const void *a, const void *b) { return *(const int *)a - *(const int *)b; }
int fr_parse_and_sort(const char *text) {
  int v[3] = {0, 0, 0};
  if (sscanf(text, "%d %d %d", &v[0], &v[1], &v[2]) != 3) return -1;
  qsort(v, 3, sizeof v[0], by_value);
  return v[0] * 100 + v[1] * 10 + v[2] + (int)strtod("0.5", NULL);
}
"#;

#[test]
fn a_patch_using_the_c_library_compiles_from_an_empty_emscripten_cache() {
    let _dog = watchdog(600);
    let cache = tempfile::tempdir().unwrap();
    let em_cache = cache.path().to_str().unwrap();
    let started = std::time::Instant::now();
    let server = Server::start_with_env(
        tempfile::tempdir().unwrap(),
        &["--no-watch"],
        &[("EM_CACHE", em_cache)],
    );
    std::fs::write(
        server.root.path().join("build/hot/hotwasm-host.json"),
        manifest_with_the_hosts_c_library(),
    )
    .unwrap();
    let mut ws = repl(&server);
    send(
        &mut ws,
        json!({"type":"eval","id":"libc","lang":"c","source":USES_THE_C_LIBRARY}),
    );
    // The server builds the PIC C library into the empty cache on first need (a minute or
    // more), then compiles: `qsort` is linked into the patch, `sscanf` and `strtod` bind to
    // the host's.
    let result = next_of(&mut ws, &["eval_result"], 540);
    assert_eq!(result["ok"], true, "{result}");
    assert_eq!(result["stage"], "done", "{result}");
    let pic = cache.path().join("sysroot/lib/wasm32-emscripten/pic");
    for lib in ["libc.a", "libcompiler_rt.a"] {
        assert!(pic.join(lib).is_file(), "{lib} built into the empty cache");
    }
    eprintln!(
        "from an empty Emscripten cache to a compiled C library patch: {:.0} s",
        started.elapsed().as_secs_f64()
    );
    // What a page receives (a page waits for nothing that long: it connects now).
    let page = Page::connect(&server, None, 0);
    page.wait_replay();
    let again = eval(&mut ws, "libc-again", USES_THE_C_LIBRARY);
    assert_eq!(again["ok"], true, "{again}");
    let patch = page.patches().pop().unwrap();
    let imports = function_imports(&patch.wasm);
    assert!(!imports.iter().any(|i| i == "qsort"), "{imports:?}");
    assert!(imports.iter().any(|i| i == "sscanf"), "{imports:?}");
}

/// Runs the real `hotwasm` command in `dir`: whether it succeeded and its stderr.
fn hotwasm_in(dir: &std::path::Path, args: &[&str]) -> (bool, String) {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_hotwasm"))
        .args(args)
        .current_dir(dir)
        .envs(toolchain_env())
        .output()
        .unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn debug_flags_in_ldflags_link_or_are_refused_with_the_reason_and_plain_builds_are_quiet() {
    let _dog = watchdog(600);
    let root = tempfile::tempdir().unwrap();
    let app = root.path();
    hotwasm(&[
        "init",
        "--lang",
        "c",
        "--name",
        "fr-flags",
        app.to_str().unwrap(),
    ]);
    let config = app.join("hotwasm.toml");
    let original = std::fs::read_to_string(&config).unwrap();
    let with_ldflags = |flags: &str| {
        let text = original.replace("[build]\n", &format!("[build]\nldflags = [{flags}]\n"));
        std::fs::write(&config, text).unwrap();
    };

    // Full stack checks need a binaryen program npm's binaryen lacks: refused before the link.
    with_ldflags("\"-sASSERTIONS=1\", \"-sSTACK_OVERFLOW_CHECK=2\"");
    let (ok, log) = hotwasm_in(app, &["build", "--hot"]);
    assert!(!ok, "{log}");
    assert!(
        log.contains("[build] ldflags cannot link with this toolchain")
            && log.contains("wasm-emscripten-finalize")
            && log.contains("-sSTACK_OVERFLOW_CHECK=2: use -sSTACK_OVERFLOW_CHECK=1"),
        "{log}"
    );
    assert!(
        !log.contains("emcc: error"),
        "refused before emcc ran: {log}"
    );

    // The app's runtime methods join hotwasm's; a plain host warns about nothing of hotwasm's.
    with_ldflags("\"-sEXPORTED_RUNTIME_METHODS=['addFunction']\"");
    let (ok, log) = hotwasm_in(app, &["build"]);
    assert!(ok, "{log}");
    assert!(!log.contains("EXPORTED_RUNTIME_METHODS"), "{log}");
    let js = std::fs::read_to_string(app.join("build/plain/fr-flags.js")).unwrap();
    for method in ["addFunction", "FS", "ccall"] {
        assert!(
            js.contains(&format!("Module[\"{method}\"]")),
            "{method} exported"
        );
    }
}
