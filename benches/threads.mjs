// Benchmark: hot reload in a pthreads host (examples/threads-c under Node, its real HOT_RELOAD
// build and real -pthread side modules). Prints, per number of busy workers:
//   apply    hotwasm_apply on the main thread (dlopen returns once every worker loaded the patch)
//   live     apply start → every worker has called the new version (polled every ~1 ms)
// and apply with the pool asleep (its workers in pthread_cond_wait), then the cost of one hot
// call on the main thread and on a worker. Run:  node benches/threads.mjs [rounds]
import { buildHost, sideModule, startPool } from '../tests/threads/pool-host.mjs';

const rounds = Number(process.argv[2] ?? 20);
const pct = (xs, p) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(xs.length * p))];
const fmt = (xs) => `p50 ${pct(xs, 0.5).toFixed(1)} ms, p95 ${pct(xs, 0.95).toFixed(1)} ms`;

const js = await buildHost();
const patches = [
  [await sideModule('tag_2000'), 'worker_tag worker_tag__hw1 ii', 2000],
  [await sideModule('tag_3000'), 'worker_tag worker_tag__hw2 ii', 3000],
];
console.log(`threads bench: ${rounds} patches per row, machine of ${(await import('node:os')).availableParallelism()} cores`);
for (const workers of [1, 2, 4]) {
  const pool = await startPool(js, workers);
  const applied = [];
  const live = [];
  for (let i = 0; i < rounds; i++) {
    const [bytes, manifest, base] = patches[i % 2];
    const t0 = performance.now();
    const r = pool.apply(bytes, manifest);
    if (!r.id) throw new Error(r.error);
    applied.push(r.ms);
    await pool.until(() => pool.seen().every((v, w) => v === base + w), 'every worker on the new version');
    live.push(performance.now() - t0);
  }
  console.log(`${workers} busy worker(s): apply ${fmt(applied)}; apply→live on all threads ${fmt(live)}`);
  pool.Module._pool_pause(1);
  const asleep = [];
  for (let i = 0; i < Math.min(rounds, 6); i++) asleep.push(pool.apply(...patches[i % 2].slice(0, 2)).ms);
  console.log(`${workers} sleeping worker(s): apply ${fmt(asleep)}`);
}
{
  const pool = await startPool(js, 1);
  pool.Module._pool_pause(1);
  const calls = 2_000_000;
  const main = [], worker = [];
  for (let i = 0; i < 5; i++) {
    main.push(pool.Module._pool_call_ns(calls));
    worker.push(pool.Module._pool_call_ns_on_worker(calls));
  }
  const ns = (xs) => `${pct(xs, 0.5).toFixed(2)} ns`;
  console.log(`one hot call (pixel_color, ${calls} calls, median of 5): main thread ${ns(main)}, worker ${ns(worker)}`);
}
process.exit(0);
