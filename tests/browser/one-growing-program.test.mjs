// One growing program (issue 21): C and C++ lines typed into the real page's console go through
// the server's persistent compiler session, so what one line declares — a type, a macro, a
// class, a template, an overload — is there for the next, and the values come back from the page.
// The session outlives a page reload (the page replays the journal; the server's session holds
// every declaration) and `:reset` in the console starts a fresh one. The particles app on the
// generic page in headless Chromium, real server.

import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { GENERIC_PAGE_ARGS, evalIn, openGeneric, servedApp, waitConnected } from './helpers.mjs';

/** The value `source` (in `lang`) prints on the one page, after checking it applied. */
async function value(page, source, lang = 'c') {
  const r = await evalIn(page, source, lang);
  assert.ok(r.ok, `${JSON.stringify(source)}: ${r.error}\n${r.raw_output ?? ''}`);
  assert.equal(r.pages.length, 1);
  return r.pages[0].value;
}

describe('one growing program in the page', { timeout: 300_000 }, () => {
  let page;

  const app = servedApp({ serve: { args: GENERIC_PAGE_ARGS } });
  before(async () => {
    page = await openGeneric(app.browser, app.server.url);
  });

  test('a C session keeps a type, a macro and a function for later lines', async () => {
    await value(page, 'typedef struct { int a, b; } pair;\n#define TWICE(x) (2 * (x))\nint pair_sum(pair p) { return p.a + p.b; }\n');
    assert.deepEqual(await value(page, 'TWICE(pair_sum((pair){3, 4}))'), { type: 'int', text: '14' });
    await value(page, 'pair kept = {5, 6};\n');
    assert.deepEqual(await value(page, 'kept.b - kept.a'), { type: 'int', text: '1' });
  });

  test('a C++ session keeps a class, a template and overloads for later lines', async () => {
    await value(
      page,
      '#define SCALE 10\nstruct Point { int x, y; Point(int a, int b) : x{a}, y{b} {} int sum() const { return x + y; } };\ntemplate <typename T> T twice(T v) { return v + v; }\nint area(int w) { return w * w; }\nint area(int w, int h) { return w * h; }\n',
      'cpp',
    );
    assert.deepEqual(await value(page, 'Point(1, 2).sum() * SCALE + twice(3) + area(2) + area(2, 3)', 'cpp'), { type: 'int', text: '46' });
    // A function redefined: the new version is what later lines call.
    await value(page, 'int area(int w) { return w * w * w; }', 'cpp');
    assert.deepEqual(await value(page, 'area(2)', 'cpp'), { type: 'int', text: '8' });
  });

  test('after a page reload the declarations are still there, and :reset forgets them', async () => {
    await page.reload();
    await page.waitForFunction(() => /journal replayed/.test(document.getElementById('log')?.textContent ?? ''), null, { timeout: 30_000 });
    await waitConnected(page);
    assert.deepEqual(await value(page, 'TWICE(pair_sum(kept))'), { type: 'int', text: '22' });
    await page.fill('#console-input', ':reset');
    await page.focus('#console-input');
    await page.keyboard.press('Enter');
    await page.waitForFunction(
      () => [...document.querySelectorAll('#log li')].some((li) => li.textContent.includes('fresh C and C++ sessions')),
      null,
      { timeout: 30_000 },
    );
    const r = await evalIn(page, 'pair_sum(kept)');
    assert.equal(r.ok, false);
    assert.match(JSON.stringify(r.diagnostics), /pair_sum|kept/);
  });
});
