//! Patches from the fast path and from plain emcc have the same exports with the same types and
//! both validate as wasm (and both are delivered by a running server).
use crate::util;
use util::*;

const SRC: &str = "#include \"particles.h\"\n\
static int helper(int x) { return x * 3; }\n\
int triple(int x) { return helper(x); }\n\
int (*get_triple(void))(int) { return triple; }\n\
void step_particle(World *w, Particle *p, float dt) { p->x += p->vx * dt * demo_random(w); }\n\
void hotwasm_main(void) {}\n";

fn deliver(extra: &[&str]) -> Received {
    let server = Server::start_with(tempfile::tempdir().unwrap(), extra);
    let page = Page::connect(&server, None, 0);
    page.wait_replay();
    let mut r = repl(&server);
    let res = eval(&mut r, "x", SRC);
    assert_eq!(res["ok"], true, "{res}");
    page.patches().remove(0)
}

#[test]
fn both_paths_produce_the_same_exports_and_types() {
    let _dog = watchdog(180);
    let fast = deliver(&["--no-watch"]);
    let emcc = deliver(&["--no-watch", "--plain-emcc"]);
    assert_eq!(fast.header["manifest"], emcc.header["manifest"]);
    assert_eq!(fast.header["run"], emcc.header["run"]);
    let strip = |v: Vec<(String, String)>| -> Vec<(String, String)> {
        v.into_iter().filter(|(n, _)| n.contains("__hw")).collect()
    };
    let (f, e) = (strip(exports(&fast.wasm)), strip(exports(&emcc.wasm)));
    assert_eq!(f, e);
    assert_eq!(f.len(), 4, "{f:?}");
    for w in [&fast.wasm, &emcc.wasm] {
        wasmparser::Validator::new().validate_all(w).unwrap();
    }
}
