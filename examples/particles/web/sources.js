// sources.js: the built-in source of each hot function, in C and in Rust, reproducing what the
// particles app does before any patch (its default bodies live in examples/particles/src).

import { extensionOf } from '/hotwasm/hotwasm-client.js';

export const VARS = [
  { name: 'step_particle', signature: 'vppf', blurb: 'motion: gravity, walls, bounces' },
  { name: 'particle_color', signature: 'ipp', blurb: 'colour of each particle' },
  { name: 'spawn_particle', signature: 'vpp', blurb: 'where new particles start' },
  { name: 'background_color', signature: 'ip', blurb: 'the clear colour' },
];

const C_PRELUDE = '#include <math.h>\n#include "particles.h"\n\n';

const C = {
  step_particle: `${C_PRELUDE}/* Moves one particle: gravity, motion, bouncing off the walls (each bounce scores). */
void step_particle(World *world, Particle *p, float dt) {
    p->vy += world->gravity * dt;
    p->x += p->vx * dt;
    p->y += p->vy * dt;
    if (p->x < 0.0f || p->x > world->width) {
        p->x = fminf(fmaxf(p->x, 0.0f), world->width);
        p->vx = -p->vx * 0.9f;
        world->bounces++;
    }
    if (p->y > world->height) {
        p->y = world->height;
        p->vy = -p->vy * 0.8f;
        world->bounces++;
    }
}
`,
  particle_color: `${C_PRELUDE}/* Colour by speed: slow particles blue, fast ones orange (0xAABBGGRR). */
uint32_t particle_color(const World *world, const Particle *p) {
    (void)world;
    float speed = sqrtf(p->vx * p->vx + p->vy * p->vy);
    float t = fminf(speed / 600.0f, 1.0f);
    uint32_t r = (uint32_t)(40.0f + 215.0f * t);
    uint32_t g = (uint32_t)(120.0f + 60.0f * t);
    uint32_t b = (uint32_t)(255.0f - 200.0f * t);
    return 0xff000000u | (b << 16) | (g << 8) | r;
}
`,
  spawn_particle: `${C_PRELUDE}/* Respawns a particle near the top with a random velocity. */
void spawn_particle(World *world, Particle *p) {
    p->x = demo_random(world) * world->width;
    p->y = demo_random(world) * world->height * 0.3f;
    p->vx = (demo_random(world) - 0.5f) * 300.0f;
    p->vy = (demo_random(world) - 0.5f) * 100.0f;
    p->age = 0.0f;
}
`,
  background_color: `${C_PRELUDE}/* The background colour (0xAABBGGRR). */
uint32_t background_color(const World *world) {
    (void)world;
    return 0xff1a1210u;
}
`,
};

const RUST = {
  step_particle: `// Moves one particle: gravity, motion, bouncing off the walls (each bounce scores).
#[no_mangle]
pub extern "C" fn step_particle(world: *mut World, p: *mut Particle, dt: f32) {
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
`,
  particle_color: `// Colour by speed: slow particles blue, fast ones orange (0xAABBGGRR).
#[no_mangle]
pub extern "C" fn particle_color(_world: *const World, p: *const Particle) -> u32 {
    let p = unsafe { &*p };
    let speed = (p.vx * p.vx + p.vy * p.vy).sqrt();
    let t = (speed / 600.0).min(1.0);
    let r = (40.0 + 215.0 * t) as u32;
    let g = (120.0 + 60.0 * t) as u32;
    let b = (255.0 - 200.0 * t) as u32;
    0xff00_0000 | (b << 16) | (g << 8) | r
}
`,
  spawn_particle: `// Respawns a particle near the top with a random velocity.
#[no_mangle]
pub extern "C" fn spawn_particle(world: *mut World, p: *mut Particle) {
    unsafe {
        let w = world;
        (*p).x = demo_random(w) * (*w).width;
        (*p).y = demo_random(w) * (*w).height * 0.3;
        (*p).vx = (demo_random(w) - 0.5) * 300.0;
        (*p).vy = (demo_random(w) - 0.5) * 100.0;
        (*p).age = 0.0;
    }
}
`,
  background_color: `// The background colour (0xAABBGGRR).
#[no_mangle]
pub extern "C" fn background_color(_world: *const World) -> u32 {
    0xff1a_1210
}
`,
};

/** The C source as C++: the same body with C linkage (a var keeps its C name). */
function asCpp(c) {
  return `${C_PRELUDE}extern "C" {\n\n${c.slice(C_PRELUDE.length)}\n}  // extern "C"\n`;
}

/** The built-in source of `name` in `lang` ('c', 'cpp' or 'rust'). */
export function defaultSource(name, lang) {
  if (lang === 'rust') return RUST[name] ?? '// a new function\n';
  const c = C[name] ?? `${C_PRELUDE}/* a new function */\n`;
  return lang === 'cpp' ? asCpp(c) : c;
}

/** File name the server uses in diagnostics. */
export function fileName(name, lang) {
  return `${name}.${extensionOf(lang)}`;
}
