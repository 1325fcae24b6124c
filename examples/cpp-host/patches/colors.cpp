// Save this file while `hotwasm serve` runs: the planets change colour, their laps carry on.
// A patch is C++ like the app: the standard library comes with it, whatever the host links.
#include <array>

#include "orbits.h"

extern "C" uint32_t planet_color(const Planet *planet) {
  static constexpr std::array<uint32_t, 3> palette{0xff4060ffu, 0xff40ffa0u, 0xffffc040u};
  return palette[static_cast<std::size_t>(planet->laps) % palette.size()];
}
