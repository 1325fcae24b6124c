// All-hot mode's cost (docs/ALL-HOT.md): the large host (examples/large-host, generated) built
// five ways — plain; plain with -fno-inline (what all-hot compiles with, to split the cost of no
// inlining from the indirection); HOT_RELOAD marked-only (today's 1,000 HOTWASM_FN); HOT_RELOAD
// all-hot with memory slots (the chosen design); and all-hot with table slots (the measured
// alternative) — each in a copy of its own, then started under Node RUNS times: time to ready,
// first frame, one frame (1,000 calls through function pointers + 64 bulk calls), and a direct
// call of a hot function (`large_call_loop`). Prints a markdown section; --json FILE keeps the data.
// `--app examples/c-host --frame bounce_frame` measures another C app the same way (its frame
// export only: no generated sources, no call loop). A Rust app (`lang = "rust"`) is built as
// plain; plain at `opt-level=1` without inlining (what all-hot compiles with, to split that cost
// from the indirection); marked-only; all-hot (memory slots) and all-hot (table slots); `--loop
// EXPORT` names an export that calls a hot function N times (`EXPORT(N)`).
//
//   node benches/allhot.mjs [--bulk 1000] [--runs 5] [--json FILE]
//   node benches/allhot.mjs --app examples/c-host --frame bounce_frame
//   node benches/allhot.mjs --app examples/allhot-rust --frame spin_frame --loop spin_call_loop
import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { pct } from './lib.mjs';
import { hotwasmCommand } from '../tests/lib/node-page.mjs';

const root = path.resolve(import.meta.dirname, '..');
const { values } = parseArgs({
  options: {
    bulk: { type: 'string', default: '1000' },
    app: { type: 'string', default: 'examples/large-host' },
    frame: { type: 'string', default: 'large_frame' },
    loop: { type: 'string' },
    runs: { type: 'string', default: '5' },
    json: { type: 'string' },
    help: { type: 'boolean', short: 'h' },
  },
});
if (values.help) {
  console.log('usage: node benches/allhot.mjs [--bulk 1000] [--runs 5] [--json FILE] [--app DIR --frame EXPORT [--loop EXPORT]]');
  process.exit(0);
}
const RUNS = Number(values.runs);
const HOTWASM = hotwasmCommand();

const LARGE = values.app === 'examples/large-host';
const LOOP = values.loop ?? (LARGE ? 'large_call_loop' : '');
const RUST = /^lang = "rust"/m.test(readFileSync(path.join(root, values.app, 'hotwasm.toml'), 'utf8'));
// What an all-hot Rust host compiles with (server/src/bundle/allhot/crate_fns.rs).
const RUST_NO_INLINE = '-C opt-level=1 -C llvm-args=-inline-threshold=-100000';
const VARIANTS = RUST ? [
  { key: 'plain', label: 'plain', hot: false },
  { key: 'plainNoInline', label: 'plain, opt-level=1, no inlining', hot: false, env: { RUSTFLAGS: RUST_NO_INLINE } },
  { key: 'marked', label: 'HOT_RELOAD, marked only (its hot_fn!)', hot: true },
  { key: 'allMemory', label: 'HOT_RELOAD, all-hot, memory slots (chosen)', hot: true, all: true },
  { key: 'allTable', label: 'HOT_RELOAD, all-hot, table slots (alternative)', hot: true, all: true, env: { HOTWASM_ALLHOT_SLOTS: 'table' } },
] : [
  { key: 'plain', label: 'plain', hot: false },
  { key: 'plainNoInline', label: 'plain, -fno-inline', hot: false, cflags: ['-fno-inline'] },
  { key: 'marked', label: 'HOT_RELOAD, marked only (its HOTWASM_FN)', hot: true },
  { key: 'allMemory', label: 'HOT_RELOAD, all-hot, memory slots (chosen)', hot: true, all: true },
  { key: 'allTable', label: 'HOT_RELOAD, all-hot, table slots (alternative)', hot: true, all: true, env: { HOTWASM_ALLHOT_SLOTS: 'table' } },
].filter((v) => RUST || LARGE || v.key !== 'plainNoInline');

const PROBE = `
const t0 = performance.now();
require(process.argv[1])({ print() {}, printErr() {} }).then((M) => {
  const ready = performance.now();
  const frame = M['_' + process.argv[2]];
  frame(1 / 60);
  const first = performance.now();
  for (let i = 0; i < 200; i++) frame(1 / 60);
  const f0 = performance.now();
  for (let i = 0; i < 2000; i++) frame(1 / 60);
  const usPerFrame = ((performance.now() - f0) * 1000) / 2000;
  const loop = M['_' + process.argv[3]];
  if (!loop) return console.log(JSON.stringify({ ready: ready - t0, firstFrame: first - t0, usPerFrame, nsPerCall: 0 }));
  const n = 20_000_000;
  loop(1_000_000);
  const c0 = performance.now();
  loop(n);
  const nsPerCall = ((performance.now() - c0) * 1e6) / n;
  console.log(JSON.stringify({ ready: ready - t0, firstFrame: first - t0, usPerFrame, nsPerCall }));
});`;

