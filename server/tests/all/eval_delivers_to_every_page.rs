//! An eval compiles, is checked, reaches every connected page as a header + binary frame, and
//! the sender gets `eval_result` with timings and each page's output.
use crate::util;
use serde_json::json;
use util::*;

const STEP: &str = "#include \"particles.h\"\n\
void step_particle(World *w, Particle *p, float dt) { p->x += p->vx * dt * demo_random(w); }\n\
void hotwasm_main(void) {}\n";

#[test]
fn two_pages_both_receive_and_ack_the_patch() {
    let _dog = watchdog(120);
    let server = Server::start();
    let (a, b) = (
        Page::connect(&server, None, 0),
        Page::connect(&server, None, 0),
    );
    assert_eq!(a.wait_replay(), 0);
    assert_eq!(b.wait_replay(), 0);
    let mut repl = repl(&server);
    let r = eval(&mut repl, "e1", STEP);
    assert_eq!(r["ok"], true, "{r}");
    assert_eq!(r["stage"], "done");
    assert_eq!(r["pages"].as_array().unwrap().len(), 2);
    assert_eq!(r["pages"][0]["output"], "applied\n");
    for t in [
        "compile_ms",
        "check_ms",
        "transfer_ms",
        "apply_ms",
        "total_ms",
    ] {
        assert!(r["timings"][t].as_f64().is_some(), "{t} in {r}");
    }
    assert!(r["timings"]["compile_ms"].as_f64().unwrap() > 0.0);
    let seq = r["seq"].as_u64().unwrap();
    for page in [&a, &b] {
        let p = page.patches();
        assert_eq!(p.len(), 1);
        let h = &p[0].header;
        assert_eq!(h["seq"], seq);
        assert_eq!(h["eval_id"], "e1");
        assert_eq!(h["replay"], false);
        assert!(
            h["path"].as_str().unwrap().starts_with("/hotwasm/")
                && h["path"].as_str().unwrap().ends_with(".so")
        );
        assert_eq!(h["manifest"][0]["var"], "step_particle");
        assert_eq!(
            h["manifest"][0]["signature"], "vppf",
            "the host's letters are kept"
        );
        let symbol = h["manifest"][0]["symbol"].as_str().unwrap();
        assert_eq!(symbol, hotwasm_abi::versioned_symbol("step_particle", seq));
        assert_eq!(h["run"], hotwasm_abi::versioned_symbol("hotwasm_main", seq));
        let names: Vec<String> = exports(&p[0].wasm).into_iter().map(|e| e.0).collect();
        assert!(names.contains(&symbol.to_string()), "{names:?}");
        assert!(
            !names.contains(&"step_particle".to_string()),
            "plain names must not be exported: {names:?}"
        );
    }
}

#[test]
fn the_same_function_evaluated_three_times_gets_three_symbols() {
    let _dog = watchdog(120);
    let server = Server::start();
    let page = Page::connect(&server, None, 0);
    page.wait_replay();
    let mut repl = repl(&server);
    let mut symbols = Vec::new();
    for i in 0..3 {
        let src = format!("int answer(void) {{ return {i}; }}\nint (*answer_ptr(void))(void) {{ return answer; }}\nint g = {i};\n");
        let r = eval(&mut repl, &format!("e{i}"), &src);
        assert_eq!(r["ok"], true, "{r}");
        let p = page.patches();
        let m = &p[i].header["manifest"];
        let entry = m
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["var"] == "answer")
            .unwrap();
        symbols.push(entry["symbol"].as_str().unwrap().to_string());
        // `g` is not exported (hidden), so two patches' globals cannot alias.
        assert!(!exports(&p[i].wasm).iter().any(|(n, _)| n == "g"));
    }
    symbols.sort();
    symbols.dedup();
    assert_eq!(symbols.len(), 3, "{symbols:?}");
}

#[test]
fn an_eval_with_no_page_connected_still_answers() {
    let _dog = watchdog(60);
    let server = Server::start();
    let mut repl = repl(&server);
    let r = eval(&mut repl, "x", "int lonely(int a) { return a + 1; }\n");
    assert_eq!(r["ok"], true, "{r}");
    assert_eq!(r["pages"].as_array().unwrap().len(), 0);
}

#[test]
fn a_cpp_eval_is_delivered_with_its_extern_c_var() {
    let _dog = watchdog(300);
    let server = Server::start();
    let page = Page::connect(&server, None, 0);
    page.wait_replay();
    let mut repl = repl(&server);
    let src = "namespace { int twice(int a) { return a * 2; } }\n\
               extern \"C\" int cpp_answer(int a) { return twice(a) + 1; }\n";
    let r = eval_lang(&mut repl, "cpp", "cpp", src);
    assert_eq!(r["ok"], true, "{r}");
    let p = &page.patches()[0];
    // The function of the anonymous namespace is a var too, by its mangled name (an all-hot C++
    // host has its own under that name: docs/ALL-HOT.md).
    let vars: Vec<(&str, &str)> = p.header["manifest"]
        .as_array()
        .expect("a manifest")
        .iter()
        .map(|v| (v["var"].as_str().unwrap(), v["signature"].as_str().unwrap()))
        .collect();
    assert_eq!(
        vars,
        [("_ZN12_GLOBAL__N_15twiceEi", "ii"), ("cpp_answer", "ii")],
        "{}",
        p.header
    );
}

#[test]
fn an_eval_named_by_its_path_in_the_app_includes_headers_beside_that_file() {
    let _dog = watchdog(120);
    let server = Server::start();
    let dir = server.root.path().join("patches/ball");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("ball_speed.h"), "#define BALL_SPEED 7\n").unwrap();
    let mut repl = repl(&server);
    let src = "#include \"ball_speed.h\"\nint ball_speed(void) { return BALL_SPEED; }\n";
    send(
        &mut repl,
        json!({"type":"eval","id":"b","lang":"c","source":src,"name":"patches/ball/ball.c"}),
    );
    let r = loop {
        let v = recv(&mut repl);
        if v["type"] == "eval_result" {
            break v;
        }
    };
    assert_eq!(r["ok"], true, "{r}");
    let bad = "#include \"ball_speed.h\"\nint ball_slow(void) { return BALL_SPEED }\n";
    send(
        &mut repl,
        json!({"type":"eval","id":"c","lang":"c","source":bad,"name":"patches/ball/ball.c"}),
    );
    let r = loop {
        let v = recv(&mut repl);
        if v["type"] == "eval_result" {
            break v;
        }
    };
    assert_eq!(r["ok"], false, "{r}");
    assert_eq!(r["diagnostics"][0]["file"], "patches/ball/ball.c", "{r}");
}
