//! Delivered patches are journaled: a page connecting later gets them replayed (only those after
//! its journal_seq), a kill -9 and restart keeps them, and a reset clears them with a new epoch.
use crate::util;
use serde_json::json;
use util::*;

#[test]
fn replay_on_connect_restart_and_reset() {
    let _dog = watchdog(180);
    let server = Server::start();
    let mut r = repl(&server);
    for i in 0..3 {
        // The first eval also defines a global, so the rollback of its var below is replayed with
        // it (a patch that only made the var's version is skipped with its rollback: the next test).
        let global = if i == 0 { "int g0 = 7;\n" } else { "" };
        let res = eval(
            &mut r,
            &format!("e{i}"),
            &format!("{global}int v{i}(void) {{ return {i}; }}\n"),
        );
        assert_eq!(res["ok"], true, "{res}");
    }
    send(&mut r, json!({"type":"rollback","var":"v0"}));
    // Messages on one connection are handled in order: the pong means the rollback is journaled.
    send(&mut r, json!({"type":"ping"}));
    recv_type(&mut r, "pong");

    // A fresh page replays everything, in order.
    let page = Page::connect(&server, None, 0);
    assert_eq!(page.wait_replay(), 4);
    let msgs = page.messages.lock().unwrap().clone();
    let welcome = msgs
        .iter()
        .find(|m| m["type"] == "welcome")
        .unwrap()
        .clone();
    let epoch = welcome["journal_epoch"].as_str().unwrap().to_string();
    assert_eq!(welcome["journal_len"], 4);
    assert_eq!(welcome["host_vars"][0]["name"], "step_particle");
    let seqs: Vec<u64> = msgs
        .iter()
        .filter(|m| m["seq"].is_u64())
        .map(|m| m["seq"].as_u64().unwrap())
        .collect();
    assert!(seqs.windows(2).all(|w| w[0] < w[1]), "{seqs:?}");
    assert!(msgs
        .iter()
        .filter(|m| m["type"] == "patch")
        .all(|m| m["replay"] == true));
    assert!(msgs
        .iter()
        .any(|m| m["type"] == "rollback" && m["var"] == "v0"));
    let second = seqs[1];

    // A page that already applied the first two gets the rest only.
    let partial = Page::connect(&server, Some(&epoch), second);
    assert_eq!(partial.wait_replay(), 2);

    // kill -9 and restart: the journal is still there.
    let server = server.restart();
    let after = Page::connect(&server, None, 0);
    assert_eq!(after.wait_replay(), 4);
    let up_to_date = Page::connect(&server, Some(&epoch), *seqs.last().unwrap());
    assert_eq!(up_to_date.wait_replay(), 0);
    let p = after.patches();
    assert_eq!(p[0].header["manifest"][0]["var"], "v0");
    assert!(wasmparser::Validator::new()
        .validate_all(&p[0].wasm)
        .is_ok());

    // New evals after the restart never reuse a sequence number.
    let mut r = repl(&server);
    let res = eval(&mut r, "after", "int v9(void) { return 9; }\n");
    assert!(res["seq"].as_u64().unwrap() > *seqs.last().unwrap());

    // Reset: new epoch, nothing to replay, sequence numbers keep counting.
    send(&mut r, json!({"type":"journal_reset"}));
    let reset = recv_type(&mut r, "journal_reset");
    assert_ne!(reset["journal_epoch"], epoch);
    let fresh = Page::connect(&server, Some(&epoch), 2);
    assert_eq!(fresh.wait_replay(), 0);
    let res = eval(&mut r, "post", "int v10(void) { return 10; }\n");
    assert!(res["seq"].as_u64().unwrap() > *seqs.last().unwrap() + 1);
}

#[test]
fn the_journal_reset_command_clears_a_stopped_servers_journal() {
    let _dog = watchdog(120);
    let server = Server::start();
    let mut r = repl(&server);
    assert_eq!(eval(&mut r, "a", "int a(void) { return 1; }\n")["ok"], true);
    let root = server.root.path().to_path_buf();
    let server = server.restart();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_hotwasm"))
        .args(["journal", "reset", "--root"])
        .arg(&root)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let server = server.restart();
    let page = Page::connect(&server, None, 0);
    assert_eq!(page.wait_replay(), 0);
}

/// A fresh page is not sent a patch that only made a version of one var, nor the rollback that
/// took it back (a trap's or the user's): the pair leaves the var where it was.
#[test]
fn a_rolled_back_version_is_not_replayed_to_a_new_page() {
    let _dog = watchdog(180);
    let server = Server::start();
    let mut r = repl(&server);
    for (id, body) in [("a", "return 1;"), ("b", "return 2;")] {
        let res = eval(&mut r, id, &format!("int w(void) {{ {body} }}\n"));
        assert_eq!(res["ok"], true, "{res}");
    }
    send(&mut r, json!({"type":"rollback","var":"w"}));
    send(&mut r, json!({"type":"ping"}));
    recv_type(&mut r, "pong");

    let page = Page::connect(&server, None, 0);
    assert_eq!(page.wait_replay(), 1, "the first version only");
    let msgs = page.messages.lock().unwrap().clone();
    assert!(!msgs.iter().any(|m| m["type"] == "rollback"), "{msgs:?}");
    assert_eq!(page.patches().len(), 1);
}
