// The runtime inside the real HOT_RELOAD host under Node, with real SIDE_MODULEs built by emcc
// from tests/fixtures/: redefine, add a var, host state, refusals, rollback, 60 patches in a row.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { before, test } from 'node:test';
import { createRequire } from 'node:module';
import { hotDir, loadHost, plainDir, sideModule, sideModules } from './fixtures.mjs';

const ERR = { SIGNATURE: -3, LOAD: -4, SYMBOL: -5, MANIFEST: -6, NO_HISTORY: -7, PATCH_TYPES: -9 };
let host;
before(async () => { host = await loadHost(); });

test('hot_fn! vars register themselves before main: the registry lists them with noInitialRun', async () => {
  const Module = await createRequire(import.meta.url)(path.join(hotDir, 'particles.js'))({ noInitialRun: true, print() {}, printErr() {} });
  const vars = JSON.parse(Module.UTF8ToString(Module._hotwasm_list_json()));
  assert.deepEqual(vars.map((v) => [v.name, v.signature, v.version]).sort(), [
    ['background_color', 'ip', 1], ['particle_color', 'ipp', 1], ['spawn_particle', 'vpp', 1], ['step_particle', 'vppf', 1],
  ]);
  assert.equal(Module._hotwasm_abi_version(), 2);
});

const frames = (n) => { for (let i = 0; i < n; i++) host.Module._demo_frame(1 / 60); };

test('a patch redefines a host var, reaches host state, and the state carries on', async () => {
  frames(30);
  const frameBefore = host.Module._demo_frame_count();
  const bouncesBefore = host.Module._demo_bounces();
  const defaultBg = host.pixel(0, 0);
  const r = host.apply(await sideModule('world_state'), 'background_color background_color__hw7 ip');
  assert.ok(r.id > 0, r.error);
  frames(1);
  assert.equal(host.Module._demo_frame_count(), frameBefore + 1n, 'the frame counter was not reset');
  assert.ok(host.Module._demo_bounces() >= bouncesBefore + 1_000_000, 'the host sees the patch write World.bounces');
  const bg = host.pixel(0, 0) === 0xff0000ff || host.pixel(1, 0) === 0xff0000ff;
  assert.ok(bg, `background is red after the patch (was ${defaultBg.toString(16)})`);
  assert.equal(host.Module._hotwasm_rollback_var(host.Module.stringToNewUTF8('background_color')), 0);
});

test('a patch can add new vars and redefine them in the same patch', async () => {
  const r = host.apply(await sideModule('new_var_triple'), 't_triple t_triple__hw4 ii\nt_add t_add__hw4 iii');
  assert.ok(r.id > 0, r.error);
  assert.equal(host.call('t_triple', 5), 15);
  assert.equal(host.call('t_add', 2, 1), 7, 't_add calls t_triple inside the patch');
  const listed = host.vars().find((v) => v.name === 't_triple');
  assert.deepEqual(listed.history, [{ patch: r.id, symbol: 't_triple__hw4' }]);
});

test('a signature mismatch is refused naming both signatures; the old code keeps running', async () => {
  frames(1);
  const before = host.pixel(0, 0);
  const r = host.apply(await sideModule('bg_wrong_signature'), 'background_color background_color__hw9 dd');
  assert.equal(r.status, ERR.SIGNATURE);
  assert.match(r.error, /`background_color` has signature `ip` but the patch gives it `dd`/);
  frames(1);
  assert.equal(host.pixel(0, 0), before);
});

test('a manifest that lies about a signature is caught from the module itself', async () => {
  const r = host.apply(await sideModule('bg_wrong_signature'), 'background_color background_color__hw9 ip');
  assert.equal(r.status, ERR.PATCH_TYPES);
  assert.match(r.error, /says `background_color__hw9` is `ip` but the module exports it as `dd`/);
});

test('an import the host does not export is refused before any code runs, naming it', async () => {
  const r = host.apply(await sideModule('needs_missing_import'), 't_add t_add__hw6 iii');
  assert.equal(r.status, ERR.PATCH_TYPES);
  assert.match(r.error, /imports `t_no_such_host_function`, which the host does not export/);
});

test('a missing symbol and a file that is not wasm are refused', async () => {
  const missing = host.apply(await sideModule('add_plus_100'), 't_add t_nothing__hw1 iii');
  assert.equal(missing.status, ERR.PATCH_TYPES, missing.error);
  assert.match(missing.error, /exports no such function/);
  const garbage = host.apply(new TextEncoder().encode('not a wasm module at all'), 't_add t_add__hw1 iii');
  assert.equal(garbage.status, ERR.LOAD);
  assert.match(garbage.error, /not a valid wasm side module/);
  const bad = host.apply(await sideModule('add_plus_100'), 't_add t_add__hw1');
  assert.equal(bad.status, ERR.MANIFEST);
  assert.match(bad.error, /`<var> <symbol> <signature>`/);
});

test('a second patch at an already-loaded path is refused', async () => {
  const first = host.apply(await sideModule('add_plus_100'), 't_add t_add__hw1 iii', '/patches/same.so');
  assert.ok(first.id > 0, first.error);
  const second = host.apply(await sideModule('add_times_2'), 't_add t_add__hw2 iii', '/patches/same.so');
  assert.equal(second.status, ERR.LOAD);
  assert.match(second.error, /path of its own/);
  assert.equal(host.call('t_add', 1, 2), 103);
});

