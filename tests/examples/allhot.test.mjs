// All-hot mode end to end (docs/ALL-HOT.md): examples/allhot-c, a C app with no hotwasm marks and
// no export list for patches, built with `hotwasm build --hot`, served by the real server, its real
// bundle under Node as the page. A patch replaces a `static` function the host calls and calls a
// hidden internal function and a static global; rollback restores the host's own; cold functions
// are refused before sending, naming why.
//
//   node --experimental-websocket --test tests/examples/allhot.test.mjs

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT, applyPatch, attachPage, callExport, hotwasmCommand, serveApp } from '../lib/node-page.mjs';

const HOTWASM = hotwasmCommand();
const applied = (hot, source) => applyPatch(hot, source, 'c');

describe('examples/allhot-c: every function hot, no marks', { timeout: 15 * 60_000 }, () => {
  let server;
  let hot;
  let dir;

  before(async () => {
    dir = join(mkdtempSync(join(tmpdir(), 'hotwasm-allhot-')), 'allhot-c');
    cpSync(join(ROOT, 'examples/allhot-c'), dir, { recursive: true, filter: (s) => !/\/(build|\.hotwasm)$/.test(s) });
    const built = spawnSync(HOTWASM, ['build', '--hot', '--project', dir], { stdio: ['ignore', 'inherit', 'inherit'] });
    assert.equal(built.status, 0, 'hotwasm build --hot failed');
    server = await serveApp(dir, { hotwasm: HOTWASM });
    ({ hot } = await attachPage(join(dir, 'build/hot/tally.js'), server.url));
  });

  after(() => {
    hot?.close();
    server?.stop();
  });

  test('a patch replaces a static function and the host\'s own caller runs it; it calls a hidden host function', async () => {
    for (let i = 0; i < 7; i++) callExport(hot, 'tally_frame', 1 / 60);
    assert.equal(callExport(hot, 'tally_value'), 7, 'the host\'s own step()');
    await applied(hot, '#include "tally.h"\nint32_t step(int32_t n) { return tally_scale(n) + 1; }\n');
    assert.equal(callExport(hot, 'tally_value'), 71, 'tally_value (host code) calls the patched static step, which calls the hidden tally_scale');
    callExport(hot, 'tally_frame', 1 / 60);
    assert.equal(callExport(hot, 'tally_value'), 81, 'the frame count carried on across the patch');
  });

  test('rolling the static function back restores the host\'s own version for its callers', async () => {
    await hot.rollback('step');
    assert.equal(callExport(hot, 'tally_value'), 8);
  });

  test('a patch uses a static global of the host, which nothing exports', async () => {
    await applied(hot, '#include "tally.h"\nextern int32_t frames;\nint32_t step(int32_t n) { return n + frames * 1000; }\n');
    assert.equal(callExport(hot, 'tally_value'), 8008, 'step read the host\'s static `frames` (8)');
    callExport(hot, 'tally_frame', 1 / 60);
    assert.equal(callExport(hot, 'tally_value'), 9009, 'and sees it change as the host runs');
    await hot.rollback('step');
  });

  test('a function kept cold by [hot] cold cannot be redefined, and the refusal names the key', async () => {
    const r = await hot.eval('#include "tally.h"\nint32_t tally_checksum(int32_t x) { return x; }\n', 'c');
    assert.equal(r.ok, false, 'a cold function was redefined');
    assert.match(r.error, /tally_checksum.*kept cold by \[hot\] cold/s);
  });

  test('a static name two files define is refused naming both files and how to choose', async () => {
    const r = await hot.eval('#include "tally.h"\nint32_t clamp(int32_t n) { return n; }\n', 'c');
    assert.equal(r.ok, false, 'an ambiguous static was redefined');
    assert.match(r.error, /`clamp` is defined in src\/scale\.c and src\/tally\.c.*rename one of them/s);
  });

  test('a call to a host function a patch cannot reach is refused before sending, saying so', async () => {
    const r = await hot.eval('#include "tally.h"\nint32_t step(int32_t n) { return tally_checksum(n); }\n', 'c');
    assert.equal(r.ok, false, 'a call to an unreachable host function was sent');
    assert.match(r.error, /calls the host's `tally_checksum`, which a patch cannot reach/);
    assert.doesNotMatch(r.error, /no eval defines it yet/);
  });
});
