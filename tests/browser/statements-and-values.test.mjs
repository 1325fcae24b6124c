// Statements and expressions typed into a real page: the particles app on hotwasm's generic page
// in headless Chromium. A line typed into the page console that ends with an expression shows
// its value and type in the console; a statement-only eval runs once on the page; a Rust
// expression prints through Debug; a compile error in a statement keeps the user's line.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { GENERIC_PAGE_ARGS, ensureBundle, evalIn, launchBrowser, openGeneric, startServer } from './helpers.mjs';

/** Types `line` into the page console and presses Enter, like a user. */
async function typeLine(page, line) {
  await page.fill('#console-input', line);
  await page.focus('#console-input');
  await page.keyboard.press('Enter');
}

/** Waits for a console line of kind `value` whose text is `text`. */
const waitValueLine = (page, text) =>
  page.waitForFunction(
    (t) => [...document.querySelectorAll('#log li.log-value span')].some((s) => s.textContent === t),
    text,
    { timeout: 60_000 },
  );

describe('statements and expressions in the page', { timeout: 300_000 }, () => {
  let server;
  let browser;
  let page;

  before(async () => {
    ensureBundle({ hot: true });
    server = await startServer({ args: GENERIC_PAGE_ARGS });
    browser = await launchBrowser();
    page = await openGeneric(browser, server.url);
  });

  after(async () => {
    await browser?.close();
    await server?.stop();
  });

  test('an expression typed into the console shows its value and type there', async () => {
    await typeLine(page, '6*7');
    await waitValueLine(page, '= 42 (int)');
    await typeLine(page, '"hot" "wasm"');
    await waitValueLine(page, '= "hotwasm" (char *)');
    assert.deepEqual(page.pageErrors, []);
  });

  test('a statement-only eval runs once on the page and prints no value', async () => {
    await evalIn(page, 'int hits = 0;\n');
    const r = await evalIn(page, 'extern int hits;\nhits += 1;\n');
    assert.ok(r.ok, r.error);
    assert.equal(r.pages.length, 1);
    assert.equal(r.pages[0].value ?? null, null);
    const v = await evalIn(page, 'extern int hits;\nhits * 1.5');
    assert.deepEqual(v.pages[0].value, { type: 'double', text: '1.5' });
  });

  test('a Rust expression prints through Debug', async () => {
    const r = await evalIn(page, 'let v = vec![3u8, 1, 2];\nv.len()', 'rust');
    assert.ok(r.ok, `${r.error}\n${r.raw_output}`);
    assert.deepEqual(r.pages[0].value, { type: 'usize', text: '3' });
  });

  test("a compile error in a statement is reported at the user's line", async () => {
    const r = await evalIn(page, 'int ok_here = 1;\n\n\nok_here = nope + 1;\n');
    assert.equal(r.ok, false);
    const d = r.diagnostics.find((x) => x.severity === 'error');
    assert.equal(d.line, 4, JSON.stringify(d));
  });
});
