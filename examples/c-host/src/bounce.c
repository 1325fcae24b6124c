/*
 * bounce: a small C app built with Emscripten — balls bounce in a box and the score counts
 * wall hits. It draws into the page's canvas through a JS function (EM_JS), as C apps do.
 *
 * Three functions are hot (HOTWASM_FN): the speed of new balls, the colour of a ball and the
 * sky. Everything else is ordinary C; the state (balls, frame count, score) lives in globals
 * and survives every live edit.
 */
#include <emscripten.h>
#include <stdint.h>
#include <stdlib.h>

#include "bounce.h"
#include "hotwasm_hot.h"

#define WIDTH 320
#define HEIGHT 200
#define MAX_BALLS 64

static Ball balls[MAX_BALLS];
static int32_t ball_count;
static uint64_t frames;
static int32_t score;
/* Allocated at start-up: a large zero-filled static array would be stored in full in a
 * HOT_RELOAD (MAIN_MODULE) build. */
static uint32_t *pixels;

/* ---- hot functions: edit them live --------------------------------------------------- */

HOTWASM_FN(float, ball_speed, int32_t, index) {
  return 60.0f + 7.0f * (float)(index % 5);
}

HOTWASM_FN(uint32_t, ball_color, const Ball *, ball) {
  return ball->hits % 2 ? 0xff40c0ffu : 0xffffa040u; /* 0xAABBGGRR */
}

HOTWASM_FN(uint32_t, sky_color, int32_t, score) {
  return 0xff201010u + (uint32_t)(score % 32);
}

/* ---- the app ------------------------------------------------------------------------- */

EM_JS(void, bounce_blit, (const uint32_t *px, int w, int h), {
  const canvas = Module.canvas || (typeof document !== 'undefined' && document.querySelector('canvas'));
  if (!canvas || !canvas.getContext) return; /* under Node: no canvas, the state still runs */
  if (canvas.width !== w) { canvas.width = w; canvas.height = h; }
  const bytes = new Uint8ClampedArray(HEAPU8.buffer, px, w * h * 4);
  canvas.getContext('2d').putImageData(new ImageData(new Uint8ClampedArray(bytes), w, h), 0, 0);
});

static void spawn(Ball *b, int32_t index) {
  float speed = ball_speed(index);
  b->x = (float)(rand() % WIDTH);
  b->y = (float)(rand() % HEIGHT);
  b->vx = (rand() % 2 ? speed : -speed);
  b->vy = (rand() % 2 ? speed : -speed) * 0.7f;
  b->hits = 0;
}

static void step(Ball *b, float dt) {
  b->x += b->vx * dt;
  b->y += b->vy * dt;
  if (b->x < 0 || b->x >= WIDTH) { b->vx = -b->vx; b->x = b->x < 0 ? 0 : WIDTH - 1; b->hits++; score++; }
  if (b->y < 0 || b->y >= HEIGHT) { b->vy = -b->vy; b->y = b->y < 0 ? 0 : HEIGHT - 1; b->hits++; score++; }
}

static void draw(void) {
  if (!pixels) return;
  uint32_t sky = sky_color(score);
  for (int i = 0; i < WIDTH * HEIGHT; i++) pixels[i] = sky;
  for (int32_t i = 0; i < ball_count; i++) {
    const Ball *b = &balls[i];
    uint32_t c = ball_color(b);
    for (int dy = -2; dy <= 2; dy++)
      for (int dx = -2; dx <= 2; dx++) {
        int x = (int)b->x + dx, y = (int)b->y + dy;
        if (x >= 0 && x < WIDTH && y >= 0 && y < HEIGHT) pixels[y * WIDTH + x] = c;
      }
  }
  bounce_blit(pixels, WIDTH, HEIGHT);
}

/* One frame: the page calls it through the hotwasm client's trap-safe call. */
EMSCRIPTEN_KEEPALIVE void bounce_frame(float dt) {
  if (frames % 30 == 0 && ball_count < MAX_BALLS) spawn(&balls[ball_count], ball_count), ball_count++;
  for (int32_t i = 0; i < ball_count; i++) step(&balls[i], dt);
  draw();
  frames++;
}

EMSCRIPTEN_KEEPALIVE uint32_t bounce_frames(void) { return (uint32_t)frames; }
EMSCRIPTEN_KEEPALIVE int32_t bounce_score(void) { return score; }
EMSCRIPTEN_KEEPALIVE int32_t bounce_balls(void) { return ball_count; }
/* The colour the first ball is drawn with right now (what a test checks after an edit). */
EMSCRIPTEN_KEEPALIVE uint32_t bounce_first_color(void) { return ball_count ? ball_color(&balls[0]) : 0; }

#ifdef HOTWASM_HOT_RELOAD
/* ---- state carried into a rebuilt host ------------------------------------------------
 * When `hotwasm serve` rebuilds this host (a save under src/), the page saves the state here,
 * loads the new host and restores it there, so the balls, the frame count and the score carry
 * on. The bytes are this struct: a change to it (or to Ball) makes the restore refuse them. */
#include <string.h>

typedef struct Saved {
  uint32_t size; /* sizeof(Saved) when it was written */
  uint64_t frames;
  int32_t score;
  int32_t ball_count;
  Ball balls[MAX_BALLS];
} Saved;

static void save_state(void) {
  Saved s = {sizeof s, frames, score, ball_count, {{0}}};
  memcpy(s.balls, balls, sizeof balls);
  hotwasm_state_put(&s, sizeof s);
}

static int32_t restore_state(const uint8_t *bytes, uint32_t len) {
  Saved s;
  if (len != sizeof s) return 1;
  memcpy(&s, bytes, sizeof s);
  if (s.size != sizeof s || s.ball_count < 0 || s.ball_count > MAX_BALLS) return 1;
  frames = s.frames;
  score = s.score;
  ball_count = s.ball_count;
  memcpy(balls, s.balls, sizeof balls);
  return 0;
}
#endif

int main(void) {
  srand(7);
  pixels = calloc(WIDTH * HEIGHT, sizeof *pixels);
#ifdef HOTWASM_HOT_RELOAD
  hotwasm_state_hooks(save_state, restore_state);
#endif
  return 0;
}
