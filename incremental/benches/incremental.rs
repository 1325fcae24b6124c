//! Benchmark of issue 21's candidates, printed as markdown (docs/INCREMENTAL.md quotes it):
//! candidate (a), the persistent clang session, against candidate (b), one clang process per
//! eval with the context carried from its AST; both followed by the wasm-ld link (as a process,
//! and for (a) also inside the session process). Then both candidates' pass rate on the corpus.
//!
//! Run: `eval "$(bash scripts/setup.sh --print-env)"; cargo bench -p hotwasm-incremental
//! --bench incremental` (N evals per scenario from `INCR_BENCH_N`, default 25).

use hotwasm_incremental::cc1::{self, Learnt};
use hotwasm_incremental::percall::PerCallSession;
use hotwasm_incremental::{corpus, link, EvalOutput, Lang, Session};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// Milliseconds of each phase of one eval.
#[derive(Default, Clone, Copy)]
struct Sample {
    compile: f64,
    /// (b) only: the object-emitting cc1 process alone (today's fast-path compile step).
    emit_process: f64,
    link_process: f64,
    link_in_process: f64,
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

fn pct(v: &mut [f64], p: f64) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    let i = ((v.len() as f64 - 1.0) * p).round() as usize;
    v[i]
}

struct Scenario {
    name: &'static str,
    lang: Lang,
    /// Evals before the measured ones (not measured).
    setup: Vec<String>,
    /// The measured eval, given its index (unique names where it defines).
    each: fn(usize) -> String,
}

fn scenarios() -> Vec<Scenario> {
    vec![
        Scenario {
            name: "C trivial: `sq(9)` after `int sq(int x){return x*x;}`",
            lang: Lang::C,
            setup: vec!["int sq(int x){return x*x;}".into()],
            each: |_| "sq(9)".into(),
        },
        Scenario {
            name: "C trivial definition: `int sqN(int x){return x*x;}`",
            lang: Lang::C,
            setup: vec![],
            each: |i| format!("int sq{i}(int x){{return x*x;}}"),
        },
        Scenario {
            name: "C++ trivial: `sq(9)` after `int sq(int x){return x*x;}`",
            lang: Lang::Cpp,
            setup: vec!["int sq(int x){return x*x;}".into()],
            each: |_| "sq(9)".into(),
        },
        Scenario {
            name: "C++ <vector>/<string>/<algorithm>, later evals",
            lang: Lang::Cpp,
            setup: vec![STD_HEADERS.into()],
            each: |i| {
                format!("std::vector<int> v{i}{{3, 1, 2}};\nstd::sort(v{i}.begin(), v{i}.end());\nstd::string s{i} = std::to_string(v{i}[0]);\nv{i}[0]")
            },
        },
        Scenario {
            name: "C++ struct + macro + function + template (new names each)",
            lang: Lang::Cpp,
            setup: vec![],
            each: |i| {
                format!("#define K{i} 3\nstruct P{i} {{ int a; }};\nint f{i}(P{i} p) {{ return p.a * K{i}; }}\ntemplate <class T> T t{i}(T v) {{ return v + K{i}; }}")
            },
        },
        Scenario {
            name: "C++ use of all four (after the definitions)",
            lang: Lang::Cpp,
            setup: vec!["#define K 3\nstruct P { int a; };\nint f(P p) { return p.a * K; }\ntemplate <class T> T t(T v) { return v + K; }".into()],
            each: |i| format!("f(P{{{i}}}) + t({i}) + K"),
        },
    ]
}

const STD_HEADERS: &str = "#include <vector>\n#include <string>\n#include <algorithm>";

fn emcc() -> PathBuf {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .map(|d| d.join("emcc"))
        .find(|p| p.exists())
        .expect("emcc is not on PATH: eval \"$(bash scripts/setup.sh --print-env)\"")
}

fn session_program() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_hotwasm-clang-session"))
}

/// Links `object` as a process and (with a session) in its process; returns both times.
fn link_both(
    learnt: &Learnt,
    dir: &Path,
    object: &[u8],
    session: Option<&mut Session>,
) -> (f64, f64) {
    let obj = dir.join("eval.o");
    std::fs::write(&obj, object).expect("write object");
    let line = learnt.link_line(std::slice::from_ref(&obj), &dir.join("eval.so"));
    let (took, ok, printed) = link::wasm_ld_process(&line).expect("wasm-ld runs");
    assert!(ok, "wasm-ld: {printed}");
    let inproc = session.map(|s| {
        let t = Instant::now();
        let linked = s.link(&link::in_process_argv(&line)).expect("link request");
        assert!(linked.ok, "in-process wasm-ld: {}", linked.messages);
        ms(t.elapsed())
    });
    (ms(took), inproc.unwrap_or(f64::NAN))
}

