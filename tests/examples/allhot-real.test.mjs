// All-hot mode on real third-party code (issue 18, docs/ALL-HOT.md): Lua 5.4 (C) and Box2D 2.3
// (C++), their sources fetched through cargo and set up as apps with no marks and no export list
// for patches by benches/real-apps.mjs, built with `hotwasm build --hot`, served by the real
// server, their bundles under Node as the page. A patch replaces one of Lua's `static` functions
// (`str_lower`, which Lua calls through a function pointer) and one of Box2D's member functions
// (`b2World::Step`, calling the host's private `b2Body::SynchronizeFixtures`), and the hosts' own
// callers run them. Skips, saying why, when cargo cannot fetch the sources (offline, no cache).
//
//   node --experimental-websocket --test tests/examples/allhot-real.test.mjs

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { applyPatch, attachPage, callExport, hotwasmCommand, serveApp } from '../lib/node-page.mjs';
import { APPS, fetchSources, setUpApp } from '../../benches/real-apps.mjs';

const HOTWASM = hotwasmCommand();

let sources;
let why = false;
try {
  sources = fetchSources();
} catch (e) {
  why = `the sources of Lua and Box2D could not be fetched through cargo: ${e.message.split('\n')[0]}`;
}

/** Builds the all-hot app, serves it and attaches its bundle: `{ hot, stop }`. */
async function start(app) {
  const dir = setUpApp(app, sources, 'test', { allHot: true });
  const built = spawnSync(HOTWASM, ['build', '--hot', '--project', dir], { stdio: ['ignore', 'inherit', 'inherit'] });
  assert.equal(built.status, 0, `hotwasm build --hot of ${dir} failed`);
  const server = await serveApp(dir, { hotwasm: HOTWASM });
  const { hot } = await attachPage(join(dir, 'build/hot', `${APPS[app].name}.js`), server.url);
  return { hot, stop: () => (hot.close(), server.stop()) };
}

const LOWER_IS_UPPER = `#include <ctype.h>
#include "lua.h"
#include "lauxlib.h"
int str_lower(lua_State *L) {
  size_t l;
  const char *s = luaL_checklstring(L, 1, &l);
  luaL_Buffer b;
  char *p = luaL_buffinitsize(L, &b, l);
  for (size_t i = 0; i < l; i++) p[i] = (char)toupper((unsigned char)s[i]);
  luaL_pushresultsize(&b, l);
  return 1;
}
`;

describe('Lua 5.4 in all-hot mode: a patch replaces a static function of the interpreter', { skip: why, timeout: 20 * 60_000 }, () => {
  let app;
  before(async () => { app = await start('lua'); });
  after(() => app?.stop());

  // First, while the session's prelude does not include lua.h yet (a journaled patch that
  // includes it puts it there): the compiler session (unnamed evals: the page's editor, `hotwasm
  // repl`) parses it against a prelude declaring `int32_t str_lower(int32_t)` from the host's
  // wasm type, and must read lua.h again when it parses the redefinition a second time.
  test('the patch as a first unnamed eval (the compiler session) replaces str_lower', async () => {
    await applyPatch(app.hot, LOWER_IS_UPPER, 'c');
    assert.equal(callExport(app.hot, 'luabench_lower_probe'), 'A'.charCodeAt(0));
    await app.hot.rollback('str_lower');
    assert.equal(callExport(app.hot, 'luabench_lower_probe'), 'a'.charCodeAt(0), 'rolled back to Lua\'s own');
  });

  test('redefining lstrlib.c\'s static str_lower changes what string.lower does in Lua', async () => {
    assert.equal(callExport(app.hot, 'luabench_lower_probe'), 'a'.charCodeAt(0), 'Lua\'s own str_lower');
    const before = callExport(app.hot, 'luabench_frame', 1 / 60);
    await applyPatch(app.hot, LOWER_IS_UPPER, 'c', 'str_lower.c');
    assert.equal(callExport(app.hot, 'luabench_lower_probe'), 'A'.charCodeAt(0), 'the Lua VM called the patch through its function pointer');
    assert.ok(callExport(app.hot, 'luabench_frame', 1 / 60) > 0 && before > 0, 'the interpreter keeps running frames');
    await app.hot.rollback('str_lower');
    assert.equal(callExport(app.hot, 'luabench_lower_probe'), 'a'.charCodeAt(0), 'rolled back to Lua\'s own');
  });
});

// Lifts every dynamic body by 1 m instead of simulating (b2World is a friend of b2Body): the
// frame's height of the top box grows by 1,000 mm a frame. It calls the host's
// b2Body::SynchronizeFixtures, a private member function only Box2D itself calls.
const STEP_LIFTS = `#include "Box2D/Box2D.h"
void b2World::Step(float32 dt, int32 velocityIterations, int32 positionIterations) {
  for (b2Body *b = m_bodyList; b; b = b->m_next) {
    if (b->m_type != b2_dynamicBody) continue;
    b->m_xf.p.y += 1.0f;
    b->m_sweep.c.y += 1.0f;
    b->m_sweep.c0.y += 1.0f;
    b->SynchronizeFixtures();
  }
}
`;

describe('Box2D 2.3 in all-hot mode: a patch replaces a member function of the engine', { skip: why, timeout: 20 * 60_000 }, () => {
  let app;
  before(async () => { app = await start('box2d'); });
  after(() => app?.stop());

  test('redefining b2World::Step changes what the host\'s frame does', async () => {
    const y0 = callExport(app.hot, 'box2d_frame', 1 / 60);
    const y1 = callExport(app.hot, 'box2d_frame', 1 / 60);
    assert.ok(Math.abs(y1 - y0) < 100, `Box2D's own Step: the pyramid rests (${y0} → ${y1} mm)`);
    await applyPatch(app.hot, STEP_LIFTS, 'cpp', 'step.cpp');
    const y2 = callExport(app.hot, 'box2d_frame', 1 / 60);
    assert.ok(Math.abs(y2 - y1 - 1000) <= 2, `the patched Step lifted the top box by 1 m (${y1} → ${y2} mm)`);
    await app.hot.rollback('_ZN7b2World4StepEfii');
    const y3 = callExport(app.hot, 'box2d_frame', 1 / 60);
    assert.ok(y3 < y2, `rolled back to Box2D's own Step: the box falls (${y2} → ${y3} mm)`);
  });

  // b2TreeNode (b2DynamicTree.h) has an anonymous union member, which a session reports as a field
  // without a name: the layout check leaves it out on both sides (it refused this patch before).
  test('the same patch as an unnamed eval (the C++ compiler session) lifts the boxes too', async () => {
    const y0 = callExport(app.hot, 'box2d_frame', 1 / 60);
    await applyPatch(app.hot, STEP_LIFTS, 'cpp');
    const y1 = callExport(app.hot, 'box2d_frame', 1 / 60);
    assert.ok(Math.abs(y1 - y0 - 1000) <= 2, `the session's Step lifted the top box by 1 m (${y0} → ${y1} mm)`);
    await app.hot.rollback('_ZN7b2World4StepEfii');
  });
});
