/*
 * hotwasm.h: the ABI between a hotwasm host and its patches.
 *
 * This header is the single source of truth. The Rust runtime's declarations
 * (runtime/src/bindings.rs) are generated from it with bindgen, and a test fails
 * when they are out of date (run `scripts/regenerate-bindings.sh`).
 *
 * Two parts:
 *   1. The registry entry points, exported by every HOT_RELOAD host, for the JS
 *      client, for patches and for C/C++ hosts that embed hotwasm.
 *   2. The demo's shared data types: structs a C patch and the Rust demo host
 *      both use, plus the host functions patches may call.
 */
#ifndef HOTWASM_H
#define HOTWASM_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---- 1. Registry ------------------------------------------------------- */

/* Bumped whenever a declaration in this header changes meaning. */
#define HOTWASM_ABI_VERSION 1

/* Status codes: 0 or a positive id is success; negatives are failures whose
 * message hotwasm_last_error() returns. */
typedef enum hotwasm_status {
  HOTWASM_OK = 0,
  HOTWASM_ERR_INVALID_ARGUMENT = -1, /* null or non-UTF-8 string, bad signature text */
  HOTWASM_ERR_UNKNOWN_VAR = -2,      /* no var of that name */
  HOTWASM_ERR_SIGNATURE = -3,        /* a signature differs from the var's */
  HOTWASM_ERR_LOAD = -4,             /* dlopen failed (dlerror text in the message) */
  HOTWASM_ERR_SYMBOL = -5,           /* dlsym failed for a manifest symbol */
  HOTWASM_ERR_MANIFEST = -6,         /* the manifest text is malformed */
  HOTWASM_ERR_NO_HISTORY = -7,       /* nothing to roll back to */
  HOTWASM_ERR_UNKNOWN_PATCH = -8,    /* no applied patch with that id */
  HOTWASM_ERR_PATCH_TYPES = -9       /* the patch's wasm types contradict its manifest */
} hotwasm_status;

/* The ABI version this host was built with (HOTWASM_ABI_VERSION). */
int32_t hotwasm_abi_version(void);

/* Defines a new var `name` with Emscripten signature letters `signature`
 * (return first: "ii" is int(int)) and initial implementation `fn`.
 * Redefining an existing var with the same signature is a swap; with another
 * signature it fails with HOTWASM_ERR_SIGNATURE. */
int32_t hotwasm_define(const char *name, const char *signature, void *fn);

/* The current implementation of `name`, or NULL if there is no such var. */
void *hotwasm_lookup(const char *name);

/* Loads the side module at `path` (a path unique to this patch) and swaps in
 * every function the manifest lists, one "<var> <symbol> <signature>" per
 * line, all or nothing. Returns the new patch id (> 0) or a negative status;
 * on failure no var changes. */
int32_t hotwasm_apply(const char *path, const char *manifest);

/* Calls `symbol`, a void(void) function of applied patch `patch_id` (looked up in
 * that patch only), once, then flushes stdout: how an eval's `hotwasm_main` runs. */
int32_t hotwasm_run(int32_t patch_id, const char *symbol);

/* Restores the previous implementation of one var. */
int32_t hotwasm_rollback_var(const char *name);

/* Restores, for every var patch `patch_id` changed, the implementation it had
 * before that patch, if the var still runs that patch's code. */
int32_t hotwasm_rollback_patch(int32_t patch_id);

/* JSON array of the vars: [{"name","signature","version","history":[{"patch","symbol"}]}].
 * The string stays valid until the next call of hotwasm_list_json. */
const char *hotwasm_list_json(void);

/* The message of the last failure on this thread ("" if none). */
const char *hotwasm_last_error(void);

/* ---- 2. The demo's shared data ----------------------------------------- */

typedef struct Particle {
  float x, y;   /* position in pixels */
  float vx, vy; /* velocity in pixels per second */
  float age;    /* seconds since spawn */
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

/* The demo's hot functions (their default bodies live in the Rust host):
 *   void     step_particle(World *world, Particle *p, float dt)   "vppf"
 *   uint32_t particle_color(const World *world, const Particle *p) "ipp"
 *   void     spawn_particle(World *world, Particle *p)             "vpp"
 *   uint32_t background_color(const World *world)                  "ip"
 */

#ifdef __cplusplus
}
#endif

#endif /* HOTWASM_H */
