// Snapshot and restore time of the page client's linear-memory snapshots (web/snapshots.js, what
// a page does before every patch and on "undo with state" or a trap) for 16 MB and 256 MB of
// linear memory, in headless Chromium, on the particle demo served by the real `hotwasm serve`.
// The demo is paused; its memory is grown to each size with the app's own malloc.
//
//   node benches/snapshot.mjs [--runs 9] [--sizes 16,256] [--json FILE]
// Target (issue 13): snapshot ≤ 10 ms per 16 MB.

import { writeFileSync } from 'node:fs';
import { APP_INCLUDE, ensureBundle, evalIn, launchBrowser, openDemo, startServer } from '../tests/browser/helpers.mjs';

const arg = (name, dflt) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : dflt;
};
const runs = Number(arg('runs', 9));
const sizes = arg('sizes', '16,256').split(',').map(Number);
const jsonOut = arg('json', null);

ensureBundle({ hot: true });
const server = await startServer();
const browser = await launchBrowser();
const rows = [];
const applyPath = [];
try {
  // In the apply path of a fresh page (16 MB): the snapshot each patch takes before it applies.
  const fresh = await openDemo(browser, server.url);
  await fresh.evaluate(() => {
    globalThis.__snaps = [];
    globalThis.hotwasm.hot.on('patch', (p) => p.snapshot && globalThis.__snaps.push(p.snapshot.ms));
  });
  for (let i = 0; i < 4; i++) {
    const r = await evalIn(fresh, `${APP_INCLUDE}\nuint32_t background_color(const World *w) { (void)w; return 0xff1010${10 + i}u; }\n`, 'c', 'background_color.c');
    if (!r.ok) throw new Error(`eval failed: ${r.error}`);
  }
  applyPath.push(...(await fresh.evaluate(() => globalThis.__snaps)));
  await fresh.close();

  const page = await openDemo(browser, server.url);
  await page.evaluate(() => {
    if (!globalThis.hotwasm.state.paused) document.getElementById('btn-pause').click();
  });
  for (const mb of sizes) {
    const row = await page.evaluate(
      async ([want, n]) => {
        const { Snapshots } = await import('/hotwasm/snapshots.js');
        const M = globalThis.hotwasm.Module;
        const target = want * 1024 * 1024;
        // Grow linear memory to (at least) the size asked for, through the app's allocator; the
        // block stays allocated, so the app's heap really spans it.
        // One request that ends past `target` (the heap's free space is under 16 MB), so that
        // Emscripten grows memory once, to just that (a second, small growth would overshoot by 20%).
        for (let i = 0; M.HEAPU8.length < target && i < 4; i++) {
          const p = M._malloc(target - M.HEAPU8.length + 16 * 1024 * 1024);
          if (!p) throw new Error(`malloc towards ${want} MB failed`);
          M.HEAPU8.fill(0xa5, p, p + 1024 * 1024); // touch it, as a running app would
        }
        // Steady state of a page with the default bound: every snapshot evicts the oldest and
        // reuses its buffer. The first snapshots (fresh buffers) are reported apart.
        const snaps = new Snapshots(M, { count: 2, budgetMb: 4096 });
        const first = [];
        const take = [];
        const restore = [];
        for (let i = 0; i < n + 2; i++) {
          const t = snaps.take(1000 + i);
          if (!t.kept) throw new Error(t.reason);
          (i < 2 ? first : take).push(t.ms);
        }
        for (let i = 0; i < n; i++) {
          const t = snaps.take(2000 + i);
          restore.push(snaps.restore(2000 + i).ms);
          take.push(t.ms);
        }
        const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
        return { mb: want, bytes: M.HEAPU8.length, firstMs: first, takeMs: median(take), restoreMs: median(restore), takeMin: Math.min(...take), restoreMin: Math.min(...restore) };
      },
      [mb, runs],
    );
    row.takeMsPer16Mb = row.takeMs / (row.bytes / (16 * 1024 * 1024));
    rows.push(row);
  }
  await page.close();
} finally {
  await browser.close();
  await server.stop();
}

const f = (x) => x.toFixed(2);
console.log(`snapshot/restore of linear memory in headless Chromium (median; min in brackets; ${runs} runs each)`);
console.log('memory      snapshot ms        restore ms        snapshot ms per 16 MB (target ≤ 10)   first snapshots (fresh buffers) ms');
for (const r of rows) {
  console.log(
    `${(r.bytes / 1048576).toFixed(0).padStart(5)} MB   ${f(r.takeMs).padStart(8)} [${f(r.takeMin)}]   ${f(r.restoreMs).padStart(8)} [${f(r.restoreMin)}]   ${f(r.takeMsPer16Mb).padStart(8)}                              ${r.firstMs.map(f).join(', ')}`,
  );
}
console.log(`in the apply path of a fresh page (16 MB), the first ${applyPath.length} patches: snapshot ${applyPath.map(f).join(', ')} ms`);
if (jsonOut) writeFileSync(jsonOut, JSON.stringify({ runs, rows, applyPath }, null, 2));
