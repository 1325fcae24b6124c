// Undo with state in headless Chromium, with the real dev server and the particle demo: a patch
// that writes garbage into the world then traps leaves the world exactly as it was before the
// trapping call (tests/browser/trap-scope.test.mjs: and no earlier), the var rolled back on every
// page; the history's "undo code + state" button puts
// the frame counter back to its value before the patch; the snapshot bound keeps the newest.
// The demo is paused (its own Pause button) so that only the test's frames change the world.

import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { APP_INCLUDE, evalIn, openDemo, screenshot, servedApp, waitConnected } from './helpers.mjs';

const BG = (abgr) => `${APP_INCLUDE}\n\nuint32_t background_color(const World *world) {\n    (void)world;\n    return ${abgr};\n}\n`;

const GARBAGE = `${APP_INCLUDE}

void step_particle(World *world, Particle *p, float dt) {
    (void)dt;
    p->x = -1e30f;
    p->vx = 0.0f / 0.0f;
    p->age = -7.0f;
    world->bounces += 1000;
    world->gravity = 12345.0f;
    if (p == world->particles + 20) __builtin_trap(); /* garbage first, then the trap */
}
`;

/** Pauses the demo's own frame loop and records the client's undo events. */
async function pause(page) {
  await page.evaluate(() => {
    if (!globalThis.hotwasm.state.paused) document.getElementById('btn-pause').click();
    globalThis.__undos = [];
    globalThis.hotwasm.hot.on('undo', (u) => globalThis.__undos.push(u));
  });
}

/** FNV-1a of the `World` struct and every particle, with the counters: the demo's state. */
const digest = (page) =>
  page.evaluate(() => {
    const M = globalThis.hotwasm.Module;
    const w = M._demo_world() >>> 0;
    const particles = M.HEAPU32[w >>> 2];
    const count = M.HEAPU32[(w >>> 2) + 1];
    let h = 0x811c9dc5;
    for (const [from, len] of [
      [w, 48],
      [particles, count * 24],
    ]) {
      const bytes = M.HEAPU8.subarray(from, from + len);
      for (let i = 0; i < bytes.length; i++) h = Math.imul(h ^ bytes[i], 0x01000193) >>> 0;
    }
    return { hash: h.toString(16), ...globalThis.hotwasm.stats(), fps: 0, traps: 0 };
  });

/** Runs `n` frames through the trap-safe call; returns how many trapped. */
const step = (page, n) =>
  page.evaluate((k) => {
    let trapped = 0;
    for (let i = 0; i < k; i++) if (globalThis.hotwasm.hot.call('demo_frame', 1 / 60)?.trapped) trapped++;
    return trapped;
  }, n);

const varOf = (page, name) => page.evaluate((n) => globalThis.hotwasm.hot.vars().find((v) => v.name === n), name);
const undosSeen = (page, n) => page.waitForFunction((k) => globalThis.__undos.length >= k, n, { timeout: 15_000 });

