// Eval→value latency: a one-line C expression (`6*7`, a different constant each time) typed as
// an eval, compiled by the fast path, applied and run on one page, its value back in the
// eval_result. The page is examples/c-host's real bundle under Node (the public client over a
// real WebSocket); the clock runs from sending the eval to holding the result with the value.
// Also the server's own split (compile, check, transfer, apply) at the median, and as a baseline
// under the same machine load, alternating with it, a definition-only eval of the same size
// (`int bench_value(void) { return 6*7; }`), which the value path must not slow down.
//
//   HOT_RELOAD=1 bash scripts/emscripten-bundle.sh examples/c-host
//   node --experimental-websocket benches/eval-value.mjs [--evals 40] [--json out.json]
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT, attachPage, serveApp } from '../tests/lib/node-page.mjs';

const arg = (name, dflt) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : dflt;
};
const EVALS = Number(arg('evals', 40));
const WARMUP = 3;
const APP = join(ROOT, 'examples/c-host');

const q = (xs, p) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(p * s.length))];
};

const server = await serveApp(APP);
const { hot } = await attachPage(join(APP, 'build/hot/bounce.js'), server.url);
const rows = [];
const baseline = [];
const timed = async (source) => {
  const t0 = performance.now();
  const r = await hot.eval(source, 'c');
  const ms = performance.now() - t0;
  if (!r.ok) throw new Error(`eval failed: ${r.error}\n${r.raw_output ?? ''}`);
  return { r, ms };
};
try {
  for (let i = 0; i < EVALS + WARMUP; i++) {
    const k = 7 + i;
    const { r, ms } = await timed(`6*${k}\n`);
    const v = r.pages[0]?.value;
    if (!v || v.text !== String(6 * k) || v.type !== 'int') throw new Error(`wrong value: ${JSON.stringify(v)}`);
    const base = await timed(`int bench_value(void) { return 6*${k}; }\n`);
    if (i >= WARMUP) {
      rows.push({ ms, ...r.timings });
      baseline.push({ ms: base.ms, ...base.r.timings });
    }
  }
} finally {
  hot.close();
  server.stop();
}
const col = (k) => rows.map((r) => r[k]);
const figures = {
  evals: rows.length,
  eval_to_value_p50_ms: q(col('ms'), 0.5),
  eval_to_value_p95_ms: q(col('ms'), 0.95),
  compile_p50_ms: q(col('compile_ms'), 0.5),
  check_p50_ms: q(col('check_ms'), 0.5),
  transfer_p50_ms: q(col('transfer_ms'), 0.5),
  apply_p50_ms: q(col('apply_ms'), 0.5),
  server_total_p50_ms: q(col('total_ms'), 0.5),
  definition_eval_p50_ms: q(baseline.map((r) => r.ms), 0.5),
  definition_compile_p50_ms: q(baseline.map((r) => r.compile_ms), 0.5),
  load_average_1m: Number(readFileSync('/proc/loadavg', 'utf8').split(' ')[0]),
};
const f = (x) => x.toFixed(1);
console.log(
  `eval→value (C \`6*7\`, fast path, 1 Node page, n=${figures.evals}, first ${WARMUP} dropped): ` +
    `p50 ${f(figures.eval_to_value_p50_ms)} ms, p95 ${f(figures.eval_to_value_p95_ms)} ms`,
);
console.log(
  `  server p50: compile ${f(figures.compile_p50_ms)} ms, check ${f(figures.check_p50_ms)} ms, ` +
    `transfer ${f(figures.transfer_p50_ms)} ms, apply ${f(figures.apply_p50_ms)} ms, total ${f(figures.server_total_p50_ms)} ms`,
);
console.log(
  `  baseline, a definition-only eval alternating with it: eval→live p50 ${f(figures.definition_eval_p50_ms)} ms, ` +
    `compile p50 ${f(figures.definition_compile_p50_ms)} ms (1-minute load average ${figures.load_average_1m})`,
);
const json = arg('json', null);
if (json) writeFileSync(json, JSON.stringify(figures, null, 2));
