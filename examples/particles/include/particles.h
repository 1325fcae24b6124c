/*
 * particles.h: what the particle demo shares with its patches.
 *
 * The Rust host's declarations of these types (examples/particles/src/bindings.rs) are
 * generated from this header with bindgen, and a test fails when they are out of date
 * (HOTWASM_BLESS=1 cargo test -p particles --test bindings_are_current rewrites them), so
 * the layout a C patch sees is the host's.
 */
#ifndef PARTICLES_H
#define PARTICLES_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct Particle {
  float x, y;    /* position in pixels */
  float vx, vy;  /* velocity in pixels per second */
  float age;     /* seconds since spawn */
  uint32_t rgba; /* colour, 0xAABBGGRR (little-endian RGBA bytes) */
} Particle;

typedef struct World {
  Particle *particles;
  uint32_t count;
  uint32_t capacity;
  uint64_t frame;   /* frames simulated since start */
  float width, height;
  float time;       /* seconds simulated */
  float gravity;    /* pixels per second squared, downward */
  uint32_t bounces; /* wall hits so far: the score */
  uint32_t seed;    /* random state */
} World;

/* Host functions a patch may call. */
World *demo_world(void);
float demo_random(World *world); /* uniform in [0, 1), advances world->seed */

/* The hot functions (vars): their default bodies live in the Rust host (src/hot.rs); a patch
 * redefines one by defining a function of the same name and signature, and may call any of
 * them. */
void step_particle(World *world, Particle *p, float dt);         /* "vppf" */
uint32_t particle_color(const World *world, const Particle *p);  /* "ipp"  */
void spawn_particle(World *world, Particle *p);                  /* "vpp"  */
uint32_t background_color(const World *world);                   /* "ip"   */

#ifdef __cplusplus
}
#endif

#endif /* PARTICLES_H */
