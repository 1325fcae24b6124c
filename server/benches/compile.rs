//! `cargo bench -p hotwasm-server --bench compile`: server-side compile of a one-function C
//! patch, p50/p95 over 50 compiles, for the fast path, plain emcc -O2 and plain emcc -O1.
//! Needs the toolchain environment: `eval "$(bash scripts/setup.sh --print-env)"` first.

use hotwasm_server::compile::{Compiler, CompilerConfig};
use std::path::Path;
use std::time::Duration;

const RUNS: usize = 50;
const SOURCE: &str = "#include \"hotwasm.h\"\n\
void step_particle(World *w, Particle *p, float dt) {\n\
  p->vy += w->gravity * dt;\n  p->x += p->vx * dt;\n  p->y += p->vy * dt;\n}\n";

fn measure(label: &str, plain_emcc: bool, opt: &str) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf();
    let compiler = Compiler::new(CompilerConfig {
        root: root.clone(),
        include_dirs: vec![root.join("side-modules/include")],
        plain_emcc,
        opt: opt.into(),
        timeout: Duration::from_secs(60),
        memory_bytes: 1 << 30,
    })
    .expect("emcc on PATH: eval \"$(bash scripts/setup.sh --print-env)\"");
    compiler.warm_up().expect("fast path learnt");
    let mut times = Vec::with_capacity(RUNS);
    for i in 0..RUNS + 2 {
        let work = tempfile::tempdir().unwrap();
        std::fs::write(work.path().join("eval.c"), SOURCE).unwrap();
        let c = compiler
            .compile(work.path(), "eval.c", work.path())
            .expect("compiles");
        if i >= 2 {
            times.push(c.elapsed.as_secs_f64() * 1000.0);
        }
    }
    times.sort_by(f64::total_cmp);
    let pct = |p: f64| times[((times.len() as f64 - 1.0) * p).round() as usize];
    println!(
        "{label:<16} n={RUNS}  p50 {:7.1} ms  p95 {:7.1} ms",
        pct(0.5),
        pct(0.95)
    );
}

fn main() {
    measure("fast path -O2", false, "-O2");
    measure("emcc -O2", true, "-O2");
    measure("emcc -O1", true, "-O1");
}
