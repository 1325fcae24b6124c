// {{name}}: a hotwasm app. Every function is hot ([hot] mode = "all" in hotwasm.toml, no marks
// needed): while `hotwasm serve` runs, saving patches/app_value.cpp (or evaluating a new
// definition in the page) replaces `app_value` in the running app, and `frames` keeps counting.
#include <cstdio>
#include <string>
#include "app.h"

int32_t app_value(int32_t frame) {
  return frame % 100;
}

namespace {
int32_t frames = 0; // app state: survives every patch
}

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

int main() {
  std::puts("{{name}} started");
  return 0;
}
