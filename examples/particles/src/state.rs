//! The demo's state: the `World` shared with patches (layout from `include/particles.h`), its particles
//! and the framebuffer. One instance, owned by this module, reached through raw pointers only
//! so that patches writing through `World*` never alias a Rust reference.

use crate::{Particle, World};
use std::cell::UnsafeCell;

pub(crate) struct State {
    pub world: World,
    /// Owns the memory `world.particles` points to.
    pub _particles: Vec<Particle>,
    pub pixels: Vec<u8>,
}

struct Cell(UnsafeCell<Option<State>>);

// SAFETY: the demo runs on the browser's main thread only (no pthreads in this build); the
// cell is never shared across threads.
unsafe impl Sync for Cell {}

static STATE: Cell = Cell(UnsafeCell::new(None));

/// The state, created by [`init`]. Callers keep the pointer only for the current call and
/// never hold a `&mut State` across a hot call.
pub(crate) fn state() -> *mut State {
    // SAFETY: single-threaded (see `Cell`); the Option is initialised by `init` before the page
    // calls any export, and a missing state is reported rather than dereferenced.
    unsafe {
        match &mut *STATE.0.get() {
            Some(s) => s,
            None => panic!(
                "demo_frame called before main(): wait for the module's onRuntimeInitialized"
            ),
        }
    }
}

pub(crate) fn init(width: u32, height: u32, count: u32) {
    let mut world = World {
        particles: std::ptr::null_mut(),
        count,
        capacity: count,
        frame: 0,
        width: width as f32,
        height: height as f32,
        time: 0.0,
        gravity: 240.0,
        bounces: 0,
        seed: 0x2545_f491,
    };
    let zero = Particle {
        x: 0.0,
        y: 0.0,
        vx: 0.0,
        vy: 0.0,
        age: 0.0,
        rgba: 0,
    };
    let mut particles = vec![zero; count as usize];
    world.particles = particles.as_mut_ptr();
    let pixels = vec![0; (width * height * 4) as usize];
    // SAFETY: single-threaded; no reference into the old state survives this call.
    unsafe {
        *STATE.0.get() = Some(State {
            world,
            _particles: particles,
            pixels,
        })
    };
    let s = state();
    // SAFETY: `s` was just initialised; particles and world live in it.
    unsafe {
        let w: *mut World = &mut (*s).world;
        for i in 0..count as usize {
            let p = (*w).particles.add(i);
            crate::hot::spawn_particle(w, p);
            (*p).age = crate::hot::random(w) * 6.0;
        }
    }
}

/// The world as it travels into a rebuilt host (`keep_state`): every field of `World` but the
/// particles' address, and the particles as `[x, y, vx, vy, age]` plus their colour.
#[derive(serde::Serialize, serde::Deserialize)]
pub(crate) struct Saved {
    frame: u64,
    width: f32,
    height: f32,
    time: f32,
    gravity: f32,
    bounces: u32,
    seed: u32,
    particles: Vec<([f32; 5], u32)>,
}

/// The world to carry into a rebuilt host.
pub(crate) fn save() -> Saved {
    let s = state();
    // SAFETY: the live state, read only; `count` particles are live.
    unsafe {
        let w = &(*s).world;
        let live = w.count.min(w.capacity) as usize;
        let particles = std::slice::from_raw_parts(w.particles, live)
            .iter()
            .map(|p| ([p.x, p.y, p.vx, p.vy, p.age], p.rgba))
            .collect();
        Saved {
            frame: w.frame,
            width: w.width,
            height: w.height,
            time: w.time,
            gravity: w.gravity,
            bounces: w.bounces,
            seed: w.seed,
            particles,
        }
    }
}

/// Replaces the world with one a previous host saved.
pub(crate) fn restore(saved: Saved) {
    let mut particles: Vec<Particle> = saved
        .particles
        .iter()
        .map(|&([x, y, vx, vy, age], rgba)| Particle {
            x,
            y,
            vx,
            vy,
            age,
            rgba,
        })
        .collect();
    let count = particles.len() as u32;
    let world = World {
        particles: particles.as_mut_ptr(),
        count,
        capacity: count,
        frame: saved.frame,
        width: saved.width,
        height: saved.height,
        time: saved.time,
        gravity: saved.gravity,
        bounces: saved.bounces,
        seed: saved.seed,
    };
    let pixels = vec![0; (saved.width as usize) * (saved.height as usize) * 4];
    // SAFETY: single-threaded; called by the runtime between frames, when no reference into
    // the old state is alive.
    unsafe {
        *STATE.0.get() = Some(State {
            world,
            _particles: particles,
            pixels,
        })
    };
}

/// xorshift32: the demo's deterministic random numbers, in [0, 1).
pub(crate) fn next_random(seed: &mut u32) -> f32 {
    let mut x = *seed;
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    *seed = x;
    (x >> 8) as f32 / (1u32 << 24) as f32
}
