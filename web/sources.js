// sources.js: the built-in source of each hot function, in C and in Rust, reproducing what the
// demo host does before any patch (its default bodies live in demo-host/src).

export const VARS = [
  { name: 'step_particle', signature: 'vppf', blurb: 'motion: gravity, walls, bounces' },
  { name: 'particle_color', signature: 'ipp', blurb: 'colour of each particle' },
  { name: 'spawn_particle', signature: 'vpp', blurb: 'where new particles start' },
  { name: 'background_color', signature: 'ip', blurb: 'the clear colour' },
];

const C_PRELUDE = '#include "hotwasm.h"\n\n';

const C = {
  step_particle: `${C_PRELUDE}/* Moves one particle: gravity, walls, and a point per bounce. */
void step_particle(World *world, Particle *p, float dt) {
    p->vy += world->gravity * dt;
    p->x += p->vx * dt;
    p->y += p->vy * dt;
    p->age += dt;

    if (p->x < 0.0f)          { p->x = 0.0f;          p->vx = -p->vx * 0.9f; world->bounces++; }
    if (p->x > world->width)  { p->x = world->width;  p->vx = -p->vx * 0.9f; world->bounces++; }
    if (p->y < 0.0f)          { p->y = 0.0f;          p->vy = -p->vy * 0.9f; world->bounces++; }
    if (p->y > world->height) { p->y = world->height; p->vy = -p->vy * 0.8f; world->bounces++; }
}
`,
  particle_color: `${C_PRELUDE}/* Colour by speed: slow particles are blue, fast ones orange. 0xAABBGGRR. */
uint32_t particle_color(const World *world, const Particle *p) {
    (void)world;
    float speed = p->vx * p->vx + p->vy * p->vy;
    float t = speed / 250000.0f;
    if (t > 1.0f) t = 1.0f;
    uint32_t r = (uint32_t)(60.0f + 195.0f * t);
    uint32_t g = (uint32_t)(140.0f - 20.0f * t);
    uint32_t b = (uint32_t)(255.0f - 200.0f * t);
    return 0xff000000u | (b << 16) | (g << 8) | r;
}
`,
  spawn_particle: `${C_PRELUDE}/* A new particle: from the top centre, in a random direction. */
void spawn_particle(World *world, Particle *p) {
    p->x = world->width * 0.5f;
    p->y = world->height * 0.1f;
    p->vx = (demo_random(world) - 0.5f) * 400.0f;
    p->vy = (demo_random(world) - 0.5f) * 200.0f;
    p->age = 0.0f;
    p->rgba = 0xffffffffu;
}
`,
  background_color: `${C_PRELUDE}/* The clear colour, 0xAABBGGRR. */
uint32_t background_color(const World *world) {
    (void)world;
    return 0xff1a1410u;
}
`,
};

const RUST = {
  step_particle: `// Moves one particle: gravity, walls, and a point per bounce.
#[no_mangle]
pub extern "C" fn step_particle(world: &mut World, p: &mut Particle, dt: f32) {
    p.vy += world.gravity * dt;
    p.x += p.vx * dt;
    p.y += p.vy * dt;
    p.age += dt;

    if p.x < 0.0 { p.x = 0.0; p.vx = -p.vx * 0.9; world.bounces += 1; }
    if p.x > world.width { p.x = world.width; p.vx = -p.vx * 0.9; world.bounces += 1; }
    if p.y < 0.0 { p.y = 0.0; p.vy = -p.vy * 0.9; world.bounces += 1; }
    if p.y > world.height { p.y = world.height; p.vy = -p.vy * 0.8; world.bounces += 1; }
}
`,
  particle_color: `// Colour by speed: slow particles are blue, fast ones orange. 0xAABBGGRR.
#[no_mangle]
pub extern "C" fn particle_color(_world: &World, p: &Particle) -> u32 {
    let t = ((p.vx * p.vx + p.vy * p.vy) / 250000.0).min(1.0);
    let r = (60.0 + 195.0 * t) as u32;
    let g = (140.0 - 20.0 * t) as u32;
    let b = (255.0 - 200.0 * t) as u32;
    0xff00_0000 | (b << 16) | (g << 8) | r
}
`,
  spawn_particle: `// A new particle: from the top centre, in a random direction.
#[no_mangle]
pub extern "C" fn spawn_particle(world: &mut World, p: &mut Particle) {
    p.x = world.width * 0.5;
    p.y = world.height * 0.1;
    p.vx = (unsafe { demo_random(world) } - 0.5) * 400.0;
    p.vy = (unsafe { demo_random(world) } - 0.5) * 200.0;
    p.age = 0.0;
    p.rgba = 0xffff_ffff;
}
`,
  background_color: `// The clear colour, 0xAABBGGRR.
#[no_mangle]
pub extern "C" fn background_color(_world: &World) -> u32 {
    0xff1a_1410
}
`,
};

/** The built-in source of `name` in `lang` ('c' or 'rust'). */
export function defaultSource(name, lang) {
  const table = lang === 'rust' ? RUST : C;
  return table[name] ?? (lang === 'rust' ? '// a new function\n' : `${C_PRELUDE}/* a new function */\n`);
}

/** File name the server uses in diagnostics. */
export function fileName(name, lang) {
  return `${name}.${lang === 'rust' ? 'rs' : 'c'}`;
}
