// The public client API (`attach` from web/hotwasm-client.js) against the real HOT_RELOAD
// particles bundle under Node, without the dev server: patches are compiled here with emcc and sent
// the way the server sends them by a fake server on the other end of the client's WebSocket.
//
//   node --test tests/node-client/

import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureBundle, toolchainEnv } from '../browser/helpers.mjs';
import { attach, TRAPPED } from '../../web/hotwasm-client.js';
import { FakeServer } from './fake-server.mjs';

const require = createRequire(import.meta.url);
const work = mkdtempSync(join(tmpdir(), 'hotwasm-node-client-'));
const env = toolchainEnv();
const FRAME = 'demo_frame';

/** Compiles C to a SIDE_MODULE the way the server's plain path does (names kept for traps). */
function sideModule(name, source) {
  const c = join(work, `${name}.c`);
  const so = join(work, `${name}.so`);
  writeFileSync(c, source);
  execFileSync('emcc', ['-O1', '--profiling-funcs', '-fPIC', '-sSIDE_MODULE=1', '-sWASM_BIGINT', '-Wno-version-check', c, '-o', so], {
    env,
    stdio: 'pipe',
  });
  return new Uint8Array(readFileSync(so));
}

/** A fresh instance of the bundle, attached to a fresh fake server and welcomed. */
async function attached(bundle, options = {}) {
  const Module = await require(bundle)({ print: () => {}, printErr: () => {}, noInitialRun: false });
  const server = new FakeServer();
  const events = [];
  const hot = await attach(Module, {
    url: 'ws://127.0.0.1:1/repl?token=t',
    WebSocket: server.WebSocket,
    wait: 'none',
    onEvent: (type, detail) => events.push({ type, detail }),
    ...options,
  });
  const hello = await server.welcome();
  return { Module, hot, server, hello, events };
}

const varOf = (hot, name) => hot.vars().find((v) => v.name === name);

/** The next `type` event of `hot` whose detail passes `pred`. */
const untilEvent = (hot, type, pred = () => true) =>
  new Promise((resolve) => {
    const off = hot.on(type, (d) => pred(d) && (off(), resolve(d)));
  });

