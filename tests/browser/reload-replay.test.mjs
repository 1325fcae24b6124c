// What a reload replays (docs/PROTOCOL.md, "What a reload replays"): a new wasm instance is sent
// the program — every eval that defines something, with the statements written beside its
// definitions — but not the commands (evals of statements and expressions only, such as
// `sq(9)` or `bumps += 1;`), and its console stays quiet: one summary line. A page that was
// running and catches up after a disconnect is sent the commands it missed.
//
// The app: bounce (examples/c-host, copied to a temp dir) on hotwasm's generic page, the real
// server and headless Chromium.
//
//   node --test tests/browser/reload-replay.test.mjs

import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { bounceApp, evalIn, openGeneric, servedApp, waitConnected } from './helpers.mjs';

const ok = (r) => assert.equal(r.ok, true, `${r.stage}: ${r.error} ${r.raw_output ?? ''}`);
/** The value every page gave for `expr` (one text per page). */
const values = async (page, expr) => {
  const r = await evalIn(page, `${expr}\n`, 'c', 'value.c');
  ok(r);
  return r.pages.map((p) => p.value?.text);
};

describe('what a reload replays', { timeout: 300_000 }, () => {
  const app = servedApp({ prepare: () => bounceApp(), serve: (dir) => ({ project: dir }) });

  test('a reloaded page gets the definitions and their statements, not the commands, and logs one line for the replay', async () => {
    const page = await openGeneric(app.browser, app.server.url);
    ok(await evalIn(page, '#include <stdint.h>\nint32_t bumps = 0;\nint32_t sq(int32_t x) { return x * x; }\n', 'c', 'defs.c'));
    ok(await evalIn(page, '#include <stdio.h>\nbumps += 1;\nprintf("bumped\\n");\n', 'c', 'command.c'));
    assert.deepEqual(await values(page, 'sq(9)'), ['81']);
    ok(await evalIn(page, '#include <stdint.h>\nint32_t twice(int32_t x) { return 2 * x; }\nbumps += 10;\n', 'c', 'with-statement.c'));
    assert.deepEqual(await values(page, 'bumps'), ['11']);

    await page.reload();
    await page.waitForFunction(() => /journal replayed/.test(document.getElementById('log')?.textContent ?? ''), null, { timeout: 30_000 });
    await waitConnected(page);
    const log = await page.evaluate(() => [...document.querySelectorAll('#log li')].map((li) => li.textContent));
    assert.deepEqual(await values(page, 'bumps'), ['10'], 'the definitions\' statement ran again; the command did not');
    assert.deepEqual(await values(page, 'twice(sq(3))'), ['18'], 'both definitions are back');
    const replayLines = log.filter((l) => /replay|printed|bumped|= 81/.test(l));
    assert.deepEqual(
      replayLines.map((l) => l.replace(/^\d\d:\d\d:\d\d/, '')),
      ['journal replayed: 2 entries'],
      `one quiet line for the replay:\n${log.join('\n')}`,
    );
    await page.close();
  });

  test('a page that missed a command while disconnected runs it when it catches up', async () => {
    const page = await openGeneric(app.browser, app.server.url);
    const offline = await openGeneric(app.browser, app.server.url);
    assert.deepEqual(await values(page, 'bumps'), ['10', '10']);
    await offline.evaluate(() => globalThis.hotwasm.hot.connection.stop());
    ok(await evalIn(page, 'bumps += 100;\n', 'c', 'command.c'));
    await offline.evaluate(() => globalThis.hotwasm.hot.connection.start());
    await waitConnected(offline);
    assert.deepEqual(await values(page, 'bumps'), ['110', '110'], 'both pages ran the command once');
    await page.close();
    await offline.close();
  });
});
