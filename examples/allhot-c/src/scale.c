/* Helpers the app keeps to itself (hidden visibility): patches call them all the same. */
#include "tally.h"

static int32_t clamp(int32_t x) { return x > 1000000 ? 1000000 : x; }

int32_t tally_scale(int32_t x) { return clamp(x) * 10; }

int32_t tally_checksum(int32_t x) { return x ^ 0x5a; }
