// {{name}}'s shared declarations: the host and every patch include this.
#pragma once
#include <cstdint>

// Hot: the value the app shows. Edit patches/app_value.cpp and save (or eval a new version).
int32_t app_value(int32_t frame);

// What the page calls (C names, listed in hotwasm.toml's [build] exports).
extern "C" {
void app_frame(double dt_seconds);
int32_t app_frames(void);
int32_t app_current(void);
}
