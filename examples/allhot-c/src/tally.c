/* tally: counts frames; what it shows is step() of the count. */
#include <stdio.h>
#include <string.h>
#include "tally.h"

static int32_t frames; /* app state: survives every patch */

/* A `static` function: hot all the same, and the patch in patches/step.c replaces it. */
static int32_t step(int32_t n) { return n % 100; }

/* scale.c has a `static` function of this name too: neither is hot (a patch naming `clamp`
 * could mean either), and a patch redefining it is refused naming both files. */
static int32_t clamp(int32_t n) { return n < 0 ? 0 : n; }

static const char *label(void) { return "tally"; }

void tally_frame(double dt_seconds) {
  (void)dt_seconds;
  frames++;
}

int32_t tally_value(void) { return step(clamp(frames)); }

int32_t tally_label_len(void) { return (int32_t)strlen(label()); }

/* The hidden helpers at work in the host too. */
int32_t tally_total(void) { return tally_scale(frames) + tally_checksum(frames); }

int main(void) {
  puts("tally started");
  return 0;
}
