//! The current vars, as the server knows them from the host manifest and the journal: a `vars`
//! request answers with exact versions and prototypes (behind the same token as `eval`), and the
//! generated header `hotwasm_vars.h` lets a later eval call an earlier eval's var without
//! retyping its prototype. Real clang/wasm-ld patches; a test page acks them.
use crate::util;
use serde_json::{json, Value};
use std::io::{Read, Write};
use std::net::TcpStream;
use util::*;

fn vars(ws: &mut Socket, id: &str) -> Vec<Value> {
    send(ws, json!({"type": "vars", "id": id}));
    let answer = recv_type(ws, "vars_result");
    assert_eq!(answer["id"], id);
    answer["vars"].as_array().unwrap().clone()
}

fn var<'a>(vars: &'a [Value], name: &str) -> &'a Value {
    vars.iter()
        .find(|v| v["name"] == name)
        .unwrap_or_else(|| panic!("no var `{name}` in {vars:?}"))
}

fn get(port: u16, path: &str, host: &str) -> String {
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_read_timeout(Some(std::time::Duration::from_secs(10)))
        .unwrap();
    s.write_all(format!("GET {path} HTTP/1.1\r\nHost: {host}\r\n\r\n").as_bytes())
        .unwrap();
    let mut out = Vec::new();
    let _ = s.read_to_end(&mut out);
    String::from_utf8_lossy(&out).into_owned()
}

#[test]
fn a_vars_request_lists_host_and_eval_vars_with_exact_versions_and_prototypes() {
    let _dog = watchdog(180);
    let server = Server::start();
    let page = Page::connect(&server, None, 0);
    page.wait_replay();
    let mut ws = repl(&server);

    let before = vars(&mut ws, "v0");
    let host = var(&before, "step_particle");
    assert_eq!(host["signature"], "vppf");
    assert_eq!(
        host["version"], 1,
        "a host var starts at version 1, as the registry counts"
    );
    assert!(host.get("defined_by_seq").is_none(), "{host}");

    for (id, body) in [("e1", "v * 3"), ("e2", "v * 4")] {
        let r = eval(
            &mut ws,
            id,
            &format!("int vq_helper(int v)\n{{ return {body}; }}\n"),
        );
        assert_eq!(r["ok"], true, "{r}");
    }
    let r = eval(
        &mut ws,
        "e3",
        "void step_particle(void *p, void *w, float dt) { (void)p; (void)w; (void)dt; }\n",
    );
    assert_eq!(r["ok"], true, "{r}");
    let seq3 = r["seq"].as_u64().unwrap();

    let now = vars(&mut ws, "v1");
    let helper = var(&now, "vq_helper");
    assert_eq!(helper["signature"], "ii");
    assert_eq!(helper["version"], 2);
    assert_eq!(helper["prototype"], "int vq_helper(int v);");
    let step = var(&now, "step_particle");
    assert_eq!(
        (step["version"].as_u64(), step["defined_by_seq"].as_u64()),
        (Some(2), Some(seq3))
    );

    send(&mut ws, json!({"type": "rollback", "var": "vq_helper"}));
    let after = loop {
        let v = vars(&mut ws, "v2");
        if var(&v, "vq_helper")["version"] == 1 {
            break v;
        }
    };
    assert_eq!(var(&after, "vq_helper")["version"], 1);
}

#[test]
fn a_vars_request_needs_the_token_like_an_eval() {
    let _dog = watchdog(60);
    let server = Server::start();
    let without = format!("ws://127.0.0.1:{}/repl", server.port);
    assert!(
        tungstenite::connect(&without).is_err(),
        "no token, no socket: neither eval nor vars can be sent"
    );
    let wrong = format!("ws://127.0.0.1:{}/repl?token=00", server.port);
    assert!(tungstenite::connect(&wrong).is_err());
    let mut ws = repl(&server);
    assert!(!vars(&mut ws, "ok").is_empty());
}

#[test]
fn a_later_eval_includes_the_generated_header_and_calls_an_earlier_var() {
    let _dog = watchdog(180);
    let server = Server::start();
    let page = Page::connect(&server, None, 0);
    page.wait_replay();
    let mut ws = repl(&server);

    let r = eval(&mut ws, "def", "int hdr_helper(int v) { return v * 3; }\n");
    assert_eq!(r["ok"], true, "{r}");
    let file = server.root.path().join(".hotwasm/include/hotwasm_vars.h");
    let written = std::fs::read_to_string(&file).unwrap();
    assert!(written.contains("int hdr_helper(int v);"), "{written}");
    assert!(
        written.contains("step_particle (host var, version 1, signature `vppf`): declared in the app's particles.h"),
        "a host var the app's header declares is named, not redeclared: {written}"
    );

    let r = eval(
        &mut ws,
        "use",
        "#include <hotwasm_vars.h>\nint hdr_user(int v) { return hdr_helper(v) + 1; }\n",
    );
    assert_eq!(r["ok"], true, "{r}");
    let manifest = &page.patches()[1].header["manifest"];
    assert_eq!(manifest[0]["var"], "hdr_user");

    // The same text over HTTP, under the Host check of every path.
    let own = format!("127.0.0.1:{}", server.port);
    let served = get(server.port, "/hotwasm/vars.h", &own);
    assert!(served.starts_with("HTTP/1.1 200"), "{served}");
    let body = served.split("\r\n\r\n").nth(1).unwrap();
    assert!(
        body.contains("int hdr_user(int v);") && body.contains("int hdr_helper(int v);"),
        "{body}"
    );
    let rebound = get(server.port, "/hotwasm/vars.h", "evil.example:80");
    assert!(rebound.starts_with("HTTP/1.1 403"), "{rebound}");
}

#[test]
fn a_saved_files_functions_are_declared_in_the_header_as_clang_printed_them() {
    let _dog = watchdog(240);
    let root = tempfile::tempdir().unwrap();
    let file = root.path().join("patches/lib.c");
    std::fs::create_dir_all(file.parent().unwrap()).unwrap();
    std::fs::write(&file, "int unused(void) { return 0; }\n").unwrap();
    let server = Server::start_with(root, &[]);
    let page = Page::connect(&server, None, 0);
    page.wait_replay();

    // A file of functions alone: its report is read beside its compile. `file_pick` returns a
    // function pointer (the text reader found no definition there), `file_count` is defined
    // without a prototype, and the include under `#if 0` is not the file's.
    let text = "#include <math.h>\n#if 0\n#include <nothing_here.h>\n#endif\nstatic double twice(double x) { return 2 * x; }\ndouble file_apply(double (*f)(double), double x) { return f(x); }\nint file_count() { return 3; }\nint (*file_pick(int which))(void) { return which ? file_count : 0; }\ndouble file_sq(double x) { return file_apply(twice, x) + sqrt(x); }\n";
    std::fs::write(&file, text).unwrap();
    wait_until("the save's patch", 60, || !page.patches().is_empty());
    let header = server.root.path().join(".hotwasm/include/hotwasm_vars.h");
    let mut written = String::new();
    wait_until("the header declaring the file's functions", 60, || {
        written = std::fs::read_to_string(&header).unwrap_or_default();
        written.contains("file_apply")
    });
    for declared in [
        "\n#include <math.h>\n",
        "\ndouble file_apply(double (*f)(double), double x);\n",
        "\nint file_count(void);\n",
        "\nint (*file_pick(int which))(void);\n",
    ] {
        assert!(written.contains(declared), "{declared} in {written}");
    }
    assert!(!written.contains("nothing_here.h"), "{written}");
    assert!(!written.contains("twice"), "{written}");
}
