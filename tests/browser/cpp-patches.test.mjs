// C++ patches in the particle demo's page (headless Chromium, real server, HOT_RELOAD bundle): the
// editor's C++ switch, a C++ redefinition (extern "C") that changes the picture, the C++ library
// inside a patch (std::string, a caught exception), and an exception escaping a patched function,
// which hot.call treats like a trap: rolled back, the animation goes on.

import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { APP_INCLUDE, evalIn, framesPass, openDemo, screenshot, servedApp, stats, typeAndEval, waitBackground } from './helpers.mjs';

describe('C++ patches in the demo page', { timeout: 600_000 }, () => {
  const app = servedApp();

  test('the editor switches a var to C++; a C++ edit changes the picture and keeps state', async () => {
    const page = await openDemo(app.browser, app.server.url);
    await page.click('#tabs button[data-var="background_color"]');
    await page.click('.lang button[data-lang="cpp"]');
    const text = await page.inputValue('#code');
    assert.match(text, /extern "C"/, 'the C++ default source gives the var C linkage');
    assert.equal(await page.textContent('#tabs button[data-var="background_color"] .lang-tag'), 'cpp');
    const s0 = await stats(page);
    const r = await typeAndEval(page, 'background_color', text.replace('0xff1a1210u', '0xff206040u'));
    assert.equal(r.ok, true, `C++ eval failed: ${r.error} ${r.raw_output}`);
    await waitBackground(page, 0xff206040);
    assert.ok((await stats(page)).frame > s0.frame, 'frame counter kept counting');
    await screenshot(page, 'cpp-01-background');
    await page.close();
  });

  test('a patch uses the C++ library: std::string and an exception caught inside it', async () => {
    const page = await openDemo(app.browser, app.server.url);
    const r = await evalIn(
      page,
      `#include <stdexcept>
#include <string>
${APP_INCLUDE}

extern "C" uint32_t background_color(const World *world) {
    (void)world;
    std::string s = "abc";
    try {
        throw std::runtime_error("caught");
    } catch (const std::exception &e) {
        s += e.what();
    }
    return s.size() == 9 ? 0xff303030u : 0xff0000ffu;
}
`,
      'cpp',
      'background_color.cpp',
    );
    assert.equal(r.ok, true, `${r.error} ${r.raw_output}`);
    await waitBackground(page, 0xff303030);
    await page.close();
  });

  test('an exception escaping a patched function is rolled back like a trap', async () => {
    const page = await openDemo(app.browser, app.server.url);
    const r = await evalIn(
      page,
      `${APP_INCLUDE}

extern "C" uint32_t particle_color(const World *world, const Particle *p) {
    if (world->frame % 1000000u != 12345u) throw 42;
    return p->rgba;
}
`,
      'cpp',
      'particle_color.cpp',
    );
    assert.equal(r.ok, true, `${r.error} ${r.raw_output}`);
    await page.waitForFunction(() => globalThis.hotwasm.state.traps > 0, null, { timeout: 10_000 });
    assert.match(await page.textContent('#banner'), /particle_color.*rolled back/s);
    const { traps } = await stats(page);
    await framesPass(page, 30);
    assert.equal((await stats(page)).traps, traps, 'no further traps after the rollback');
    await page.close();
  });
});
