// The threads example in headless Chromium, served by the real `hotwasm serve` on hotwasm's generic
// page: the page is cross-origin isolated, the pool's four workers render, and a real -pthread side
// module applied on the page's main thread reaches every worker's next call. Also prints the
// apply time on the browser's main thread with the workers busy. Run:
//   node --test tests/threads/browser.test.mjs
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { launchBrowser, startServer } from '../browser/helpers.mjs';
import { app, buildHost, root, sideModule } from './pool-host.mjs';

describe('the threads example in Chromium', () => {
  let server;
  let ctx;
  let page;
  before(async () => {
    await buildHost();
    // The release command buildHost just used: no second (debug) build of the server.
    process.env.HOTWASM_SERVER_BIN ??= `${root}/target/hotwasm-cli/release/hotwasm`;
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

  test('a trap on a worker ends that thread: the page reports it and keeps animating, the pool stops, nothing rolls back', async () => {
    const bytes = [...(await sideModule('tag_traps_on_worker_1'))];
    const id = await page.evaluate((b) => {
      const M = globalThis.hotwasm.Module;
      M.FS.writeFile('/threads-test/trap.so', new Uint8Array(b));
      return M.ccall('hotwasm_apply', 'number', ['string', 'string'], ['/threads-test/trap.so', 'worker_tag worker_tag__hw6 ii']);
    }, bytes);
    assert.ok(id > 0);
    // Wait for the trap itself (which worker got its new tag first is a race: the trapping worker
    // may end the tick before the others store theirs).
    const isTrap = (e) => /unreachable/.test(String(e.message));
    if (!page.pageErrors.some(isTrap)) await page.waitForEvent('pageerror', { predicate: isTrap, timeout: 30_000 });
    const [ticks, frames] = await page.evaluate(() => [globalThis.hotwasm.Module._pool_ticks(), globalThis.hotwasm.state.frames]);
    await page.waitForFunction((f) => globalThis.hotwasm.state.frames > f + 30, frames, { timeout: 10_000 });
    assert.equal(await page.evaluate(() => globalThis.hotwasm.Module._pool_ticks()), ticks, 'the pool waits for the dead worker');
    const live = await page.evaluate(() => globalThis.hotwasm.hot.registry.list().find((v) => v.name === 'worker_tag').history.at(-1).symbol);
    assert.equal(live, 'worker_tag__hw6', 'the trapping version is still the live one');
  });
});
