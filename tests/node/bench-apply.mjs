// Times `apply` (FS.writeFile + hotwasm_apply: dlopen, dlsym, checks, swap) under Node for
// patches of about 1 KB, 100 KB, 300 KB and 1 MB, in the real HOT_RELOAD host.
//   node tests/node/bench-apply.mjs
import { performance } from 'node:perf_hooks';
import { loadHost, sideModule } from './fixtures.mjs';

const host = await loadHost();
const sizes = [['1 KB', 256], ['100 KB', 100_000], ['300 KB', 300_000], ['1 MB', 1_000_000]];
const runs = 15;
const pct = (xs, p) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(p * xs.length))];
console.log(`apply time under Node ${process.version}, ${runs} patches per size`);
let gen = 0;
for (const [label, bytes] of sizes) {
  const times = [];
  let size = 0;
  for (let i = 0; i < runs; i++) {
    gen += 1;
    const wasm = await sideModule('sized_patch', { GEN: gen, BLOB_BYTES: bytes });
    size = wasm.length;
    const t0 = performance.now();
    const r = host.apply(wasm, `t_sized t_sized__hw${gen} ii`);
    times.push(performance.now() - t0);
    if (!(r.id > 0)) throw new Error(r.error);
  }
  console.log(`${label.padEnd(7)} (${(size / 1024).toFixed(1)} KB wasm): p50 ${pct(times, 0.5).toFixed(2)} ms, p95 ${pct(times, 0.95).toFixed(2)} ms`);
}