describe('undo with state in headless Chromium', { timeout: 600_000 }, () => {
  const app = servedApp();

  test('a patch that writes garbage then traps leaves the world exactly as before the trapping call; the other page rolls the var back and keeps its world', async () => {
    const page = await openDemo(app.browser, app.server.url);
    const other = await openDemo(app.browser, app.server.url);
    await pause(page);
    await pause(other);
    assert.deepEqual(
      await page.evaluate(() => fetch('/hotwasm/app.json').then((r) => r.json()).then((a) => [a.snapshots, a.snapshot_budget_mb, a.on_trap])),
      [8, 512, 'state'],
      '[serve] defaults reach the page through app.json',
    );
    const world = await digest(page);
    const otherWorld = await digest(other);
    await other.evaluate(() => {
      globalThis.__rollbacks = [];
      globalThis.hotwasm.hot.on('rollback', (r) => globalThis.__rollbacks.push(r));
    });
    const r = await evalIn(page, GARBAGE, 'c', 'step_particle.c');
    assert.equal(r.ok, true, `the garbage patch applied: ${r.error} ${r.raw_output}`);
    assert.equal(await step(page, 1), 1, 'the patched step_particle trapped');
    assert.deepEqual(await digest(page), world, 'the world is exactly as it was before the trapping call');
    await page.waitForSelector('#banner:not([hidden])');
    assert.match(await page.textContent('#banner'), /step_particle.*rolled back, the trapping call undone/s);
    assert.match(await page.textContent('#banner'), /just before the call of `demo_frame`/);
    assert.equal((await varOf(page, 'step_particle')).patched, false);
    await screenshot(page, 'undo-01-trap-call-undone');

    // The other page never ran the trapping call: the journaled rollback reaches it, its world stays.
    await other.waitForFunction(() => globalThis.__rollbacks.some((x) => x.var === 'step_particle'), null, { timeout: 15_000 });
    assert.deepEqual(await digest(other), otherWorld);
    assert.equal((await varOf(other, 'step_particle')).patched, false);

    assert.equal(await step(page, 5), 0, 'frames run again');
    await page.reload();
    await page.waitForFunction(() => globalThis.hotwasm?.view && globalThis.hotwasm.stats().frame > 5);
    await waitConnected(page);
    assert.equal((await varOf(page, 'step_particle')).patched, false, 'a new page replays the patch and its rollback');
    await page.close();
    await other.close();
  });

  test('"undo code + state" in the history puts the frame counter back to its value before the patch; "undo code" keeps the data', async () => {
    const page = await openDemo(app.browser, app.server.url);
    await pause(page);
    const world = await digest(page);
    const r = await evalIn(page, BG('0xff402060u'), 'c', 'background_color.c');
    assert.equal(r.ok, true, r.error);
    assert.equal(await step(page, 12), 0);
    assert.equal((await digest(page)).frame, world.frame + 12);
    await screenshot(page, 'undo-02-history-undo-buttons');
    await page.click(`button[data-undo-state="${r.seq}"]`);
    await undosSeen(page, 1);
    assert.deepEqual(await digest(page), world, 'frame counter, particles and score as before the patch');
    assert.equal((await varOf(page, 'background_color')).patched, false, 'its code is rolled back too');

    const again = await evalIn(page, BG('0xff204080u'), 'c', 'background_color.c');
    assert.equal(again.ok, true, again.error);
    assert.equal(await step(page, 5), 0);
    const moved = await digest(page);
    const result = await page.evaluate((seq) => globalThis.hotwasm.hot.undo(seq, { state: false }), again.seq);
    assert.equal(result.ok, true, result.error);
    assert.deepEqual(result.undone, [again.seq]);
    assert.deepEqual(await digest(page), moved, 'code only: the data stays');
    assert.equal((await varOf(page, 'background_color')).patched, false);
    await page.close();
  });

  test('the snapshot bound keeps the newest; undo with state past it rolls the code back and the page says why not the state', async () => {
    const page = await openDemo(app.browser, app.server.url);
    await pause(page);
    await page.evaluate(() => {
      globalThis.hotwasm.hot.applier.snapshots.count = 2;
    });
    const seqs = [];
    for (const colour of ['0xff101010u', '0xff202020u', '0xff303030u']) {
      const r = await evalIn(page, BG(colour), 'c', 'background_color.c');
      assert.equal(r.ok, true, r.error);
      seqs.push(r.seq);
    }
    assert.deepEqual(await page.evaluate(() => globalThis.hotwasm.hot.applier.snapshots.seqs), seqs.slice(1), 'the oldest snapshot was evicted');
    const result = await page.evaluate((seq) => globalThis.hotwasm.hot.undo(seq, { state: true }), seqs[0]);
    assert.equal(result.ok, false, JSON.stringify(result));
    assert.deepEqual(result.undone, seqs);
    assert.match(result.error, new RegExp(`page \\d+: code rolled back, state kept: no snapshot before patch #${seqs[0]}`));
    assert.equal((await varOf(page, 'background_color')).patched, false);
    await page.close();
  });
});
