// Rust patches in the real HOT_RELOAD host under Node: a std-heavy patch (format!, HashMap,
// iterators, closures, catch_unwind) importing std from the host gives the right result; a
// panicking patch traps, is rolled back, and the host keeps running; every import of a Rust
// patch is in the host manifest.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { before, test } from 'node:test';
import { hotDir, loadHost, rustSideModule } from './fixtures.mjs';

let host;
before(async () => { host = await loadHost(); });
const linkerProvided = new Set(['memory', '__indirect_function_table', '__stack_pointer', '__memory_base', '__table_base']);

test('a std-heavy Rust patch imports std from the host and computes the right result', async () => {
  const wasm = await rustSideModule('std_heavy');
  assert.ok(wasm.length < 64 * 1024, `a Rust patch carries no std of its own (${wasm.length} bytes)`);
  const manifest = JSON.parse(readFileSync(path.join(hotDir, 'hotwasm-host.json')));
  const exported = new Set(manifest.exports);
  const imports = WebAssembly.Module.imports(new WebAssembly.Module(wasm)).filter((i) => !linkerProvided.has(i.name) && i.kind !== 'tag');
  assert.ok(imports.some((i) => i.name.includes('format')), 'format! is imported from the host');
  for (const i of imports) assert.ok(exported.has(i.name), `host exports ${i.module}.${i.name}`);

  host.Module._demo_frame(1 / 60);
  const frames = host.Module._demo_frame_count();
  const r = host.apply(wasm, 'background_color background_color__hw1 ip');
  assert.ok(r.id > 0, r.error);
  host.Module._demo_frame(1 / 60);
  assert.equal(host.pixel(0, 0) >>> 0, 0xff000090, 'HashMap total 4 * 0x20 + caught-panic bonus 0x10');
  assert.equal(host.Module._demo_frame_count(), frames + 1n);
});

test('a panic in a patched Rust function traps; rolled back, the host keeps running', async () => {
  const r = host.apply(await rustSideModule('panics'), 'particle_color particle_color__hw2 ipp');
  assert.ok(r.id > 0, r.error);
  const sp = host.Module.stackSave();
  assert.throws(() => host.Module._demo_frame(1 / 60), WebAssembly.RuntimeError);
  host.Module.stackRestore(sp);
  assert.equal(host.Module._hotwasm_rollback_var(host.Module.stringToNewUTF8('particle_color')), 0);
  const before = host.Module._demo_frame_count();
  for (let i = 0; i < 10; i++) host.Module._demo_frame(1 / 60);
  assert.equal(host.Module._demo_frame_count(), before + 10n);
  assert.ok(host.output.some((l) => l.includes('index out of bounds')), 'the panic message reached the output');
});
