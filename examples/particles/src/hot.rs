//! The demo's hot functions: what a patch may replace. Each registers itself before `main`
//! (`hot_fn!`); their C prototypes are in `include/particles.h`.

use crate::{Particle, World};
use hotwasm_runtime::hot_fn;

/// Seconds a particle lives before it respawns.
pub(crate) const LIFETIME: f32 = 8.0;

hot_fn! {
    /// Moves one particle: gravity, motion, bouncing off the walls (each bounce scores).
    pub fn step_particle(world: *mut World, p: *mut Particle, dt: f32) {
        // SAFETY: the host passes its own world and one of its particles.
        let (w, p) = unsafe { (&mut *world, &mut *p) };
        p.vy += w.gravity * dt;
        p.x += p.vx * dt;
        p.y += p.vy * dt;
        if p.x < 0.0 || p.x > w.width {
            p.x = p.x.clamp(0.0, w.width);
            p.vx = -p.vx * 0.9;
            w.bounces += 1;
        }
        if p.y > w.height {
            p.y = w.height;
            p.vy = -p.vy * 0.8;
            w.bounces += 1;
        }
    }

    /// Colour by speed: slow particles blue, fast ones orange (0xAABBGGRR).
    pub fn particle_color(world: *const World, p: *const Particle) -> u32 {
        let _ = world;
        // SAFETY: the host passes one of its particles.
        let p = unsafe { &*p };
        let speed = (p.vx * p.vx + p.vy * p.vy).sqrt();
        let t = (speed / 600.0).min(1.0);
        let r = (40.0 + 215.0 * t) as u32;
        let g = (120.0 + 60.0 * t) as u32;
        let b = (255.0 - 200.0 * t) as u32;
        0xff00_0000 | (b << 16) | (g << 8) | r
    }

    /// Respawns a particle near the top with a random velocity.
    pub fn spawn_particle(world: *mut World, p: *mut Particle) {
        // SAFETY: the host passes its own world and one of its particles.
        unsafe {
            let w = world;
            (*p).x = random(w) * (*w).width;
            (*p).y = random(w) * (*w).height * 0.3;
            (*p).vx = (random(w) - 0.5) * 300.0;
            (*p).vy = (random(w) - 0.5) * 100.0;
            (*p).age = 0.0;
        }
    }

    /// The background colour (0xAABBGGRR).
    pub fn background_color(world: *const World) -> u32 {
        let _ = world;
        0xff1a_1210
    }
}

/// A random number in [0, 1) from the world's seed; patches call it as `demo_random`.
pub(crate) fn random(world: *mut World) -> f32 {
    // SAFETY: callers pass the host's world.
    unsafe { crate::state::next_random(&mut (*world).seed) }
}
