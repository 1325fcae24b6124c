// A save of one of the host's own sources ([build] host_watch) with `hotwasm serve` running: the
// server rebuilds the HOT_RELOAD host, and the page moves onto it by itself with the app's state
// (its state hooks) and the journal entries that still fit; the others are listed as dropped
// with the reason. A failing host build keeps the old host running.
//
// The app is a copy of examples/c-host (bounce: balls, a frame count and a score; C state hooks)
// in a temp dir, so the repo is not modified; its incremental rebuild takes ~10 s on this machine
// (the particles demo's ~13 s is measured by benches/host-reload.mjs, which carries its world).

import { before, describe, test } from 'node:test';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import assert from 'node:assert/strict';
import { ROOT, bounceApp, evalIn, openGeneric, servedApp } from './helpers.mjs';

/** The bounce app's state as its exports report it. */
const bounce = (page) =>
  page.evaluate(() => {
    const M = globalThis.hotwasm.Module;
    return { frames: M._bounce_frames(), score: M._bounce_score(), balls: M._bounce_balls() };
  });
const varOf = (page, name) => page.evaluate((n) => globalThis.hotwasm.hot.vars().find((v) => v.name === n), name);

/** The edit: `ball_speed` gets a second parameter (so a patch of the old one no longer fits)
 * and a new hot function appears. */
function editHost(dir) {
  const original = (f) => readFileSync(join(ROOT, 'examples', 'c-host', 'src', f), 'utf8');
  const src = original('bounce.c')
    .replace('HOTWASM_FN(float, ball_speed, int32_t, index) {', 'HOTWASM_FN(float, ball_speed, int32_t, index, int32_t, round) {\n  (void)round;')
    .replace('float speed = ball_speed(index);', 'float speed = ball_speed(index, 0);')
    .replace('/* ---- the app ----', 'HOTWASM_FN(int32_t, host_version, int32_t, unused) {\n  return 2 + unused;\n}\n\n/* ---- the app ----');
  assert.match(src, /host_version/);
  writeFileSync(join(dir, 'src', 'bounce.h'), original('bounce.h').replace('float ball_speed(int32_t index);', 'float ball_speed(int32_t index, int32_t round);\nint32_t host_version(int32_t unused);'));
  writeFileSync(join(dir, 'src', 'bounce.c'), src);
}

