// The C library in patches (issue 11, item 4): patch size and server compile time (fast path:
// clang, then wasm-ld with the C library members the patch needs) of evals calling the host's
// C library functions, functions the patch links itself, and the whole generated list of
// tests/lib/libc-list.mjs; each alternated with a no-libc eval of the same shape as a baseline
// under the same machine load. The page is examples/c-host's real bundle under Node.
//
//   HOT_RELOAD=1 bash scripts/emscripten-bundle.sh examples/c-host
//   node --experimental-websocket benches/libc.mjs [--evals 9] [--json out.json]
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT, attachPage, nextPatch, serveApp } from '../tests/lib/node-page.mjs';
import { patchSource } from '../tests/lib/libc-list.mjs';

const arg = (name, dflt) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : dflt;
};
const EVALS = Number(arg('evals', 9));
const APP = join(ROOT, 'examples/c-host');
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

const CASES = [
  ['host printf("%.2f") (__small_printf)', (i) => `#include <stdio.h>\nvoid hotwasm_main(void) { printf("%.2f\\n", ${i}.5); }\n`],
  ['hypot + cbrt (linked into the patch)', (i) => `#include <math.h>\ndouble lb_m(double x) { return hypot(x, cbrt(x)) + ${i}; }\n`],
  ['qsort (linked)', (i) => `#include <stdlib.h>\nstatic int c(const void *a, const void *b) { return *(const int *)a - *(const int *)b; }\nint lb_q(int *a, int n) { qsort(a, n, sizeof *a, c); return a[0] + ${i}; }\n`],
  ['toupper + atoi + strstr (linked)', (i) => `#include <ctype.h>\n#include <stdlib.h>\n#include <string.h>\nint lb_s(const char *s) { return toupper(s[0]) + atoi(s) + (strstr(s, "x") != 0) + ${i}; }\n`],
  ['the generated list (127 printed calls)', () => patchSource()],
];
const baselineSource = (i) => `int lb_base(int x) { return x * 2 + ${i}; }\n`;

const server = await serveApp(APP);
const { hot } = await attachPage(join(APP, 'build/hot/bounce.js'), server.url);
const once = async (source) => {
  const applied = nextPatch(hot);
  const r = await hot.eval(source, 'c');
  if (!r.ok) throw new Error(`eval failed at ${r.stage}: ${r.error}\n${r.raw_output ?? ''}`);
  return { compileMs: r.timings.compile_ms, size: (await applied).size };
};
const rows = [];
try {
  await once(baselineSource(-1)); // warm-up: the fast path, the C library selection
  for (const [name, source] of CASES) {
    const ms = [];
    const base = [];
    let size = 0;
    let baseSize = 0;
    for (let i = 0; i < EVALS; i++) {
      const a = await once(source(i));
      const b = await once(baselineSource(i));
      ms.push(a.compileMs);
      base.push(b.compileMs);
      size = a.size;
      baseSize = b.size;
    }
    const row = { name, patch_bytes: size, compile_ms_p50: median(ms), baseline_bytes: baseSize, baseline_compile_ms_p50: median(base) };
    rows.push(row);
    console.log(`${name.padEnd(40)} ${String(size).padStart(6)} B  compile p50 ${row.compile_ms_p50.toFixed(0)} ms  (no-libc baseline ${baseSize} B, ${row.baseline_compile_ms_p50.toFixed(0)} ms)`);
  }
} finally {
  hot.close();
  server.stop();
}
const json = arg('json');
if (json) writeFileSync(json, JSON.stringify({ evals: EVALS, rows }, null, 2));
process.exit(0);
