// Undo with state in the page client (web/snapshots.js, web/applier.js) against the real
// HOT_RELOAD particles bundle under Node: a snapshot of linear memory before each patch, a trap
// that undoes the trapping call (web/call-guard.js), `undo` with and without state, the bounds on snapshots, and what Emscripten
// keeps outside linear memory (GOT, LDSO) after a restore. Patches are compiled here with emcc;
// the fake server on the other end of the client's WebSocket sends them as the real one does.
//
//   node --test tests/node-client/undo-state.test.mjs

import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT, ensureBundle, toolchainEnv } from '../browser/helpers.mjs';
import { attach, TRAPPED } from '../../web/hotwasm-client.js';
import { FakeServer } from './fake-server.mjs';

const require = createRequire(import.meta.url);
const work = mkdtempSync(join(tmpdir(), 'hotwasm-undo-state-'));
const env = toolchainEnv();
const FRAME = 'demo_frame';
const INCLUDE = join(ROOT, 'examples', 'particles', 'include');

/** Compiles C (which may include particles.h) to a SIDE_MODULE, function names kept for traps. */
function sideModule(name, source) {
  const c = join(work, `${name}.c`);
  const so = join(work, `${name}.so`);
  writeFileSync(c, source);
  execFileSync('emcc', ['-O1', '--profiling-funcs', '-fPIC', '-sSIDE_MODULE=1', '-sWASM_BIGINT', '-Wno-version-check', `-I${INCLUDE}`, c, '-o', so], {
    env,
    stdio: 'pipe',
  });
  return new Uint8Array(readFileSync(so));
}

async function attached(bundle, options = {}) {
  const Module = await require(bundle)({ print: () => {}, printErr: () => {} });
  const server = new FakeServer();
  const events = [];
  const hot = await attach(Module, {
    url: 'ws://127.0.0.1:1/repl?token=t',
    WebSocket: server.WebSocket,
    wait: 'none',
    onEvent: (type, detail) => events.push({ type, detail }),
    ...options,
  });
  await server.welcome();
  return { Module, hot, server, events };
}

/** FNV-1a over the `World` struct and every particle: the app's state as the demo defines it. */
function worldDigest(Module) {
  const w = Module._demo_world() >>> 0;
  const u32 = Module.HEAPU32;
  const particles = u32[w >>> 2];
  const count = u32[(w >>> 2) + 1];
  let h = 0x811c9dc5;
  for (const [from, len] of [
    [w, 48],
    [particles, count * 24],
  ]) {
    const bytes = Module.HEAPU8.subarray(from, from + len);
    for (let i = 0; i < bytes.length; i++) h = Math.imul(h ^ bytes[i], 0x01000193) >>> 0;
  }
  return { hash: h.toString(16), frame: Number(Module._demo_frame_count()), bounces: Module._demo_bounces() >>> 0 };
}

const frames = (hot, n) => {
  for (let i = 0; i < n; i++) assert.notEqual(hot.call(FRAME, 1 / 60), TRAPPED);
};
const varOf = (hot, name) => hot.vars().find((v) => v.name === name);
const BG = [{ var: 'background_color', symbol: 'background_color__hw910', signature: 'ip' }];

