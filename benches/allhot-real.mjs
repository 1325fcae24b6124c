// All-hot mode's cost on real programs (issue 18, docs/ALL-HOT.md "Figures"): Lua 5.4 (a C
// interpreter, a frame runs a Lua script) and Box2D 2.3 (C++, a frame steps a world), set up by
// benches/real-apps.mjs from their crates' sources, each built six ways with `hotwasm build`:
// plain; plain inlining only functions declared `inline` (`-finline-hint-functions`: what
// all-hot would cost if those stayed inlined, and cold); plain with `-fno-inline` (what all-hot
// compiles with); plain with `-fno-inline` linked at `-O1` (all-hot's link: no wasm-opt), which
// split all-hot's cost into no-inlining, the link level and the rest (indirection, PIC, the
// runtime); HOT_RELOAD marked-only with no marks (the cost of a HOT_RELOAD build alone); and
// HOT_RELOAD all-hot. Every build is then started under Node RUNS times, the builds interleaved
// (run i of every build, then run i+1), each run timing start-up to ready, and frames after a
// warm-up. Prints a markdown section: medians, and the best frame (least disturbed by other load).
//
//   node benches/allhot-real.mjs [--runs 11] [--apps lua,box2d] [--json FILE]
import { execFileSync, spawnSync } from 'node:child_process';
import { statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { pct } from './lib.mjs';
import { hotwasmCommand } from '../tests/lib/node-page.mjs';
import { APPS, ROOT, fetchSources, linesOf, setUpApp } from './real-apps.mjs';

const { values } = parseArgs({
  options: {
    runs: { type: 'string', default: '11' },
    apps: { type: 'string', default: 'lua,box2d' },
    json: { type: 'string' },
    help: { type: 'boolean', short: 'h' },
  },
});
if (values.help) {
  console.log('usage: node benches/allhot-real.mjs [--runs 11] [--apps lua,box2d] [--json FILE]');
  process.exit(0);
}
const RUNS = Number(values.runs);
const HOTWASM = hotwasmCommand();

const VARIANTS = [
  { key: 'plain', label: 'plain', hot: false },
  { key: 'hintInline', label: 'plain, `-finline-hint-functions`', hot: false, cflags: ['-finline-hint-functions'] },
  { key: 'noInline', label: 'plain, `-fno-inline`', hot: false, cflags: ['-fno-inline'] },
  { key: 'noInlineO1', label: 'plain, `-fno-inline`, linked at `-O1`', hot: false, cflags: ['-fno-inline'], ldflags: ['-O1'] },
  { key: 'marked', label: 'HOT_RELOAD, marked only (no marks)', hot: true },
  { key: 'all', label: 'HOT_RELOAD, all-hot', hot: true, allHot: true },
];

// One run: start-up to ready, the first frame, then FRAMES frames after WARM warm-up frames.
const PROBE = `
const t0 = performance.now();
require(process.argv[1])({ print() {}, printErr() {} }).then((M) => {
  const ready = performance.now();
  const frame = M['_' + process.argv[2]];
  frame(1 / 60);
  const first = performance.now();
  for (let i = 0; i < 100; i++) frame(1 / 60);
  const f0 = performance.now();
  const n = 400;
  let check = 0;
  for (let i = 0; i < n; i++) check = frame(1 / 60);
  const usPerFrame = ((performance.now() - f0) * 1000) / n;
  console.log(JSON.stringify({ ready: ready - t0, firstFrame: first - t0, usPerFrame, check }));
});`;

function build(app, sources, v) {
  const dir = setUpApp(app, sources, v.key, v);
  const args = ['build', '--project', dir, ...(v.hot ? ['--hot'] : [])];
  const r = spawnSync(HOTWASM, args, { stdio: ['ignore', 'ignore', 'inherit'] });
  if (r.status !== 0) throw new Error(`hotwasm ${args.join(' ')} failed (see above)`);
  const js = path.join(dir, 'build', v.hot ? 'hot' : 'plain', `${APPS[app].name}.js`);
  return { js, wasmKB: statSync(js.replace(/\.js$/, '.wasm')).size / 1024, runs: [] };
}

function measureApp(app, sources) {
  const built = {};
  for (const v of VARIANTS) {
    console.error(`${app}: building ${v.label}`);
    built[v.key] = build(app, sources, v);
  }
  for (let i = 0; i < RUNS; i++) {
    for (const v of VARIANTS) {
      const out = execFileSync(process.execPath, ['-e', PROBE, built[v.key].js, APPS[app].frame], { encoding: 'utf8' });
      built[v.key].runs.push(JSON.parse(out.trim().split('\n').pop()));
    }
  }
  for (const b of Object.values(built)) {
    for (const k of ['ready', 'firstFrame', 'usPerFrame']) b[k] = pct(b.runs.map((r) => r[k]), 50);
    b.bestFrame = Math.min(...b.runs.map((r) => r.usPerFrame));
  }
  return built;
}

const DESCRIBE = {
  lua: (lines) => `**Lua 5.4** (${lines.toLocaleString('en')} lines of C and headers from the \`lua-src\` crate, plus our 63-line main): a frame calls the script's \`frame(dt)\`, which builds 200 small objects with methods (tables with a metatable), sorts them with a Lua comparator and formats and joins 40 strings.`,
  box2d: (lines) => `**Box2D 2.3** (${lines.toLocaleString('en')} lines of C++ and headers from the \`wrapped2d\` crate: classes, virtual functions, templates; plus our 42-line main): a frame is one \`b2World::Step\` of Box2D's "Pyramid" (78 boxes, sleeping off so every frame solves every contact).`,
};

const x = (a, b) => `${(a / b).toFixed(2)}×`;
const out = ['## All-hot mode on real programs: Lua (C) and Box2D (C++)', ''];
out.push(`Each app built six ways with \`hotwasm build\`, Node ${process.version}, ${os.cpus().length} cores, load average before: ${os.loadavg().map((l) => l.toFixed(1)).join(' ')}; medians of ${RUNS} interleaved runs of each build (one run: start-up to ready, a frame = mean of 400 after 100 warm-up frames): \`node benches/allhot-real.mjs --runs ${RUNS}\`.`, '');
const json = {};
const sources = fetchSources();
for (const app of values.apps.split(',')) {
  const r = measureApp(app, sources);
  json[app] = r;
  const p = r.plain;
  out.push(DESCRIBE[app](linesOf(app === 'lua' ? sources.lua : sources.box2d)), '');
  out.push('| build | wasm | ready | frame (µs) | best frame (µs) | all-hot against it (frame, best) |', '|---|---:|---:|---:|---:|---:|');
  for (const v of VARIANTS) {
    const b = r[v.key];
    out.push(`| ${v.label} | ${b.wasmKB.toFixed(0)} KB | ${b.ready.toFixed(1)} ms (${x(b.ready, p.ready)}) | ${b.usPerFrame.toFixed(0)} (${x(b.usPerFrame, p.usPerFrame)}) | ${b.bestFrame.toFixed(0)} (${x(b.bestFrame, p.bestFrame)}) | ${x(r.all.usPerFrame, b.usPerFrame)}, ${x(r.all.bestFrame, b.bestFrame)} |`);
  }
  const checks = new Set(VARIANTS.map((v) => r[v.key].runs[0].check));
  if (checks.size !== 1) out.push('', `**The builds disagree on the last frame's result** (${[...checks].join(', ')}): a build computes something else.`);
  out.push('');
}
out.push(`Load average after: ${os.loadavg().map((l) => l.toFixed(1)).join(' ')}.`, '');
console.log(out.join('\n'));
if (values.json) writeFileSync(values.json, JSON.stringify(json, null, 1));
