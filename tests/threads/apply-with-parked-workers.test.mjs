// No freeze on apply with every worker asleep in a wait Emscripten does not slice: the threads
// example's pool parked in a pthread_barrier_t, served by the real `hotwasm serve` on hotwasm's
// generic page in headless Chromium, a C eval sent by the page's client. The client applies it
// on the runtime's loader thread (`hotwasm_apply_on_loader`), so the dynamic linker's sync runs
// asynchronously: the apply completes while the workers sleep, the page keeps animating, and
// each worker loads the patch as it wakes, before its next call of the new code. (Applied on the
// main thread, as before, the apply waited for the sleeping workers forever: the page froze.)
// Run:
//   node --experimental-websocket --test tests/threads/apply-with-parked-workers.test.mjs
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { evalIn, launchBrowser, startServer, waitConnected } from '../browser/helpers.mjs';
import { app, buildHost, root } from './pool-host.mjs';

const seen = (page) => page.evaluate(() => [0, 1, 2, 3].map((w) => globalThis.hotwasm.Module._pool_seen(w)));

describe('a patch applied while every worker sleeps at a barrier (Chromium, hotwasm serve)', () => {
  let server;
  let ctx;
  let page;
  before(async () => {
    await buildHost();
    process.env.HOTWASM_SERVER_BIN ??= `${root}/target/hotwasm-cli/cli/hotwasm`;
    server = await startServer({ project: app });
    ctx = await launchBrowser();
    page = await ctx.newPage();
    page.pageErrors = [];
    page.on('pageerror', (e) => page.pageErrors.push(e));
    await page.goto(server.url);
    await page.waitForFunction(() => globalThis.hotwasm?.Module?._pool_ticks?.() > 5, null, { timeout: 60_000 });
    await waitConnected(page);
  });
  after(async () => {
    await ctx?.close();
    await server?.stop();
  });

  test('the host applies patches on its loader thread', async () => {
    assert.equal(await page.evaluate(() => globalThis.hotwasm.hot.registry.loaderThread), true);
  });

  test('the apply completes, an expression eval runs and the page animates while the workers sleep; they run the new code when they wake', async () => {
    await page.evaluate(() => globalThis.hotwasm.Module._pool_park(1));
    await page.waitForFunction(() => globalThis.hotwasm.Module._pool_parked() === 4, null, { timeout: 20_000 });
    const before = await seen(page);
    const ticks = await page.evaluate(() => globalThis.hotwasm.Module._pool_ticks());

    const r = await evalIn(page, '#include "pool.h"\nint32_t worker_tag(int32_t worker) { return 7100 + worker; }\n', 'c');
    assert.ok(r.ok, `eval failed: ${r.error}`);
    const frames = await page.evaluate(() => globalThis.hotwasm.state.frames);
    await page.waitForFunction((f) => globalThis.hotwasm.state.frames > f + 10, frames, { timeout: 10_000 });
    const still = await page.evaluate(() => [globalThis.hotwasm.Module._pool_parked(), globalThis.hotwasm.Module._pool_ticks()]);
    assert.deepEqual(still, [4, ticks], 'the workers slept through the apply');
    // An eval with an expression runs once on the main thread: its lookup adds no table entry
    // there (the loader looked it up), so it does not wait for the sleeping workers either.
    const v = await evalIn(page, '#include "pool.h"\nworker_tag(5) + 1', 'c');
    assert.ok(v.ok, `eval failed: ${v.error}`);
    assert.equal(v.pages[0].value?.text, '7106');
    assert.deepEqual(await seen(page), before, 'no worker ran a tick meanwhile');

    await page.waitForFunction(() => globalThis.hotwasm.Module._pool_park(0) === 0, null, { timeout: 10_000, polling: 50 });
    await page.waitForFunction(() => [0, 1, 2, 3].every((w) => globalThis.hotwasm.Module._pool_seen(w) === 7100 + w), null, { timeout: 20_000 })
      .catch(async (e) => { throw new Error(`the workers saw ${await seen(page)}: ${e.message}`); });
    assert.deepEqual(page.pageErrors.map(String), []);
  });
});
