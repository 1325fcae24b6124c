/* large.h: the large host's shared declarations (generated tables in gen/tables.c). */
#ifndef LARGE_H
#define LARGE_H
#include <stdint.h>
typedef int32_t (*hot_fn_t)(int32_t);
typedef int32_t (*bulk_fn_t)(int32_t, int32_t);
extern const int32_t large_hot_count;
extern hot_fn_t const large_hot[];
extern const int32_t large_bulk_count;
extern bulk_fn_t const large_bulk[];
int32_t hot_0000(int32_t x);
#endif
