//! `cargo bench -p hotwasm-pipeline --bench compile`: server-side compile of a one-function C
//! patch, p50/p95 over 50 compiles, for the fast path, plain emcc -O2 and plain emcc -O1; and
//! of Rust patches (rustc --emit obj + the fast path's wasm-ld), a plain and a std-heavy one, at
//! rustc opt-level 2 and 1 (`-- rust` measures only those).
//! Needs the toolchain environment: `eval "$(bash scripts/setup.sh --print-env)"` first.
//! Each path also prints where its time went (compiler process, object symbol read, linker
//! process, the rest, and the rename the server does afterwards).
//!
//! Measured 2026-11-22 on this 2-core machine, idle (vmstat 99 % idle at start), n=50:
//! fast path p50 54.9 ms / p95 70.3 ms (clang -cc1 33.7 ms, wasm-ld 20.4 ms, rest < 0.3 ms);
//! emcc -O2 p50 985 ms / p95 1098 ms; emcc -O1 p50 477 ms / p95 554 ms.

use hotwasm_pipeline::compile::rename::rename_exports;
use hotwasm_pipeline::compile::{Compiler, CompilerConfig};
use std::collections::HashMap;
use std::path::Path;
use std::time::Duration;

const RUNS: usize = 50;
const SOURCE: &str = "#include \"particles.h\"\n\
void step_particle(World *w, Particle *p, float dt) {\n\
  p->vy += w->gravity * dt;\n  p->x += p->vx * dt;\n  p->y += p->vy * dt;\n}\n";

const RUST_SOURCE: &str = "#[no_mangle]\n\
pub extern \"C\" fn step_particle(w: *mut World, p: *mut Particle, dt: f32) {\n\
    let (w, p) = unsafe { (&mut *w, &mut *p) };\n\
    p.vy += w.gravity * dt;\n    p.x += p.vx * dt;\n    p.y += p.vy * dt;\n}\n";

const RUST_STD: &str = "use std::collections::HashMap;\n\
#[no_mangle]\n\
pub extern \"C\" fn background_color(w: *const World) -> u32 {\n\
    let frame = unsafe { (*w).frame };\n\
    let words: Vec<String> = (1..=4).map(|i| format!(\"w{}-{}\", i, frame % 1)).collect();\n\
    let mut counts: HashMap<&str, u32> = HashMap::new();\n\
    for w in &words { *counts.entry(w.as_str()).or_insert(0) += 1; }\n\
    0xff00_0000 | counts.values().sum::<u32>()\n}\n";

fn measure(label: &str, plain_emcc: bool, opt: &str, rust: Option<&str>) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf();
    let compiler = Compiler::new(CompilerConfig {
        root: root.clone(),
        include_dirs: vec![
            root.join("examples/particles/include"),
            root.join("abi/include"),
        ],
        defines: Vec::new(),
        rust_prelude: Some(root.join("examples/particles/patches/prelude.rs")),
        plain_emcc,
        opt: opt.into(),
        timeout: Duration::from_secs(60),
        memory_bytes: 1 << 30,
    })
    .expect("emcc on PATH: eval \"$(bash scripts/setup.sh --print-env)\"");
    compiler.warm_up(false).expect("fast path learnt");
    let host = hotwasm_abi::HostManifest {
        version: 1,
        vars: [("step_particle", "vppf"), ("background_color", "ip")]
            .map(|(name, sig)| hotwasm_abi::HostVar {
                name: name.into(),
                signature: hotwasm_abi::Signature::parse(sig).unwrap(),
            })
            .to_vec(),
        exports: vec!["hotwasm_slot".into()],
        layouts: Vec::new(),
        layout_inputs: Vec::new(),
        threads: false,
        cold: Vec::new(),
    };
    let mut times = Vec::with_capacity(RUNS);
    let mut sizes = Vec::new();
    let mut parts: [Vec<f64>; 5] = Default::default();
    for i in 0..RUNS + 2 {
        let work = tempfile::tempdir().unwrap();
        let c = match rust {
            Some(src) => compiler.compile_rust(src, "eval.rs", work.path(), &host),
            None => {
                std::fs::write(work.path().join("eval.c"), SOURCE).unwrap();
                compiler.compile(
                    hotwasm_pipeline::compile::CSource {
                        cwd: work.path(),
                        input: "eval.c",
                        text: SOURCE,
                        stands_for: None,
                    },
                    work.path(),
                    &host,
                )
            }
        }
        .expect("compiles");
        if i == RUNS + 1 {
            sizes.push(c.wasm.len());
        }
        // The rename the server does next (not part of the compile time).
        let renames: HashMap<String, String> = c
            .defined
            .iter()
            .map(|n| (n.clone(), format!("{n}__hw{i}")))
            .collect();
        let renamed = std::time::Instant::now();
        rename_exports(&c.wasm, &renames).expect("renames");
        let ms = |d: Duration| d.as_secs_f64() * 1000.0;
        if i >= 2 {
            let total = ms(c.elapsed);
            times.push(total);
            let p = c.phases;
            let other = total - ms(p.compile) - ms(p.symbols) - ms(p.link);
            for (v, x) in parts.iter_mut().zip([
                ms(p.compile),
                ms(p.symbols),
                ms(p.link),
                other,
                ms(renamed.elapsed()),
            ]) {
                v.push(x);
            }
        }
    }
    let pct = |v: &mut Vec<f64>, p: f64| {
        v.sort_by(f64::total_cmp);
        v[((v.len() as f64 - 1.0) * p).round() as usize]
    };
    println!(
        "{label:<16} n={RUNS}  p50 {:7.1} ms  p95 {:7.1} ms  patch {} bytes",
        pct(&mut times, 0.5),
        pct(&mut times, 0.95),
        sizes.first().copied().unwrap_or(0)
    );
    let names = [
        "compiler",
        "object symbols",
        "linker",
        "other",
        "rename (after)",
    ];
    for (name, v) in names.iter().zip(parts.iter_mut()) {
        println!(
            "    {name:<15} p50 {:7.2} ms  p95 {:7.2} ms",
            pct(v, 0.5),
            pct(v, 0.95)
        );
    }
}

fn main() {
    // `cargo bench -p hotwasm-pipeline --bench compile -- fast` measures only the paths whose
    // label contains `fast` (cargo passes `--bench` too; it is ignored).
    let filters: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with("--"))
        .collect();
    for (label, plain, opt, rust) in [
        ("fast path -O2", false, "-O2", None),
        ("emcc -O2", true, "-O2", None),
        ("emcc -O1", true, "-O1", None),
        ("rust fast -O2", false, "-O2", Some(RUST_SOURCE)),
        ("rust fast -O1", false, "-O1", Some(RUST_SOURCE)),
        ("rust std fast -O2", false, "-O2", Some(RUST_STD)),
        ("rust std fast -O1", false, "-O1", Some(RUST_STD)),
    ] {
        if filters.is_empty() || filters.iter().any(|f| label.contains(f.as_str())) {
            measure(label, plain, opt, rust);
        }
    }
}
