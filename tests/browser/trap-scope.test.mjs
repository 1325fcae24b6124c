// A trap undoes at most the call that trapped (web/call-guard.js, docs/PROTOCOL.md "Undo and
// state snapshots"): what the app did after a patch — frames that bumped its counters — survives a
// later trap of that patch; only the trapping call's own writes are undone, and the `trap` event
// says so. With `on_trap = "code"` the call's writes stay and the event says what that leaves.
//
// The app: bounce (examples/c-host, copied to a temp dir) on hotwasm's generic page, the real
// server and headless Chromium. The page's own loop is paused; the test calls `bounce_frame`
// through `hot.call` itself, so every frame is counted. Prints the per-call copy cost measured.
//
//   node --test tests/browser/trap-scope.test.mjs

import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { bounceApp, evalIn, openGeneric, servedApp } from './helpers.mjs';

/** `ball_color` redefined: traps once armed, after scribbling over the ball it was given. */
const ARMED_COLOR = `#include "bounce.h"
int32_t trap_armed = 0;
uint32_t ball_color(const Ball *ball) {
  if (trap_armed) {
    ((Ball *)ball)->hits = 999999; /* the trapping call's own write */
    __builtin_trap();
  }
  return 0xff3366ffu;
}
`;

/** bounce's counters as its exports report them. */
const bounce = (page) =>
  page.evaluate(() => {
    const M = globalThis.hotwasm.Module;
    return { frames: M._bounce_frames(), score: M._bounce_score(), balls: M._bounce_balls() };
  });

/** Runs `n` frames through the trap-safe call; returns how many trapped. */
const frames = (page, n) =>
  page.evaluate((k) => {
    let trapped = 0;
    for (let i = 0; i < k; i++) if (globalThis.hotwasm.hot.call('bounce_frame', 1 / 60)?.trapped) trapped++;
    return trapped;
  }, n);

/** Runs frames until the next one spawns a ball (bounce spawns on every 30th frame). */
const untilSpawnFrame = (page) =>
  page.evaluate(() => {
    const M = globalThis.hotwasm.Module;
    while (M._bounce_frames() % 30 !== 0) globalThis.hotwasm.hot.call('bounce_frame', 1 / 60);
  });

async function openPaused(browser, url) {
  const page = await openGeneric(browser, url);
  await page.evaluate(() => {
    globalThis.hotwasm.state.paused = true;
    globalThis.__traps = [];
    globalThis.hotwasm.hot.on('trap', (t) => globalThis.__traps.push({ ...t, error: String(t.error) }));
  });
  return page;
}

const varOf = (page, name) => page.evaluate((n) => globalThis.hotwasm.hot.vars().find((v) => v.name === n), name);

