// The plain build (no HOT_RELOAD) runs, and has no dynamic linking: no dylink.0 section, no
// registry C ABI, no dlopen; hot functions are direct calls.
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { test } from 'node:test';
import { hotDir, plainDir as dir } from './fixtures.mjs';

test('the plain build runs the simulation', async () => {
  assert.ok(existsSync(path.join(dir, 'particles.js')), `${dir} is missing: run scripts/emscripten-bundle.sh examples/particles`);
  const Module = await createRequire(import.meta.url)(path.join(dir, 'particles.js'))({ print() {}, printErr() {} });
  for (let i = 0; i < 120; i++) Module._demo_frame(1 / 60);
  assert.equal(Module._demo_frame_count(), 120n);
  assert.equal(Module._demo_particle_count(), 3000);
  assert.ok(Module._demo_bounces() > 0, 'particles hit the floor within two seconds');
  assert.equal(Module._hotwasm_apply, undefined, 'no registry ABI in a plain build');
});

test('the plain build has no dynamic-linking section or dlopen', () => {
  const wasm = new WebAssembly.Module(readFileSync(path.join(dir, 'particles.wasm')));
  assert.equal(WebAssembly.Module.customSections(wasm, 'dylink.0').length, 0);
  const imports = WebAssembly.Module.imports(wasm).map((i) => i.name);
  assert.ok(!imports.some((n) => n.includes('dlopen')), `imports: ${imports.join(' ')}`);
  const hot = new WebAssembly.Module(readFileSync(path.join(hotDir, 'particles.wasm')));
  assert.equal(WebAssembly.Module.customSections(hot, 'dylink.0').length, 1, 'the HOT_RELOAD build is a MAIN_MODULE');
});
