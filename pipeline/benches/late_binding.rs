//! The price of late binding: a patch's call to a var (through its trampoline and slot) against
//! a direct call to a `static` function of the same patch, both `noinline` leaves called in a
//! loop of 20 million iterations under Node; and what the trampolines add to a compile.
//! A benchmark, not a test: timings decide nothing in the test command (a loaded machine would
//! flake them). `scripts/bench.sh` runs it and keeps the figures it prints; it fails when a
//! late-bound call costs more than twice a direct call or cached trampolines cost 15 ms or more:
//! `cargo bench -p hotwasm-pipeline --bench late_binding`.
#[path = "../tests/all/late_binding.rs"]
#[allow(dead_code)] // The tests' harness; the benchmark uses a subset.
mod late_binding;
use late_binding::Session;

fn main() {
    a_late_bound_call_costs_at_most_twice_a_direct_call();
    trampolines_add_little_to_a_compile();
}

const LOOPS: &str = "__attribute__((noinline)) static int leaf_direct(int x) { return x * 3 + 1; }\n\
__attribute__((noinline)) int leaf(int x) { return x * 3 + 1; }\n\
int loop_direct(int n) { int s = 0; for (int i = 0; i < n; i++) s = leaf_direct(s ^ i); return s; }\n\
int loop_late(int n) { int s = 0; for (int i = 0; i < n; i++) s = leaf(s ^ i); return s; }\n\
static int (*volatile through_slot)(int) = leaf_direct;\n\
int loop_slot(int n) { int s = 0; for (int i = 0; i < n; i++) s = through_slot(s ^ i); return s; }\n";

fn a_late_bound_call_costs_at_most_twice_a_direct_call() {
    let mut s = Session::new();
    s.eval(LOOPS).unwrap();
    let n = 20_000_000;
    for round in 0..5 {
        s.time_call(&format!("direct{round}"), "loop_direct", n);
        s.time_call(&format!("late{round}"), "loop_late", n);
        s.time_call(&format!("slot{round}"), "loop_slot", n);
    }
    let out = s.run();
    let best = |prefix: &str| (0..5).map(|r| out[&format!("{prefix}{r}")]).min().unwrap() as f64;
    let (direct, late, slot) = (best("direct"), best("late"), best("slot"));
    println!(
        "a call through a function pointer (a host hot_fn's path): {:.2} ns",
        slot * 1000.0 / f64::from(n)
    );
    let ratio = late / direct;
    println!(
        "late-bound call: {:.2} ns, direct call: {:.2} ns, ratio {ratio:.2} (best of 5 x {n} calls)",
        late * 1000.0 / f64::from(n),
        direct * 1000.0 / f64::from(n)
    );
    assert!(
        ratio <= 2.0,
        "late-bound calls cost {ratio:.2}x direct calls"
    );
}

fn trampolines_add_little_to_a_compile() {
    let mut s = Session::new();
    // First eval of these vars assembles their trampolines; re-evaluating finds them cached.
    let src = "int leaf(int x);\nint other(int x) { return leaf(x) + 1; }\nint counter = 3;\n";
    s.eval(src).unwrap();
    let first = s.last.as_ref().unwrap().phases;
    let mut cached = Vec::new();
    for _ in 0..10 {
        s.eval(src).unwrap();
        cached.push(s.last.as_ref().unwrap().phases.symbols.as_secs_f64() * 1000.0);
    }
    cached.sort_by(f64::total_cmp);
    println!(
        "object read + trampolines: first eval {:.1} ms (2 trampolines and 1 globals object, one llvm-mc run), cached p50 {:.2} ms; link {:.1} ms",
        first.symbols.as_secs_f64() * 1000.0,
        cached[cached.len() / 2],
        first.link.as_secs_f64() * 1000.0
    );
    assert!(cached[cached.len() / 2] < 15.0);
}
