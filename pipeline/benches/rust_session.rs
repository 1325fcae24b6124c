//! `cargo bench -p hotwasm-pipeline --bench rust_session`: compile time of a Rust eval as today's
//! path compiles it (the text as written, `Compiler::compile_rust`) and as a session eval
//! (`Compiler::compile_rust_eval`: read by syn, the earlier evals' items carried), side by side
//! in one run, interleaved so load on the machine hits both alike. Prints a markdown section.
//! Runs: `HOTWASM_BENCH_RUNS` (default 30). Needs the toolchain environment:
//! `eval "$(bash scripts/setup.sh --print-env)"` first.

use hotwasm_pipeline::compile::{rust_eval, Compiler, CompilerConfig};
use std::path::Path;
use std::time::{Duration, Instant};

const CONSTANT: &str = "#[no_mangle]\n\
pub extern \"C\" fn background_color(_w: *const World) -> u32 { 0xff20_6040 }\n";

const STD_HEAVY: &str = "use std::collections::HashMap;\n\
#[no_mangle]\n\
pub extern \"C\" fn background_color(w: *const World) -> u32 {\n\
    let frame = unsafe { (*w).frame };\n\
    let words: Vec<String> = (1..=4).map(|i| format!(\"w{}-{}\", i, frame % 1)).collect();\n\
    let mut counts: HashMap<&str, u32> = HashMap::new();\n\
    for w in &words { *counts.entry(w.as_str()).or_insert(0) += 1; }\n\
    0xff00_0000 | counts.values().sum::<u32>()\n}\n";

/// A session of 20 evals before the measured one: types, impls, functions, consts.
fn earlier() -> Vec<String> {
    (0..20)
        .map(|i| {
            format!(
                "#[derive(Debug, Clone, Copy)]\nstruct P{i} {{ x: f64, y: f64 }}\n\
                 impl P{i} {{ fn len(&self) -> f64 {{ (self.x * self.x + self.y * self.y).sqrt() }} }}\n\
                 fn make{i}(x: f64) -> P{i} {{ P{i} {{ x, y: x + {i}.0 }} }}\n\
                 const K{i}: i32 = {i};\n"
            )
        })
        .collect()
}

fn compiler(root: &Path) -> Compiler {
    let c = Compiler::new(CompilerConfig {
        root: root.to_path_buf(),
        include_dirs: vec![
            root.join("examples/particles/include"),
            root.join("abi/include"),
        ],
        defines: Vec::new(),
        rust_prelude: Some(root.join("examples/particles/patches/prelude.rs")),
        plain_emcc: false,
        opt: "-O2".into(),
        timeout: Duration::from_secs(60),
        memory_bytes: 1 << 30,
    })
    .expect("emcc on PATH: eval \"$(bash scripts/setup.sh --print-env)\"");
    c.warm_up(false).expect("fast path learnt");
    c.warm_up_rust().expect("rustc and the prelude");
    c
}

/// The particle demo's HOT_RELOAD host (`HOT_RELOAD=1 bash scripts/emscripten-bundle.sh
/// examples/particles` builds it).
fn host(root: &Path) -> hotwasm_abi::HostManifest {
    let file = root.join("examples/particles/build/hot/hotwasm-host.json");
    hotwasm_abi::HostManifest::read(&file)
        .expect("a readable host manifest")
        .unwrap_or_else(|| panic!("no {}: build the demo with HOT_RELOAD=1 bash scripts/emscripten-bundle.sh examples/particles", file.display()))
}

fn pct(v: &mut [f64], p: f64) -> f64 {
    v.sort_by(f64::total_cmp);
    v[((v.len() as f64 - 1.0) * p).round() as usize]
}

fn main() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
    let runs: usize = std::env::var("HOTWASM_BENCH_RUNS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(30);
    let compiler = compiler(root);
    let host = host(root);
    let session = earlier();
    let uses = "make3(1.0).len() + make7(2.0).len() + K5 as f64";
    let cases: [(&str, &str, &[String], bool); 7] = [
        ("constant colour, today's path", CONSTANT, &[], false),
        ("constant colour, session eval", CONSTANT, &[], true),
        (
            "constant colour, session eval after 20 evals",
            CONSTANT,
            &session,
            true,
        ),
        ("std-heavy, today's path", STD_HEAVY, &[], false),
        ("std-heavy, session eval", STD_HEAVY, &[], true),
        (
            "std-heavy, session eval after 20 evals",
            STD_HEAVY,
            &session,
            true,
        ),
        (
            "an expression using 3 of 20 earlier evals' items (new)",
            uses,
            &session,
            true,
        ),
    ];
    // `cargo bench … -- constant` measures only the cases whose label contains `constant`.
    let filters: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with("--"))
        .collect();
    let cases: Vec<_> = cases
        .into_iter()
        .filter(|c| filters.is_empty() || filters.iter().any(|f| c.0.contains(f.as_str())))
        .collect();
    let mut times: Vec<Vec<f64>> = vec![Vec::new(); cases.len()];
    for run in 0..runs + 1 {
        for (i, (label, text, earlier, is_session)) in cases.iter().enumerate() {
            let work = tempfile::tempdir().unwrap();
            let started = Instant::now();
            let c = if *is_session {
                compiler.compile_rust_eval(text, "eval.rs", earlier, work.path(), &host)
            } else {
                compiler.compile_rust(text, "eval.rs", work.path(), &host)
            };
            let ms = started.elapsed().as_secs_f64() * 1000.0;
            c.unwrap_or_else(|e| panic!("{label}: {e}"));
            if run > 0 {
                times[i].push(ms);
            }
        }
    }
    println!("## Rust eval compile: today's path and session evals (ms)\n");
    println!("Rerun: `cargo bench -p hotwasm-pipeline --bench rust_session` ({runs} runs each, interleaved, rustc -O2)\n");
    println!("| eval | p50 | p95 |\n|---|---:|---:|");
    for ((label, ..), t) in cases.iter().zip(times.iter_mut()) {
        println!("| {label} | {:.1} | {:.1} |", pct(t, 0.5), pct(t, 0.95));
    }
    // What the session adds before rustc runs: syn reads the eval, the earlier evals' items are
    // looked up (each earlier eval is read once, then cached) and the crate text is written.
    let mut assemble: Vec<f64> = (0..200)
        .map(|_| {
            let started = Instant::now();
            rust_eval::assemble(uses, &session).expect("assembles");
            started.elapsed().as_secs_f64() * 1000.0
        })
        .collect();
    println!(
        "\nAssembling a session eval's crate after 20 evals (syn read, context, text), 200 runs: p50 {:.3} ms, p95 {:.3} ms",
        pct(&mut assemble, 0.5),
        pct(&mut assemble, 0.95)
    );
}
