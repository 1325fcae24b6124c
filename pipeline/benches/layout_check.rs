//! `cargo bench -p hotwasm-pipeline --bench layout_check`: what the layout check adds to a patch
//! compile (the server-side part of eval → live), p50 over interleaved runs of the same patch
//! compiled three ways: against a host without shared layouts (nothing to check, no dump), a
//! host whose measured header changed (clang dumps the record layouts: the cost of a check
//! that can find something), and a host whose headers are unchanged and whose shared types an
//! earlier compile already showed laid out as the host has them (the steady state: no dump).
//! For the C patch of the compile bench and the std-heavy C++ fixture. Needs the toolchain
//! environment: `eval "$(bash scripts/setup.sh --print-env)"` first.

use hotwasm_abi::{HostManifest, LayoutInput, TypeLayout};
use hotwasm_pipeline::compile::{CSource, Compiled, Compiler, CompilerConfig};
use std::path::{Path, PathBuf};
use std::time::Duration;

const RUNS: usize = 25;
const C_SOURCE: &str = "#include \"particles.h\"\n\
void step_particle(World *w, Particle *p, float dt) {\n\
  p->vy += w->gravity * dt;\n  p->x += p->vx * dt;\n  p->y += p->vy * dt;\n}\n";

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

fn compile(compiler: &Compiler, name: &str, text: &str, host: &HostManifest) -> Compiled {
    let work = tempfile::tempdir().unwrap();
    std::fs::write(work.path().join(name), text).unwrap();
    let src = CSource {
        cwd: work.path(),
        input: name,
        text,
        stands_for: None,
    };
    if name.ends_with(".cpp") {
        compiler.compile_cpp(src, work.path(), host)
    } else {
        compiler.compile(src, work.path(), host)
    }
    .expect("compiles")
}

fn p50(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn measure(label: &str, name: &str, text: &str) {
    let root = root();
    let compiler = Compiler::new(CompilerConfig {
        root: root.clone(),
        include_dirs: vec![
            root.join("examples/particles/include"),
            root.join("abi/include"),
        ],
        defines: Vec::new(),
        rust_prelude: None,
        plain_emcc: false,
        opt: "-O2".into(),
        timeout: Duration::from_secs(120),
        memory_bytes: 1 << 30,
    })
    .expect("emcc on PATH: eval \"$(bash scripts/setup.sh --print-env)\"");
    let header = root.join("examples/particles/include/particles.h");
    let none = HostManifest::default();
    let mut changed = HostManifest {
        layout_inputs: vec![LayoutInput {
            path: header.display().to_string(),
            hash: "changed".into(),
        }],
        // Anything, so there is something to check: replaced by the measured layouts below.
        layouts: vec![TypeLayout {
            name: "World".into(),
            size: 0,
            align: 0,
            fields: Vec::new(),
        }],
        ..HostManifest::default()
    };
    // The host's layouts are the patch's own (the same header, the same flags).
    changed.layouts = compile(&compiler, name, text, &changed).layouts;
    assert!(!changed.layouts.is_empty(), "the dump names World/Particle");
    let mut steady = changed.clone();
    steady.layout_inputs[0].hash = hotwasm_pipeline::layout::file_hash(&header).unwrap();
    compile(&compiler, name, text, &steady);
    let mut times: [Vec<f64>; 3] = Default::default();
    for i in 0..RUNS + 1 {
        for (k, (host, t)) in [&none, &changed, &steady]
            .into_iter()
            .zip(times.iter_mut())
            .enumerate()
        {
            let c = compile(&compiler, name, text, host);
            assert_eq!(
                c.layouts.is_empty(),
                k != 1,
                "only the changed header dumps"
            );
            if i > 0 {
                t.push(c.phases.compile.as_secs_f64() * 1000.0);
            }
        }
    }
    let min = |v: &Vec<f64>| v.iter().copied().fold(f64::INFINITY, f64::min);
    let [min_none, min_changed, min_steady] = [min(&times[0]), min(&times[1]), min(&times[2])];
    let [none, changed, steady] = times.map(p50);
    println!(
        "{label:<8} compiler p50 (n={RUNS}): no layouts {none:.1} ms, header changed (dump) {changed:.1} ms ({:+.1}), steady {steady:.1} ms ({:+.1})",
        changed - none,
        steady - none
    );
    println!(
        "{label:<8} compiler min:          no layouts {min_none:.1} ms, header changed (dump) {min_changed:.1} ms ({:+.1}), steady {min_steady:.1} ms ({:+.1})",
        min_changed - min_none,
        min_steady - min_none
    );
}

fn main() {
    measure("C", "eval.c", C_SOURCE);
    let cpp = std::fs::read_to_string(root().join("tests/fixtures/cpp/std_containers.cpp"))
        .unwrap()
        .replace("#include <algorithm>", "#include <algorithm>\n#include \"particles.h\"")
        + "extern \"C\" float hotwasm__layout_bench(World *w, Particle *p) { return w->gravity + p->vy; }\n";
    measure("C++ std", "eval.cpp", &cpp);
}