function prepare(v) {
  const dir = path.join(mkdtempSync(path.join(tmpdir(), `hotwasm-allhot-${v.key}-`)), path.basename(values.app));
  cpSync(path.join(root, values.app), dir, { recursive: true, filter: (s) => !/\/(build|gen|\.hotwasm)$/.test(s) });
  if (LARGE) execFileSync(process.execPath, [path.join(dir, 'generate.mjs'), '--bulk', values.bulk], { stdio: 'ignore' });
  const toml = path.join(dir, 'hotwasm.toml');
  let text = readFileSync(toml, 'utf8');
  if (v.cflags) text = text.replace('cflags = ["-O2", "-Isrc"]', `cflags = ["-O2", "-Isrc", ${v.cflags.map((f) => JSON.stringify(f)).join(', ')}]`);
  // A Rust app names hotwasm's runtime by a path relative to the checkout.
  const cargo = path.join(dir, 'Cargo.toml');
  if (RUST) writeFileSync(cargo, readFileSync(cargo, 'utf8').replace('path = "../../runtime"', `path = ${JSON.stringify(path.join(root, 'runtime'))}`));
  text = text.replace(/^mode = "(all|marked)"\n/m, ''); // the app's own mode goes: marked unless v.all
  if (v.all) text = /^\[hot\]$/m.test(text) ? text.replace(/^\[hot\]$/m, '[hot]\nmode = "all"') : `${text}\n[hot]\nmode = "all"\n`;
  writeFileSync(toml, text);
  return dir;
}

/** Builds variant `v` in a copy of its own; returns its bundle's JS. */
function build(v) {
  const dir = prepare(v);
  const args = ['build', '--project', dir, ...(v.hot ? ['--hot'] : [])];
  const r = spawnSync(HOTWASM, args, { env: { ...process.env, ...v.env }, stdio: ['ignore', 'ignore', 'inherit'] });
  if (r.status !== 0) throw new Error(`hotwasm ${args.join(' ')} failed`);
  const name = readFileSync(path.join(dir, 'hotwasm.toml'), 'utf8').match(/^name = "([^"]+)"/m)[1];
  return path.join(dir, 'build', v.hot ? 'hot' : 'plain', `${name}.js`);
}

const probe = (js) => JSON.parse(execFileSync(process.execPath, ['-e', PROBE, js, values.frame, LOOP], { encoding: 'utf8' }).trim().split('\n').pop());

// Every variant is built first, then the runs interleave (one of each in turn), so a change of
// the machine's load during the measurement weighs on every variant alike.
const bundles = {};
for (const v of VARIANTS) {
  console.error(`building: ${v.label}`);
  bundles[v.key] = build(v);
}
const runs = Object.fromEntries(VARIANTS.map((v) => [v.key, []]));
for (let i = 0; i < RUNS; i++) {
  for (const v of VARIANTS) runs[v.key].push(probe(bundles[v.key]));
}
const result = {};
for (const v of VARIANTS) {
  const med = (k) => pct(runs[v.key].map((x) => x[k]), 50);
  const js = bundles[v.key];
  result[v.key] = { wasmKB: statSync(js.replace(/\.js$/, '.wasm')).size / 1024, ready: med('ready'), firstFrame: med('firstFrame'), usPerFrame: med('usPerFrame'), nsPerCall: med('nsPerCall'), runs: runs[v.key] };
}
const p = result.plain;
const x = (a, b) => `${(a / b).toFixed(2)}×`;
const lines = [
  `## All-hot mode: cost against the plain build and marked-only mode (${LARGE ? 'the large host' : values.app})`,
  '',
  LARGE
    ? `The large host (examples/large-host, ${values.bulk} bulk functions + 1,000 hot ones), Node ${process.version}, median of ${RUNS} interleaved runs: \`node benches/allhot.mjs --bulk ${values.bulk} --runs ${RUNS}\`.`
    : `${values.app} (frame: \`${values.frame}\`${LOOP ? `, call: \`${LOOP}\`` : ''}), Node ${process.version}, median of ${RUNS} interleaved runs: \`node benches/allhot.mjs --app ${values.app} --frame ${values.frame}${LOOP ? ` --loop ${LOOP}` : ''} --runs ${RUNS}\`.`,
  '',
  `| build | wasm | ready | first frame | frame (µs) |${LOOP ? ' direct call of a hot fn (ns) |' : ''}`,
  `|---|---:|---:|---:|---:|${LOOP ? '---:|' : ''}`,
  ...VARIANTS.map((v) => {
    const r = result[v.key];
    const call = LOOP ? ` ${r.nsPerCall.toFixed(2)} (${x(r.nsPerCall, p.nsPerCall)}) |` : '';
    return `| ${v.label} | ${r.wasmKB.toFixed(0)} KB | ${r.ready.toFixed(1)} ms (${x(r.ready, p.ready)}) | ${r.firstFrame.toFixed(1)} ms (${x(r.firstFrame, p.firstFrame)}) | ${r.usPerFrame.toFixed(2)} (${x(r.usPerFrame, p.usPerFrame)}) |${call}`;
  }),
  '',
];
console.log(lines.join('\n'));
if (values.json) writeFileSync(values.json, JSON.stringify(result, null, 1));
