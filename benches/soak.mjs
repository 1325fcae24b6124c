// Soak: 1,000 patches applied in one host session under Node (the real HOT_RELOAD host).
// Patches are tests/fixtures/counter_generation.c built with -DGEN=n (cached in
// build/fixtures/). Reports apply time at patches 10/100/1000 (median of a window of 10 around
// each), linear memory (HEAPU8.length) and table (wasmTable.length) growth per patch.
// Exits non-zero if any patch fails, the final value is wrong, or apply@1000 > 2× apply@10.
//   node benches/soak.mjs [--patches 1000] [--json out.json] [--build-only]
import { writeFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { loadHost, sideModules } from '../tests/node/fixtures.mjs';

const { values: opts } = parseArgs({
  options: { patches: { type: 'string', default: '1000' }, json: { type: 'string' }, 'build-only': { type: 'boolean', default: false } },
});
const N = Number(opts.patches);
const tb = performance.now();
const patches = await sideModules(Array.from({ length: N }, (_, i) => ['counter_generation', { GEN: i + 1 }]));
const buildS = (performance.now() - tb) / 1000;
console.log(`built/loaded ${N} fixtures in ${buildS.toFixed(1)} s`);
if (opts['build-only']) process.exit(0);

const host = await loadHost();
const mem0 = host.Module.HEAPU8.length;
const table0 = host.Module.wasmTable.length;
const times = [];
const mem = [];
const table = [];
const failures = [];
for (let i = 0; i < N; i++) {
  const t0 = performance.now();
  const r = host.apply(patches[i], `t_gen t_gen__hw${i + 1} i`);
  times.push(performance.now() - t0);
  mem.push(host.Module.HEAPU8.length);
  table.push(host.Module.wasmTable.length);
  if (!(r.id > 0)) failures.push(`patch ${i + 1}: ${r.error}`);
}
const finalValue = host.call('t_gen');
if (finalValue !== N) failures.push(`t_gen() returned ${finalValue} after ${N} patches, expected ${N}`);
const history = host.vars().find((v) => v.name === 't_gen')?.history?.length;

const median = (xs) => { const s = [...xs].sort((a, b) => a - b); return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2; };
/** Median apply time over the 10 patches around patch number `at` (1-based), clamped to the run. */
const around = (at) => { const lo = Math.max(0, Math.min(N - 10, at - 5)); return median(times.slice(lo, lo + 10)); };
const points = [10, 100, 1000].filter((p) => p <= N);
const result = {
  patches: N,
  failures: failures.length,
  first_failures: failures.slice(0, 5),
  apply_ms: Object.fromEntries(points.map((p) => [p, around(p)])),
  apply_max_ms: Math.max(...times),
  memory_bytes_per_patch: (mem[N - 1] - mem0) / N,
  table_slots_per_patch: (table[N - 1] - table0) / N,
  memory_start_bytes: mem0,
  memory_end_bytes: mem[N - 1],
  table_start: table0,
  table_end: table[N - 1],
  history_len: history,
  fixture_build_s: buildS,
};
const last = points[points.length - 1];
result.ratio_last_vs_10 = result.apply_ms[last] / result.apply_ms[10];
result.within_2x = result.ratio_last_vs_10 <= 2;
console.log(JSON.stringify(result, null, 2));
if (opts.json) writeFileSync(opts.json, JSON.stringify(result, null, 2));
if (failures.length) { console.error(`FAIL: ${failures.length} patches failed:\n${failures.slice(0, 5).join('\n')}`); process.exit(1); }
if (!result.within_2x) { console.error(`FAIL: apply at ${last} is ${result.ratio_last_vs_10.toFixed(2)}× apply at 10 (limit 2×)`); process.exit(1); }
process.exit(0);
