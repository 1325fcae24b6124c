// The particle demo's world carried from one host instance into a fresh one, as a page does
// around a host rebuild (web/host-reload.js over the hotwasm_state_* C ABI; the demo registers
// its hooks with hotwasm_runtime::keep_state, serde + postcard in wasm): the real HOT_RELOAD
// bundle under Node, two instances of it, no server.
//
//   node --test tests/node-client/host-reload-state.test.mjs

import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { ensureBundle } from '../browser/helpers.mjs';
import { hasStateHooks, restoreState, saveState } from '../../web/host-reload.js';

const require = createRequire(import.meta.url);

async function instance(bundle) {
  const errors = [];
  const Module = await require(bundle)({ print: () => {}, printErr: (t) => errors.push(t) });
  const lastError = () => Module.UTF8ToString(Module._hotwasm_last_error());
  return { Module, errors, lastError };
}

/** The world as the demo defines it (particles.h), without the particles' address. */
function world(Module) {
  const w = Module._demo_world() >>> 0;
  const u32 = Module.HEAPU32;
  const particles = u32[w >>> 2];
  const count = u32[(w >>> 2) + 1];
  const fields = Array.from(Module.HEAPU8.subarray(w + 8, w + 48));
  const bytes = Module.HEAPU8.subarray(particles, particles + count * 24);
  let h = 0x811c9dc5;
  for (let i = 0; i < bytes.length; i++) h = Math.imul(h ^ bytes[i], 0x01000193) >>> 0;
  return { frame: Number(Module._demo_frame_count()), particles: Module._demo_particle_count(), score: Module._demo_bounces(), fields, particlesHash: h };
}

describe('the demo world carried into a fresh host instance', { timeout: 120_000 }, () => {
  const bundle = ensureBundle({ hot: true });

  test('what the old instance saves, the new one restores exactly: frame count, particles, score', async () => {
    const old = await instance(bundle);
    assert.equal(hasStateHooks(old.Module), true, 'the demo registers state hooks');
    for (let i = 0; i < 120; i++) old.Module._demo_frame(1 / 60);
    const before = world(old.Module);
    const saved = saveState(old.Module, old.lastError);
    assert.equal(saved.error, null);
    assert.ok(saved.bytes.length > 3000 * 20, `${saved.bytes.length} bytes`);

    const fresh = await instance(bundle);
    assert.notDeepEqual(world(fresh.Module), before, 'a fresh instance starts its own world');
    const r = restoreState(fresh.Module, saved.bytes, fresh.lastError);
    assert.deepEqual(r, { ok: true, error: null });
    assert.deepEqual(world(fresh.Module), before);
    fresh.Module._demo_frame(1 / 60);
    assert.equal(world(fresh.Module).frame, before.frame + 1, 'the restored world runs on');
  });

  test('bytes the new host cannot decode are refused and its own world stays', async () => {
    const fresh = await instance(bundle);
    const own = world(fresh.Module);
    const r = restoreState(fresh.Module, new Uint8Array([1, 2, 3]), fresh.lastError);
    assert.equal(r.ok, false);
    assert.match(r.error, /refused the saved state/);
    assert.ok(fresh.errors.some((e) => /does not decode as .*Saved.*did its type change/.test(e)), fresh.errors.join('\n'));
    assert.deepEqual(world(fresh.Module), own);
  });
});
