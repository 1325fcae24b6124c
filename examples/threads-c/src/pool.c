/*
 * pool: a C app whose frames are computed by a pool of pthreads. Each worker renders its band
 * of rows into a shared framebuffer, calling the hot function pixel_color once per pixel, then
 * waits for the others: one tick. The workers run on their own; the page's frame
 * (pool_frame, on the main thread) only blits what they drew.
 *
 * Two functions are hot (HOTWASM_FN) and run on the workers: pixel_color and worker_tag. A patch
 * applied on the main thread reaches every worker: the dynamic linker loads the patch into each
 * worker before the registry's slot changes (docs/THREADS.md says when and how).
 */
#include <emscripten.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>

#include "hotwasm_hot.h"
#include "pool.h"

#define WIDTH 160
#define HEIGHT 96
#define MAX_WORKERS 16

static uint32_t *pixels;
static pthread_t threads[MAX_WORKERS];
static int32_t workers;
static _Atomic int32_t ticks;
static _Atomic int32_t seen[MAX_WORKERS];
/* The end of a tick: every worker waits on `changed` for the others (a barrier made of a condition
 * variable, not pthread_barrier_t: docs/THREADS.md, "When a worker loads a patch"). While `paused`
 * is set the workers sleep on it between ticks (an idle pool, as an engine's search threads wait
 * for the next search). */
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t changed = PTHREAD_COND_INITIALIZER;
static int32_t arrived, paused;
/* Parking: while `parking` is set the workers end each tick asleep in a pthread_barrier_t, a wait
 * Emscripten does not slice (as an engine's threads wait for a new search), until pool_park(0)
 * joins it as its last party. Every worker of a tick takes the same decision (`park_tick`). */
static pthread_barrier_t park_barrier;
static int32_t parking, park_tick;
static _Atomic int32_t parked, releasing;

/* ---- hot functions: edit them live (they run on the worker threads) --------------------- */

HOTWASM_FN(uint32_t, pixel_color, int32_t, x, int32_t, y, int32_t, tick) {
  return 0xff000000u | (uint32_t)((x ^ y) + tick) & 0xffu;
}

HOTWASM_FN(int32_t, worker_tag, int32_t, worker) {
  return 100 + worker;
}

/* ---- the pool ---------------------------------------------------------------------------- */

static void render_band(int32_t worker, int32_t tick) {
  int32_t rows = HEIGHT / workers;
  int32_t first = worker * rows, last = worker == workers - 1 ? HEIGHT : first + rows;
  for (int32_t y = first; y < last; y++)
    for (int32_t x = 0; x < WIDTH; x++) pixels[y * WIDTH + x] = pixel_color(x, y, tick);
}

/* Waits until every worker finished this tick; the last one to arrive starts the next. */
static void end_tick(void) {
  pthread_mutex_lock(&lock);
  int32_t tick = atomic_load(&ticks);
  if (++arrived == workers) {
    arrived = 0;
    park_tick = parking;
    atomic_fetch_add(&ticks, 1);
    pthread_cond_broadcast(&changed);
  } else {
    while (atomic_load(&ticks) == tick) pthread_cond_wait(&changed, &lock);
  }
  while (paused) pthread_cond_wait(&changed, &lock);
  int32_t park = park_tick;
  pthread_mutex_unlock(&lock);
  if (park) {
    atomic_fetch_add(&parked, 1);
    pthread_barrier_wait(&park_barrier);
    if (atomic_fetch_sub(&parked, 1) == 1) atomic_store(&releasing, 0);
  }
}

static void *work(void *arg) {
  int32_t worker = (int32_t)(intptr_t)arg;
  for (;;) {
    int32_t tick = atomic_load(&ticks);
    render_band(worker, tick);
    atomic_store(&seen[worker], worker_tag(worker));
    /* Where a busy worker loads the patches the main thread loaded: once a tick. */
    sched_yield();
    end_tick();
  }
  return NULL;
}

/* Starts `n` workers (1..16; once). Returns how many run. */
EMSCRIPTEN_KEEPALIVE int32_t pool_start(int32_t n) {
  if (workers) return workers;
  if (n < 1 || n > MAX_WORKERS) return 0;
  workers = n;
  pthread_barrier_init(&park_barrier, NULL, (unsigned)n + 1);
  for (int32_t i = 0; i < n; i++) pthread_create(&threads[i], NULL, work, (void *)(intptr_t)i);
  return workers;
}

