// Save this file while `hotwasm serve` runs: every search thread's next node uses it.
#include "search.h"

extern "C" int32_t evaluate(int32_t position) {
  return (position * 37) % 101 - 50;
}
