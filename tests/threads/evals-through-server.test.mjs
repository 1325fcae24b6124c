// Evals into a threaded host through the real server: the threads example served by the real
// `hotwasm serve`, hotwasm's generic page in headless Chromium (cross-origin isolated), and C evals
// sent by the page's client over its real WebSocket. The server compiles each eval with -pthread
// (the host manifest says the host has threads) and every worker's next call reaches the new
// code, including a late-bound call from a worker into another var. Run:
//   node --test tests/threads/evals-through-server.test.mjs
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { evalIn, launchBrowser, startServer, waitConnected } from '../browser/helpers.mjs';
import { app, buildHost, root } from './pool-host.mjs';

const WORKERS = [0, 1, 2, 3];

/** Evaluates C `source` through the server and insists it applied. */
async function evalOk(page, source) {
  const r = await evalIn(page, source, 'c');
  assert.ok(r.ok, `eval failed: ${r.error}\n${r.raw_output ?? ''}`);
  return r;
}

/** Waits until worker w's latest tick saw `tag(w)` from worker_tag, for every worker. */
async function everyWorkerSees(page, tag) {
  const want = WORKERS.map(tag);
  await page.waitForFunction((w) => w.every((v, i) => globalThis.hotwasm.Module._pool_seen(i) === v), want, { timeout: 20_000 })
    .catch(async (e) => {
      const seen = await page.evaluate(() => [0, 1, 2, 3].map((i) => globalThis.hotwasm.Module._pool_seen(i)));
      throw new Error(`the workers saw ${seen}, not ${want}: ${e.message}`);
    });
}

describe('evals through hotwasm serve into the threads example in Chromium', () => {
  let server;
  let ctx;
  let page;
  before(async () => {
    await buildHost();
    process.env.HOTWASM_SERVER_BIN ??= `${root}/target/hotwasm-cli/cli/hotwasm`;
    server = await startServer({ project: app });
    ctx = await launchBrowser();
    page = await ctx.newPage();
    await page.goto(server.url);
    await page.waitForFunction(() => globalThis.hotwasm?.Module?._pool_ticks?.() > 5, null, { timeout: 60_000 });
    await waitConnected(page);
  });
  after(async () => {
    await ctx?.close();
    await server?.stop();
  });

  test('an eval of worker_tag reaches every worker while they render', async () => {
    assert.equal(await page.evaluate(() => globalThis.crossOriginIsolated), true);
    await evalOk(page, '#include "pool.h"\nint32_t worker_tag(int32_t worker) { return 4000 + worker; }\n');
    await everyWorkerSees(page, (w) => 4000 + w);
  });

  test('a worker calls another var late-bound, and its redefinition reaches every worker', async () => {
    await evalOk(page, '#include <stdint.h>\nint32_t tag_base(void) { return 5000; }\n');
    await evalOk(page, '#include "pool.h"\nint32_t tag_base(void);\nint32_t worker_tag(int32_t worker) { return tag_base() + worker; }\n');
    await everyWorkerSees(page, (w) => 5000 + w);
    await evalOk(page, '#include <stdint.h>\nint32_t tag_base(void) { return 6000; }\n');
    await everyWorkerSees(page, (w) => 6000 + w);
  });
});
