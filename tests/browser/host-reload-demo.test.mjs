// The particle demo through a host rebuild, in headless Chromium: with `hotwasm serve` running, a
// save of one of the demo's host sources (a constant in src/hot.rs) rebuilds the HOT_RELOAD host,
// and the demo's own page moves onto it by itself with its world (frame count, particles, score)
// restored through the demo's state hooks, and its C patch replayed.
//
// The demo is a copy in a temp dir (the repo is not modified), built with the target dir the
// host-reload benchmark uses (target/bench-host-reload), so either warms the other.

import { before, describe, test } from 'node:test';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import assert from 'node:assert/strict';
import { ROOT, copyDemo, evalIn, hotwasm, openDemo, servedApp, stats, toolchainEnv } from './helpers.mjs';

const env = { CARGO_TARGET_DIR: join(ROOT, 'target', 'bench-host-reload') };

describe('the demo through a host rebuild', { timeout: 900_000 }, () => {
  let page;
  const app = servedApp({
    prepare: () => {
      const dir = mkdtempSync(join(tmpdir(), 'hotwasm-demo-reload-'));
      copyDemo(dir);
      hotwasm(['build', '--hot', '--project', dir], { env: { ...toolchainEnv(), ...env, HOTWASM_HOME: ROOT } });
      return dir;
    },
    serve: (dir) => ({ project: dir, watch: true, env }),
  });
  before(async () => {
    page = await openDemo(app.browser, app.server.url);
  });

  test("a saved host source moves the page onto the new host with the demo's world and its patch", async () => {
    const patch = await evalIn(page, '#include "particles.h"\nuint32_t background_color(const World *w) { (void)w; return 0xff402010u; }\n', 'c', 'bg.c');
    assert.equal(patch.ok, true, `${patch.error} ${patch.raw_output}`);
    await page.waitForFunction(() => globalThis.hotwasm.stats().frame > 120, null, { timeout: 60_000 });
    // Paused, the world the old host saves is exactly the one read here.
    await page.evaluate(() => (globalThis.hotwasm.state.paused = true));
    const worldBefore = await stats(page);

    const hotRs = join(app.dir, 'src', 'hot.rs');
    const source = readFileSync(hotRs, 'utf8');
    const edited = source.replace('pub(crate) const LIFETIME: f32 = 8.0;', 'pub(crate) const LIFETIME: f32 = 8.5;');
    assert.notEqual(edited, source, 'the edit applies to src/hot.rs');
    const reloaded = page.waitForNavigation({ timeout: 600_000 });
    writeFileSync(hotRs, edited);
    await reloaded;
    await page.waitForFunction(() => globalThis.hotwasm?.hot?.hostReloaded?.replayedAt, null, { timeout: 120_000 });

    const detail = await page.evaluate(() => globalThis.hotwasm.hot.hostReloaded);
    const worldAfter = await stats(page);
    assert.equal(detail.restored, true, detail.error);
    assert.deepEqual(detail.dropped, []);
    assert.ok(worldAfter.frame >= worldBefore.frame, `frames carried over: ${worldBefore.frame} → ${worldAfter.frame}`);
    assert.equal(worldAfter.particles, worldBefore.particles, 'the particles carried over');
    assert.ok(worldAfter.bounces >= worldBefore.bounces, `the score carried over: ${worldBefore.bounces} → ${worldAfter.bounces}`);
    const bg = await page.evaluate(() => globalThis.hotwasm.hot.vars().find((v) => v.name === 'background_color'));
    assert.equal(bg.patched, true, 'the C patch was replayed in the new host');
  });
});
