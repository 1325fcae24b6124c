//! `undo {id, seq, state}`: every page is told to undo entry `seq` and every later one, each
//! page's answer comes back in `undo_result`, and the journal forgets the undone entries (a new
//! page never replays them; a page that missed the undo gets it on reconnect).
use crate::util;
use serde_json::json;
use std::io::Write;
use std::process::{Command, Stdio};
use util::*;

fn bg(colour: &str) -> String {
    format!("#include \"particles.h\"\nuint32_t background_color(const World *w) {{ (void)w; return {colour}; }}\n")
}

fn undo(repl: &mut Socket, id: &str, seq: u64, state: bool) -> serde_json::Value {
    send(repl, json!({"type":"undo","id":id,"seq":seq,"state":state}));
    loop {
        let v = recv(repl);
        if v["type"] == "undo_result" && v["id"] == id || v["type"] == "error" {
            return v;
        }
    }
}

fn messages_of(page: &Page, ty: &str) -> Vec<serde_json::Value> {
    let all = page.messages.lock().unwrap().clone();
    all.into_iter().filter(|m| m["type"] == ty).collect()
}

#[test]
fn an_undo_reaches_every_page_and_the_journal_forgets_what_it_undid() {
    let _dog = watchdog(180);
    let server = Server::start();
    let (a, b) = (
        Page::connect(&server, None, 0),
        Page::connect(&server, None, 0),
    );
    a.wait_replay();
    b.wait_replay();
    let mut repl = repl(&server);
    let first = eval(&mut repl, "e1", &bg("0xff0000ffu"));
    assert_eq!(first["ok"], true, "{first}");
    let second = eval(&mut repl, "e2", &bg("0xff00ff00u"));
    assert_eq!(second["ok"], true, "{second}");
    let (s1, s2) = (
        first["seq"].as_u64().unwrap(),
        second["seq"].as_u64().unwrap(),
    );

    let r = undo(&mut repl, "u1", s1, true);
    assert_eq!(r["type"], "undo_result", "{r}");
    assert_eq!(r["ok"], true, "{r}");
    assert_eq!(r["undone"], json!([s1, s2]));
    assert_eq!(r["pages"].as_array().unwrap().len(), 2, "{r}");
    let entry = r["journal_seq"].as_u64().unwrap();
    assert!(entry > s2);
    for page in [&a, &b] {
        let u = messages_of(page, "undo");
        assert_eq!(
            u,
            vec![json!({"type":"undo","seq":s1,"state":true,"journal_seq":entry,"replay":false})]
        );
    }

    // A new page replays only the undo (nothing to undo there); no patch.
    let fresh = Page::connect(&server, None, 0);
    assert_eq!(fresh.wait_replay(), 1);
    assert!(
        fresh.patches().is_empty(),
        "the undone patches are not replayed"
    );
    // A page that applied #s1 and then missed the undo gets it on reconnect.
    let epoch = messages_of(&a, "welcome")[0]["journal_epoch"].clone();
    let missed = Page::connect(&server, epoch.as_str(), s1);
    assert_eq!(missed.wait_replay(), 1);
    assert_eq!(messages_of(&missed, "undo")[0]["replay"], true);

    // A code-only undo of a later patch.
    let third = eval(&mut repl, "e3", &bg("0xff00ffffu"));
    let s3 = third["seq"].as_u64().unwrap();
    let r = undo(&mut repl, "u2", s3, false);
    assert_eq!(r["ok"], true, "{r}");
    assert_eq!(r["state"], false);
    assert_eq!(messages_of(&b, "undo")[1]["state"], false);
}

#[test]
fn an_undo_of_an_entry_the_journal_does_not_hold_is_refused_naming_what_it_holds() {
    let _dog = watchdog(60);
    let server = Server::start();
    let page = Page::connect(&server, None, 0);
    page.wait_replay();
    let mut repl = repl(&server);
    let r = undo(&mut repl, "u1", 42, true);
    assert_eq!(r["type"], "undo_result", "{r}");
    assert_eq!(r["ok"], false);
    let e = r["error"].as_str().unwrap();
    assert!(
        e.contains("no journal entry #42") && e.contains("holds none"),
        "{e}"
    );
    assert!(
        messages_of(&page, "undo").is_empty(),
        "no page was told anything"
    );

    let big = "x".repeat(200);
    let r = undo(&mut repl, &big, 1, true);
    assert_eq!(r["type"], "error", "{r}");
    assert_eq!(r["code"], "bad_request");
}

/// `hotwasm repl` for `server`'s app with `input` on stdin; its stdout and stderr.
fn run_repl(server: &Server, input: &str) -> String {
    let mut child = Command::new(env!("CARGO_BIN_EXE_hotwasm"))
        .args(["repl", "--root", server.root.path().to_str().unwrap()])
        .envs(toolchain_env())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start hotwasm repl");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr)
}

#[test]
fn undo_in_the_terminal_repl_reaches_the_pages_and_reports_them() {
    let _dog = watchdog(120);
    let server = Server::start();
    let page = Page::connect(&server, None, 0);
    page.wait_replay();
    let out = run_repl(
        &server,
        "int repl_u(int x) { return x; }\n;;\nint repl_u(int x) { return x + 1; }\n;;\n:undo 2 --code\n:undo 1\n:undo 99\n:undo\n",
    );
    assert_eq!(out.matches("ok: patch").count(), 2, "{out}");
    assert!(
        out.contains("ok code back to before #2: undid #2 on 1 page(s)"),
        "{out}"
    );
    assert!(
        out.contains("ok code and state back to before #1: undid #1 on 1 page(s)"),
        "an earlier undo's own entry is not listed as undone: {out}"
    );
    assert!(
        out.contains("error: there is no journal entry #99"),
        "{out}"
    );
    assert!(out.contains("usage: :undo N [--code]"), "{out}");
    let undos = messages_of(&page, "undo");
    assert_eq!(undos.len(), 2, "{undos:?}");
    assert_eq!(undos[0]["state"], false);
    assert_eq!(undos[1]["state"], true);
}
