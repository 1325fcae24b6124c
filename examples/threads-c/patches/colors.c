/* Save this file while `hotwasm serve` runs: every worker's band changes colour. */
#include "pool.h"

uint32_t pixel_color(int32_t x, int32_t y, int32_t tick) {
  return 0xff000000u | (uint32_t)((x + tick) & 0xff) << 8 | (uint32_t)(y & 0xff);
}
