// The order of a host reload (web/host-reload.js, docs/PROTOCOL.md "Host rebuilds"): in the new
// host the journal is replayed first, then the app's state is restored, and no frame of the app's
// loop runs before, between or during those steps: the per-frame counter proves it.
//
// A journaled patch records bounce's frame counter twice: once when its statement runs (at the
// replay: the new host must not have run a frame yet, so 0) and once on the first frame its
// `sky_color` draws (which must already see the restored counter, exactly as the old host saved
// it). The app: bounce (examples/c-host, copied to a temp dir) on hotwasm's generic page, the
// real server rebuilding it after a saved host source, headless Chromium.
//
//   node --test tests/browser/host-reload-order.test.mjs

import { describe, test } from 'node:test';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import assert from 'node:assert/strict';
import { bounceApp, evalIn, openGeneric, servedApp } from './helpers.mjs';

const PROBE = `#include "bounce.h"
uint32_t bounce_frames(void);
int32_t frames_at_replay = -1;
int32_t first_frame_seen = -1;
uint32_t sky_color(int32_t score) {
  (void)score;
  if (first_frame_seen < 0) first_frame_seen = (int32_t)bounce_frames();
  return 0xff202020u;
}
frames_at_replay = (int32_t)bounce_frames();
`;

const value = async (page, expr) => {
  const r = await evalIn(page, `${expr}\n`, 'c', 'value.c');
  assert.equal(r.ok, true, `${r.error} ${r.raw_output ?? ''}`);
  return r.pages.map((p) => Number(p.value?.text));
};

describe('a host reload, step by step', { timeout: 300_000 }, () => {
  const app = servedApp({ prepare: () => bounceApp(), serve: (dir) => ({ project: dir, watch: true }) });

  test('no frame runs between the journal replay and the state restore (replay first, then restore)', async () => {
    const page = await openGeneric(app.browser, app.server.url);
    const probe = await evalIn(page, PROBE, 'c', 'probe.c');
    assert.equal(probe.ok, true, `${probe.error} ${probe.raw_output}`);
    await page.waitForFunction(() => globalThis.hotwasm.Module._bounce_frames() > 60, null, { timeout: 30_000 });
    // Paused, the counter the old host saves is exactly the one read here.
    await page.evaluate(() => (globalThis.hotwasm.state.paused = true));
    const saved = await page.evaluate(() => globalThis.hotwasm.Module._bounce_frames());

    const reloaded = page.waitForNavigation({ timeout: 180_000 });
    const c = join(app.dir, 'src', 'bounce.c');
    writeFileSync(c, `${readFileSync(c, 'utf8')}\n/* edited: the server rebuilds the host */\n`);
    await reloaded;
    await page.waitForFunction(() => globalThis.hotwasm?.hot?.hostReloaded?.replayedAt, null, { timeout: 60_000 });
    const detail = await page.evaluate(() => globalThis.hotwasm.hot.hostReloaded);
    assert.equal(detail.restored, true, detail.error);
    await page.waitForFunction(() => globalThis.hotwasm.state.frames > 3, null, { timeout: 30_000 });

    assert.deepEqual(await value(page, 'frames_at_replay'), [0], 'no frame ran on the new host before the replay');
    assert.deepEqual(await value(page, 'first_frame_seen'), [saved], 'the first frame after the replay ran on the restored state: none ran between');
    assert.equal(detail.replayed, 1, 'the probe was replayed before the state came back');
    await page.close();
  });
});