describe('attach() under Node', { timeout: 300_000 }, () => {
  let bundle;
  let bg;
  let trap;
  let main;
  before(() => {
    bundle = ensureBundle({ hot: true });
    bg = sideModule('bg', '#include <stdint.h>\nuint32_t background_color__hw900(const void *w) { (void)w; return 0xff0000ffu; }\n');
    trap = sideModule(
      'trap',
      'void step_particle__hw901(void *w, void *p, float dt) { (void)w; (void)p; (void)dt; __builtin_trap(); }\n',
    );
    main = sideModule(
      'main',
      '#include <stdio.h>\n#include <stdint.h>\nuint32_t background_color__hw902(const void *w) { (void)w; return 0xff00ff00u; }\n' +
        'void hotwasm_main__hw902(void) { printf("six times seven is %d\\n", 6 * 7); }\n',
    );
  });

  test('says hello with the journal position of this instance, then reports the connection open', async () => {
    const { hot, hello } = await attached(bundle);
    assert.equal(hello.role, 'page');
    assert.equal(hello.journal_seq, 0);
    assert.equal(hello.journal_epoch, null);
    if (hot.state !== 'open') await untilEvent(hot, 'status', (s) => s.state === 'open');
    assert.equal(hot.state, 'open');
    hot.close();
  });

  test('applies a patch, acks it with timings, emits patch and history, advances the journal', async () => {
    const { hot, server, events } = await attached(bundle);
    assert.notEqual(hot.call(FRAME, 1 / 60), TRAPPED);
    const ack = await server.patch({ seq: 1, manifest: [{ var: 'background_color', symbol: 'background_color__hw900', signature: 'ip' }], bytes: bg });
    assert.equal(ack.ok, true, ack.error);
    assert.equal(typeof ack.apply_ms, 'number');
    assert.equal(hot.journal.seq, 1);
    const patch = events.find((e) => e.type === 'patch').detail;
    assert.equal(patch.ok, true);
    assert.equal(typeof patch.applyMs, 'number');
    assert.ok(events.some((e) => e.type === 'history' && e.detail.find((v) => v.name === 'background_color')?.patched));
    assert.equal(varOf(hot, 'background_color').history.at(-1).symbol, 'background_color__hw900');
    assert.notEqual(hot.call(FRAME, 1 / 60), TRAPPED);
    hot.close();
  });

  test('a patch delivered twice (a reconnect raced with delivery) is applied once', async () => {
    const { hot, server } = await attached(bundle);
    const entry = { seq: 1, manifest: [{ var: 'background_color', symbol: 'background_color__hw900', signature: 'ip' }], bytes: bg };
    await server.patch(entry);
    const versions = varOf(hot, 'background_color').history.length;
    const again = await server.patch(entry);
    assert.equal(again.ok, true);
    assert.equal(varOf(hot, 'background_color').history.length, versions);
    hot.close();
  });

  test('a wrong signature is refused with the host’s words and nothing changes', async () => {
    const { hot, server } = await attached(bundle);
    const ack = await server.patch({ seq: 1, manifest: [{ var: 'background_color', symbol: 'background_color__hw900', signature: 'ipp' }], bytes: bg });
    assert.equal(ack.ok, false);
    assert.match(ack.error, /signature/i);
    const v = varOf(hot, 'background_color');
    assert.equal(v.patched, false);
    assert.equal(v.history.length, 1, 'only the built-in version');
    hot.close();
  });

  test('patches compile asynchronously before dlopen (no synchronous wasm compile)', async () => {
    const { hot, server } = await attached(bundle, { preloadThreshold: 0 });
    let syncCompiles = 0;
    const Orig = WebAssembly.Module;
    WebAssembly.Module = function (...a) {
      syncCompiles += 1;
      return new Orig(...a);
    };
    try {
      const ack = await server.patch({ seq: 1, manifest: [{ var: 'background_color', symbol: 'background_color__hw900', signature: 'ip' }], bytes: bg });
      assert.equal(ack.ok, true, ack.error);
    } finally {
      WebAssembly.Module = Orig;
    }
    assert.equal(syncCompiles, 0, 'dlopen compiled nothing synchronously');
    hot.close();
  });

  test('hot.call returns TRAPPED for a trapping patch, rolls it back, tells the server, and the next call runs (on_trap = code)', async () => {
    const { hot, server, events, Module } = await attached(bundle, { onTrap: 'code' });
    const ack = await server.patch({ seq: 1, manifest: [{ var: 'step_particle', symbol: 'step_particle__hw901', signature: 'vppf' }], bytes: trap });
    assert.equal(ack.ok, true, ack.error);
    const sp = Module.stackSave();
    assert.equal(hot.call(FRAME, 1 / 60), TRAPPED);
    assert.equal(Module.stackSave(), sp, 'the stack pointer is back where it was');
    const t = events.find((e) => e.type === 'trap').detail;
    assert.equal(t.var, 'step_particle');
    assert.equal(t.how, 'stack', 'blamed from the versioned symbol in the stack');
    const sent = await server.next('trap', 0);
    assert.deepEqual({ ...sent, message: undefined }, { type: 'trap', seq: 1, var: 'step_particle', message: undefined });
    assert.equal(varOf(hot, 'step_particle').patched, false, 'rolled back to the built-in version');
    const f = Module._demo_frame_count();
    for (let i = 0; i < 10; i++) assert.notEqual(hot.call(FRAME, 1 / 60), TRAPPED);
    assert.equal(Number(Module._demo_frame_count()) - Number(f), 10);
    // The server's journaled echo of that rollback is acked, not applied twice.
    const echo = await server.rollback({ seq: 2, var: 'step_particle' });
    assert.equal(echo.ok, true);
    assert.equal(varOf(hot, 'step_particle').history.length, 1);
    hot.close();
  });

  test('a trap rollback the server did not echo to this page is skipped over; later rollbacks still apply (on_trap = code)', async () => {
    const { hot, server } = await attached(bundle, { onTrap: 'code' });
    const manifest = [{ var: 'step_particle', symbol: 'step_particle__hw901', signature: 'vppf' }];
    await server.patch({ seq: 1, manifest: [{ var: 'background_color', symbol: 'background_color__hw900', signature: 'ip' }], bytes: bg });
    await server.patch({ seq: 2, manifest, bytes: trap });
    assert.equal(hot.call(FRAME, 1 / 60), TRAPPED);
    assert.deepEqual(hot.journal.localRollbacks, ['step_particle']);
    // seq 3 is the trap's rollback, journaled and sent to the other pages only.
    await server.patch({ seq: 4, manifest, bytes: trap });
    assert.deepEqual(hot.journal.localRollbacks, [], 'the gap consumed the local rollback');
    await server.rollback({ seq: 5, var: 'step_particle' });
    assert.equal(varOf(hot, 'step_particle').patched, false, 'the later rollback really rolled back');
    assert.notEqual(hot.call(FRAME, 1 / 60), TRAPPED);
    hot.close();
  });

  test('a gap in a replay (an entry an undo forgot, a command not sent) keeps the pending local rollback for its echo (on_trap = code)', async () => {
    const { hot, server } = await attached(bundle, { onTrap: 'code' });
    const manifest = [{ var: 'step_particle', symbol: 'step_particle__hw901', signature: 'vppf' }];
    await server.patch({ seq: 1, manifest, bytes: trap });
    assert.equal(hot.call(FRAME, 1 / 60), TRAPPED);
    assert.deepEqual(hot.journal.localRollbacks, ['step_particle']);
    // Reconnected, the page is sent what it missed: seq 2 is absent (a command, or forgotten by an
    // undo), seq 3 patches background_color, seq 4 is the journaled echo of this page's rollback.
    await server.patch({ seq: 3, manifest: [{ var: 'background_color', symbol: 'background_color__hw900', signature: 'ip' }], bytes: bg, replay: true });
    assert.deepEqual(hot.journal.localRollbacks, ['step_particle'], 'a replay gap is not a trap rollback');
    const echo = await server.rollback({ seq: 4, var: 'step_particle', replay: true });
    assert.equal(echo.ok, true);
    assert.equal(varOf(hot, 'step_particle').history.length, 1, 'the echo was not applied a second time');
    assert.equal(varOf(hot, 'background_color').patched, true);
    hot.close();
  });

  test('what hotwasm_main prints comes back in the ack and as an output event', async () => {
    const { hot, server, events } = await attached(bundle);
    const manifest = [{ var: 'background_color', symbol: 'background_color__hw902', signature: 'ip' }];
    const ack = await server.patch({ seq: 1, manifest, bytes: main, run: 'hotwasm_main__hw902' });
    assert.equal(ack.ok, true, ack.error);
    assert.equal(ack.output, 'six times seven is 42');
    assert.deepEqual(events.find((e) => e.type === 'output').detail, { seq: 1, evalId: null, text: 'six times seven is 42', replay: false });
    hot.close();
  });

  test('a missing export is a clear error naming the config key, not a trap', async () => {
    const { hot } = await attached(bundle);
    assert.throws(() => hot.call('no_such_frame'), /exports no function `no_such_frame`.*\[build\] exports/);
    hot.close();
  });

  test('a module built without HOT_RELOAD gets status off and a trap-safe call', async () => {
    const Module = await require(bundle)({ print: () => {}, printErr: () => {} });
    const plain = new Proxy(Module, { get: (m, k) => (String(k).startsWith('_hotwasm_') ? undefined : m[k]) });
    const events = [];
    const hot = await attach(plain, { onEvent: (type, detail) => events.push({ type, detail }) });
    assert.equal(hot.hotReload, false);
    assert.equal(hot.state, 'off');
    assert.match(events.find((e) => e.type === 'status').detail.reason, /HOT_RELOAD/);
    assert.equal(hot.call(() => plain._demo_frame(1 / 60) ?? 'ran'), 'ran');
    assert.equal(hot.call(() => {
      throw new WebAssembly.RuntimeError('unreachable');
    }), TRAPPED);
    assert.equal(events.find((e) => e.type === 'trap').detail.var, null, 'nothing to blame or roll back');
  });

  test('after the server goes away it reconnects by itself and resumes from its journal position', async () => {
    const { hot, server } = await attached(bundle, { backoffMin: 1 });
    await server.patch({ seq: 1, manifest: [{ var: 'background_color', symbol: 'background_color__hw900', signature: 'ip' }], bytes: bg });
    const since = server.received.length;
    const closed = untilEvent(hot, 'status', (s) => s.state === 'closed');
    server.socket.close(1006);
    const s = await closed;
    assert.equal(typeof s.retryMs, 'number');
    const hello = await server.next('hello', since);
    assert.equal(hello.journal_epoch, server.epoch);
    assert.equal(hello.journal_seq, 1, 'only what it missed is asked for');
    hot.close();
  });

  test('a trap while the server is away is reported to it once it is back (on_trap = code)', async () => {
    const { hot, server } = await attached(bundle, { backoffMin: 1, backoffMax: 5, onTrap: 'code' });
    await server.patch({ seq: 1, manifest: [{ var: 'step_particle', symbol: 'step_particle__hw901', signature: 'vppf' }], bytes: trap });
    server.refuse = true;
    const closed = untilEvent(hot, 'status', (s) => s.state === 'closed');
    server.socket.close(1006);
    await closed;
    assert.equal(hot.call(FRAME, 1 / 60), TRAPPED);
    assert.equal(varOf(hot, 'step_particle').patched, false, 'rolled back at once, offline');
    const since = server.received.length;
    server.refuse = false;
    const hello = await server.next('hello', since);
    assert.equal(hello.journal_seq, 1);
    server.send({ type: 'welcome', protocol: 1, server_version: 'fake', journal_epoch: server.epoch, journal_len: 1, host_vars: [] });
    const sent = await server.next('trap', since);
    assert.equal(sent.var, 'step_particle');
    assert.equal(sent.seq, 1);
    hot.close();
  });

  test('hot.eval sends the source and resolves with the server’s eval_result (plus the time it took here)', async () => {
    const { hot, server } = await attached(bundle);
    const since = server.received.length;
    const pending = hot.eval('int x(void) { return 1; }', 'c', { name: 'x.c' });
    const sent = await server.next('eval', since);
    assert.deepEqual({ ...sent, id: undefined }, { type: 'eval', id: undefined, lang: 'c', source: 'int x(void) { return 1; }', name: 'x.c' });
    server.send({ type: 'eval_result', id: sent.id, ok: false, stage: 'compile', diagnostics: [], raw_output: 'x', error: 'nope', timings: {}, pages: [], seq: null });
    const result = await pending;
    assert.equal(result.id, sent.id);
    assert.equal(result.error, 'nope');
    assert.equal(typeof result.clientMs, 'number');
    hot.close();
    await assert.rejects(hot.eval('int y;'), /not connected/, 'an eval without a connection is refused at once');
  });

  test('an eval the server refuses by id (busy) rejects at once with the server’s words; another eval still waits', async () => {
    const { hot, server } = await attached(bundle);
    const since = server.received.length;
    const refused = hot.eval('int a(void) { return 1; }');
    const other = hot.eval('int b(void) { return 2; }');
    const first = await server.next('eval', since);
    const second = await server.waitFor((m) => m.type === 'eval' && m.id !== first.id, since);
    server.send({ type: 'error', id: first.id, code: 'busy', message: 'too many compiles running or queued: retry in a moment' });
    await assert.rejects(refused, (e) => e.code === 'busy' && e.message.includes(first.id) && /retry in a moment/.test(e.message));
    server.send({ type: 'eval_result', id: second.id, ok: true, stage: 'done', diagnostics: [], raw_output: '', error: null, timings: {}, pages: [], seq: 1 });
    assert.equal((await other).id, second.id, 'the refusal of one eval does not end the wait of another');
    hot.close();
  });

  test('hot.rollback resolves once the journaled rollback reached this page, and rejects when refused', async () => {
    const { hot, server } = await attached(bundle);
    await server.patch({ seq: 1, manifest: [{ var: 'background_color', symbol: 'background_color__hw900', signature: 'ip' }], bytes: bg });
    let since = server.received.length;
    const done = hot.rollback('background_color');
    const asked = await server.next('rollback', since);
    assert.equal(asked.var, 'background_color');
    await server.rollback({ seq: 2, var: 'background_color' });
    const r = await done;
    assert.equal(r.ok, true);
    assert.equal(varOf(hot, 'background_color').patched, false);
    since = server.received.length;
    const refused = hot.rollback('no_such_var');
    await server.next('rollback', since);
    server.send({ type: 'error', code: 'bad_request', message: 'no var `no_such_var`' });
    await assert.rejects(refused, /no_such_var/);
    hot.close();
  });

  test('an error of plain JS inside hot.call is rethrown and rolls nothing back', async () => {
    const { hot, server, events } = await attached(bundle);
    await server.patch({ seq: 1, manifest: [{ var: 'background_color', symbol: 'background_color__hw900', signature: 'ip' }], bytes: bg });
    assert.throws(() => hot.call(() => null.nope), TypeError);
    assert.equal(varOf(hot, 'background_color').patched, true, 'the patch stays live');
    assert.equal(events.filter((e) => e.type === 'trap').length, 0, 'no trap reported');
    assert.notEqual(hot.call(FRAME, 1 / 60), TRAPPED, 'and the stack is usable');
    hot.close();
  });
});