fn checked(out: EvalOutput, text: &str) -> EvalOutput {
    assert!(out.ok, "{text:?} failed: {:?}", out.errors());
    out
}

fn run_a(sc: &Scenario, learnt: &Learnt, n: usize, dir: &Path) -> Vec<Sample> {
    let mut s =
        Session::start_with(&session_program(), sc.lang, &learnt.for_session()).expect("session");
    for text in &sc.setup {
        checked(s.eval(text).expect("eval"), text);
    }
    (0..n)
        .map(|i| {
            let text = (sc.each)(i);
            let t = Instant::now();
            let out = checked(s.eval(&text).expect("eval"), &text);
            let compile = ms(t.elapsed());
            let (link_process, link_in_process) = link_both(learnt, dir, &out.object, Some(&mut s));
            Sample {
                compile,
                emit_process: f64::NAN,
                link_process,
                link_in_process,
            }
        })
        .collect()
}

fn run_b(sc: &Scenario, learnt: &Learnt, n: usize, dir: &Path, pch: &[String]) -> Vec<Sample> {
    let extra = if sc.setup.iter().any(|t| t == STD_HEADERS) {
        pch
    } else {
        &[]
    };
    let mut s = PerCallSession::new(learnt, extra).expect("per-call session");
    for text in &sc.setup {
        checked(s.eval(text).expect("eval").0, text);
    }
    (0..n)
        .map(|i| {
            let text = (sc.each)(i);
            let (out, times) = s.eval(&text).expect("eval");
            let out = checked(out, &text);
            let (link_process, _) = link_both(learnt, dir, &out.object, None);
            Sample {
                compile: ms(times.total),
                emit_process: ms(times.compile),
                link_process,
                link_in_process: f64::NAN,
            }
        })
        .collect()
}

fn row(candidate: &str, samples: &[Sample]) -> String {
    let col = |f: fn(&Sample) -> f64| {
        let mut v: Vec<f64> = samples.iter().map(f).collect();
        if v.iter().any(|x| x.is_nan()) {
            return "—".to_string();
        }
        format!("{:.1} / {:.1}", pct(&mut v, 0.5), pct(&mut v, 0.95))
    };
    let mut total_proc: Vec<f64> = samples.iter().map(|s| s.compile + s.link_process).collect();
    let total_in = samples
        .iter()
        .all(|s| !s.link_in_process.is_nan())
        .then(|| {
            let mut v: Vec<f64> = samples
                .iter()
                .map(|s| s.compile + s.link_in_process)
                .collect();
            format!("{:.1} / {:.1}", pct(&mut v, 0.5), pct(&mut v, 0.95))
        });
    format!(
        "| {candidate} | {} | {} | {} | {:.1} / {:.1} | {} |",
        col(|s| s.compile),
        col(|s| s.link_process),
        col(|s| s.link_in_process),
        pct(&mut total_proc, 0.5),
        pct(&mut total_proc, 0.95),
        total_in.unwrap_or_else(|| "—".into()),
    )
}

/// First-eval cost of the standard headers: (a) in a fresh session, (b) building its PCH.
fn first_std_eval(learnt: &Learnt, dir: &Path) -> (Vec<f64>, f64, Vec<String>) {
    let firsts = (0..3)
        .map(|_| {
            let mut s = Session::start_with(&session_program(), Lang::Cpp, &learnt.for_session())
                .expect("session");
            let t = Instant::now();
            checked(s.eval(STD_HEADERS).expect("eval"), STD_HEADERS);
            ms(t.elapsed())
        })
        .collect();
    let header = dir.join("std.hpp");
    std::fs::write(&header, format!("{STD_HEADERS}\n")).expect("write header");
    let pch = dir.join("std.pch");
    let mut line = learnt.for_process(&header, &pch);
    for a in line.iter_mut() {
        if a == "-emit-obj" {
            *a = "-emit-pch".into();
        } else if a == "c++" {
            *a = "c++-header".into();
        }
    }
    let t = Instant::now();
    let out = std::process::Command::new(&line[0])
        .args(&line[1..])
        .output()
        .expect("clang runs");
    assert!(
        out.status.success(),
        "pch: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    (
        firsts,
        ms(t.elapsed()),
        vec!["-include-pch".into(), pch.display().to_string()],
    )
}

fn rss_kb(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        })
        .unwrap_or(0)
}

