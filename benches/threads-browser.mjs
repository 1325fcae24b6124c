// Benchmark: hot reload in a pthreads host in headless Chromium (examples/threads-c on hotwasm's
// generic page, served by the real `hotwasm serve`, its four workers busy rendering). Applies
// `rounds` real -pthread side modules on the page's main thread, alternating two versions of
// worker_tag, and prints p50/p95 of
//   apply    hotwasm_apply (the main thread waits while every worker loads the patch)
//   live     apply start → every worker has called the new version (polled with setTimeout(0))
// Run:  node benches/threads-browser.mjs [rounds]
import { launchBrowser, startServer } from '../tests/browser/helpers.mjs';
import { app, buildHost, root, sideModule } from '../tests/threads/pool-host.mjs';

const rounds = Number(process.argv[2] ?? 20);
const pct = (xs, p) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(xs.length * p))];
const fmt = (xs) => `p50 ${pct(xs, 0.5).toFixed(1)} ms, p95 ${pct(xs, 0.95).toFixed(1)} ms`;

await buildHost();
process.env.HOTWASM_SERVER_BIN ??= `${root}/target/hotwasm-cli/release/hotwasm`;
const server = await startServer({ project: app });
const ctx = await launchBrowser();
try {
  const page = await ctx.newPage();
  await page.goto(server.url);
  await page.waitForFunction(() => globalThis.hotwasm?.Module?._pool_ticks?.() > 5, null, { timeout: 60_000 });
  const patches = [
    [[...(await sideModule('tag_2000'))], 'worker_tag worker_tag__hw1 ii', 2000],
    [[...(await sideModule('tag_3000'))], 'worker_tag worker_tag__hw2 ii', 3000],
  ];
  const result = await page.evaluate(async ([patches, rounds]) => {
    const M = globalThis.hotwasm.Module;
    const workers = M._pool_workers();
    M.FS.mkdirTree('/threads-bench');
    const applied = [], live = [];
    for (let i = 0; i < rounds; i++) {
      const [bytes, manifest, base] = patches[i % 2];
      const path = `/threads-bench/p${i}.so`;
      M.FS.writeFile(path, new Uint8Array(bytes));
      const t0 = performance.now();
      const id = M.ccall('hotwasm_apply', 'number', ['string', 'string'], [path, manifest]);
      if (id <= 0) throw new Error(M.UTF8ToString(M._hotwasm_last_error()));
      applied.push(performance.now() - t0);
      const done = () => Array.from({ length: workers }, (_, w) => M._pool_seen(w) === base + w).every(Boolean);
      while (!done()) await new Promise((r) => setTimeout(r, 0));
      live.push(performance.now() - t0);
    }
    return { workers, applied, live };
  }, [patches, rounds]);
  console.log(`threads browser bench: ${rounds} patches, ${result.workers} busy workers, headless Chromium`);
  console.log(`apply ${fmt(result.applied)}; apply→live on all threads ${fmt(result.live)}`);
} finally {
  await ctx.close();
  await server.stop();
}
