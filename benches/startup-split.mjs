// What the large host's start-up goes to, plain against HOT_RELOAD (issue 18, item 5): both
// builds of examples/large-host with function names (`--profiling-funcs`: the same code), each
// started in fresh Node processes under V8's sampling profiler; prints the median time to the
// end of the first frame and, per phase, the median time spent inside it (inclusive): compiling
// and instantiating the wasm, Emscripten's dynamic linker after instantiation (`relocateExports`
// → `updateGOT`, which gives every exported function a table slot, and `updateTableMap`, which
// scans the whole table first), the constructors (a HOT_RELOAD host registers every hot
// function's slot: `hotwasm_register_slot`), and the first frame. Prints a markdown section.
// Leaves examples/large-host/build/{plain,hot} built with names: rebuild them for other figures.
//
//   node benches/startup-split.mjs [--runs 7] [--no-build] [--json FILE]
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';

const root = path.resolve(import.meta.dirname, '..');
const app = path.join(root, 'examples/large-host');
const { values } = parseArgs({
  options: {
    runs: { type: 'string', default: '7' },
    'no-build': { type: 'boolean' },
    json: { type: 'string' },
    help: { type: 'boolean', short: 'h' },
  },
});
if (values.help) {
  console.log('usage: node benches/startup-split.mjs [--runs 7] [--no-build] [--json FILE]');
  process.exit(0);
}
const RUNS = Number(values.runs);

const PHASES = [
  ['compile + instantiate the wasm', 'instantiate'],
  ["Emscripten's dynamic linker: relocateExports (GOT entries; a table slot per exported function)", 'relocateExports'],
  ['  of which updateTableMap (a scan of the whole table)', 'updateTableMap'],
  ['constructors (`__wasm_call_ctors`)', '__wasm_call_ctors'],
  ['  of which registering the hot functions (`hotwasm_register_slot`)', 'hotwasm_register_slot'],
  ['the first frame (`large_frame`)', 'large_frame'],
];

const PROBE = `
const t0 = performance.now();
require(process.argv[1])({ print() {}, printErr() {} }).then((M) => {
  M._large_frame();
  console.log(JSON.stringify({ firstFrame: performance.now() - t0 }));
});`;

/** Inclusive time (ms) of every function name in a .cpuprofile, each counted once per stack. */
function inclusive(profile) {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const self = new Map();
  profile.samples.forEach((s, i) => self.set(s, (self.get(s) ?? 0) + (profile.timeDeltas[i] ?? 0)));
  const total = (n) => (n.total ??= (self.get(n.id) ?? 0) + (n.children ?? []).reduce((t, c) => t + total(byId.get(c)), 0));
  const out = new Map();
  const walk = (n, above) => {
    const name = n.callFrame.functionName;
    if (!above.has(name)) out.set(name, (out.get(name) ?? 0) + total(n) / 1000);
    const next = new Set(above).add(name);
    for (const c of n.children ?? []) walk(byId.get(c), next);
  };
  walk(profile.nodes[0], new Set());
  return out;
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[Math.floor(s.length / 2)] : NaN;
};

function measure(mode) {
  const js = path.join(app, 'build', mode, 'large.js');
  const runs = [];
  for (let i = 0; i < RUNS; i++) {
    const dir = mkdtempSync(path.join(tmpdir(), 'hotwasm-startup-'));
    try {
      const out = execFileSync(process.execPath, ['--cpu-prof', `--cpu-prof-dir=${dir}`, '--cpu-prof-interval', '100', '-e', PROBE, js], { encoding: 'utf8' });
      const file = readdirSync(dir).find((f) => f.endsWith('.cpuprofile'));
      const times = inclusive(JSON.parse(readFileSync(path.join(dir, file), 'utf8')));
      runs.push({ firstFrame: JSON.parse(out.trim().split('\n').pop()).firstFrame, phases: Object.fromEntries(PHASES.map(([, fn]) => [fn, times.get(fn) ?? 0])) });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
  return {
    firstFrame: median(runs.map((r) => r.firstFrame)),
    phases: Object.fromEntries(PHASES.map(([, fn]) => [fn, median(runs.map((r) => r.phases[fn]))])),
  };
}

if (!values['no-build']) {
  execFileSync(process.execPath, [path.join(app, 'generate.mjs')], { stdio: 'inherit' });
  const env = { ...process.env, EMCC_CFLAGS: `${process.env.EMCC_CFLAGS ?? ''} --profiling-funcs`.trim() };
  for (const hot of [false, true]) {
    execFileSync('bash', [path.join(root, 'scripts/hotwasm'), 'build', ...(hot ? ['--hot'] : []), '--project', app], { stdio: ['ignore', 'ignore', 'inherit'], env });
  }
}
const result = { plain: measure('plain'), hot: measure('hot') };
const ms = (x) => (Number.isFinite(x) ? x.toFixed(1) : '–');
const lines = [
  '## Large host start-up: where the time goes',
  '',
  `Rerun: \`node benches/startup-split.mjs\` (examples/large-host built with \`--profiling-funcs\`, ${RUNS} fresh Node processes per build under V8's sampling profiler, medians; the profiler slows every phase, so read the phases against each other and the first line against the plain build).`,
  '',
  '| phase (inclusive ms) | plain | HOT_RELOAD |',
  '|---|---:|---:|',
  `| start-up to the end of the first frame | ${ms(result.plain.firstFrame)} | ${ms(result.hot.firstFrame)} |`,
  ...PHASES.map(([what, fn]) => `| ${what} | ${ms(result.plain.phases[fn])} | ${ms(result.hot.phases[fn])} |`),
];
console.log(lines.join('\n'));
if (values.json) writeFileSync(values.json, JSON.stringify(result, null, 1));
