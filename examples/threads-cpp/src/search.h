// search.h: what patches of the threads C++ example share with the host ([patches] include_dirs).
// The hot function has C linkage, so a patch redefines it `extern "C"` (declared so here).
#ifndef SEARCH_H
#define SEARCH_H
#include <cstdint>

extern "C" {
// The score of position `position` for the side to move: called by every search thread for
// every node it visits. Hot: edit it live while the threads search.
int32_t evaluate(int32_t position);
}
#endif
