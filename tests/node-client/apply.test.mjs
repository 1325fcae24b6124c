// The JS client against the real HOT_RELOAD host under Node, without the server: patches are
// compiled here with emcc and fed to the client as the server would send them; a fake socket
// records what the client answers.
//
//   node --test tests/node-client/

import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HOT_BUNDLE, ROOT, ensureBundle, toolchainEnv } from '../browser/helpers.mjs';
import { HotReloadClient, createPrintHooks } from '../../web/hot-reload-client.js';
import { DemoHost } from '../../web/host.js';

const require = createRequire(import.meta.url);
const work = mkdtempSync(join(tmpdir(), 'hotwasm-node-client-'));
const env = toolchainEnv();

/** Compiles C to a SIDE_MODULE the way the server's plain path does (names kept for traps). */
function sideModule(name, source) {
  const c = join(work, `${name}.c`);
  const so = join(work, `${name}.so`);
  writeFileSync(c, source);
  execFileSync(
    'emcc',
    ['-O1', '--profiling-funcs', '-fPIC', '-sSIDE_MODULE=1', '-sWASM_BIGINT', '-Wno-version-check',
      `-I${join(ROOT, 'abi', 'include')}`, c, '-o', so],
    { env, stdio: 'pipe' },
  );
  return new Uint8Array(readFileSync(so));
}

class FakeSocket {
  readyState = 1;
  sent = [];
  send(text) {
    this.sent.push(JSON.parse(text));
  }
  close() {}
}

async function freshClient(options = {}) {
  const factory = require(HOT_BUNDLE);
  const printHooks = createPrintHooks({ print: () => {}, printErr: () => {} });
  const Module = await factory({ print: printHooks.print, printErr: printHooks.printErr });
  const client = new HotReloadClient({ module: Module, printHooks, url: 'ws://unused', ...options });
  const ws = new FakeSocket();
  client.ws = ws;
  return { Module, client, ws, host: new DemoHost(Module) };
}

