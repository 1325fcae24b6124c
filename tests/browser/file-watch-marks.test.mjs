// A saved file that fails to compile shows in the overlay of every page, and marks lines only in
// an editor that shows that file — never in whatever editor tab happens to be open.

import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PARTICLES, openDemo, screenshot, servedApp } from './helpers.mjs';

describe('file-watch errors in the demo page', { timeout: 300_000 }, () => {
  const name = `zz-browser-test-${process.pid}.c`;
  const file = join(PARTICLES, 'patches', name);
  const app = servedApp({ serve: { watch: true } });
  after(() => rmSync(file, { force: true }));

  test('a saved file’s error shows in the overlay and marks no line of the open editor tab', async () => {
    const page = await openDemo(app.browser, app.server.url);
    await page.click('#tabs button[data-var="background_color"]');
    await page.evaluate(() => {
      globalThis.nextDiagnostics = new Promise((resolve) => globalThis.hotwasm.hot.on('diagnostics', resolve));
    });
    writeFileSync(file, '/* saved with a typo on line 2 */\nint broken(void) { return 1 }\n');
    const d = await page.evaluate(() => globalThis.nextDiagnostics);
    assert.match(d.name, new RegExp(name.replace(/\./g, '\\.')));
    assert.ok(d.diagnostics.some((x) => x.line === 2), `an error on line 2: ${JSON.stringify(d.diagnostics)}`);
    await page.waitForSelector('#diag-overlay:not([hidden])');
    assert.match(await page.textContent('#diag-title'), new RegExp(name.replace(/\./g, '\\.')));
    assert.match(await page.textContent('#diag-list'), /:2:/);
    assert.equal(await page.$$eval('#gutter .mark-error', (els) => els.length), 0, 'the background_color tab is not marked');
    assert.equal(await page.$$eval('#marks .band', (els) => els.length), 0, 'no line bands either');
    await screenshot(page, '11-file-watch-error-overlay-only');
    await page.close();
  });
});
