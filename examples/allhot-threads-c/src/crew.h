/* crew.h: what patches of the all-hot threads example share with the host ([patches] include_dirs).
 * No hotwasm header: nothing is marked. */
#ifndef CREW_H
#define CREW_H
#include <stdint.h>

/* Called by the page. */
void crew_frame(float dt);
int32_t crew_start(int32_t n);
int32_t crew_spawn(void);
void crew_bonus(int32_t b);
int32_t crew_workers(void);
int32_t crew_seen(int32_t w);
int32_t crew_rounds(int32_t w);
int32_t crew_frames(void);
#endif
