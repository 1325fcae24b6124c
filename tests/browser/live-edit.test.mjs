// The demo page in headless Chromium against the real dev server and the HOT_RELOAD bundle:
// live edits keep state, errors never stop the animation, traps roll back, reloads replay,
// every page gets a patch, and a restarted server is found again.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  ensureBundle,
  evalIn,
  launchBrowser,
  openDemo,
  screenshot,
  sleep,
  startServer,
  stats,
  typeAndEval,
  waitBackground,
  waitConnected,
} from './helpers.mjs';

const BG = (abgr) => `#include "hotwasm.h"

uint32_t background_color(const World *world) {
    (void)world;
    return ${abgr};
}
`;

async function framesAdvance(page, ms = 400) {
  const a = (await stats(page)).frame;
  await sleep(ms);
  const b = (await stats(page)).frame;
  return b - a;
}

describe('demo page in headless Chromium', { timeout: 600_000 }, () => {
  let server;
  let browser;

  before(async () => {
    ensureBundle({ hot: true });
    server = await startServer();
    browser = await launchBrowser();
  });

  after(async () => {
    await browser?.close();
    await server?.stop();
  });

  test('a live edit changes behaviour while frames and particles carry on', async () => {
    const page = await openDemo(browser, server.url);
    await sleep(1500); // let state build up
    const s0 = await stats(page);
    const p0 = await page.evaluate(() => globalThis.hotwasm.host.particles(4));
    assert.ok(s0.frame > 30, `frames advanced before the edit (${s0.frame})`);
    await screenshot(page, '01-before-edit');

    const color = 0xff402060; // dark purple
    const result = await typeAndEval(page, 'background_color', BG('0xff402060u'));
    assert.equal(result.ok, true, `eval failed: ${result.error} ${result.raw_output}`);
    await sleep(300);
    const s1 = await stats(page);
    assert.ok(s1.frame > s0.frame, 'frame counter kept counting (not reset)');
    assert.ok(s1.bounces >= s0.bounces, 'bounces kept (not reset)');
    await waitBackground(page, color);
    const p1 = await page.evaluate(() => globalThis.hotwasm.host.particles(4));
    // Same particles, moved on from where they were: ages only grow.
    for (let i = 0; i < Math.min(p0.length, p1.length); i++) {
      assert.ok(p1[i].age >= p0[i].age || p1[i].age < 0.5, `particle ${i} was not reset`);
    }
    const timing = await page.textContent('#timing');
    assert.match(timing, /compile.*transfer.*apply/s);
    await screenshot(page, '02-after-background-edit');

    // Gravity upside down through step_particle: particles rise (exported state: mean vy < 0).
    const up = await typeAndEval(
      page,
      'step_particle',
      `#include "hotwasm.h"

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
    await sleep(1200);
    const meanY = await page.evaluate(() => {
      const ps = globalThis.hotwasm.host.particles(200);
      return ps.reduce((a, p) => a + p.y, 0) / ps.length;
    });
    const h = (await stats(page)).height;
    assert.ok(meanY < h * 0.35, `particles rose to the top (mean y ${meanY.toFixed(1)} of ${h})`);
    await screenshot(page, '03-after-gravity-edit');

    // Roll step_particle back from the history panel: goes through the server (journaled).
    const versions = () =>
      page.evaluate(() => globalThis.hotwasm.client.vars().find((v) => v.name === 'step_particle').history.length);
    const n = await versions();
    await page.click('button[data-rollback="step_particle"]');
    await page.waitForFunction(
      (k) => globalThis.hotwasm.client.vars().find((v) => v.name === 'step_particle').history.length === k - 1,
      n,
      { timeout: 10_000 },
    );
    await page.close();
  });

  test('a compile error shows the overlay at the right line and the animation continues', async () => {
    const page = await openDemo(browser, server.url);
    const bad = `#include "hotwasm.h"

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
    const overlayText = await page.textContent('#diag-list');
    assert.match(overlayText, new RegExp(`:${first.line}:${first.column}`));
    assert.ok((await framesAdvance(page)) > 5, 'frames keep advancing under the overlay');
    await screenshot(page, '04-compile-error-overlay');

    const good = await typeAndEval(page, 'background_color', BG('0xff103010u'));
    assert.equal(good.ok, true, `the next good eval works: ${good.error}`);
    assert.equal(await page.isHidden('#diag-overlay'), true, 'overlay gone after a good eval');
    await waitBackground(page, 0xff103010);
    await page.close();
  });

  test('a trap in a patched function rolls it back and the animation continues', async () => {
    const page = await openDemo(browser, server.url);
    const before = await page.evaluate(() => globalThis.hotwasm.client.vars().find((v) => v.name === 'particle_color'));
    const r = await typeAndEval(
      page,
      'particle_color',
      `#include "hotwasm.h"

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
    const afterVar = await page.evaluate(() => globalThis.hotwasm.client.vars().find((v) => v.name === 'particle_color'));
    assert.equal(afterVar.history.length, before.history.length, 'particle_color is back to its previous version');
    assert.ok((await framesAdvance(page)) > 5, 'frames keep advancing after the trap');
    const traps = (await stats(page)).traps;
    await sleep(300);
    assert.equal((await stats(page)).traps, traps, 'no further traps after rollback');
    await screenshot(page, '05-trap-rolled-back');
    await page.close();
  });

  test('hotwasm_main runs once on the page and its output comes back', async (t) => {
    const page = await openDemo(browser, server.url);
    const canRun = await page.evaluate(() => {
      const M = globalThis.hotwasm.Module;
      return typeof M._hotwasm_run === 'function' || (typeof M._dlopen === 'function' && typeof M._dlsym === 'function');
    });
    if (!canRun) {
      t.skip('the host exports neither hotwasm_run nor dlopen/dlsym to JS (asked of the host build)');
      await page.close();
      return;
    }
    const r = await evalIn(
      page,
      `#include <stdio.h>
#include "hotwasm.h"

uint32_t background_color(const World *world) { (void)world; return 0xff181818u; }

void hotwasm_main(void) {
    printf("particles: %u\\n", demo_world()->count);
}
`,
      'c',
      'main.c',
    );
    assert.equal(r.ok, true, r.error);
    const out = r.pages.map((p) => p.output).join('\n');
    assert.match(out, /particles: \d+/);
    await page.close();
  });

  test('a reload replays the journal: the patched behaviour is back', async () => {
    const page = await openDemo(browser, server.url);
    const color = 0xff204080;
    const r = await evalIn(page, BG('0xff204080u'), 'c', 'background_color.c');
    assert.equal(r.ok, true, r.error);
    await waitBackground(page, color);
    await page.reload();
    await page.waitForFunction(() => globalThis.hotwasm?.host && globalThis.hotwasm.stats().frame > 5);
    await waitConnected(page);
    await waitBackground(page, color, 15_000);
    const vars = await page.evaluate(() => globalThis.hotwasm.client.vars());
    assert.ok(vars.find((v) => v.name === 'background_color').patched, 'background_color patched after reload');
    await screenshot(page, '06-after-reload-replay');
    await page.close();
  });

  test('two pages both get a patch', async () => {
    const a = await openDemo(browser, server.url);
    const b = await openDemo(browser, server.url);
    const color = 0xff606020;
    const r = await evalIn(a, BG('0xff606020u'), 'c', 'background_color.c');
    assert.equal(r.ok, true, r.error);
    assert.ok(r.pages.length >= 2, `two pages acked: ${JSON.stringify(r.pages)}`);
    await waitBackground(a, color); // page A shows the patch
    await waitBackground(b, color); // page B shows the patch
    await screenshot(b, '07-second-page-patched');
    await a.close();
    await b.close();
  });

  test('a restarted server is reconnected to by itself', async () => {
    const page = await openDemo(browser, server.url);
    const frame0 = (await stats(page)).frame;
    await server.stop();
    await page.waitForFunction(() => globalThis.hotwasm.client.state !== 'open', null, { timeout: 10_000 });
    assert.ok((await framesAdvance(page)) > 5, 'animates while offline');
    await screenshot(page, '08-offline');
    await server.restart();
    await waitConnected(page, 15_000);
    assert.ok((await stats(page)).frame > frame0, 'same page, state kept');
    const r = await evalIn(page, BG('0xff301818u'), 'c', 'background_color.c');
    assert.equal(r.ok, true, `eval after reconnect: ${r.error}`);
    await screenshot(page, '09-reconnected');
    await page.close();
  });
});
