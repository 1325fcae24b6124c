// The threads example in headless Chromium, served by the real `hotwasm serve` on hotwasm's generic
// page: the page is cross-origin isolated, the pool's four workers render, and a real -pthread side
// module applied on the page's main thread reaches every worker's next call, and a trap on a
// worker rolls the var back (the page says the thread is gone, the server journals it). Also prints the apply time on
// the browser's main thread with the workers busy. Run:
//   node --test tests/threads/browser.test.mjs
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { evalIn, launchBrowser, startServer, waitConnected } from '../browser/helpers.mjs';
import { app, buildHost, root, sideModule } from './pool-host.mjs';

describe('the threads example in Chromium', () => {
  let server;
  let ctx;
  let page;
  before(async () => {
    await buildHost();
    // The release command buildHost just used: no second (debug) build of the server.
    process.env.HOTWASM_SERVER_BIN ??= `${root}/target/hotwasm-cli/cli/hotwasm`;
    server = await startServer({ project: app });
    ctx = await launchBrowser();
    page = await ctx.newPage();
    page.pageErrors = [];
    page.on('pageerror', (e) => page.pageErrors.push(e));
    await page.goto(server.url);
    await page.waitForFunction(() => globalThis.hotwasm?.Module?._pool_ticks?.() > 5, null, { timeout: 60_000 });
  });
  after(async () => {
    await ctx?.close();
    await server?.stop();
  });

  test('the page is cross-origin isolated and runs the pool on shared memory', async () => {
    const s = await page.evaluate(() => ({
      isolated: globalThis.crossOriginIsolated,
      shared: globalThis.hotwasm.Module.HEAPU8.buffer instanceof SharedArrayBuffer,
      workers: globalThis.hotwasm.Module._pool_workers(),
    }));
    assert.deepEqual(s, { isolated: true, shared: true, workers: 4 });
  });

  test('a patch applied on the page reaches every worker while they render', async () => {
    const bytes = [...(await sideModule('tag_2000'))];
    const r = await page.evaluate((b) => {
      const M = globalThis.hotwasm.Module;
      M.FS.mkdirTree('/threads-test');
      M.FS.writeFile('/threads-test/p1.so', new Uint8Array(b));
      const t0 = performance.now();
      const id = M.ccall('hotwasm_apply', 'number', ['string', 'string'], ['/threads-test/p1.so', 'worker_tag worker_tag__hw1 ii']);
      return { id, ms: performance.now() - t0, error: id > 0 ? '' : M.UTF8ToString(M._hotwasm_last_error()) };
    }, bytes);
    assert.ok(r.id > 0, r.error);
    await page.waitForFunction(() => [0, 1, 2, 3].every((w) => globalThis.hotwasm.Module._pool_seen(w) === 2000 + w), null, { timeout: 10_000 });
    console.log(`# apply on Chromium's main thread with 4 busy workers: ${r.ms.toFixed(1)} ms`);
  });

  test('a trap on a worker: the page rolls the var back and says the thread is gone; the server journals the rollback', async () => {
    await waitConnected(page);
    await page.evaluate(() => {
      globalThis.workerTraps = [];
      globalThis.hotwasm.hot.on('trap', (t) => globalThis.workerTraps.push({ message: t.message, var: t.var, worker: t.worker ?? null, rolled: t.vars.map((v) => v.rolledBack) }));
    });
    const r = await evalIn(page, '#include "pool.h"\nint32_t worker_tag(int32_t worker) { if (worker == 1) __builtin_trap(); return 4000 + worker; }\n', 'c');
    assert.ok(r.ok, r.error);
    await page.waitForFunction(() => globalThis.workerTraps.length > 0, null, { timeout: 30_000 });
    const [trap] = await page.evaluate(() => globalThis.workerTraps);
    assert.equal(trap.var, 'worker_tag');
    assert.deepEqual(trap.rolled, [true]);
    assert.equal(trap.worker.gone, true);
    assert.match(trap.message, /^RuntimeError: unreachable on worker thread 0x[0-9a-f]+: that thread is gone .*; rolled back worker_tag \(patch #\d+\)/);
    const live = await page.evaluate(() => globalThis.hotwasm.hot.registry.list().find((v) => v.name === 'worker_tag').history.at(-1).symbol);
    assert.equal(live, 'worker_tag__hw1', 'the version before the trapping one is live again');

    // The server journaled the rollback: for it, worker_tag is back to the host's version (the eval
    // made it version 2, the trap's rollback 1), for every page and every reload.
    await page.waitForFunction(async () => (await globalThis.hotwasm.hot.serverVars()).find((v) => v.name === 'worker_tag')?.version === 1, null, { timeout: 10_000, polling: 200 });
  });
});
