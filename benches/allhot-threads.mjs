// All-hot mode's cost in a threaded host (docs/ALL-HOT.md, docs/THREADS.md): examples/threads-c
// (a pool of 4 pthreads rendering bands, calling `pixel_color` once per pixel) built three ways —
// plain; HOT_RELOAD marked-only (its two HOTWASM_FN); HOT_RELOAD all-hot (`[hot] mode = "all"`:
// every function hot, the marks plain functions) — each in a copy of its own, then started under
// Node RUNS times: time to ready (the module and its 4 pool workers instantiated: each worker runs
// the all-hot start function too), one tick of the pool (4 workers render every pixel of a
// 160×96 frame, then meet at a condition variable), and one call of `pixel_color` on the main
// thread and on a worker (the pool paused). Prints a markdown section.
//
//   node benches/allhot-threads.mjs [--runs 5]
import { execFileSync, spawnSync } from 'node:child_process';
import { appendFileSync, cpSync, mkdtempSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { pct } from './lib.mjs';
import { hotwasmCommand } from '../tests/lib/node-page.mjs';

const root = path.resolve(import.meta.dirname, '..');
const { values } = parseArgs({ options: { runs: { type: 'string', default: '5' } } });
const RUNS = Number(values.runs);
const HOTWASM = hotwasmCommand();
const APP = 'examples/threads-c';

const VARIANTS = [
  { key: 'plain', label: 'plain', hot: false },
  { key: 'marked', label: 'HOT_RELOAD, marked only (2 HOTWASM_FN)', hot: true },
  { key: 'all', label: 'HOT_RELOAD, all-hot', hot: true, all: true },
];

// One run: ready, then 4 workers ticking for ~1 s (µs per tick), then the call costs.
const PROBE = `
const t0 = performance.now();
require(process.argv[1])({ print() {}, printErr() {} }).then(async (M) => {
  const ready = performance.now() - t0;
  M._pool_start(4);
  const wait = (ms) => new Promise((r) => setTimeout(r, ms));
  while (M._pool_ticks() < 20) await wait(1);
  const k0 = M._pool_ticks(), s0 = performance.now();
  await wait(1000);
  const usPerTick = ((performance.now() - s0) * 1000) / (M._pool_ticks() - k0);
  // The call costs with the pool asleep (paused), so the 4 workers do not share the cores.
  M._pool_pause(1);
  M._pool_call_ns(1_000_000);
  const nsMain = M._pool_call_ns(10_000_000);
  const nsWorker = M._pool_call_ns_on_worker(10_000_000);
  console.log(JSON.stringify({ ready, usPerTick, nsMain, nsWorker }));
  process.exit(0);
});`;

function measure(v) {
  const dir = path.join(mkdtempSync(path.join(tmpdir(), `hotwasm-allhot-threads-${v.key}-`)), 'threads-c');
  cpSync(path.join(root, APP), dir, { recursive: true, filter: (s) => !/\/(build|\.hotwasm)$/.test(s) });
  if (v.all) appendFileSync(path.join(dir, 'hotwasm.toml'), '\n[hot]\nmode = "all"\n');
  const args = ['build', '--project', dir, ...(v.hot ? ['--hot'] : [])];
  const r = spawnSync(HOTWASM, args, { stdio: ['ignore', 'ignore', 'inherit'] });
  if (r.status !== 0) throw new Error(`hotwasm ${args.join(' ')} failed`);
  const js = path.join(dir, 'build', v.hot ? 'hot' : 'plain', 'pool.js');
  const runs = [];
  for (let i = 0; i < RUNS; i++) {
    const out = execFileSync(process.execPath, ['-e', PROBE, js], { encoding: 'utf8' });
    runs.push(JSON.parse(out.trim().split('\n').pop()));
  }
  const med = (k) => pct(runs.map((x) => x[k]), 50);
  return { wasmKB: statSync(js.replace(/\.js$/, '.wasm')).size / 1024, ready: med('ready'), usPerTick: med('usPerTick'), nsMain: med('nsMain'), nsWorker: med('nsWorker') };
}

const result = {};
for (const v of VARIANTS) {
  console.error(`building and measuring: ${v.label}`);
  result[v.key] = measure(v);
}
const p = result.plain;
const x = (a, b) => `${(a / b).toFixed(2)}×`;
console.log([
  '## All-hot mode in a threaded host: cost against the plain build and marked-only mode',
  '',
  `${APP} (4 workers), Node ${process.version}, median of ${RUNS} runs: \`node benches/allhot-threads.mjs --runs ${RUNS}\`.`,
  '',
  '| build | wasm | ready (4 workers loaded) | one tick of the pool | `pixel_color` call, main thread (pool paused) | on a worker |',
  '|---|---:|---:|---:|---:|---:|',
  ...VARIANTS.map((v) => {
    const r = result[v.key];
    return `| ${v.label} | ${r.wasmKB.toFixed(0)} KB | ${r.ready.toFixed(1)} ms (${x(r.ready, p.ready)}) | ${r.usPerTick.toFixed(0)} µs (${x(r.usPerTick, p.usPerTick)}) | ${r.nsMain.toFixed(2)} ns (${x(r.nsMain, p.nsMain)}) | ${r.nsWorker.toFixed(2)} ns (${x(r.nsWorker, p.nsWorker)}) |`;
  }),
  '',
].join('\n'));
