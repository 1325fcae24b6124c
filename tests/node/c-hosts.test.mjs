// C and C++ hosts built with emcc against libhotwasm_runtime.a, run under Node: HOTWASM_FN vars
// register themselves before main with letters computed from their C/C++ types, a patch swaps
// one and the host's own calls reach it, a patch calling a var through its slot follows a later
// redefinition, and a call of a var nothing defines traps naming it.
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import { cHost, sideModule } from './fixtures.mjs';

const signatures = (host) => Object.fromEntries(host.vars().map((v) => [v.name, v.signature]));

describe('a C host', () => {
  let host;
  before(async () => { host = await cHost('c_host.c', ['run_scale', 'run_stormy', 'run_tick']); });

  test('HOTWASM_FN vars are registered before main, with letters from their C types', () => {
    assert.deepEqual(signatures(host), { host_scale: 'ii', host_is_stormy: 'iif', host_tick: 'v' });
    for (const v of host.vars()) assert.deepEqual(v.history, [{ patch: null, symbol: v.name }]);
    assert.equal(host.Module._run_scale(3), 6);
    assert.equal(host.Module._run_stormy(1, 20), 1, 'enum STORM and a bool result');
    assert.equal(host.Module._run_stormy(0, 20), 0);
    assert.equal(host.Module._run_tick(), 1, 'a void() hot function runs its body');
  });

  test('a patch swaps a var: the host\'s own calls run it; rollback restores the default', async () => {
    const r = host.apply(await sideModule('host_scale_x100'), 'host_scale host_scale__hw1 ii');
    assert.ok(r.id > 0, r.error);
    assert.equal(host.Module._run_scale(3), 300);
    assert.equal(host.vars().find((v) => v.name === 'host_scale').version, 2);
    assert.equal(host.rollback('host_scale'), 0, host.lastError());
    assert.equal(host.Module._run_scale(3), 6);
  });

  test('a patch calling a var through hotwasm_slot follows a later redefinition', async () => {
    const r = host.apply(await sideModule('slot_caller'),
      'scale_plus_one scale_plus_one__hw2 ii\nslot_checks slot_checks__hw2 i\ncall_unbound call_unbound__hw2 ii');
    assert.ok(r.id > 0, r.error);
    assert.equal(host.call('slot_checks'), 7, 'own slot, NULL for a wrong signature, a pending slot for an unknown var');
    assert.equal(host.call('scale_plus_one', 3), 7);
    const again = host.apply(await sideModule('host_scale_x100'), 'host_scale host_scale__hw1 ii');
    assert.ok(again.id > 0, again.error);
    assert.equal(host.call('scale_plus_one', 3), 301, 'the earlier patch reaches the new host_scale');
    assert.ok(!host.vars().some((v) => v.name === 'not_defined_yet'), 'a pending var is not listed');
  });

  test('a slot asked with another signature names both; a pending var traps naming itself', () => {
    const slot = host.Module.ccall('hotwasm_slot', 'number', ['string', 'string'], ['host_scale', 'dd']);
    assert.equal(slot, 0);
    assert.match(host.lastError(), /`host_scale` has signature `ii` but the patch declares it as `dd`/);
    assert.throws(() => host.call('call_unbound', 1), WebAssembly.RuntimeError);
    assert.match(host.lastError(), /`not_defined_yet` was called but has no implementation yet/);
    assert.ok(host.output.some((l) => l.includes('not_defined_yet')), 'the message reached stderr');
  });
});

describe('a C++ host', () => {
  let host;
  before(async () => { host = await cHost('cpp_host.cpp', ['run_gravity', 'run_step', 'run_resting', 'run_apply']); });

  test('enum class, reference, bool, function-pointer and char16_t types get their letters from C++ templates', () => {
    assert.deepEqual(signatures(host), { cpp_gravity: 'fi', cpp_step: 'vpf', cpp_resting: 'ip', cpp_apply: 'ipi' });
    assert.equal(host.Module._run_apply(41), 42);
    assert.equal(host.Module._run_gravity(1), 900);
    assert.equal(host.Module._run_resting(), 1);
  });

  test('a C patch swaps a C++ var, and another hot function calling it follows', async () => {
    assert.equal(host.Module._run_step(0.5), 120, 'default gravity 240 * 0.5');
    const r = host.apply(await sideModule('cpp_gravity_storm'), 'cpp_gravity cpp_gravity__hw1 fi');
    assert.ok(r.id > 0, r.error);
    assert.equal(host.Module._run_gravity(1), 1800);
    assert.equal(host.Module._run_step(0.5), 120 + 240, 'cpp_step calls cpp_gravity through its slot');
    assert.equal(host.Module._run_resting(), 0, 'state carried on: the body kept its velocity');
  });
});