describe('what a trap undoes', { timeout: 300_000 }, () => {
  const app = servedApp({ prepare: () => bounceApp(), serve: (dir) => ({ project: dir }) });

  test('on_trap = "state": the frames run after a patch survive its later trap; only the trapping call is undone', async () => {
    const page = await openPaused(app.browser, app.server.url);
    const patch = await evalIn(page, ARMED_COLOR, 'c', 'ball_color.c');
    assert.equal(patch.ok, true, `${patch.error} ${patch.raw_output}`);
    const atPatch = await bounce(page);
    assert.equal(await frames(page, 40), 0);
    await untilSpawnFrame(page);
    const arm = await evalIn(page, 'trap_armed = 1;\n', 'c', 'arm.c');
    assert.equal(arm.ok, true, `${arm.error} ${arm.raw_output}`);
    const beforeCall = await bounce(page);
    assert.ok(beforeCall.frames >= atPatch.frames + 40, 'the frames after the patch bumped the counter');

    assert.equal(await frames(page, 1), 1, 'the armed ball_color trapped');
    // That frame spawned a ball and stepped the others before it trapped in draw(): all undone,
    // and nothing before it (the counter keeps the 40+ frames run since the patch).
    assert.deepEqual(await bounce(page), beforeCall);
    const [t] = await page.evaluate(() => globalThis.__traps);
    assert.equal(t.var, 'ball_color');
    assert.equal(t.state.restored, true, t.state.reason);
    assert.equal(t.state.scope, 'call');
    assert.equal(t.state.call, 'bounce_frame');
    assert.equal((await varOf(page, 'ball_color')).patched, false, 'the trapping var is rolled back');
    assert.match(await page.textContent('#log'), /trap in ball_color \(patch #\d+\) → rolled back \(stack\); the call of `bounce_frame` undone/);

    assert.equal(await frames(page, 5), 0, 'frames go on with the built-in ball_color');
    assert.equal((await bounce(page)).frames, beforeCall.frames + 5);

    const cost = await page.evaluate(() => ({ ...globalThis.hotwasm.hot.applier.callGuard.cost(), memory: globalThis.hotwasm.Module.HEAPU8.length }));
    assert.ok(cost.bytes > 0 && cost.bytes <= cost.memory, JSON.stringify(cost));
    console.log(`per-call copy before hot.call (bounce: ${(cost.bytes / 1024).toFixed(0)} KB in use below the heap's break of ${(cost.memory / 1048576).toFixed(0)} MB of linear memory): mean ${cost.meanMs.toFixed(3)} ms, max ${cost.maxMs.toFixed(3)} ms over ${cost.count} calls`);
    // The figure docs/PROTOCOL.md quotes: the copy alone, 200 times, at this app's size and with
    // 64 MB more in use (one malloc), against copying the whole memory as a snapshot does.
    const figures = await page.evaluate(() => {
      const g = globalThis.hotwasm.hot.applier.callGuard;
      const M = globalThis.hotwasm.Module;
      g.maxMb = 1024; // measure past the default limit too
      const measure = () => {
        g.left = 1e9;
        g.ensureBuffer(g.usedEnd());
        const t0 = performance.now();
        for (let i = 0; i < 200; i++) g.before();
        const ms = (performance.now() - t0) / 200;
        g.left = 0;
        const whole = new Uint8Array(M.HEAPU8.length);
        const t1 = performance.now();
        for (let i = 0; i < 20; i++) whole.set(M.HEAPU8);
        return { usedMb: g.usedEnd() / 1048576, copiedMb: g.stats.bytes / 1048576, ms, memoryMb: M.HEAPU8.length / 1048576, wholeMs: (performance.now() - t1) / 20 };
      };
      const small = measure();
      const p = M._malloc(64 << 20);
      M.HEAPU8.fill(1, p, p + (64 << 20));
      return [small, measure()];
    });
    for (const f of figures) {
      assert.equal(f.copiedMb, f.usedMb, 'every measured call copied the memory in use');
      console.log(`per-call copy: ${f.usedMb.toFixed(2)} MB in use → ${f.ms.toFixed(3)} ms per call (copying all ${f.memoryMb.toFixed(0)} MB of memory: ${f.wholeMs.toFixed(3)} ms)`);
    }
    await page.close();
  });

  test('the copies stop once the patch is no longer new: a later trap keeps the call\'s writes and the event says why', async () => {
    const page = await openPaused(app.browser, app.server.url);
    // As attach's option callGuard: {calls: 3} would: only the first 3 calls after a patch are copied.
    await page.evaluate(() => (globalThis.hotwasm.hot.applier.callGuard.calls = 3));
    const patch = await evalIn(page, ARMED_COLOR, 'c', 'ball_color.c');
    assert.equal(patch.ok, true, `${patch.error} ${patch.raw_output}`);
    assert.equal(await frames(page, 3), 0);
    await untilSpawnFrame(page);
    // Armed from JS through the patch global's address, so that no new patch makes calls new again.
    await page.evaluate(() => {
      const M = globalThis.hotwasm.Module;
      M.HEAP32[M.GOT.trap_armed.value >>> 2] = 1;
    });
    const beforeCall = await bounce(page);
    assert.equal(await frames(page, 1), 1);
    assert.equal((await bounce(page)).balls, beforeCall.balls + 1, 'the trapping call spawned a ball before it trapped: it stays');
    const [t] = await page.evaluate(() => globalThis.__traps);
    assert.equal(t.state.restored, false);
    assert.match(t.state.reason, /calls after the newest patch/);
    assert.match(t.state.leftBehind, /RefCell/);
    await page.close();
  });
});

describe('what a trap undoes with on_trap = "code"', { timeout: 300_000 }, () => {
  const app = servedApp({ prepare: () => bounceApp('on_trap = "code"'), serve: (dir) => ({ project: dir }) });

  test('the var is rolled back, the trapping call\'s writes stay, and the event says what that leaves behind', async () => {
    const page = await openPaused(app.browser, app.server.url);
    const patch = await evalIn(page, ARMED_COLOR, 'c', 'ball_color.c');
    assert.equal(patch.ok, true, `${patch.error} ${patch.raw_output}`);
    await untilSpawnFrame(page);
    await evalIn(page, 'trap_armed = 1;\n', 'c', 'arm.c');
    const beforeCall = await bounce(page);
    assert.equal(await frames(page, 1), 1);
    assert.equal((await bounce(page)).balls, beforeCall.balls + 1, 'the ball the trapping call spawned stays');
    const [t] = await page.evaluate(() => globalThis.__traps);
    assert.equal(t.var, 'ball_color');
    assert.equal(t.state.restored, false);
    assert.match(t.state.reason, /on_trap is "code"/);
    assert.match(t.state.leftBehind, /RefCell it had borrowed .*already borrowed.*interpreter it left mid-call/);
    assert.equal((await varOf(page, 'ball_color')).patched, false);
    await page.close();
  });
});
