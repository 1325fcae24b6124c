// The particle demo's page (examples/particles/web/, built on the public client API) in headless
// Chromium against the real dev server and the HOT_RELOAD bundle: live edits keep state, errors
// never stop the animation, traps roll back, reloads replay, every page gets a patch, a restarted
// server is found again. Every wait is on the page's state or events, never on time.

import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  APP_INCLUDE,
  evalIn,
  framesPass,
  openDemo,
  screenshot,
  servedApp,
  stats,
  typeAndEval,
  waitBackground,
  waitConnected,
} from './helpers.mjs';

const BG = (abgr) => `${APP_INCLUDE}

uint32_t background_color(const World *world) {
    (void)world;
    return ${abgr};
}
`;

const varOf = (page, name) => page.evaluate((n) => globalThis.hotwasm.hot.vars().find((v) => v.name === n), name);

describe('the particle demo page in headless Chromium', { timeout: 600_000 }, () => {
  const app = servedApp();

  test('a live edit changes behaviour while frames and particles carry on', async () => {
    const page = await openDemo(app.browser, app.server.url);
    await framesPass(page, 60); // let state build up
    const s0 = await stats(page);
    const p0 = await page.evaluate(() => globalThis.hotwasm.view.particles(4));
    const t0 = Date.now();
    await screenshot(page, '01-before-edit');

    const color = 0xff402060; // dark purple
    const result = await typeAndEval(page, 'background_color', BG('0xff402060u'));
    assert.equal(result.ok, true, `eval failed: ${result.error} ${result.raw_output}`);
    await waitBackground(page, color);
    const s1 = await stats(page);
    assert.ok(s1.frame > s0.frame, 'frame counter kept counting (not reset)');
    assert.ok(s1.bounces >= s0.bounces, 'bounces kept (not reset)');
    const p1 = await page.evaluate(() => globalThis.hotwasm.view.particles(4));
    // Same particles, moved on from where they were: ages only grow, or a particle respawned since
    // the first look (its age is then at most the time between the two looks, which a slow
    // machine makes long).
    const respawnedWithin = (Date.now() - t0) / 1000 + 0.5;
    for (let i = 0; i < Math.min(p0.length, p1.length); i++) {
      assert.ok(p1[i].age >= p0[i].age || p1[i].age < respawnedWithin, `particle ${i} was not reset`);
    }
    assert.match(await page.textContent('#timing'), /compile.*transfer.*apply/s);
    await screenshot(page, '02-after-background-edit');

    // Gravity upside down through step_particle: the particles rise to the top.
    const up = await typeAndEval(
      page,
      'step_particle',
      `${APP_INCLUDE}

void step_particle(World *world, Particle *p, float dt) {
    p->vy -= 600.0f * dt;
    p->x += p->vx * dt;
    p->y += p->vy * dt;
    p->age += dt;
    if (p->y < 0.0f) { p->y = 0.0f; p->vy = -p->vy * 0.5f; world->bounces++; }
    if (p->x < 0.0f || p->x > world->width) p->vx = -p->vx;
}
`,
    );
    assert.equal(up.ok, true, `eval failed: ${up.error} ${up.raw_output}`);
    await page.waitForFunction(() => {
      const h = globalThis.hotwasm;
      const ps = h.view.particles(200);
      return ps.reduce((a, p) => a + p.y, 0) / ps.length < h.stats().height * 0.35;
    }, null, { timeout: 15_000 });
    await screenshot(page, '03-after-gravity-edit');

    // Roll step_particle back from the history panel: it goes through the server (journaled).
    const n = (await varOf(page, 'step_particle')).history.length;
    await page.click('button[data-rollback="step_particle"]');
    await page.waitForFunction(
      (k) => globalThis.hotwasm.hot.vars().find((v) => v.name === 'step_particle').history.length === k - 1,
      n,
      { timeout: 10_000 },
    );
    await page.close();
  });

  test('a compile error shows the overlay and marks the line in its editor; the animation continues', async () => {
    const page = await openDemo(app.browser, app.server.url);
    const bad = `${APP_INCLUDE}

uint32_t background_color(const World *world) {
    (void)world;
    return 0xff00ff00u
}
`;
    const r = await typeAndEval(page, 'background_color', bad);
    assert.equal(r.ok, false);
    assert.equal(r.stage, 'compile');
    await page.waitForSelector('#diag-overlay:not([hidden])');
    const first = r.diagnostics.find((d) => d.severity === 'error');
    assert.ok(first, 'an error diagnostic came back');
    assert.ok(first.line === 5 || first.line === 6, `error on line 5/6, got ${first.line}`);
    const marked = await page.$$eval('#gutter .mark-error', (els) => els.map((e) => Number(e.textContent)));
    assert.ok(marked.includes(first.line), `gutter marks line ${first.line}: ${marked}`);
    assert.match(await page.textContent('#diag-list'), new RegExp(`:${first.line}:${first.column}`));
    await framesPass(page, 10); // frames keep advancing under the overlay
    await screenshot(page, '04-compile-error-overlay');

    // Another tab shows another file: no marks there.
    await page.click('#tabs button[data-var="particle_color"]');
    assert.equal(await page.$$eval('#gutter .mark-error', (els) => els.length), 0, 'no marks in another file’s editor');
    await page.click('#tabs button[data-var="background_color"]');

    const good = await typeAndEval(page, 'background_color', BG('0xff103010u'));
    assert.equal(good.ok, true, `the next good eval works: ${good.error}`);
    assert.equal(await page.isHidden('#diag-overlay'), true, 'overlay gone after a good eval');
    await waitBackground(page, 0xff103010);
    await page.close();
  });

  test('a trap in a patched function rolls it back and the animation continues', async () => {
    const page = await openDemo(app.browser, app.server.url);
    const before = await varOf(page, 'particle_color');
    const r = await typeAndEval(
      page,
      'particle_color',
      `${APP_INCLUDE}

uint32_t particle_color(const World *world, const Particle *p) {
    if (world->frame % 1000000u != 12345u) __builtin_trap(); /* traps on the next frame */
    return p->rgba;
}
`,
    );
    assert.equal(r.ok, true, `the trapping patch applied: ${r.error}`);
    await page.waitForFunction(() => globalThis.hotwasm.state.traps > 0, null, { timeout: 10_000 });
    await page.waitForSelector('#banner:not([hidden])');
    const banner = await page.textContent('#banner');
    assert.match(banner, /particle_color/);
    assert.match(banner, /rolled back/);
    assert.equal((await varOf(page, 'particle_color')).history.length, before.history.length, 'back to its previous version');
    const traps = (await stats(page)).traps;
    await framesPass(page, 30);
    assert.equal((await stats(page)).traps, traps, 'no further traps after the rollback');
    await screenshot(page, '05-trap-rolled-back');
    await page.close();
  });

  test('hotwasm_main runs once on the page and its output comes back', async () => {
    const page = await openDemo(app.browser, app.server.url);
    const r = await evalIn(
      page,
      `#include <stdio.h>
${APP_INCLUDE}

uint32_t background_color(const World *world) { (void)world; return 0xff181818u; }

void hotwasm_main(void) {
    printf("counted %u particles\\n", demo_world()->count);
}
`,
      'c',
      'main.c',
    );
    assert.equal(r.ok, true, r.error);
    assert.match(r.pages.map((p) => p.output).join('\n'), /counted \d+ particles/);
    const shown = await page.evaluate(() => document.getElementById('log').textContent.match(/counted \d+ particles/g) ?? []);
    assert.equal(shown.length, 1, 'the page’s console shows what the eval printed, once');
    await page.close();
  });

  test('a reload replays the journal: the patched behaviour is back', async () => {
    const page = await openDemo(app.browser, app.server.url);
    const color = 0xff204080;
    const r = await evalIn(page, BG('0xff204080u'), 'c', 'background_color.c');
    assert.equal(r.ok, true, r.error);
    await waitBackground(page, color);
    await page.reload();
    await page.waitForFunction(() => globalThis.hotwasm?.view && globalThis.hotwasm.stats().frame > 5);
    await waitConnected(page);
    await waitBackground(page, color, 15_000);
    assert.ok((await varOf(page, 'background_color')).patched, 'background_color patched after reload');
    await screenshot(page, '06-after-reload-replay');
    await page.close();
  });

  test('two pages both get a patch', async () => {
    const a = await openDemo(app.browser, app.server.url);
    const b = await openDemo(app.browser, app.server.url);
    const color = 0xff606020;
    const r = await evalIn(a, BG('0xff606020u'), 'c', 'background_color.c');
    assert.equal(r.ok, true, r.error);
    assert.ok(r.pages.length >= 2, `two pages acked: ${JSON.stringify(r.pages)}`);
    await waitBackground(a, color);
    await waitBackground(b, color);
    await screenshot(b, '07-second-page-patched');
    await a.close();
    await b.close();
  });

  test('a restarted server is reconnected to by itself', async () => {
    const page = await openDemo(app.browser, app.server.url);
    const frame0 = (await stats(page)).frame;
    await app.server.stop();
    await page.waitForFunction(() => globalThis.hotwasm.hot.state !== 'open', null, { timeout: 10_000 });
    await framesPass(page, 10); // animates while offline
    await screenshot(page, '08-offline');
    await app.server.restart();
    await waitConnected(page, 15_000);
    assert.ok((await stats(page)).frame > frame0, 'same page, state kept');
    const r = await evalIn(page, BG('0xff301818u'), 'c', 'background_color.c');
    assert.equal(r.ok, true, `eval after reconnect: ${r.error}`);
    await screenshot(page, '09-reconnected');
    await page.close();
  });
});
