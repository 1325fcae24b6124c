// Scale figures (issue "your own app"): the example apps built plain and HOT_RELOAD, and the
// generated large host (1,000 hot functions, ~5 MB of wasm) measured under Node:
//   - HOT_RELOAD vs plain size (wasm + JS, raw and gzip) of every example (fixed overhead);
//   - start-up to the end of the first frame, plain vs HOT_RELOAD (fresh Node process each run);
//   - registering 1,000 vars (hotwasm_register_slot from JS, after start-up);
//   - a hot call vs a direct call (the host calling hot_0000 in a loop: HOT_RELOAD vs plain);
//   - apply time of a patch in the large host (real server, real WebSocket, the public client);
//   - the HOT_RELOAD host's export count against V8's limit of 100,000.
//
//   node --experimental-websocket benches/scale.mjs [--json build/bench/scale.json] [--runs 5] [--no-build]
import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { pct } from './lib.mjs';
import { attachPage, nextPatch, serveApp } from '../tests/lib/node-page.mjs';

const root = path.resolve(import.meta.dirname, '..');
const { values } = parseArgs({
  options: {
    json: { type: 'string' },
    runs: { type: 'string', default: '5' },
    applies: { type: 'string', default: '20' },
    'no-build': { type: 'boolean' },
    help: { type: 'boolean', short: 'h' },
  },
});
if (values.help) {
  console.log('usage: node --experimental-websocket benches/scale.mjs [--json FILE] [--runs 5] [--applies 20] [--no-build]');
  process.exit(0);
}
const RUNS = Number(values.runs);
const APPLIES = Number(values.applies);

const APPS = [
  { dir: 'examples/c-host', name: 'bounce' },
  { dir: 'examples/rust-host', name: 'garden' },
  { dir: 'examples/cpp-host', name: 'orbits' },
  { dir: 'examples/particles', name: 'particles' },
  { dir: 'examples/large-host', name: 'large', frame: 'large_frame' },
];
const large = APPS.at(-1);
const bundle = (app, mode) => path.join(root, app.dir, 'build', mode, app.name);

function build(app, hot) {
  const env = { ...process.env };
  if (hot) env.HOT_RELOAD = '1';
  else delete env.HOT_RELOAD;
  const t0 = performance.now();
  const r = spawnSync('bash', [path.join(root, 'scripts/emscripten-bundle.sh'), path.join(root, app.dir)], { env, stdio: ['ignore', 'inherit', 'inherit'] });
  if (r.status !== 0) throw new Error(`building ${app.dir} (${hot ? 'HOT_RELOAD' : 'plain'}) failed`);
  return (performance.now() - t0) / 1000;
}

function sizes(app, mode) {
  const f = (ext) => {
    const p = `${bundle(app, mode)}.${ext}`;
    return { raw: statSync(p).size, gzip: gzipSync(readFileSync(p), { level: 9 }).length };
  };
  return { wasm: f('wasm'), js: f('js') };
}

// One fresh Node process: load the bundle, instantiate, run one frame; prints JSON timings.
const PROBE = `
const t0 = performance.now();
const create = require(process.argv[1]);
create({ print() {}, printErr() {} }).then((M) => {
  const ready = performance.now();
  M['_' + process.argv[2]]();
  const frame = performance.now();
  const out = { ready: ready - t0, firstFrame: frame - t0 };
  if (M._hotwasm_register_slot) {
    const names = Array.from({ length: 1000 }, (_, i) => M.stringToNewUTF8('bench_var_' + i));
    const sig = M.stringToNewUTF8('ii');
    const slots = M._malloc(4 * 1000);
    for (let i = 0; i < 1000; i++) M.HEAPU32[(slots >> 2) + i] = 1;
    const r0 = performance.now();
    for (let i = 0; i < 1000; i++) if (M._hotwasm_register_slot(names[i], sig, slots + 4 * i) < 0) throw new Error(M.UTF8ToString(M._hotwasm_last_error()));
    out.register1000 = performance.now() - r0;
  }
  const n = 20_000_000;
  M._large_call_loop(1_000_000);
  const c0 = performance.now();
  M._large_call_loop(n);
  out.nsPerCall = ((performance.now() - c0) * 1e6) / n;
  console.log(JSON.stringify(out));
});`;

function startup(mode) {
  const runs = [];
  for (let i = 0; i < RUNS; i++) {
    const out = execFileSync(process.execPath, ['-e', PROBE, `${bundle(large, mode)}.js`, large.frame], { encoding: 'utf8' });
    runs.push(JSON.parse(out.trim().split('\n').pop()));
  }
  const med = (k) => pct(runs.map((r) => r[k]).filter((x) => x != null), 50);
  return { runs, ready: med('ready'), firstFrame: med('firstFrame'), register1000: med('register1000'), nsPerCall: med('nsPerCall') };
}

function exportCount(mode) {
  const m = new WebAssembly.Module(readFileSync(`${bundle(large, mode)}.wasm`));
  return WebAssembly.Module.exports(m).length;
}

/** Serves the large host, attaches a Node page, evals APPLIES patches; apply times per patch. */
async function applyTimes() {
  const server = await serveApp(path.join(root, large.dir));
  try {
    const { hot } = await attachPage(`${bundle(large, 'hot')}.js`, server.url);
    const applies = [];
    const evals = [];
    for (let i = 0; i < APPLIES; i++) {
      const applied = nextPatch(hot);
      const r = await hot.eval(`#include <stdint.h>\nint32_t hot_${String(i % 1000).padStart(4, '0')}(int32_t x) { return x + ${i}; }\n`, 'c');
      if (!r.ok) throw new Error(`eval ${i} failed: ${r.error}`);
      const p = await applied;
      applies.push(p.applyMs);
      evals.push(r.timings?.total_ms ?? r.clientMs);
      hot.call(large.frame);
    }
    hot.close();
    return { applyMs: { p50: pct(applies, 50), p95: pct(applies, 95) }, evalMs: { p50: pct(evals, 50), p95: pct(evals, 95) } };
  } finally {
    server.stop();
  }
}

const result = { apps: {}, large: {} };
if (!values['no-build']) {
  execFileSync(process.execPath, [path.join(root, large.dir, 'generate.mjs')], { stdio: 'inherit' });
}
for (const app of APPS) {
  const entry = {};
  if (!values['no-build']) {
    entry.buildPlainS = build(app, false);
    entry.buildHotS = build(app, true);
  }
  entry.plain = sizes(app, 'plain');
  entry.hot = sizes(app, 'hot');
  const total = (s) => s.wasm.raw + s.js.raw;
  entry.overheadBytes = total(entry.hot) - total(entry.plain);
  entry.ratio = total(entry.hot) / total(entry.plain);
  result.apps[app.dir] = entry;
  console.error(`${app.dir}: plain ${(total(entry.plain) / 1024).toFixed(0)} KB, HOT_RELOAD ${(total(entry.hot) / 1024).toFixed(0)} KB (${entry.ratio.toFixed(2)}×)`);
}
result.large.plain = startup('plain');
result.large.hot = startup('hot');
result.large.exports = { hot: exportCount('hot'), plain: exportCount('plain'), limit: 100_000 };
result.large.apply = await applyTimes();
console.log(JSON.stringify(result, null, 1));
if (values.json) writeFileSync(values.json, JSON.stringify(result, null, 1));
