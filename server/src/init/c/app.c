/* {{name}}: a hotwasm app. Every function is hot ([hot] mode = "all" in hotwasm.toml, no
 * marks needed): while `hotwasm serve` runs, saving patches/app_value.c (or evaluating a new
 * definition in the page) replaces `app_value` in the running app, and `frames` keeps counting. */
#include <stdio.h>
#include "app.h"

int32_t app_value(int32_t frame) {
  return frame % 100;
}

static int32_t frames; /* app state: survives every patch */

/* Called by the page once per animation frame. */
void app_frame(double dt_seconds) {
  (void)dt_seconds;
  frames++;
  if (frames % 120 == 0) printf("frame %d: app_value = %d\n", frames, app_value(frames));
}

int32_t app_frames(void) { return frames; }

/* What the app shows now. */
int32_t app_current(void) { return app_value(frames); }

int main(void) {
  puts("{{name}} started");
  return 0;
}
