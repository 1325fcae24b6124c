//! File watch with the real server: saving `patches/x.c` (matched by the project's
//! `[patches] watch` globs) delivers a patch for its function to a connected page; a save with
//! a syntax error sends `diagnostics` naming the file and line; two saves in quick succession
//! are debounced into one patch. The watch handles saves one after another, so each check
//! waits for the next event instead of sleeping: anything extra would have arrived first.
use crate::util;
use serde_json::Value;
use util::*;

fn good(body: &str) -> String {
    format!("#include \"hotwasm.h\"\n\nint x_answer(int a) {{\n  return {body};\n}}\n")
}

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

fn wait_for(page: &Page, ty: &str, n: usize) -> Vec<Value> {
    wait_until(&format!("{n} `{ty}` message(s)"), 60, || {
        of_type(page, ty).len() >= n
    });
    of_type(page, ty)
}

#[test]
fn saving_a_watched_patch_file_delivers_it_and_errors_reach_the_page() {
    let _dog = watchdog(240);
    let root = tempfile::tempdir().unwrap();
    let x = root.path().join("patches/x.c");
    std::fs::create_dir_all(x.parent().unwrap()).unwrap();
    std::fs::write(&x, good("a + 11")).unwrap();
    // Watch is on (no `--no-watch`); it is set up before the server prints its URL.
    let server = Server::start_with(root, &[]);
    let page = Page::connect(&server, None, 0);
    assert_eq!(page.wait_replay(), 0);

    // A save delivers a patch defining `x_answer`, not tied to an eval; the file as it was at
    // start-up (`a + 11`) was never delivered: the first patch holds the save (`a + 22`).
    std::fs::write(&x, good("a + 22")).unwrap();
    wait_until("the patch of the first save", 60, || {
        !page.patches().is_empty()
    });
    let first = &page.patches()[0];
    assert!(
        has_i32_const(&first.wasm, 22),
        "the first patch is the save's"
    );
    assert!(
        !has_i32_const(&first.wasm, 11),
        "nothing is delivered before a save"
    );
    let h = &first.header;
    assert_eq!(h["eval_id"], Value::Null, "{h}");
    assert_eq!(h["replay"], false, "{h}");
    assert_eq!(h["manifest"].as_array().unwrap().len(), 1, "{h}");
    assert_eq!(h["manifest"][0]["var"], "x_answer", "{h}");
    assert_eq!(h["manifest"][0]["signature"], "ii", "{h}");
    let seq = h["seq"].as_u64().unwrap();
    let symbol = h["manifest"][0]["symbol"].as_str().unwrap().to_string();
    assert_eq!(symbol, hotwasm_abi::versioned_symbol("x_answer", seq));
    assert!(
        exports(&first.wasm).iter().any(|(name, _)| *name == symbol),
        "the patch exports {symbol}"
    );

    // A syntax error on line 4 reaches the page as `diagnostics` with that line; no patch.
    std::fs::write(
        &x,
        "#include \"hotwasm.h\"\n\nint x_answer(int a) {\n  return a +;\n}\n",
    )
    .unwrap();
    let diags = wait_for(&page, "diagnostics", 1);
    assert_eq!(page.patches().len(), 1, "one save, one patch");
    let d = &diags[0];
    assert_eq!(d["name"], "patches/x.c", "{d}");
    let first_error = d["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["severity"] == "error")
        .unwrap_or_else(|| panic!("an error diagnostic in {d}"));
    assert_eq!(first_error["line"], 4, "{d}");
    assert!(first_error["column"].as_u64().unwrap() > 1, "{d}");
    assert!(
        first_error["file"].as_str().unwrap().ends_with("x.c"),
        "{d}"
    );
    assert!(
        d["raw_output"].as_str().unwrap().contains("error"),
        "the compiler's own words are kept: {d}"
    );

    // Two saves back to back (well inside the debounce window) give one patch, of the second
    // text; a failed compile delivered nothing, so it is the second patch.
    std::fs::write(&x, good("a + 3")).unwrap();
    std::fs::write(&x, good("a * 7")).unwrap();
    wait_until("the patch of the debounced saves", 60, || {
        page.patches().len() >= 2
    });
    let patches = page.patches();
    assert!(patches[1].header["seq"].as_u64().unwrap() > seq);
    assert_eq!(of_type(&page, "diagnostics").len(), 1, "no new diagnostics");
    // The delivered code is the second save's: `a * 7` compiles to an i32.mul, `a + 3` does not.
    assert!(
        has_i32_mul(&patches[1].wasm),
        "the debounced patch holds the last save"
    );
    assert!(!has_i32_mul(&first.wasm));
}

fn has_i32_const(wasm: &[u8], n: i32) -> bool {
    use wasmparser::{Operator, Parser, Payload};
    Parser::new(0).parse_all(wasm).any(|p| match p.unwrap() {
        Payload::CodeSectionEntry(body) => {
            let mut ops = body.get_operators_reader().unwrap();
            std::iter::from_fn(|| (!ops.eof()).then(|| ops.read().unwrap()))
                .any(|op| matches!(op, Operator::I32Const { value } if value == n))
        }
        _ => false,
    })
}

fn has_i32_mul(wasm: &[u8]) -> bool {
    use wasmparser::{Operator, Parser, Payload};
    Parser::new(0).parse_all(wasm).any(|p| match p.unwrap() {
        Payload::CodeSectionEntry(body) => {
            let mut ops = body.get_operators_reader().unwrap();
            std::iter::from_fn(|| (!ops.eof()).then(|| ops.read().unwrap()))
                .any(|op| matches!(op, Operator::I32Mul))
        }
        _ => false,
    })
}
