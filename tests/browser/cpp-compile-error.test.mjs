// A C++ compile error in the particle demo's page (headless Chromium, real server): the overlay
// names the user's file and line, the editor's gutter marks that line, and the old code keeps
// running.

import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { openDemo, screenshot, servedApp, stats, typeAndEval } from './helpers.mjs';

describe('a C++ compile error in the demo page', { timeout: 600_000 }, () => {
  const app = servedApp();

  test('shows in the overlay at the user\'s line, and the app keeps running', async () => {
    const page = await openDemo(app.browser, app.server.url);
    await page.click('#tabs button[data-var="background_color"]');
    await page.click('.lang button[data-lang="cpp"]');
    const bad = `#include <vector>
#include "particles.h"
extern "C" uint32_t background_color(const World *world) {
  std::vector<uint32_t> shades{0xff102030u};
  shades.push_bak(0xff000000u);  // line 5: a typo
  (void)world;
  return shades.front();
}
`;
    const s0 = await stats(page);
    const r = await typeAndEval(page, 'background_color', bad);
    assert.equal(r.ok, false);
    assert.equal(r.stage, 'compile');
    const first = r.diagnostics.find((d) => d.severity === 'error');
    assert.ok(first, `an error diagnostic: ${JSON.stringify(r.diagnostics)}`);
    assert.equal(first.line, 5, `the user's line, not the prelude's: ${JSON.stringify(first)}`);
    assert.match(first.message, /push_bak/);
    await page.waitForSelector('#diag-overlay:not([hidden])');
    assert.match(await page.textContent('#diag-list'), new RegExp(`${first.file.replace(/[.]/g, '\\.')}:5:${first.column}`));
    const marked = await page.$$eval('#gutter .mark-error', (els) => els.map((e) => Number(e.textContent)));
    assert.ok(marked.includes(5), `gutter marks line 5: ${marked}`);
    await page.waitForFunction((f) => globalThis.hotwasm.stats().frame > f, s0.frame);
    await screenshot(page, 'cpp-02-compile-error');
    await page.close();
  });
});
