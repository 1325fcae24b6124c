// Benchmark: hot reload in a pthreads host under Node (examples/threads-c: its real HOT_RELOAD
// build, its plain build, real -pthread side modules). Prints a markdown section:
//   - per number of busy workers (1, 2, 4): apply and apply → live on every thread, p50/p95,
//     through the runtime's loader thread (what the page's client does: `hotwasm_apply_on_loader`,
//     awaited) and on the main thread (`hotwasm_apply`: blocks until every worker loaded it);
//   - the same with the pool asleep (pthread_cond_wait, sliced by Emscripten every 100 ms) and
//     parked in a pthread_barrier_t (not sliced: only the loader thread gets through);
//   - one hot call on the main thread, on a worker, and the plain build's direct call.
// Run:  node benches/threads.mjs [rounds]
import { execFile } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { HostRegistry } from '../web/registry.js';
import { app, buildHost, root, sideModule, startPool } from '../tests/threads/pool-host.mjs';

const rounds = Number(process.argv[2] ?? 20);
const pct = (xs, p) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(xs.length * p))];
const ms = (xs) => (xs.length ? `p50 ${pct(xs, 0.5).toFixed(1)} ms, p95 ${pct(xs, 0.95).toFixed(1)} ms` : '–');

const js = await buildHost();
const patches = [
  [await sideModule('tag_2000'), 'worker_tag worker_tag__hw1 ii', 2000],
  [await sideModule('tag_3000'), 'worker_tag worker_tag__hw2 ii', 3000],
];
let n = 0;

/** Applies patch `i` on the loader thread (as the page's client does); resolves to ms. */
async function applyOnLoader(pool, i) {
  const [bytes, manifest] = patches[i % 2];
  const at = `/patches/l${++n}.so`;
  pool.Module.FS.mkdirTree('/patches');
  pool.Module.FS.writeFile(at, bytes);
  const t0 = performance.now();
  const r = await new HostRegistry(pool.Module).applyOnLoader(at, manifest, null);
  if (!r.ok) throw new Error(r.error);
  return performance.now() - t0;
}

/** Rows of `rounds` patches with the pool busy: {apply, live} per path. */
async function busy(pool, onLoader, count = rounds, from = 0) {
  const apply = [], live = [];
  for (let i = from; i < from + count; i++) {
    const base = patches[i % 2][2];
    const t0 = performance.now();
    if (onLoader) apply.push(await applyOnLoader(pool, i));
    else {
      const r = pool.apply(...patches[i % 2].slice(0, 2));
      if (!r.id) throw new Error(r.error);
      apply.push(r.ms);
    }
    await pool.until(() => pool.seen().every((v, w) => v === base + w), 'every worker on the new version');
    live.push(performance.now() - t0);
  }
  return { apply, live };
}

const rows = [];
const firsts = [];
for (const workers of [1, 2, 4]) {
  const pool = await startPool(js, workers);
  // The main-thread path first: once the loader thread exists, a main-thread dlopen also waits
  // for it (asleep in a sliced wait: up to 100 ms), which the client never does.
  const main = await busy(pool, false);
  pool.Module._pool_pause(1);
  const asleepMain = [];
  for (let i = 0; i < Math.min(rounds, 6); i++) asleepMain.push(pool.apply(...patches[i % 2].slice(0, 2)).ms);
  pool.Module._pool_pause(0);
  // The first apply on the loader starts its thread (a new worker that loads the host and every
  // patch applied before): reported on its own.
  firsts.push(`${workers} worker(s): ${(await busy(pool, true, 1, 0)).apply[0].toFixed(1)} ms`);
  const loader = await busy(pool, true, rounds, 1);
  console.error(`# ${workers} worker(s): busy rows done`);
  rows.push(`| ${workers} busy | ${ms(loader.apply)} | ${ms(loader.live)} | ${ms(main.apply)} | ${ms(main.live)} |`);
  pool.Module._pool_pause(1);
  const asleepLoader = [];
  for (let i = 0; i < Math.min(rounds, 6); i++) asleepLoader.push(await applyOnLoader(pool, i));
  rows.push(`| ${workers} asleep (condition variable) | ${ms(asleepLoader)} | on resume | ${ms(asleepMain)} | on resume |`);
  pool.Module._pool_pause(0);
  pool.Module._pool_park(1);
  await pool.until(() => pool.Module._pool_parked() === workers, 'every worker parked');
  const parked = [];
  for (let i = 0; i < Math.min(rounds, 6); i++) parked.push(await applyOnLoader(pool, i));
  rows.push(`| ${workers} parked (barrier) | ${ms(parked)} | on wake | never returns (the page freezes) | – |`);
}

const calls = 2_000_000;
const ns = (xs) => `${pct(xs, 0.5).toFixed(2)} ns`;
const hot = await startPool(js, 1);
hot.Module._pool_pause(1);
const onMain = [], onWorker = [];
for (let i = 0; i < 5; i++) {
  onMain.push(hot.Module._pool_call_ns(calls));
  onWorker.push(hot.Module._pool_call_ns_on_worker(calls));
}
await promisify(execFile)('bash', [path.join(root, 'scripts/hotwasm'), 'build', '--project', app], { maxBuffer: 64 << 20 });
const plain = await startPool(path.join(app, 'build/plain/pool.js'), 1);
plain.Module._pool_pause(1);
const direct = [], directWorker = [];
for (let i = 0; i < 5; i++) {
  direct.push(plain.Module._pool_call_ns(calls));
  directWorker.push(plain.Module._pool_call_ns_on_worker(calls));
}

console.log(`## Threads under Node (examples/threads-c)

\`node benches/threads.mjs ${rounds}\`: Node ${process.version}, ${os.availableParallelism()} cores, ${rounds} patches per busy row
(6 per asleep row), alternating two \`worker_tag\` patches; "live" is apply start → every worker
ran the new version (polled every ~1 ms). The page's client applies on the loader thread.

| workers | apply, loader thread | apply → live, loader thread | apply, main thread | apply → live, main thread |
|---|---|---|---|---|
${rows.join('\n')}

The first apply through the loader starts its thread, after the main-thread rows' patches (not
in the rows): ${firsts.join('; ')}.

One hot call (\`pixel_color\`, ${calls} calls, median of 5):

| | main thread | worker |
|---|---|---|
| HOT_RELOAD (slot load + indirect call) | ${ns(onMain)} | ${ns(onWorker)} |
| plain build (direct call) | ${ns(direct)} | ${ns(directWorker)} |

The plain build compiles \`pixel_color\` into its caller (a direct call LLVM may inline and
vectorise); the HOT_RELOAD call cannot be inlined.
`);
process.exit(0);
