/* Save this file while `hotwasm serve` runs: every worker's next round records 2000 + its number. */
#include "crew.h"

int32_t worker_tag(int32_t worker) { return 2000 + worker; }
