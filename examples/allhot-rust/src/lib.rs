//! spin: counts frames; what it shows is `physics::advance(step(frames))`. No function is
//! marked: in all-hot mode every non-generic function of this crate is hot, and a patch calls
//! them (and reads `FRAMES`) by their paths.

use std::sync::atomic::{AtomicI32, Ordering};

// Links hotwasm's runtime (the registry patches bind to) into the host; nothing is called.
use hotwasm_runtime as _;

mod physics;

/// App state: survives every patch.
static FRAMES: AtomicI32 = AtomicI32::new(0);

/// A plain private function: patches/step.rs replaces it.
fn step(n: i32) -> i32 {
    n % 100
}

/// A generic function: its instances are compiled per type and stay cold (a patch redefining
/// it is refused, naming why).
fn pick<T: Copy + PartialOrd>(a: T, b: T) -> T {
    if a > b {
        a
    } else {
        b
    }
}

/// Kept cold by `[hot] cold` in hotwasm.toml: called directly, never replaced.
fn checksum(x: i32) -> i32 {
    x.wrapping_mul(31) ^ 7
}

/// Sets spin up.
pub fn start() {
    println!("spin started");
}

/// One frame.
#[no_mangle]
pub extern "C" fn spin_frame(_dt_seconds: f64) {
    FRAMES.fetch_add(1, Ordering::Relaxed);
}

/// What spin shows: the host's own callers of `step` and `physics::advance`.
#[no_mangle]
pub extern "C" fn spin_value() -> i32 {
    physics::advance(step(FRAMES.load(Ordering::Relaxed)))
}

/// A checksum of the frame count (calls the cold `checksum`).
#[no_mangle]
pub extern "C" fn spin_checksum() -> i32 {
    checksum(FRAMES.load(Ordering::Relaxed))
}

/// Calls `step` `n` times: what benches/allhot.mjs times a call with.
#[no_mangle]
pub extern "C" fn spin_call_loop(n: i32) -> i32 {
    (0..n).fold(0i32, |acc, i| acc.wrapping_add(step(std::hint::black_box(i))))
}

/// How high a ball of the app is after the frames so far (calls `physics::height`, whose
/// signature names the app's `Ball`).
#[no_mangle]
pub extern "C" fn spin_height() -> i32 {
    physics::height(&physics::Ball { y: 5 }, FRAMES.load(Ordering::Relaxed))
}

/// The larger of the frame count and `floor` (calls the generic `pick`).
#[no_mangle]
pub extern "C" fn spin_pick(floor: i32) -> i32 {
    pick(FRAMES.load(Ordering::Relaxed), floor)
}
