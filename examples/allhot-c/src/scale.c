/* Helpers the app keeps to itself (hidden visibility): patches call them all the same. */
#include "tally.h"

int32_t tally_scale(int32_t x) { return x * 10; }

int32_t tally_checksum(int32_t x) { return x ^ 0x5a; }
