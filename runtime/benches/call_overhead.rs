//! Call overhead of a trivial hot function: a direct call, a call through the hotwasm slot,
//! and the naive design (a name lookup in a hash map on every call). Prints ns/call and ratios.
//!
//!   cargo bench -p hotwasm-runtime --bench call_overhead                                   # native
//!   cargo bench -p hotwasm-runtime --bench call_overhead --target wasm32-unknown-emscripten # wasm, under Node

use hotwasm_runtime::hot_fn;
use std::collections::HashMap;
use std::hint::black_box;
use std::time::Instant;

hot_fn! {
    /// The trivial function every variant calls.
    fn mix(x: u32) -> u32 { x.wrapping_mul(2_654_435_761).rotate_left(5) ^ 0x9e37 }
}

/// The same body, called directly (not inlined, like a call into another function).
#[inline(never)]
extern "C" fn mix_direct(x: u32) -> u32 {
    x.wrapping_mul(2_654_435_761).rotate_left(5) ^ 0x9e37
}

/// The naive registry: every call looks the name up.
struct LookupRegistry {
    fns: HashMap<String, extern "C" fn(u32) -> u32>,
}

impl LookupRegistry {
    #[inline(never)]
    fn call(&self, name: &str, x: u32) -> u32 {
        (self.fns[name])(x)
    }
}

fn time(label: &str, iterations: u32, mut f: impl FnMut(u32) -> u32) -> f64 {
    let mut best = f64::MAX;
    for _ in 0..5 {
        let start = Instant::now();
        let mut acc = black_box(0u32);
        for i in 0..iterations {
            // Each call depends on the last, so calls cannot overlap or be hoisted.
            acc = f(acc ^ i);
        }
        black_box(acc);
        best = best.min(start.elapsed().as_secs_f64() * 1e9 / f64::from(iterations));
    }
    println!("{label:<34} {best:>8.3} ns/call");
    best
}

fn main() {
    let target = if cfg!(target_arch = "wasm32") {
        "wasm32 (Node)"
    } else {
        "native"
    };
    let n = 20_000_000;
    println!("call overhead, {target}, best of 5 runs of {n} calls");
    let direct = time("direct call", n, |x| mix_direct(x));
    let slot = time("hotwasm slot (atomic load + call)", n, mix);
    let mut fns: HashMap<String, extern "C" fn(u32) -> u32> = HashMap::new();
    for i in 0..64 {
        fns.insert(format!("other_fn_{i}"), mix_direct);
    }
    fns.insert("mix".to_string(), mix::default_impl);
    let registry = LookupRegistry { fns };
    let lookup = time("name lookup per call (HashMap)", n / 4, |x| {
        registry.call(black_box("mix"), x)
    });
    println!(
        "ratio slot/direct   {:.2}x  (target <= 1.5x)",
        slot / direct
    );
    println!("ratio lookup/slot   {:.1}x  (target >= 10x)", lookup / slot);
}
