//! What a page is sent on `hello` (docs/PROTOCOL.md, "What a reload replays"): a new instance
//! gets every eval that defines something (with its statements) but not the commands — evals of
//! statements and expressions only; a page catching up from its journal position gets every
//! entry after it, commands included.

use crate::util::*;

fn ok(r: &serde_json::Value) -> u64 {
    assert_eq!(r["ok"], true, "{r}");
    r["seq"].as_u64().unwrap()
}

#[test]
fn a_new_page_is_sent_definitions_only_and_a_page_catching_up_the_commands_too() {
    let _dog = watchdog(180);
    let server = Server::start();
    let mut r = repl(&server);
    let defs = ok(&eval(
        &mut r,
        "d",
        "int bumps = 0;\nint sq(int x) { return x * x; }\n",
    ));
    let value = ok(&eval(&mut r, "v", "sq(9)\n"));
    let with_statement = ok(&eval(
        &mut r,
        "w",
        "int twice(int x) { return 2 * x; }\nbumps += 10;\n",
    ));
    let command = ok(&eval(
        &mut r,
        "c",
        "#include <stdio.h>\nbumps += 1;\nprintf(\"%d\\n\", bumps);\n",
    ));

    let fresh = Page::connect(&server, None, 0);
    assert_eq!(fresh.wait_replay(), 2);
    let seqs: Vec<u64> = fresh
        .patches()
        .iter()
        .map(|p| p.header["seq"].as_u64().unwrap())
        .collect();
    assert_eq!(
        seqs,
        [defs, with_statement],
        "commands #{value} and #{command} are not replayed"
    );

    let epoch = messages_of_type(&fresh, "welcome")[0]["journal_epoch"].clone();
    let catching_up = Page::connect(&server, epoch.as_str(), defs);
    assert_eq!(catching_up.wait_replay(), 3);
    let seqs: Vec<u64> = catching_up
        .patches()
        .iter()
        .map(|p| p.header["seq"].as_u64().unwrap())
        .collect();
    assert_eq!(seqs, [value, with_statement, command]);
}

fn messages_of_type(page: &Page, ty: &str) -> Vec<serde_json::Value> {
    page.messages
        .lock()
        .unwrap()
        .iter()
        .filter(|m| m["type"] == ty)
        .cloned()
        .collect()
}
