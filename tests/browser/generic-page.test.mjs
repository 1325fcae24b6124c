// hotwasm's generic page (web/page/, built only on the public client API) running an app it
// knows only from /hotwasm/app.json: it loads the bundle, drives the app's frame export through
// `hot.call`, and so gets trap safety without a line of app-side JS. Two apps: the particles demo
// (shown on the generic page instead of its own) and a small C app fresh from `hotwasm init`.

import { describe, test } from 'node:test';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import assert from 'node:assert/strict';
import { APP_INCLUDE, GENERIC_PAGE_ARGS, hotwasm, openGeneric, pressEval, screenshot, servedApp } from './helpers.mjs';

/** The generic page's counters: frames run, traps seen, paused, and the app it loaded. */
const generic = (page) =>
  page.evaluate(() => {
    const { frames, traps, paused, app } = globalThis.hotwasm.state;
    return { frames, traps, paused, app };
  });
const varOf = (page, name) => page.evaluate((n) => globalThis.hotwasm.hot.vars().find((v) => v.name === n), name);

describe('the generic page running the particles app', { timeout: 300_000 }, () => {
  const served = servedApp({ serve: { args: GENERIC_PAGE_ARGS } });

  test('it loads the app that /hotwasm/app.json names and calls its frame export every frame', async () => {
    const page = await openGeneric(served.browser, served.server.url);
    const app = await page.evaluate(async () => (await fetch('/hotwasm/app.json')).json());
    const s = await generic(page);
    assert.equal(s.app.name, app.name);
    assert.ok(app.frame, 'app.json names a frame export');
    assert.ok(s.frames > 5, 'frames ran');
    assert.match(await page.title(), new RegExp(app.name));
    await page.close();
  });

  test('a patch that traps inside the frame is rolled back by hot.call and the frames go on', async () => {
    const page = await openGeneric(served.browser, served.server.url);
    await page.fill(
      '#code',
      `${APP_INCLUDE}

void step_particle(World *world, Particle *p, float dt) {
    (void)world; (void)p; (void)dt;
    __builtin_trap();
}
`,
    );
    const r = await pressEval(page);
    assert.equal(r.ok, true, `the trapping patch applied: ${r.error} ${r.raw_output ?? ''}`);
    await page.waitForFunction(() => globalThis.hotwasm.state.traps > 0, null, { timeout: 10_000 });
    await page.waitForSelector('#banner:not([hidden])');
    assert.match(await page.textContent('#banner'), /Trap in step_particle \(patch #\d+\): rolled back/);
    assert.equal((await varOf(page, 'step_particle')).patched, false, 'step_particle runs its previous version');
    assert.match(await page.textContent('#log'), /trap in step_particle \(patch #\d+\) → rolled back \(stack\)/);
    const { frames, traps } = await generic(page);
    await page.waitForFunction((f) => globalThis.hotwasm.state.frames > f + 30, frames, { timeout: 10_000 });
    assert.equal((await generic(page)).traps, traps, 'no further traps: the rollback holds');
    assert.equal((await generic(page)).paused, false);
    await screenshot(page, 'generic-01-trap-rolled-back');
    await page.close();
  });

  test('a line typed into the console is evaluated on the page, and ↑ brings it back', async () => {
    const page = await openGeneric(served.browser, served.server.url);
    await page.fill('#console-input', 'unsigned background_color(const void *w) { (void)w; return 0xff0000ffu; }');
    await page.press('#console-input', 'Enter');
    await page.waitForFunction(() => /console\.c live as patch #\d+/.test(document.getElementById('log').textContent), null, { timeout: 60_000 });
    assert.equal((await varOf(page, 'background_color')).patched, true);
    assert.equal(await page.inputValue('#console-input'), '', 'the entry is cleared');
    await page.press('#console-input', 'ArrowUp');
    assert.match(await page.inputValue('#console-input'), /^unsigned background_color/, '↑ brings the line back');
    await page.close();
  });
});

describe('the generic page running a small C app made by hotwasm init', { timeout: 900_000 }, () => {
  const served = servedApp({
    prepare: () => {
      const dir = mkdtempSync(join(tmpdir(), 'hotwasm-tiny-'));
      hotwasm(['init', '--lang', 'c', '--name', 'tiny', join(dir, 'tiny')]);
      hotwasm(['build', '--hot', '--project', join(dir, 'tiny')]);
      return dir;
    },
    serve: (dir) => ({ project: join(dir, 'tiny') }),
  });

  test('an eval changes what the app computes while its frame count carries on', async () => {
    const page = await openGeneric(served.browser, served.server.url);
    const before = await page.evaluate(() => globalThis.hotwasm.hot.call('app_frames'));
    await page.fill('#code', '#include "app.h"\n\nint32_t app_value(int32_t frame) {\n    return 1000 + frame % 7;\n}\n');
    const r = await pressEval(page);
    assert.equal(r.ok, true, `${r.error} ${r.raw_output ?? ''}`);
    const now = await page.evaluate(() => ({ value: globalThis.hotwasm.hot.call('app_current'), frames: globalThis.hotwasm.hot.call('app_frames') }));
    assert.ok(now.value >= 1000 && now.value < 1007, `app_current() is the patched value: ${now.value}`);
    assert.ok(now.frames > before, `the app kept counting frames (${before} → ${now.frames}), not restarted`);
    await page.close();
  });

  test('a trapping app_value is rolled back by hot.call; the app keeps running', async () => {
    const page = await openGeneric(served.browser, served.server.url);
    await page.fill('#code', '#include "app.h"\n\nint32_t app_value(int32_t frame) {\n    if (frame >= 0) __builtin_trap();\n    return 0;\n}\n');
    const r = await pressEval(page);
    assert.equal(r.ok, true, `the trapping patch applied: ${r.error} ${r.raw_output ?? ''}`);
    // The host calls app_value every 120 frames; call it now through the trap-safe wrapper too.
    await page.evaluate(() => globalThis.hotwasm.hot.call('app_current'));
    await page.waitForFunction(() => globalThis.hotwasm.state.traps > 0, null, { timeout: 10_000 });
    assert.match(await page.textContent('#banner'), /Trap in app_value \(patch #\d+\): rolled back/);
    const value = await page.evaluate(() => globalThis.hotwasm.hot.call('app_current'));
    assert.equal(typeof value, 'number', 'app_value runs its previous version again');
    const { frames, traps } = await generic(page);
    await page.waitForFunction((f) => globalThis.hotwasm.state.frames > f + 30, frames, { timeout: 10_000 });
    assert.equal((await generic(page)).traps, traps, 'no further traps');
    await screenshot(page, 'generic-02-small-c-app-trap');
    await page.close();
  });

  test('clicking a var in the history puts a definition with its signature in the editor, and it evaluates', async () => {
    const page = await openGeneric(served.browser, served.server.url);
    await page.click('.hist-var[data-var="app_value"] .var-name');
    assert.match(await page.inputValue('#code'), /int32_t app_value\(int32_t a0\) \{/);
    const r = await pressEval(page);
    assert.equal(r.ok, true, `the stub compiles and applies: ${r.error} ${r.raw_output ?? ''}`);
    assert.equal(await page.evaluate(() => globalThis.hotwasm.hot.call('app_current')), 0, 'the stub returns 0');
    await page.close();
  });

  test('console commands: :vars lists the vars, :rollback rolls one back, :cpp switches the language', async () => {
    const page = await openGeneric(served.browser, served.server.url);
    const logText = () => page.textContent('#log');
    const enter = async (line) => {
      await page.fill('#console-input', line);
      await page.press('#console-input', 'Enter');
    };
    await enter(':vars');
    await page.waitForFunction(() => /app_value "ii"/.test(document.getElementById('log').textContent));
    await enter('int app_value(int frame) { (void)frame; return 7; }');
    await page.waitForFunction(() => /console\.c live as patch #\d+/.test(document.getElementById('log').textContent), null, { timeout: 60_000 });
    assert.equal(await page.evaluate(() => globalThis.hotwasm.hot.call('app_current')), 7);
    await enter(':rollback app_value');
    await page.waitForFunction(() => /app_value rolled back on every page/.test(document.getElementById('log').textContent), null, { timeout: 10_000 });
    assert.notEqual(await page.evaluate(() => globalThis.hotwasm.hot.call('app_current')), 7, 'the previous version is back');
    await enter(':cpp');
    await enter('extern "C" int app_value(int frame) { return frame >= 0 ? 8 : 0; }');
    await page.waitForFunction(() => /console\.cpp live as patch #\d+/.test(document.getElementById('log').textContent), null, { timeout: 60_000 });
    assert.equal(await page.evaluate(() => globalThis.hotwasm.hot.call('app_current')), 8);
    assert.doesNotMatch(await logText(), /compile error/);
    await page.close();
  });
});