/* Pauses (1) or resumes (0) the workers. */
EMSCRIPTEN_KEEPALIVE void pool_pause(int32_t on) {
  pthread_mutex_lock(&lock);
  paused = on;
  pthread_cond_broadcast(&changed);
  pthread_mutex_unlock(&lock);
}

/* Parks (1) the workers at the barrier after their tick, or lets them go (0). Returns how many
 * are parked; pool_park(0) releases them once all are (call it again until it returns 0). */
EMSCRIPTEN_KEEPALIVE int32_t pool_park(int32_t on) {
  pthread_mutex_lock(&lock);
  parking = on;
  pthread_mutex_unlock(&lock);
  /* The main thread joins the barrier only as its last party: it never waits there. */
  if (!on && atomic_load(&parked) == workers && !atomic_exchange(&releasing, 1)) pthread_barrier_wait(&park_barrier);
  return atomic_load(&releasing) ? 0 : atomic_load(&parked);
}

EMSCRIPTEN_KEEPALIVE int32_t pool_parked(void) { return atomic_load(&parked); }

EM_JS(void, pool_blit, (const uint32_t *px, int w, int h), {
  const canvas = Module.canvas || (typeof document !== 'undefined' && document.querySelector('canvas'));
  if (!canvas || !canvas.getContext) return; /* under Node: no canvas */
  if (canvas.width !== w) { canvas.width = w; canvas.height = h; }
  /* Shared memory: copy out before handing the pixels to the canvas. */
  const bytes = new Uint8ClampedArray(w * h * 4);
  bytes.set(new Uint8Array(HEAPU8.buffer, px, w * h * 4));
  canvas.getContext('2d').putImageData(new ImageData(bytes, w, h), 0, 0);
});

/* One frame of the page: starts the pool (4 workers) the first time, then shows its pixels. */
EMSCRIPTEN_KEEPALIVE void pool_frame(float dt) {
  (void)dt;
  if (!workers) pool_start(4);
  pool_blit(pixels, WIDTH, HEIGHT);
}

EMSCRIPTEN_KEEPALIVE int32_t pool_ticks(void) { return atomic_load(&ticks); }
EMSCRIPTEN_KEEPALIVE int32_t pool_workers(void) { return workers; }
/* What worker `w` got from worker_tag in its latest tick (0 before its first). */
EMSCRIPTEN_KEEPALIVE int32_t pool_seen(int32_t w) { return w >= 0 && w < workers ? atomic_load(&seen[w]) : -1; }
EMSCRIPTEN_KEEPALIVE uint32_t pool_pixel(int32_t x, int32_t y) { return pixels[y * WIDTH + x]; }

/* ---- call cost, measured on the calling thread or on a worker of its own ----------------- */

static volatile uint32_t cost_sink;

/* Nanoseconds per call of the hot function pixel_color over `n` calls on this thread. */
EMSCRIPTEN_KEEPALIVE double pool_call_ns(int32_t n) {
  uint32_t sum = 0;
  double start = emscripten_get_now();
  for (int32_t i = 0; i < n; i++) sum += pixel_color(i & 127, i >> 7, i);
  double elapsed = emscripten_get_now() - start;
  cost_sink = sum;
  return n > 0 ? elapsed * 1e6 / n : 0;
}

typedef struct CallCost {
  int32_t calls;
  double ns;
} CallCost;

static void *call_cost_thread(void *arg) {
  CallCost *cost = arg;
  cost->ns = pool_call_ns(cost->calls);
  return NULL;
}

/* pool_call_ns(n) on a new thread (joined: the caller blocks until it finished). */
EMSCRIPTEN_KEEPALIVE double pool_call_ns_on_worker(int32_t n) {
  CallCost cost = {n, 0};
  pthread_t t;
  if (pthread_create(&t, NULL, call_cost_thread, &cost)) return -1;
  pthread_join(t, NULL);
  return cost.ns;
}

int main(void) {
  pixels = calloc(WIDTH * HEIGHT, sizeof *pixels);
  return 0;
}