fn corpus_rates(c: &Learnt, cpp: &Learnt, pch_free: &[String]) {
    println!("\n### Corpus (issue 21's tricky inputs)\n");
    println!("| input | (a) persistent | (b) per process |\n|---|---|---|");
    let (mut pass_a, mut pass_b, mut total) = (0, 0, 0);
    for case in corpus::cases() {
        let learnt = if case.lang == Lang::C { c } else { cpp };
        let mut a = Session::start_with(&session_program(), case.lang, &learnt.for_session())
            .expect("session");
        let mut b = PerCallSession::new(learnt, pch_free).expect("per-call");
        for setup in case.setup {
            a.eval(setup).expect("eval");
            b.eval(setup).expect("eval");
        }
        let ra = (case.check)(&a.eval(case.input).expect("eval"));
        let rb = (case.check)(&b.eval(case.input).expect("eval").0);
        total += 1;
        pass_a += usize::from(ra.is_ok());
        pass_b += usize::from(rb.is_ok());
        let show = |r: Result<(), String>| match r {
            Ok(()) => "pass".to_string(),
            Err(e) => format!("FAIL: {}", e.replace('|', "\\|").replace('\n', " ")),
        };
        println!("| {} | {} | {} |", case.name, show(ra), show(rb));
    }
    println!("| **pass rate** | **{pass_a}/{total}** | **{pass_b}/{total}** |");
}

fn main() {
    // `cargo bench` passes --bench; `cargo test --benches` does not: then a 2-eval smoke run.
    let smoke = !std::env::args().any(|a| a == "--bench");
    let n: usize = match std::env::var("INCR_BENCH_N")
        .ok()
        .and_then(|v| v.parse().ok())
    {
        Some(n) => n,
        None if smoke => 2,
        None => 25,
    };
    let emcc = emcc();
    let c = cc1::learn(&emcc, Lang::C, &cc1::patch_flags(Lang::C, "-O2")).expect("learn C");
    let cpp = cc1::learn(&emcc, Lang::Cpp, &cc1::patch_flags(Lang::Cpp, "-O2")).expect("learn C++");
    let dir = tempfile::tempdir().expect("tempdir");
    let (firsts, pch_ms, pch) = first_std_eval(&cpp, dir.path());
    let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    let load: Vec<&str> = load.split_whitespace().take(3).collect();
    println!(
        "## Incremental compile benchmark (n = {n} evals per row, -O2, times in ms, p50 / p95)\n"
    );
    println!(
        "Load average (1, 5, 15 min) before the timed rows: {}\n",
        load.join(" ")
    );
    println!(
        "(a) first eval of `<vector>`+`<string>`+`<algorithm>` in a fresh session: {firsts:.0?} ms"
    );
    println!(
        "(b) precompiled header of the same three headers (once per session): {pch_ms:.0} ms\n"
    );
    println!("| candidate | compile (eval → object + report) | wasm-ld process | wasm-ld in session | total, ld process | total, ld in session |");
    println!("|---|---|---|---|---|---|");
    for sc in scenarios() {
        let learnt = if sc.lang == Lang::C { &c } else { &cpp };
        println!("| **{}** | | | | | |", sc.name);
        println!(
            "{}",
            row("(a) persistent", &run_a(&sc, learnt, n, dir.path()))
        );
        let b = run_b(&sc, learnt, n, dir.path(), &pch);
        println!("{}", row("(b) per process", &b));
        let mut emit: Vec<f64> = b.iter().map(|s| s.emit_process).collect();
        println!(
            "| ↳ (b)'s object-emitting cc1 process alone (today's fast-path compile step) | {:.1} / {:.1} | | | | |",
            pct(&mut emit, 0.5),
            pct(&mut emit, 0.95)
        );
    }
    let mut s =
        Session::start_with(&session_program(), Lang::Cpp, &cpp.for_session()).expect("session");
    let start_rss = rss_kb(s.pid());
    checked(s.eval(STD_HEADERS).expect("eval"), STD_HEADERS);
    for i in 0..if smoke { 2 } else { 200 } {
        let text = format!("int g{i} = {i};\nint h{i}(int x) {{ return x + g{i}; }}\nh{i}(2)");
        checked(s.eval(&text).expect("eval"), &text);
    }
    println!(
        "\nSession memory (RSS): {} MB at start, {} MB after the std headers and {} more evals",
        start_rss / 1024,
        rss_kb(s.pid()) / 1024,
        if smoke { 2 } else { 200 },
    );
    corpus_rates(&c, &cpp, &[]);
}
