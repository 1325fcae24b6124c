// C++ eval→live p50/p95 on examples/cpp-host through the real server and client under Node: a
// trivial extern "C" redefinition and a std-heavy one (vector, sort with a lambda, unordered_map,
// to_string), 12 evals each, the first 2 dropped (cold fast path, PCH build).
//   HOT_RELOAD=1 scripts/emscripten-bundle.sh examples/cpp-host
//   node --experimental-websocket tests/cpp/eval-latency.bench.mjs
import { join } from 'node:path';
import { ROOT, attachPage, nextPatch, serveApp } from '../lib/node-page.mjs';
const APP = join(ROOT, 'examples/cpp-host');
const server = await serveApp(APP);
const { hot } = await attachPage(join(APP, 'build/hot/orbits.js'), server.url);
for (let i = 0; i < 60; i++) hot.call('orbits_frame', 1 / 60);
const trivial = (i) => `#include "orbits.h"\nextern "C" uint32_t space_color(int32_t laps) { return 0xff000000u + ${i} + (uint32_t)laps; }\n`;
const heavy = (i) => `#include <algorithm>\n#include <string>\n#include <unordered_map>\n#include <vector>\n#include "orbits.h"\nextern "C" uint32_t planet_color(const Planet *p) {\n  std::vector<uint32_t> v{3u, 1u, ${i}u};\n  std::sort(v.begin(), v.end(), [](uint32_t a, uint32_t b) { return a > b; });\n  std::unordered_map<std::string, uint32_t> m;\n  m[std::to_string(p->laps)] = v[0];\n  return 0xff000000u | m.begin()->second;\n}\n`;
const q = (xs, p) => { const s = [...xs].sort((a, b) => a - b); return s[Math.min(s.length - 1, Math.floor(p * s.length))]; };
for (const [label, make] of [['trivial', trivial], ['std-heavy', heavy]]) {
  const live = [], compile = [];
  for (let i = 0; i < 12; i++) {
    const t0 = performance.now();
    const applied = nextPatch(hot);
    const r = await hot.eval(make(i + 10), 'cpp');
    if (!r.ok) throw new Error(r.error);
    await applied;
    const t = performance.now() - t0;
    if (i >= 2) { live.push(t); compile.push(r.timings.compile_ms); }
  }
  console.log(`${label}: eval→live p50 ${q(live, 0.5).toFixed(0)} ms p95 ${q(live, 0.95).toFixed(0)} ms; server compile p50 ${q(compile, 0.5).toFixed(0)} ms (n=${live.length}, first 2 dropped)`);
}
hot.close();
server.stop();
