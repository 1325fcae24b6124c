/* Save this file while `hotwasm serve` runs: the balls change colour, the score carries on. */
#include "bounce.h"

uint32_t ball_color(const Ball *ball) {
  return ball->hits > 3 ? 0xff4040ffu : 0xff40ff40u;
}
