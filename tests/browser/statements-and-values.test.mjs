// Statements and expressions typed into a real page: the particles app on hotwasm's generic page
// in headless Chromium. A line typed into the page console that ends with an expression shows
// its value and type in the console; a statement-only eval runs once on the page; a Rust
// expression prints through Debug; a compile error in a statement keeps the user's line; a
// session typed into the console builds on itself the way a REPL's does (earlier evals' functions
// and globals without redeclaring them, redefinitions reaching earlier callers, mutual recursion,
// a stored function pointer, the C library).

import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { GENERIC_PAGE_ARGS, evalIn, openGeneric, servedApp } from './helpers.mjs';

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
  let page;

  const app = servedApp({ serve: { args: GENERIC_PAGE_ARGS } });
  before(async () => {
    page = await openGeneric(app.browser, app.server.url);
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
  test('console evals build on each other like a REPL session', async () => {
    const value = async (source) => {
      const r = await evalIn(page, source);
      assert.ok(r.ok, `${JSON.stringify(source)}: ${r.error}\n${r.raw_output ?? ''}`);
      return r.pages[0];
    };
    // Definitions, then uses that declare nothing: the generated vars header is included.
    await value('int tally = 0;\nint scale(int v) { return v * 3; }\nint twice_scaled(int v) { return 2 * scale(v); }\nint (*keep)(int) = scale;');
    for (const expected of ['1', '2', '3']) {
      assert.deepEqual((await value('tally += 1;\ntally')).value, { type: 'int', text: expected }, 'a global bumped by three evals');
    }
    assert.equal((await value('twice_scaled(5)')).value.text, '30');
    // Redefining the callee reaches the earlier caller and the stored function pointer.
    await value('int scale(int v) { return v * 10; }');
    assert.equal((await value('twice_scaled(5)')).value.text, '100', 'an earlier caller sees the new callee');
    assert.equal((await value('keep(2)')).value.text, '20', 'a stored function pointer follows the redefinition');
    // Mutual recursion across two evals (a forward declaration, then its definition).
    await value('int is_odd(int);\nint is_even(int n) { return n == 0 ? 1 : is_odd(n - 1); }');
    await value('int is_odd(int n) { return n == 0 ? 0 : is_even(n - 1); }');
    assert.equal((await value('is_even(10) && is_odd(7)')).value.text, '1');
    // The C library: host printf with floats, qsort and hypot linked into the patch.
    const libc = await value('#include <stdio.h>\n#include <stdlib.h>\n#include <math.h>\nstatic int up(const void *a, const void *b) { return *(const int *)a - *(const int *)b; }\nint xs[4] = {4, 1, 3, 2};\nqsort(xs, 4, sizeof xs[0], up);\nprintf("%.2f %d%d%d%d\\n", hypot(3, 4), xs[0], xs[1], xs[2], xs[3]);');
    assert.equal(libc.output.trim(), '5.00 1234');
    // A changed signature is still refused naming both (the header steps aside for it).
    const r = await evalIn(page, 'double scale(double v) { return v; }');
    assert.equal(r.ok, false);
    assert.match(r.error, /`ii`.*`dd`/);
  });
});
