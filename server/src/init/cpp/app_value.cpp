// Save this file while `hotwasm serve` runs: the app calls the new app_value at once.
#include "app.h"

int32_t app_value(int32_t frame) {
  return frame % 100;
}
