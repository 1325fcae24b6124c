/* pool.h: what patches of the threads example share with the host ([patches] include_dirs). */
#ifndef POOL_H
#define POOL_H
#include <stdint.h>

/* The colour (0xAABBGGRR) of pixel (x, y) in tick `tick`: called on the worker threads, once
 * per pixel of each worker's band. Hot: edit it live while the workers render. */
uint32_t pixel_color(int32_t x, int32_t y, int32_t tick);

/* A number each worker asks once per tick and records (pool_seen): tests and benchmarks patch
 * it to see when every worker's next call reaches the new version. */
int32_t worker_tag(int32_t worker);
#endif
