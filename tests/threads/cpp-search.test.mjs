// The adopted-engine case of issue 19 in a real browser: a C++ app whose search runs on four
// std::threads (examples/threads-cpp), served by the real `hotwasm serve` on hotwasm's generic page
// in headless Chromium. C++ evals sent by the page's client over its WebSocket change the hot
// function `evaluate` while every thread searches, and every thread's next iteration runs the new
// version; the threads never stop searching. Run:
//   node --experimental-websocket --test tests/threads/cpp-search.test.mjs
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { evalIn, launchBrowser, startServer, waitConnected } from '../browser/helpers.mjs';
import { SEARCH_THREADS, buildSearchHost, everyThreadEvaluates, root, searchApp } from './search-host.mjs';

/** Evaluates C++ `source` through the server and insists it applied. */
async function evalOk(page, source) {
  const r = await evalIn(page, source, 'cpp');
  assert.ok(r.ok, `eval failed: ${r.error}\n${r.raw_output ?? ''}`);
  return r;
}

/** Each thread's iteration count, then waits until every thread completed `more` further iterations. */
async function everyThreadSearchesOn(page, more = 3) {
  const from = await page.evaluate((ts) => ts.map((t) => globalThis.hotwasm.Module._search_iterations(t)), SEARCH_THREADS);
  await page.waitForFunction(([f, m]) => f.every((n, t) => globalThis.hotwasm.Module._search_iterations(t) >= n + m), [from, more], { timeout: 20_000 });
}

describe('C++ evals into a std::thread search pool in Chromium, through hotwasm serve', () => {
  let server;
  let ctx;
  let page;
  before(async () => {
    await buildSearchHost();
    process.env.HOTWASM_SERVER_BIN ??= `${root}/target/hotwasm-cli/cli/hotwasm`;
    server = await startServer({ project: searchApp });
    ctx = await launchBrowser();
    page = await ctx.newPage();
    page.pageErrors = [];
    page.on('pageerror', (e) => page.pageErrors.push(e));
    await page.goto(server.url);
    await page.waitForFunction(() => globalThis.hotwasm?.Module?._search_searching?.() === 4, null, { timeout: 60_000 });
    await waitConnected(page);
  });
  after(async () => {
    await ctx?.close();
    await server?.stop();
  });

  test('four std::threads search on shared memory in a cross-origin isolated page', async () => {
    const s = await page.evaluate(() => ({
      isolated: globalThis.crossOriginIsolated,
      shared: globalThis.hotwasm.Module.HEAPU8.buffer instanceof SharedArrayBuffer,
      threads: globalThis.hotwasm.Module._search_threads(),
    }));
    assert.deepEqual(s, { isolated: true, shared: true, threads: 4 });
    await everyThreadEvaluates(page, (t) => t % 64 - 32); // the host's own evaluate
    await everyThreadSearchesOn(page);
  });

  test('a C++ eval of evaluate reaches every search thread while they search', async () => {
    await evalOk(page, '#include "search.h"\nextern "C" int32_t evaluate(int32_t position) { return 7000 + position; }\n');
    await everyThreadEvaluates(page, (t) => 7000 + t);
    assert.equal(await page.evaluate(() => globalThis.hotwasm.Module._search_searching()), 4, 'every thread still searches');
    await everyThreadSearchesOn(page);
  });

  test('a C++ evaluate using templates and a helper var late-bound, then the helper redefined, reaches every thread', async () => {
    await evalOk(page, '#include <cstdint>\nextern "C" int32_t material(void) { return 8000; }\n');
    await evalOk(page, [
      '#include "search.h"',
      'extern "C" int32_t material(void);',
      'template <typename T> constexpr T twice(T v) { return v + v; }',
      'extern "C" int32_t evaluate(int32_t position) { return material() + twice(position); }',
      '',
    ].join('\n'));
    await everyThreadEvaluates(page, (t) => 8000 + 2 * t);
    await evalOk(page, '#include <cstdint>\nextern "C" int32_t material(void) { return 9000; }\n');
    await everyThreadEvaluates(page, (t) => 9000 + 2 * t);
    await everyThreadSearchesOn(page);
    assert.deepEqual(page.pageErrors.map(String), [], 'no error on the page');
  });

  test('stop and go: the idle threads take a patch and search with it on the next go', async () => {
    await page.evaluate(() => globalThis.hotwasm.Module._search_stop());
    await page.waitForFunction(() => globalThis.hotwasm.Module._search_searching() === 0, null, { timeout: 20_000 });
    await evalOk(page, '#include "search.h"\nextern "C" int32_t evaluate(int32_t position) { return -300 - position; }\n');
    assert.equal(await page.evaluate(() => globalThis.hotwasm.Module._search_go(4)), 4);
    await everyThreadEvaluates(page, (t) => -300 - t);
    await everyThreadSearchesOn(page);
  });
});
