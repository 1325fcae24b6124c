/*
 * The large host: a generated C app with 1,000 hot functions and a few MB of ordinary code
 * (node generate.mjs writes src/gen/), for hotwasm's scale figures. Each frame calls every hot
 * function once and a slice of the ordinary code; the running checksum is the app's state.
 */
#include <emscripten.h>
#include <stdint.h>
#include "large.h"

static int64_t checksum;
static uint32_t frames;

EMSCRIPTEN_KEEPALIVE void large_frame(void) {
  int32_t x = (int32_t)frames;
  for (int32_t i = 0; i < large_hot_count; i++) x = large_hot[i](x);
  for (int32_t i = 0; i < 64; i++) {
    int32_t k = (int32_t)((frames * 64u + (uint32_t)i) % (uint32_t)large_bulk_count);
    x = large_bulk[k](x, i);
  }
  checksum += x;
  frames++;
}

EMSCRIPTEN_KEEPALIVE uint32_t large_frames(void) { return frames; }
EMSCRIPTEN_KEEPALIVE double large_checksum(void) { return (double)checksum; }
/* hot_0000 through its var (a test checks it after an edit). */
EMSCRIPTEN_KEEPALIVE int32_t large_probe(int32_t x) { return hot_0000(x); }

/* Calls hot_0000 `n` times: the host side of the hot-call benchmark. */
EMSCRIPTEN_KEEPALIVE int32_t large_call_loop(int32_t n) {
  int32_t x = 0;
  for (int32_t i = 0; i < n; i++) x = hot_0000(x);
  return x;
}

int main(void) { return 0; }