test('rollback restores the previous version and runs out cleanly', async () => {
  const a = host.apply(await sideModule('add_times_2'), 't_add t_add__hw2 iii');
  assert.ok(a.id > 0, a.error);
  assert.equal(host.call('t_add', 1, 2), 6);
  assert.equal(host.Module._hotwasm_rollback_patch(a.id), 1);
  assert.equal(host.call('t_add', 1, 2), 103);
  const name = host.Module.stringToNewUTF8('t_add');
  while (host.Module._hotwasm_rollback_var(name) === 0);
  assert.equal(host.Module._hotwasm_rollback_var(name), ERR.NO_HISTORY);
  assert.match(host.Module.UTF8ToString(host.Module._hotwasm_last_error()), /nothing earlier to roll back to/);
});

// Many patches to one var (the soak benchmark in scripts/bench.sh applies 1,000).
const PATCHES = 60;
test('60 patches in a row to one var: the last one wins; growth per patch is measured', async () => {
  const jobs = Array.from({ length: PATCHES }, (_, i) => ['counter_generation', { GEN: i + 1 }]);
  const patches = await sideModules(jobs);
  const mem0 = host.Module.HEAPU8.length;
  const table0 = host.Module.wasmTable.length;
  for (let i = 0; i < patches.length; i++) {
    const r = host.apply(patches[i], `t_gen t_gen__hw${i + 1} i`);
    assert.ok(r.id > 0, r.error);
  }
  assert.equal(host.call('t_gen'), PATCHES);
  const history = host.vars().find((v) => v.name === 't_gen').history;
  assert.equal(history.length, PATCHES);
  const perPatch = { memoryBytes: (host.Module.HEAPU8.length - mem0) / PATCHES, tableSlots: (host.Module.wasmTable.length - table0) / PATCHES };
  console.log(`growth per patch over ${PATCHES} patches: ${perPatch.memoryBytes} bytes of linear memory, ${perPatch.tableSlots} table slots`);
  assert.ok(perPatch.tableSlots <= 4, `table grows ${perPatch.tableSlots} slots per one-function patch`);
});

test('hotwasm_run calls a patch\'s hotwasm_main once and flushes what it printed', async () => {
  const r = host.apply(await sideModule('run_once'), 't_run t_run__hw8 i');
  assert.ok(r.id > 0, r.error);
  const before = host.output.length;
  assert.equal(host.Module.ccall('hotwasm_run', 'number', ['number', 'string'], [r.id, 'hotwasm_main']), 0);
  assert.deepEqual(host.output.slice(before), ['hello from hotwasm_main: 8']);
  assert.equal(host.Module.ccall('hotwasm_run', 'number', ['number', 'string'], [r.id, 't_run__hw8']), -1);
  assert.match(host.Module.UTF8ToString(host.Module._hotwasm_last_error()), /must be a `void t_run__hw8\(void\)`/);
});

test('a patch importing its own external global through GOT.mem loads, and a later patch shares its storage', async () => {
  const r = host.apply(await sideModule('defines_a_global'), 't_count t_count__hw10 i');
  assert.ok(r.id > 0, r.error);
  assert.equal(host.call('t_count'), 6);
  assert.equal(host.call('t_count'), 7);
  // A later patch that only declares the global binds to that storage (Emscripten's GOT).
  const later = host.apply(await sideModule('uses_a_patch_global'), 't_peek t_peek__hw11 i');
  assert.ok(later.id > 0, later.error);
  assert.equal(host.call('t_peek'), 70);
});

test('a patch with an empty manifest only loads: no var changes, and its hotwasm_main runs', async () => {
  const before = host.vars();
  const r = host.apply(await sideModule('run_once'), '');
  assert.ok(r.id > 0, r.error);
  assert.deepEqual(host.vars(), before);
  const printed = host.output.length;
  assert.equal(host.Module.ccall('hotwasm_run', 'number', ['number', 'string'], [r.id, 'hotwasm_main']), 0, host.lastError());
  assert.deepEqual(host.output.slice(printed), ['hello from hotwasm_main: 8']);
});

test('a truncated patch and a wasm module that is not a side module are refused; nothing changes', async () => {
  frames(1);
  const before = host.pixel(0, 0);
  const whole = await sideModule('world_state');
  for (const cut of [8, 40, whole.length >> 1, whole.length - 1]) {
    const r = host.apply(whole.subarray(0, cut), 'background_color background_color__hw7 ip');
    assert.equal(r.status, ERR.LOAD, `cut at ${cut}: ${r.error}`);
    assert.match(r.error, /not a valid wasm side module/);
  }
  // A valid wasm module without a dylink.0 section (the plain build of the demo).
  const plain = readFileSync(path.join(plainDir, 'particles.wasm'));
  const r = host.apply(plain, 'background_color main ip');
  assert.equal(r.status, ERR.LOAD);
  assert.match(r.error, /no dylink\.0 section; build it with -sSIDE_MODULE=1/);
  frames(1);
  assert.equal(host.pixel(0, 0), before, 'the old code keeps running');
});
