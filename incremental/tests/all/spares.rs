//! One-shot sessions (named evals, saved files' reports) taken from spares started ahead
//! (`hotwasm_incremental::spare`), with and without the session PCH; and the benchmark of the
//! two candidates for making them fast (docs/INCREMENTAL.md, "Named evals and the saved-file
//! report").

use crate::util::learnt;
use hotwasm_incremental::spare::{Origin, Spares};
use hotwasm_incremental::{Lang, Session, SessionLimits};
use hotwasm_pipeline::compile::cpp::{session_args_with_pch, SessionPchs};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime};

fn program() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_hotwasm-clang-session"))
}

#[test]
fn a_spare_serves_only_a_request_with_the_same_program_file_and_arguments() {
    let dir = tempfile::tempdir().unwrap();
    // A copy of the session program: its modification time stands for a rebuilt toolchain.
    let copy = dir.path().join("hotwasm-clang-session");
    std::fs::copy(program(), &copy).unwrap();
    let args = learnt(Lang::C).for_session();
    let limits = SessionLimits::default();
    let spares = Spares::default();
    let origin = |args: &[String]| spares.take(&copy, Lang::C, args, limits, None).unwrap().1;
    assert_eq!(origin(&args), Origin::Started);
    assert_eq!(origin(&args), Origin::Spare);
    let mut other = args.clone();
    other.extend(["-iquote".to_string(), dir.path().display().to_string()]);
    assert_eq!(origin(&other), Origin::Started, "another file's directory");
    let later = SystemTime::now() + Duration::from_secs(3600);
    let file = std::fs::File::open(&copy).unwrap();
    file.set_modified(later).unwrap();
    drop(file);
    assert_eq!(origin(&args), Origin::Started, "a rebuilt session program");
    let (mut session, origin) = spares.take(&copy, Lang::C, &args, limits, None).unwrap();
    assert_eq!(origin, Origin::Spare);
    assert!(
        session
            .eval("int twice(int x) { return 2 * x; }\ntwice(4)")
            .unwrap()
            .ok
    );
}

const PRELUDE: &str = "#include \"stdint.h\"\nint32_t speed;\n";
const TRIVIAL: &str = "int tw(int x) { return 2 * x; }\ntw(3)";
const STD: &str = "#include <vector>\n#include <string>\n#include <algorithm>\nint digits(int k) {\n  std::vector<int> v{k, 3, 1, 2};\n  std::sort(v.begin(), v.end());\n  return (int)std::to_string(v[3] * 10).size();\n}\ndigits(7)";

/// Milliseconds from `t`.
fn ms(t: Instant) -> f64 {
    t.elapsed().as_secs_f64() * 1000.0
}

/// The median of `n` runs of `f`.
fn p50(n: usize, mut f: impl FnMut() -> f64) -> f64 {
    let mut xs: Vec<f64> = (0..n).map(|_| f()).collect();
    xs.sort_by(f64::total_cmp);
    xs[xs.len() / 2]
}

/// Prelude then `text` in `session`; the milliseconds from `t`.
fn run(mut session: Session, t: Instant, text: &str) -> f64 {
    assert!(session.eval(PRELUDE).unwrap().ok);
    let out = session.eval(text).unwrap();
    assert!(out.ok, "{:?}", out.errors());
    ms(t)
}

fn start(args: &[String]) -> Session {
    Session::start_with(&program(), Lang::Cpp, args).unwrap()
}

/// The session PCH of `args`, built in `dir` by the learnt clang.
fn pch(dir: &Path, args: &[String]) -> PathBuf {
    let clang = PathBuf::from(&learnt(Lang::Cpp).cc1[0]);
    SessionPchs::in_dir(dir.to_path_buf())
        .get(&clang, args, |mut cmd| {
            let out = cmd.output().map_err(|e| e.to_string())?;
            out.status
                .success()
                .then_some(())
                .ok_or_else(|| String::from_utf8_lossy(&out.stderr).into_owned())
        })
        .unwrap()
}

/// Candidates for a one-shot C++ session (prelude, then a trivial or a std eval): a session
/// started per request without and with the session PCH (1), a spare that parsed the std headers
/// ahead (2), a spare started ahead with the PCH open (1 + 2). The request's time, and what
/// making the next spare costs (on a 2-core machine that competes with the next eval).
/// `cargo test -p hotwasm-incremental --test all one_shot_session_candidates -- --ignored --nocapture`
#[test]
#[ignore]
fn one_shot_session_candidates() {
    const N: usize = 7;
    let dir = tempfile::tempdir().unwrap();
    let plain = learnt(Lang::Cpp).for_session();
    let started = Instant::now();
    let with_pch = session_args_with_pch(&plain, &pch(dir.path(), &plain));
    let build_ms = ms(started);
    let headers: String = hotwasm_pipeline::compile::cpp::pch_source();
    let per_request =
        |args: &[String], text: &str| p50(N, || run(start(args), Instant::now(), text));
    // A spare is made before the clock starts: parsed headers, or an empty input with the PCH.
    let spare_parsed = || {
        let mut s = start(&plain);
        assert!(s.eval(&headers).unwrap().ok);
        s
    };
    let spare_pch = || {
        let mut s = start(&with_pch);
        assert!(s.eval("").unwrap().ok);
        s
    };
    let from_spare = |make: &dyn Fn() -> Session, text: &str| {
        p50(N, || {
            let s = make();
            run(s, Instant::now(), text)
        })
    };
    let making = |make: &dyn Fn() -> Session| {
        p50(N, || {
            let t = Instant::now();
            drop(make());
            ms(t)
        })
    };
    let rows = [
        (
            "today: a session per request, headers parsed",
            per_request(&plain, TRIVIAL),
            per_request(&plain, STD),
            0.0,
        ),
        (
            "(1) a session per request with the session PCH",
            per_request(&with_pch, TRIVIAL),
            per_request(&with_pch, STD),
            0.0,
        ),
        (
            "(2) a spare that parsed the headers ahead",
            from_spare(&spare_parsed, TRIVIAL),
            from_spare(&spare_parsed, STD),
            making(&spare_parsed),
        ),
        (
            "(1 + 2) a spare started ahead with the PCH open",
            from_spare(&spare_pch, TRIVIAL),
            from_spare(&spare_pch, STD),
            making(&spare_pch),
        ),
    ];
    let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    println!("| one-shot C++ session | trivial eval p50 ms | std eval p50 ms | next spare ms |");
    println!("|---|---|---|---|");
    for (what, trivial, std, next) in rows {
        println!("| {what} | {trivial:.1} | {std:.1} | {next:.1} |");
    }
    println!(
        "\nPCH build {build_ms:.0} ms; {N} runs each; load {}",
        load.split(' ').next().unwrap_or("?")
    );
}
