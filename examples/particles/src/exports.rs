//! What the page and patches call: C-ABI exports of the demo (listed in
//! `examples/particles/exports.txt`, which the bundle script turns into Emscripten's export list).

use crate::state::{self, State};
use crate::World;

fn with_state<T>(f: impl FnOnce(*mut State) -> T) -> T {
    f(state::state())
}

/// Simulates `dt` seconds and renders one frame.
#[no_mangle]
pub extern "C" fn demo_frame(dt: f32) {
    // SAFETY: the live state; `frame` holds no reference across hot calls.
    with_state(|s| unsafe { crate::render::frame(s, dt) })
}

/// The RGBA framebuffer, `demo_width() * demo_height() * 4` bytes.
#[no_mangle]
pub extern "C" fn demo_framebuffer() -> *const u8 {
    // SAFETY: the live state; the pointer is read, not kept as a reference.
    with_state(|s| unsafe { (*s).pixels.as_ptr() })
}

/// Framebuffer width in pixels.
#[no_mangle]
pub extern "C" fn demo_width() -> u32 {
    // SAFETY: the live state, read only.
    with_state(|s| unsafe { (*s).world.width as u32 })
}

/// Framebuffer height in pixels.
#[no_mangle]
pub extern "C" fn demo_height() -> u32 {
    // SAFETY: the live state, read only.
    with_state(|s| unsafe { (*s).world.height as u32 })
}

/// The world patches read and write (declared in `include/particles.h`).
#[no_mangle]
pub extern "C" fn demo_world() -> *mut World {
    // SAFETY: the live state; a raw pointer, no reference is created.
    with_state(|s| unsafe { &raw mut (*s).world })
}

/// Frames simulated since start.
#[no_mangle]
pub extern "C" fn demo_frame_count() -> u64 {
    // SAFETY: the live state, read only.
    with_state(|s| unsafe { (*s).world.frame })
}

/// Live particles.
#[no_mangle]
pub extern "C" fn demo_particle_count() -> u32 {
    // SAFETY: the live state, read only.
    with_state(|s| unsafe { (*s).world.count })
}

/// Wall bounces so far: the score.
#[no_mangle]
pub extern "C" fn demo_bounces() -> u32 {
    // SAFETY: the live state, read only.
    with_state(|s| unsafe { (*s).world.bounces })
}

/// A uniform random number in [0, 1) from `world`'s seed (declared in `include/particles.h`).
///
/// # Safety
/// `world` must be the pointer `demo_world()` returns (or one given to a hot function).
#[no_mangle]
pub unsafe extern "C" fn demo_random(world: *mut World) -> f32 {
    crate::hot::random(world)
}

/// Starts over with a fresh world of the same size (the page's "reset" button).
#[no_mangle]
pub extern "C" fn demo_reset() {
    let (w, h, n) = (demo_width(), demo_height(), demo_particle_count());
    state::init(w, h, n);
}

/// Starts over with a world of another size.
#[no_mangle]
pub extern "C" fn demo_set_size(width: u32, height: u32) {
    let n = demo_particle_count();
    state::init(width.clamp(16, 4096), height.clamp(16, 4096), n);
}
