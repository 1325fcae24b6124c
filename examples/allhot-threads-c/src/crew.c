/*
 * crew: a C app whose work runs on pthreads, with no hotwasm marks. Each worker loops: it records
 * worker_tag(worker) and counts a round, then sleeps a millisecond (a wait: where it loads the
 * patches the page applied, docs/THREADS.md). crew_spawn starts one more worker at any time, so a
 * thread can start after patches were applied.
 *
 * In all-hot mode (hotwasm.toml: [hot] mode = "all") every function here is hot, the `static`
 * ones the workers call included: a patch redefining worker_tag reaches every worker's next round.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <time.h>

#include "crew.h"

#define MAX_WORKERS 8

static pthread_t threads[MAX_WORKERS];
static _Atomic int32_t workers;
static _Atomic int32_t seen[MAX_WORKERS];
static _Atomic int32_t rounds[MAX_WORKERS];
static int32_t frames, clock_now;
static _Atomic int32_t bonus; /* crew_bonus: what the page adds to every tag */

/* ---- the workers' code: `static`, hot all the same ---------------------------------------- */

/* What worker `worker` records each round (crew_seen). The patch in patches/tag.c replaces it. */
static int32_t worker_tag(int32_t worker) { return 100 + worker + atomic_load(&bonus); }

static void rest(void) {
  struct timespec ms = {0, 1000000};
  nanosleep(&ms, NULL);
}

static void *work(void *arg) {
  int32_t worker = (int32_t)(intptr_t)arg;
  for (;;) {
    atomic_store(&seen[worker], worker_tag(worker));
    atomic_fetch_add(&rounds[worker], 1);
    rest();
  }
  return NULL;
}

/* ---- the page's side --------------------------------------------------------------------- */

/* Starts one more worker (up to 8); returns its number, or -1. */
int32_t crew_spawn(void) {
  int32_t w = atomic_load(&workers);
  if (w >= MAX_WORKERS) return -1;
  if (pthread_create(&threads[w], NULL, work, (void *)(intptr_t)w)) return -1;
  atomic_store(&workers, w + 1);
  return w;
}

/* Starts `n` workers the first time; returns how many run. */
int32_t crew_start(int32_t n) {
  while (atomic_load(&workers) < n && crew_spawn() >= 0) {
  }
  return atomic_load(&workers);
}

/* How far the main thread's frame moves the crew's clock: `static`, called on the main thread. */
static int32_t frame_step(int32_t frame) { return frame > 0 ? 1 : 0; }

/* One frame of the page: starts the crew (4 workers) the first time and moves its clock. */
void crew_frame(float dt) {
  (void)dt;
  if (!atomic_load(&workers)) crew_start(4);
  clock_now += frame_step(++frames);
}

/* Sets what worker_tag adds to every tag. */
void crew_bonus(int32_t b) { atomic_store(&bonus, b); }

int32_t crew_workers(void) { return atomic_load(&workers); }
/* What worker `w` got from worker_tag in its latest round (0 before its first, -1: no such). */
int32_t crew_seen(int32_t w) {
  return w >= 0 && w < atomic_load(&workers) ? atomic_load(&seen[w]) : -1;
}
/* How many rounds worker `w` finished. */
int32_t crew_rounds(int32_t w) {
  return w >= 0 && w < atomic_load(&workers) ? atomic_load(&rounds[w]) : -1;
}
/* The crew's clock: the sum of frame_step over the frames so far. */
int32_t crew_frames(void) { return clock_now; }

int main(void) { return 0; }
