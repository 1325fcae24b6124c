/* {{name}}'s shared declarations: the host and every patch include this. */
#ifndef APP_H
#define APP_H
#include <stdint.h>

/* Hot: the value the app shows. Edit patches/app_value.c and save (or eval a new version). */
int32_t app_value(int32_t frame);

#endif
