// All-hot mode in a threaded host (docs/ALL-HOT.md, docs/THREADS.md): examples/allhot-threads-c, a
// pthreads C app with no hotwasm marks, built by `hotwasm build --hot` in a copy of its own, served
// by the real `hotwasm serve`, hotwasm's generic page in headless Chromium (cross-origin isolated),
// C evals sent by the page's client. A patch of the `static` function the workers call reaches
// every worker's next round; a worker started after the patch (a new wasm instance, whose start-up
// fills its own table) runs the patch too and leaves the other workers on it; a rollback reaches
// them all, the late worker included (its
// instance never wrote the slot back to the host's version); a patch of a `static` function the main thread's frame calls
// reaches the frame. Run:
//   node --test tests/threads/allhot-workers.test.mjs
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { ROOT, ensureServer, evalIn, launchBrowser, startServer, toolchainEnv, waitConnected } from '../browser/helpers.mjs';

const FIRST = [0, 1, 2, 3];

/** Evaluates C `source` through the server and insists it applied. */
async function evalOk(page, source) {
  const r = await evalIn(page, source, 'c');
  assert.ok(r.ok, `eval failed: ${r.error}\n${r.raw_output ?? ''}`);
  return r;
}

const seenBy = (page, workers) => page.evaluate((ws) => ws.map((w) => globalThis.hotwasm.Module._crew_seen(w)), workers);

/** Waits until every worker in `workers` recorded `tag(w)` in its latest round. */
async function everyWorkerSees(page, workers, tag) {
  const want = workers.map(tag);
  await page.waitForFunction(([ws, v]) => ws.every((w, i) => globalThis.hotwasm.Module._crew_seen(w) === v[i]), [workers, want], { timeout: 20_000 })
    .catch(async (e) => {
      throw new Error(`workers ${workers} saw ${await seenBy(page, workers)}, not ${want}: ${e.message}`);
    });
}

/** Waits until each worker in `workers` finished `n` more rounds than now. */
async function roundsPass(page, workers, n = 3) {
  const r0 = await page.evaluate((ws) => ws.map((w) => globalThis.hotwasm.Module._crew_rounds(w)), workers);
  await page.waitForFunction(([ws, r, k]) => ws.every((w, i) => globalThis.hotwasm.Module._crew_rounds(w) >= r[i] + k), [workers, r0, n], { timeout: 20_000 });
}

describe('all-hot mode in a threaded host: examples/allhot-threads-c in Chromium', { timeout: 15 * 60_000 }, () => {
  let server;
  let ctx;
  let page;
  before(async () => {
    const dir = join(mkdtempSync(join(tmpdir(), 'hotwasm-allhot-threads-')), 'allhot-threads-c');
    cpSync(join(ROOT, 'examples/allhot-threads-c'), dir, { recursive: true, filter: (s) => !/\/(build|\.hotwasm)$/.test(s) });
    const built = spawnSync(ensureServer(), ['build', '--hot', '--project', dir], {
      env: { ...toolchainEnv(), HOTWASM_HOME: ROOT },
      stdio: ['ignore', 'inherit', 'inherit'],
    });
    assert.equal(built.status, 0, 'hotwasm build --hot failed');
    server = await startServer({ project: dir });
    ctx = await launchBrowser();
    page = await ctx.newPage();
    await page.goto(server.url);
    await page.waitForFunction(() => globalThis.hotwasm?.Module?._crew_workers?.() === 4, null, { timeout: 60_000 });
    await waitConnected(page);
    await everyWorkerSees(page, FIRST, (w) => 100 + w);
  });
  after(async () => {
    await ctx?.close();
    await server?.stop();
  });

  test('a patch of the static function the workers call reaches every worker\'s next round', async () => {
    assert.equal(await page.evaluate(() => globalThis.crossOriginIsolated), true);
    await evalOk(page, '#include "crew.h"\nint32_t worker_tag(int32_t worker) { return 1000 + worker; }\n');
    await everyWorkerSees(page, FIRST, (w) => 1000 + w);
    await evalOk(page, '#include "crew.h"\nint32_t worker_tag(int32_t worker) { return 2000 + worker; }\n');
    await everyWorkerSees(page, FIRST, (w) => 2000 + w);
  });

  test('a worker started after the patch runs the patch, and its start-up leaves the others on it', async () => {
    const late = await page.evaluate(() => globalThis.hotwasm.Module._crew_spawn());
    assert.equal(late, 4, 'a fifth worker started');
    await page.waitForFunction((w) => globalThis.hotwasm.Module._crew_rounds(w) > 0, late, { timeout: 30_000 });
    await roundsPass(page, [...FIRST, late]);
    assert.deepEqual(await seenBy(page, [...FIRST, late]), [2000, 2001, 2002, 2003, 2004],
      'every worker, the late one included, runs the patched worker_tag');
  });

  test('a rollback reaches every worker, the one started after the patch included', async () => {
    const all = [...FIRST, 4];
    await page.evaluate(() => globalThis.hotwasm.hot.rollback('worker_tag'));
    // Back to the version before (the first patch), on every thread.
    await everyWorkerSees(page, all, (w) => 1000 + w);
  });

  test('a patch of the static function the main thread\'s frame calls reaches the frame', async () => {
    const f0 = await page.evaluate(() => globalThis.hotwasm.Module._crew_frames());
    await evalOk(page, '#include "crew.h"\nint32_t frame_step(int32_t frame) { return 1000; }\n');
    // 3000 more at 1 a frame would take 50 s: only the patched frame_step gets there in time.
    await page.waitForFunction((f) => globalThis.hotwasm.Module._crew_frames() >= f + 3000, f0, { timeout: 20_000 });
  });
});