describe('undo with state in the page client (Node, real bundle)', { timeout: 300_000 }, () => {
  let bundle;
  let bg;
  let garbage;
  let global;
  let runGarbage;
  before(() => {
    bundle = ensureBundle({ hot: true });
    bg = sideModule('bg', '#include <stdint.h>\nuint32_t background_color__hw910(const void *w) { (void)w; return 0xff0000ffu; }\n');
    // Writes garbage into the world and the particles it steps, then traps on the 21st particle.
    garbage = sideModule(
      'garbage',
      '#include "particles.h"\n' +
        'void step_particle__hw911(World *w, Particle *p, float dt) {\n' +
        '  (void)dt; p->x = -1e30f; p->vx = 0.0f / 0.0f; p->age = -7.0f;\n' +
        '  w->bounces += 1000; w->gravity = 12345.0f;\n' +
        '  if (p == w->particles + 20) __builtin_trap();\n' +
        '}\n',
    );
    // Defines a global (its storage comes from calloc when the patch loads) and reads it.
    // Statements run once after apply: garbage into the world, then a trap.
    runGarbage = sideModule(
      'run-garbage',
      '#include "particles.h"\n' +
        'uint32_t background_color__hw913(const World *w) { (void)w; return 0xff00ff00u; }\n' +
        'void hotwasm_main__hw913(void) { World *w = demo_world(); w->bounces = 777777; w->frame = 0; __builtin_trap(); }\n',
    );
    global = sideModule('global', '#include <stdint.h>\nint hw_undo_counter = 41;\nuint32_t background_color__hw912(const void *w) { (void)w; return (uint32_t)++hw_undo_counter; }\n');
  });

  test('a trap undoes the trapping call (its garbage included) and reports the var\'s rollback, not an undo of the patch', async () => {
    const { hot, server, events, Module } = await attached(bundle);
    frames(hot, 30);
    const before = worldDigest(Module);
    const ack = await server.patch({ seq: 1, manifest: [{ var: 'step_particle', symbol: 'step_particle__hw911', signature: 'vppf' }], bytes: garbage });
    assert.equal(ack.ok, true, ack.error);
    assert.equal(hot.call(FRAME, 1 / 60), TRAPPED);
    assert.deepEqual(worldDigest(Module), before, 'the world is exactly as before the trapping call');
    const t = events.find((e) => e.type === 'trap').detail;
    assert.equal(t.var, 'step_particle');
    assert.deepEqual([t.state.restored, t.state.scope, t.state.call], [true, 'call', FRAME]);
    assert.equal(varOf(hot, 'step_particle').patched, false, 'the var is rolled back');
    const sent = await server.next('trap', 0);
    assert.deepEqual([sent.seq, sent.var], [1, 'step_particle']);
    assert.match(sent.message, /unreachable/);
    assert.deepEqual(hot.applier.snapshots.seqs, [1], 'the snapshot before the patch stays for an explicit undo');
    frames(hot, 10);
    assert.equal(worldDigest(Module).frame, before.frame + 10, 'frames go on from the restored world');
    hot.close();
  });

  test('memory the trapping call took from malloc is given back: the break is where it was and that memory reads as zero', async () => {
    const { hot, server, Module } = await attached(bundle);
    frames(hot, 5);
    const ack = await server.patch({ seq: 1, manifest: [{ var: 'step_particle', symbol: 'step_particle__hw911', signature: 'vppf' }], bytes: garbage });
    assert.equal(ack.ok, true, ack.error);
    const before = worldDigest(Module);
    const brk = Module._sbrk(0) >>> 0;
    const big = 8 * 1024 * 1024;
    let block = 0;
    let grownTo = 0;
    const r = hot.call(() => {
      block = Module._malloc(big);
      Module.HEAPU8.fill(7, block, block + big);
      grownTo = Module._sbrk(0) >>> 0;
      Module._demo_frame(1 / 60); // the patched step_particle traps in it
    });
    assert.equal(r, TRAPPED);
    assert.ok(grownTo >= brk + big / 2, `the call moved the break up (${brk} → ${grownTo})`);
    assert.equal(Module._sbrk(0) >>> 0, brk, 'the break is back');
    assert.equal(Module.HEAPU8.subarray(brk, grownTo).findIndex((b) => b !== 0), -1, 'what the call took above the old break reads as zero');
    assert.deepEqual(worldDigest(Module), before);
    const again = Module._malloc(big);
    assert.notEqual(again, 0, 'malloc works from the restored state');
    Module._free(again);
    frames(hot, 3);
    hot.close();
  });

  test('statements that write garbage then trap when the patch runs them leave the world and the code as before the patch', async () => {
    const { hot, server, Module } = await attached(bundle);
    frames(hot, 12);
    const before = worldDigest(Module);
    const manifest = [{ var: 'background_color', symbol: 'background_color__hw913', signature: 'ip' }];
    const ack = await server.patch({ seq: 1, manifest, bytes: runGarbage, run: 'hotwasm_main__hw913' });
    assert.equal(ack.ok, false, 'the page says the patch did not take');
    assert.match(ack.error, /hotwasm_main__hw913 failed: RuntimeError: unreachable; this page restored its code and state from before patch #1/);
    assert.deepEqual(worldDigest(Module), before);
    assert.equal(varOf(hot, 'background_color').patched, false);
    const sent = await server.next('undo', 0);
    assert.deepEqual([sent.seq, sent.state], [1, true], 'the server is asked to undo it everywhere');
    frames(hot, 3);
    hot.close();
  });

  test('undo with state puts memory and code back as before patch N, later patches included; undo without state rolls back code only', async () => {
    const { hot, server, Module } = await attached(bundle);
    frames(hot, 5);
    const before = worldDigest(Module);
    await server.patch({ seq: 1, manifest: BG, bytes: bg });
    frames(hot, 10);
    await server.patch({ seq: 2, manifest: [{ var: 'background_color', symbol: 'background_color__hw912', signature: 'ip' }], bytes: global });
    frames(hot, 10);
    assert.equal(varOf(hot, 'background_color').history.length, 3);
    const ack = await server.undo({ seq: 1, state: true, journalSeq: 3 });
    assert.equal(ack.ok, true, ack.error);
    assert.deepEqual(worldDigest(Module), before, 'frame count and world as before patch #1');
    assert.equal(varOf(hot, 'background_color').patched, false);
    assert.equal(Module.GOT.hw_undo_counter, undefined, 'the GOT forgot the global the undone patch defined');
    assert.ok(!Object.keys(Module.LDSO.loadedLibsByName).some((n) => n.includes('patch-')), 'LDSO forgot the undone patches');
    assert.deepEqual(hot.applier.snapshots.seqs, [], 'snapshots of undone patches are dropped');

    // The global's patch again, as a new journal entry: fresh storage, its initial value.
    await server.patch({ seq: 4, manifest: [{ var: 'background_color', symbol: 'background_color__hw912', signature: 'ip' }], bytes: global });
    const addr = Module.GOT.hw_undo_counter.value;
    assert.notEqual(addr, 0);
    assert.equal(Module.HEAP32[addr >>> 2], 41, 'initialised from the new patch, not read from freed memory');

    frames(hot, 7);
    const mid = worldDigest(Module);
    const code = await server.undo({ seq: 4, state: false, journalSeq: 5 });
    assert.equal(code.ok, true, code.error);
    assert.equal(varOf(hot, 'background_color').patched, false, 'code rolled back');
    assert.deepEqual(worldDigest(Module), mid, 'the data stays as it was');
    hot.close();
  });

  test('memory that grew after the snapshot reads as zero after a restore, and the restored allocator hands it out again', async () => {
    const { hot, server, Module } = await attached(bundle);
    frames(hot, 3);
    const before = worldDigest(Module);
    const len = Module.HEAPU8.length;
    await server.patch({ seq: 1, manifest: BG, bytes: bg });
    const big = 32 * 1024 * 1024;
    const p = Module._malloc(big);
    Module.HEAPU8.fill(7, p, p + big);
    assert.ok(Module.HEAPU8.length > len, 'memory grew');
    const ack = await server.undo({ seq: 1, state: true, journalSeq: 2 });
    assert.equal(ack.ok, true, ack.error);
    assert.ok(Module.HEAPU8.length > len, 'wasm memory cannot shrink: it keeps its size');
    assert.equal(Module.HEAPU8.subarray(len).findIndex((b) => b !== 0), -1, 'the grown part is zero again');
    assert.deepEqual(worldDigest(Module), before);
    const q = Module._malloc(big);
    assert.notEqual(q, 0, 'malloc works from the restored state');
    Module._free(q);
    frames(hot, 3);
    hot.close();
  });

  test('the newest snapshots survive the count and the budget; undo with state to an evicted one rolls back code and says so', async () => {
    const { hot, server } = await attached(bundle, { snapshots: { count: 2 } });
    for (const seq of [1, 2, 3]) await server.patch({ seq, manifest: BG, bytes: bg });
    assert.deepEqual(hot.applier.snapshots.seqs, [2, 3], 'the oldest was evicted');
    const ack = await server.undo({ seq: 1, state: true, journalSeq: 4 });
    assert.equal(ack.ok, false);
    assert.match(ack.error, /code rolled back, state kept: no snapshot before patch #1 .*kept: #2, #3.*\[serve\] snapshots/);
    assert.equal(varOf(hot, 'background_color').patched, false);
    hot.close();

    const small = await attached(bundle, { snapshots: { budgetMb: 1 } });
    const applied = await small.server.patch({ seq: 1, manifest: BG, bytes: bg });
    assert.equal(applied.ok, true, 'a patch applies even when its snapshot is over the budget');
    assert.deepEqual(small.hot.applier.snapshots.seqs, []);
    small.hot.close();
  });
});
