/* bounce.h: the app's types that patches share (a patch includes it: [patches] include_dirs). */
#ifndef BOUNCE_H
#define BOUNCE_H
#include <stdint.h>

typedef struct Ball {
  float x, y;   /* position in pixels */
  float vx, vy; /* velocity in pixels per second */
  int32_t hits; /* walls this ball hit */
} Ball;

float ball_speed(int32_t index);
uint32_t ball_color(const Ball *ball);
uint32_t sky_color(int32_t score);
#endif
