// A patch compiled against a changed layout of a type the host shares (a field added in the middle
// of `Ball` in the app's header after the host was built) is refused before it reaches the page,
// naming the field and both offsets; the page keeps running the earlier patch. A header edit that
// keeps the layout is applied. The app is a copy of examples/c-host, built with `hotwasm build
// --hot`, served by `hotwasm serve` (no watch: the header edit must not rebuild the host here),
// run by hotwasm's generic page in headless Chromium.
import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { bounceApp, evalIn, openGeneric, servedApp } from './helpers.mjs';

const patch = (color) =>
  `#include "bounce.h"\nuint32_t ball_color(const Ball *ball) {\n  return ball->vx > 0 ? ${color}u : 0xff40ff40u;\n}\n`;
const versionOf = (page, name) =>
  page.evaluate((n) => globalThis.hotwasm.hot.vars().find((v) => v.name === n)?.version, name);

describe('the layout check', { timeout: 300_000 }, () => {
  let page;
  const app = servedApp({ prepare: () => bounceApp(), serve: (dir) => ({ project: dir }) });
  const header = () => join(app.dir, 'src', 'bounce.h');
  const editHeader = (from, to) => {
    const text = readFileSync(header(), 'utf8');
    assert.ok(text.includes(from), `bounce.h has ${from}`);
    writeFileSync(header(), text.replace(from, to));
  };

  before(async () => {
    page = await openGeneric(app.browser, app.server.url);
  });

  test('a header edit that keeps every layout is applied', async () => {
    editHeader('  float vx, vy;', '  /* velocity */\n  float vx, vy;');
    const r = await evalIn(page, patch('0xff4040ff'), 'c', 'patches/colors.c');
    assert.equal(r.ok, true, JSON.stringify(r));
    assert.equal(r.pages.length, 1);
  });

  test('a field added in the middle of a shared struct is refused naming it with both offsets; the page runs on', async () => {
    const before = await versionOf(page, 'ball_color');
    editHeader('  float vx, vy;', '  float mass;\n  float vx, vy;');
    const r = await evalIn(page, patch('0xff0000ff'), 'c', 'patches/colors.c');
    assert.equal(r.ok, false, JSON.stringify(r));
    assert.equal(r.stage, 'check');
    assert.equal(r.seq, null, 'not journaled');
    assert.deepEqual(r.pages, [], 'not sent to the page');
    assert.match(r.error, /layout of `Ball`/);
    assert.match(r.error, /field `vx` \(float\) is at offset 12 in the patch but at offset 8 in the host/);
    assert.match(r.error, /field `mass` \(float\) is at offset 8 in the patch but the host has no such field/);
    assert.match(r.error, /hotwasm build --hot/);
    const f0 = await page.evaluate(() => globalThis.hotwasm.state.frames);
    await page.waitForFunction((f) => globalThis.hotwasm.state.frames > f + 10, f0);
    assert.equal(await versionOf(page, 'ball_color'), before, 'the earlier patch still runs');
  });
});
