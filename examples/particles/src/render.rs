//! One frame: simulate every particle through the hot functions, then draw them.

use crate::hot::{background_color, particle_color, spawn_particle, step_particle, LIFETIME};
use crate::state::State;
use crate::World;

/// Advances the simulation by `dt` seconds and renders into the framebuffer.
///
/// # Safety
/// `s` must be the live state from [`crate::state::state`]. No reference into it is held
/// across a hot call: patches write through the raw `World*`/`Particle*` they are given.
pub(crate) unsafe fn frame(s: *mut State, dt: f32) {
    let dt = dt.clamp(0.0, 0.1);
    // SAFETY: per this function's contract; only raw pointers cross the hot calls.
    unsafe {
        let w: *mut World = &mut (*s).world;
        (*w).frame += 1;
        (*w).time += dt;
        let count = (*w).count.min((*w).capacity) as usize;
        for i in 0..count {
            let p = (*w).particles.add(i);
            (*p).age += dt;
            if (*p).age > LIFETIME {
                spawn_particle(w, p);
            }
            step_particle(w, p, dt);
        }
        draw(s, w, count);
    }
}

/// # Safety
/// As for [`frame`]; `count` particles are live.
unsafe fn draw(s: *mut State, w: *mut World, count: usize) {
    // SAFETY: per this function's contract.
    unsafe {
        let bg = background_color(w).to_le_bytes();
        let width = (*w).width as i32;
        let height = (*w).height as i32;
        let pixels: *mut u8 = (*s).pixels.as_mut_ptr();
        let len = (*s).pixels.len();
        for px in std::slice::from_raw_parts_mut(pixels, len).chunks_exact_mut(4) {
            px.copy_from_slice(&bg);
        }
        for i in 0..count {
            let p = (*w).particles.add(i);
            let rgba = particle_color(w, p).to_le_bytes();
            let (x, y) = ((*p).x as i32, (*p).y as i32);
            for (dx, dy) in [(0, 0), (1, 0), (0, 1), (1, 1)] {
                let (px, py) = (x + dx, y + dy);
                if px >= 0 && py >= 0 && px < width && py < height {
                    let at = ((py * width + px) * 4) as usize;
                    std::slice::from_raw_parts_mut(pixels.add(at), 4).copy_from_slice(&rgba);
                }
            }
        }
    }
}
