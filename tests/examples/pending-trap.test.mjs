// A call to a var that no eval defines yet, in real pages: examples/c-host (marked hot functions)
// built with HOT_RELOAD=1 and examples/allhot-c (every function hot) built with
// `hotwasm build --hot`, served by `hotwasm serve`, each bundle run under Node as the page (the
// public client over a real WebSocket). The trap names the var that was called, nothing is rolled back, the app
// keeps running, and once an eval defines the var the same call works.
//
//   node --experimental-websocket --test tests/examples/pending-trap.test.mjs

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TRAPPED } from '../../web/hotwasm-client.js';
import { ROOT, attachPage, nextPatch, serveApp } from '../lib/node-page.mjs';

const APP = join(ROOT, 'examples/c-host');
const PENDING = '`later` was called but no eval defines it yet: define it (or undo the eval that calls it)';

async function applied(hot, source) {
  const patch = nextPatch(hot);
  const result = await hot.eval(source, 'c');
  assert.ok(result.ok, `eval failed: ${result.error}\n${result.raw_output ?? ''}`);
  const p = await patch;
  assert.ok(p.ok, `the page did not apply the patch: ${p.error}`);
  return result;
}

/** Calls `fn` through `hot.call`, insists it trapped, and returns the one trap event. */
function trapOf(hot, fn) {
  const traps = [];
  const off = hot.on('trap', (t) => traps.push(t));
  assert.equal(hot.call(fn), TRAPPED, `${fn} did not trap`);
  off();
  assert.equal(traps.length, 1);
  return traps[0];
}

/** The trap names `later`, says how to fix it and rolls nothing back. */
function assertPendingLater(t) {
  assert.equal(t.message, PENDING);
  assert.equal(t.pending, 'later');
  assert.equal(t.how, 'pending');
  assert.deepEqual(t.vars, [], 'the callers are not at fault: nothing rolled back');
}

describe('a call to a pending var in examples/c-host', { timeout: 25 * 60_000 }, () => {
  let server;
  let hot;
  before(async () => {
    const r = spawnSync('bash', [join(ROOT, 'scripts/emscripten-bundle.sh'), APP], {
      cwd: ROOT,
      env: { ...process.env, HOT_RELOAD: '1' },
      stdio: ['ignore', 'inherit', 'inherit'],
      timeout: 20 * 60_000,
    });
    assert.equal(r.status, 0, 'building examples/c-host failed');
    server = await serveApp(APP, { hotwasm: process.env.HOTWASM_BIN });
    ({ hot } = await attachPage(join(APP, 'build/hot/bounce.js'), server.url));
  });
  after(() => {
    hot?.close();
    server?.stop();
  });

  test('traps with a message naming the var, rolls nothing back, and works once an eval defines it', async () => {
    assert.notEqual(hot.call('bounce_frame', 1 / 60), TRAPPED);
    assert.ok(hot.call('bounce_balls') > 0, 'the first frame spawned a ball');
    // Another pending var, called from another patch: the trap names only the one it called.
    await applied(hot, 'int elsewhere(int);\nint uses_elsewhere(int x) { return elsewhere(x); }\n');
    await applied(hot, 'int later(int);\nint uses_later(int x) { return later(x) + 1; }\n');
    await applied(hot, '#include "bounce.h"\nint uses_later(int);\nuint32_t ball_color(const Ball *ball) { (void)ball; return (uint32_t)uses_later(7); }\n');
    assertPendingLater(trapOf(hot, 'bounce_first_color'));
    const live = (name) => hot.vars().find((v) => v.name === name);
    assert.equal(live('uses_later').version, 1, 'uses_later keeps its version');
    assert.ok(live('ball_color').patched, 'ball_color keeps the patch that calls uses_later');
    assert.notEqual(hot.call('bounce_score'), TRAPPED, 'the app keeps running');

    // Statements that call it: the eval's run-once function traps, named the same way, and is undone.
    const run = nextPatch(hot);
    await hot.eval('int later(int);\nlater(3);\n', 'c');
    const p = await run;
    assert.equal(p.ok, false);
    assert.ok(p.error.includes(PENDING), p.error);
    assert.ok(p.runUndone, 'the page undid the eval whose statements trapped');

    await applied(hot, 'int later(int x) { return x * 10; }\n');
    assert.equal(hot.call('bounce_first_color'), 71, 'the same call reaches the new later');
  });
});

describe('a call to a pending var in examples/allhot-c (every function hot)', { timeout: 25 * 60_000 }, () => {
  let server;
  let hot;
  before(async () => {
    const dir = join(mkdtempSync(join(tmpdir(), 'hotwasm-pending-')), 'allhot-c');
    cpSync(join(ROOT, 'examples/allhot-c'), dir, { recursive: true, filter: (s) => !/\/(build|\.hotwasm)$/.test(s) });
    const [command, argv] = process.env.HOTWASM_BIN ? [process.env.HOTWASM_BIN, []] : ['bash', [join(ROOT, 'scripts/hotwasm')]];
    const built = spawnSync(command, [...argv, 'build', '--hot', '--project', dir], { stdio: ['ignore', 'inherit', 'inherit'] });
    assert.equal(built.status, 0, 'hotwasm build --hot failed');
    server = await serveApp(dir, { hotwasm: process.env.HOTWASM_BIN });
    ({ hot } = await attachPage(join(dir, 'build/hot/tally.js'), server.url));
  });
  after(() => {
    hot?.close();
    server?.stop();
  });

  test('the host\'s own caller reaches the pending var: the trap names it; defining it makes the call work', async () => {
    await applied(hot, 'int later(int);\nint uses_later(int x) { return later(x) + 1; }\n');
    await applied(hot, '#include "tally.h"\nint uses_later(int);\nint32_t step(int32_t n) { (void)n; return uses_later(7); }\n');
    assertPendingLater(trapOf(hot, 'tally_value'));
    assert.notEqual(hot.call('tally_frame', 1 / 60), TRAPPED, 'the app keeps running');
    await applied(hot, 'int later(int x) { return x * 10; }\n');
    assert.equal(hot.call('tally_value'), 71, 'tally_value (host code) → step → uses_later → later');
  });
});
