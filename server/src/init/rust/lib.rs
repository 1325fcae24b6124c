//! {{name}}: a hotwasm app. Every function of this crate is hot ([hot] mode = "all" in
//! hotwasm.toml, no marks needed): while `hotwasm serve` runs, saving patches/app_value.rs (or
//! evaluating a new definition in the page) replaces `app_value` in the running app, and `FRAMES`
//! keeps counting.

use std::sync::atomic::{AtomicI32, Ordering};

// Links hotwasm's runtime (the registry patches bind to) into the HOT_RELOAD host.
use hotwasm_runtime as _;

/// The value the app shows.
fn app_value(frame: i32) -> i32 {
    frame % 100
}

/// App state: survives every patch.
static FRAMES: AtomicI32 = AtomicI32::new(0);

/// Called by the page once per animation frame.
#[no_mangle]
pub extern "C" fn app_frame(_dt_seconds: f64) {
    let n = FRAMES.fetch_add(1, Ordering::Relaxed) + 1;
    if n % 120 == 0 {
        println!("frame {n}: app_value = {}", app_value(n));
    }
}

/// Frames so far.
#[no_mangle]
pub extern "C" fn app_frames() -> i32 {
    FRAMES.load(Ordering::Relaxed)
}

/// What the app shows now.
#[no_mangle]
pub extern "C" fn app_current() -> i32 {
    app_value(app_frames())
}

/// Start-up (the binary calls it, which also links this library in).
pub fn start() {
    println!("{{name}} started");
}