let seq = 0;
async function deliver(client, ws, { var: v, symbol, signature, bytes, run = null }) {
  seq += 1;
  const header = {
    type: 'patch', seq, eval_id: `t${seq}`, replay: false, run,
    manifest: [{ var: v, symbol, signature }], size: bytes.length, path: `/hotwasm/patch-${seq}.so`,
  };
  client.receive(JSON.stringify(header));
  client.receive(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
  await client.chain;
  return ws.sent.findLast((m) => m.type === 'ack' && m.seq === seq);
}

describe('hot-reload client under Node', { timeout: 300_000 }, () => {
  let bg;
  let trap;
  before(() => {
    ensureBundle({ hot: true });
    bg = sideModule(
      'bg',
      '#include "hotwasm.h"\nuint32_t background_color__hw900(const World *w) { (void)w; return 0xff0000ffu; }\n',
    );
    trap = sideModule(
      'trap',
      '#include "hotwasm.h"\nvoid step_particle__hw901(World *w, Particle *p, float dt) { (void)w; (void)p; (void)dt; __builtin_trap(); }\n',
    );
  });

  test('applies a patch, acks it with timings and advances the journal position', async () => {
    const { client, ws, host } = await freshClient();
    host.frame(1 / 60);
    const ack = await deliver(client, ws, { var: 'background_color', symbol: 'background_color__hw900', signature: 'ip', bytes: bg });
    assert.equal(ack.ok, true, ack.error);
    assert.equal(typeof ack.apply_ms, 'number');
    assert.equal(client.journalSeq, seq);
    const v = client.vars().find((x) => x.name === 'background_color');
    assert.equal(v.history.at(-1).symbol, 'background_color__hw900');
    assert.equal(host.frame(1 / 60), null);
  });

  test('a patch delivered twice (reconnect race) is applied once', async () => {
    const { client, ws } = await freshClient();
    await deliver(client, ws, { var: 'background_color', symbol: 'background_color__hw900', signature: 'ip', bytes: bg });
    const versions = client.vars().find((x) => x.name === 'background_color').history.length;
    seq -= 1; // the same seq again
    const ack = await deliver(client, ws, { var: 'background_color', symbol: 'background_color__hw900', signature: 'ip', bytes: bg });
    assert.equal(ack.ok, true);
    assert.equal(client.vars().find((x) => x.name === 'background_color').history.length, versions);
  });

  test('a wrong signature is refused with the host’s message and nothing changes', async () => {
    const { client, ws } = await freshClient();
    const ack = await deliver(client, ws, { var: 'background_color', symbol: 'background_color__hw900', signature: 'ipp', bytes: bg });
    assert.equal(ack.ok, false);
    assert.match(ack.error, /signature/i);
    const v = client.vars().find((x) => x.name === 'background_color');
    assert.equal(v.patched, false);
    assert.equal(v.history.length, 1, 'only the built-in version');
  });

  test('big patches go through the asynchronous preload path', async () => {
    const { client, ws } = await freshClient({ preloadThreshold: 0 });
    let syncCompiles = 0;
    const Orig = WebAssembly.Module;
    WebAssembly.Module = function (...a) {
      syncCompiles += 1;
      return new Orig(...a);
    };
    try {
      const ack = await deliver(client, ws, { var: 'background_color', symbol: 'background_color__hw900', signature: 'ip', bytes: bg });
      assert.equal(ack.ok, true, ack.error);
    } finally {
      WebAssembly.Module = Orig;
    }
    assert.equal(syncCompiles, 0, 'dlopen compiled nothing synchronously');
  });

  test('a trap in a patched function is rolled back and reported', async () => {
    const { client, ws, host } = await freshClient();
    const ack = await deliver(client, ws, { var: 'step_particle', symbol: 'step_particle__hw901', signature: 'vppf', bytes: trap });
    assert.equal(ack.ok, true, ack.error);
    const err = host.frame(1 / 60);
    assert.ok(err instanceof WebAssembly.RuntimeError, `trapped: ${err}`);
    const info = client.recoverFromTrap(err);
    assert.equal(info.var, 'step_particle');
    assert.equal(info.how, 'stack');
    const sent = ws.sent.find((m) => m.type === 'trap');
    assert.deepEqual({ ...sent, message: undefined }, { type: 'trap', seq, var: 'step_particle', message: undefined });
    assert.equal(host.frame(1 / 60), null, 'the next frame runs the previous version');
    const f = host.stats().frame;
    for (let i = 0; i < 10; i++) assert.equal(host.frame(1 / 60), null);
    assert.equal(host.stats().frame, f + 10);
    // The server's journaled echo of that rollback is acked, not applied twice.
    client.receive(JSON.stringify({ type: 'rollback', seq: seq + 1, var: 'step_particle', replay: false }));
    await client.chain;
    assert.equal(ws.sent.at(-1).ok, true);
    seq += 1;
  });

  test('a trap rollback the server did not echo is skipped over, later rollbacks still apply', async () => {
    const { client, ws, host } = await freshClient();
    await deliver(client, ws, { var: 'background_color', symbol: 'background_color__hw900', signature: 'ip', bytes: bg });
    await deliver(client, ws, { var: 'step_particle', symbol: 'step_particle__hw901', signature: 'vppf', bytes: trap });
    client.recoverFromTrap(host.frame(1 / 60));
    assert.deepEqual(client.localRollbacks, ['step_particle']);
    seq += 1; // the server journaled the trap's rollback as `seq` and sent it to the other pages only
    await deliver(client, ws, { var: 'step_particle', symbol: 'step_particle__hw901', signature: 'vppf', bytes: trap });
    assert.deepEqual(client.localRollbacks, [], 'the gap consumed the local rollback');
    seq += 1;
    client.receive(JSON.stringify({ type: 'rollback', seq, var: 'step_particle', replay: false }));
    await client.chain;
    const v = client.vars().find((x) => x.name === 'step_particle');
    assert.equal(v.patched, false, 'the later rollback really rolled back');
    assert.equal(host.frame(1 / 60), null);
  });
});
