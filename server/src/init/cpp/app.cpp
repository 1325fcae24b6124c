// {{name}}: a hotwasm app. `app_value` is hot: while `hotwasm serve` runs, saving
// patches/app_value.c (or evaluating a new definition in the page) replaces it in the running
// app, and `frames` keeps counting. Hot functions have C linkage (extern "C"), so a C patch
// can replace them.
#include <cstdio>
#include <string>
#include "hotwasm_hot.h"

extern "C" {
#include "app.h"
}

HOTWASM_FN(int32_t, app_value, int32_t, frame) {
  return frame % 100;
}

namespace {
int32_t frames = 0; // app state: survives every patch
}

extern "C" {

// Called by the page once per animation frame.
void app_frame(double dt_seconds) {
  (void)dt_seconds;
  frames++;
  if (frames % 120 == 0) {
    std::string line = "frame " + std::to_string(frames) + ": app_value = " + std::to_string(app_value(frames));
    std::puts(line.c_str());
  }
}

int32_t app_frames(void) { return frames; }

// What the app shows now.
int32_t app_current(void) { return app_value(frames); }

} // extern "C"

int main() {
  std::puts("{{name}} started");
  return 0;
}
