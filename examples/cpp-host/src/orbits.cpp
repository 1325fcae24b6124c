// orbits: a small C++ app built with Emscripten — planets circle a sun and count their laps.
// It draws into the page's canvas through a JS function (EM_JS), as C++ apps do.
//
// Three functions are hot (HOTWASM_FN): the speed of a planet, its colour and the colour of
// space. Everything else is ordinary C++; the state (planets, frame count) lives in a
// std::vector and globals and survives every live edit.
#include <emscripten.h>

#include <array>
#include <cmath>
#include <cstdint>
#include <vector>

#include "hotwasm_hot.h"
#include "orbits.h"

namespace {
constexpr int kWidth = 320;
constexpr int kHeight = 200;
constexpr float kTwoPi = 6.2831853f;
constexpr std::size_t kMaxPlanets = 8;

std::vector<Planet> planets;
std::uint64_t frames = 0;
std::array<std::uint32_t, kWidth * kHeight> pixels;
}  // namespace

// ---- hot functions: edit them live ------------------------------------------------------

HOTWASM_FN(float, orbit_speed, int32_t, index) { return 1.5f / static_cast<float>(index + 1); }

HOTWASM_FN(uint32_t, planet_color, const Planet *, planet) {
  return planet->laps % 2 ? 0xff40c0ffu : 0xffffa040u;
}

HOTWASM_FN(uint32_t, space_color, int32_t, laps) { return 0xff100808u + static_cast<uint32_t>(laps % 32); }

// ---- the app ----------------------------------------------------------------------------

EM_JS(void, orbits_blit, (const uint32_t *px, int w, int h), {
  const canvas = Module.canvas || (typeof document !== 'undefined' && document.querySelector('canvas'));
  if (!canvas || !canvas.getContext) return; /* under Node: no canvas, the state still runs */
  if (canvas.width !== w) { canvas.width = w; canvas.height = h; }
  const bytes = new Uint8ClampedArray(HEAPU8.buffer, px, w * h * 4);
  canvas.getContext('2d').putImageData(new ImageData(new Uint8ClampedArray(bytes), w, h), 0, 0);
});

namespace {
int32_t total_laps() {
  int32_t laps = 0;
  for (const Planet &p : planets) laps += p.laps;
  return laps;
}

void disc(int cx, int cy, int r, std::uint32_t color) {
  for (int dy = -r; dy <= r; dy++)
    for (int dx = -r; dx <= r; dx++) {
      int x = cx + dx, y = cy + dy;
      if (dx * dx + dy * dy <= r * r && x >= 0 && x < kWidth && y >= 0 && y < kHeight)
        pixels[y * kWidth + x] = color;
    }
}

void draw() {
  pixels.fill(space_color(total_laps()));
  disc(kWidth / 2, kHeight / 2, 8, 0xff30e0ffu);
  for (const Planet &p : planets) {
    int x = kWidth / 2 + static_cast<int>(p.radius * std::cos(p.angle));
    int y = kHeight / 2 + static_cast<int>(p.radius * std::sin(p.angle) * 0.8f);
    disc(x, y, 3, planet_color(&p));
  }
  orbits_blit(pixels.data(), kWidth, kHeight);
}
}  // namespace

extern "C" {

// One frame: the page calls it through the hotwasm client's trap-safe call.
EMSCRIPTEN_KEEPALIVE void orbits_frame(float dt) {
  if (frames % 60 == 0 && planets.size() < kMaxPlanets)
    planets.push_back(Planet{0.0f, 20.0f + 11.0f * static_cast<float>(planets.size()), 0});
  for (std::size_t i = 0; i < planets.size(); i++) {
    Planet &p = planets[i];
    p.angle += orbit_speed(static_cast<int32_t>(i)) * dt;
    if (p.angle >= kTwoPi) {
      p.angle -= kTwoPi;
      p.laps++;
    }
  }
  draw();
  frames++;
}

EMSCRIPTEN_KEEPALIVE uint32_t orbits_frames(void) { return static_cast<uint32_t>(frames); }
EMSCRIPTEN_KEEPALIVE int32_t orbits_laps(void) { return total_laps(); }
EMSCRIPTEN_KEEPALIVE int32_t orbits_planets(void) { return static_cast<int32_t>(planets.size()); }
// The colour the first planet is drawn with right now (what a test checks after an edit).
EMSCRIPTEN_KEEPALIVE uint32_t orbits_first_color(void) { return planets.empty() ? 0 : planet_color(&planets[0]); }

}  // extern "C"

int main() { return 0; }
