/* tally: what its files share. No hotwasm header: nothing is marked. */
#ifndef TALLY_H
#define TALLY_H
#include <stdint.h>

/* Internal to the app (hidden: not exported, not visible outside the program). */
__attribute__((visibility("hidden"))) int32_t tally_scale(int32_t x);
int32_t tally_checksum(int32_t x);

/* Called by the page. */
void tally_frame(double dt_seconds);
int32_t tally_value(void);
int32_t tally_label_len(void);
int32_t tally_total(void);
#endif
