// orbits.h: the app's types that patches share (a patch includes it: [patches] include_dirs).
// The hot functions have C linkage, so a patch redefines one by writing it `extern "C"`
// (this header declares them so).
#ifndef ORBITS_H
#define ORBITS_H
#include <cstdint>

struct Planet {
  float angle;   // radians around the sun
  float radius;  // pixels from the sun
  int32_t laps;  // full turns so far
};

extern "C" {
float orbit_speed(int32_t index);            // radians per second of planet `index`
uint32_t planet_color(const Planet *planet); // 0xAABBGGRR
uint32_t space_color(int32_t laps);          // the background, from the total laps
}
#endif