describe('a host rebuild under hotwasm serve', { timeout: 300_000 }, () => {
  let page;
  const app = servedApp({ prepare: () => bounceApp(), serve: (dir) => ({ project: dir, watch: true }) });
  before(async () => {
    page = await openGeneric(app.browser, app.server.url);
    await page.evaluate(() => {
      globalThis.hostBuilds = [];
      globalThis.hotwasm.hot.on('host_build', (b) => globalThis.hostBuilds.push(b));
    });
  });

  test('a host build that fails is reported with the compiler error and the old host keeps running', async () => {
    const c = join(app.dir, 'src', 'bounce.c');
    const good = readFileSync(c, 'utf8');
    await page.evaluate(() => (globalThis.oldDocument = true));
    writeFileSync(c, good.replace('static void draw(void) {', 'static void draw(void) { this is not C;'));
    await page.waitForFunction(() => globalThis.hostBuilds.some((b) => b.status === 'failed'), null, { timeout: 120_000 });
    const failed = await page.evaluate(() => globalThis.hostBuilds.find((b) => b.status === 'failed'));
    assert.deepEqual(failed.files, ['src/bounce.c']);
    assert.match(failed.error, /old host/);
    assert.ok(
      failed.diagnostics.some((d) => d.file.endsWith('src/bounce.c') && d.severity === 'error'),
      `a located error in src/bounce.c: ${JSON.stringify(failed.diagnostics)}\n${failed.raw_output}`,
    );
    const f0 = (await bounce(page)).frames;
    await page.waitForFunction((f) => globalThis.hotwasm.Module._bounce_frames() > f + 10, f0);
    assert.equal(await page.evaluate(() => globalThis.oldDocument), true, 'the page was not reloaded');
    // The next test's edit starts from the good source again.
  });

  test('after a host edit the page runs the new host with its state carried over, the fitting patch replayed and the other dropped', async () => {
    const sky = await evalIn(page, '#include <stdint.h>\nuint32_t sky_color(int32_t score) { return 0xff00ff00u + (uint32_t)(score & 0); }\n', 'c', 'sky.c');
    assert.equal(sky.ok, true, `${sky.error} ${sky.raw_output}`);
    const speed = await evalIn(page, '#include <stdint.h>\nfloat ball_speed(int32_t index) { return 90.0f + (float)index; }\n', 'c', 'speed.c');
    assert.equal(speed.ok, true, `${speed.error} ${speed.raw_output}`);
    await page.waitForFunction(() => globalThis.hotwasm.Module._bounce_frames() > 200, null, { timeout: 30_000 });
    // Paused, the state the old host saves is exactly the one read here.
    await page.evaluate(() => (globalThis.hotwasm.state.paused = true));
    const before = await bounce(page);
    assert.ok(before.balls > 0 && before.score > 0, JSON.stringify(before));

    // A second page is offline during the rebuild: it misses host_reload.
    const offline = await openGeneric(app.browser, app.server.url);
    await offline.evaluate(() => globalThis.hotwasm.hot.connection.stop());

    const reloaded = page.waitForNavigation({ timeout: 180_000 });
    editHost(app.dir);
    await reloaded;
    await page.waitForFunction(() => globalThis.hotwasm?.hot?.hostReloaded?.replayedAt, null, { timeout: 60_000 });
    const after = await bounce(page);
    const detail = await page.evaluate(() => globalThis.hotwasm.hot.hostReloaded);

    assert.equal(detail.build, 1);
    assert.equal(detail.restored, true, detail.error);
    assert.ok(after.frames >= before.frames, `frames carried over: ${before.frames} → ${after.frames}`);
    assert.ok(after.score >= before.score, `score carried over: ${before.score} → ${after.score}`);
    assert.ok(after.balls >= before.balls, `balls carried over: ${before.balls} → ${after.balls}`);
    assert.ok((await varOf(page, 'host_version')) != null, 'the new host declares host_version');
    assert.equal((await varOf(page, 'sky_color')).patched, true, 'the sky patch was replayed');
    assert.equal((await varOf(page, 'ball_speed')).signature, 'fii');
    assert.equal((await varOf(page, 'ball_speed')).patched, false, 'the old ball_speed patch was not replayed');
    assert.deepEqual(detail.dropped.map((d) => d.seq), [speed.seq]);
    assert.equal(detail.dropped[0].reason, 'speed.c: it defines `ball_speed` as `fi`, the new host\'s `ball_speed` is `fii`');
    const wasm = await page.evaluate(() => performance.getEntriesByType('resource').map((r) => r.name).filter((n) => n.includes('.wasm')));
    assert.ok(wasm.some((n) => n.endsWith('bounce.wasm?build=1')), `the new bundle was fetched by its build: ${wasm}`);
    const log = await page.evaluate(() => document.getElementById('log').textContent);
    assert.match(log, /dropped: speed\.c/);

    // Back online, the other page learns from the welcome that it missed the rebuild and moves on.
    const caughtUp = offline.waitForNavigation({ timeout: 60_000 });
    await offline.evaluate(() => globalThis.hotwasm.hot.connection.start());
    await caughtUp;
    await offline.waitForFunction(() => globalThis.hotwasm?.hot?.hostReloaded?.replayedAt, null, { timeout: 60_000 });
    assert.equal(await offline.evaluate(() => globalThis.hotwasm.hot.hostReloaded.restored), true);
    assert.ok((await varOf(offline, 'host_version')) != null, 'the page that was offline runs the new host');
    assert.equal((await varOf(offline, 'sky_color')).patched, true);
  });
});
