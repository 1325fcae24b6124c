// Writes the host manifest of a built HOT_RELOAD host to stdout:
//   node scripts/host-manifest.mjs <out>/hot/<name>.js <out>/hot/<name>.wasm
// `vars`: what the host registered at start-up, asked from the host itself: the bundle is
// instantiated under Node with `noInitialRun` (constructors run, so every hot function has
// registered its slot; `main` does not run) and `_hotwasm_list_json()` is called.
// `exports`: every symbol a patch may import from the host: the wasm module's exports plus the
// JS library functions and tags it imports (Emscripten's dynamic linker resolves a side
// module's imports of those names from the same place).
// `hotwasm build --hot` runs it; it names no app and runs no app code beyond constructors.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';

const [js, wasmPath] = process.argv.slice(2);
if (!js || !wasmPath) {
  console.error('usage: node scripts/host-manifest.mjs <bundle>.js <bundle>.wasm');
  process.exit(2);
}
const fail = (message) => {
  console.error(`host-manifest: ${message}`);
  process.exit(1);
};

const wasm = new WebAssembly.Module(readFileSync(wasmPath));
const factory = createRequire(import.meta.url)(path.resolve(js));
if (typeof factory !== 'function') {
  fail(`${js} does not export a factory function: build it with -sMODULARIZE=1 (hotwasm build does)`);
}
const module = await factory({
  noInitialRun: true,
  locateFile: (file) => path.join(path.dirname(path.resolve(wasmPath)), file),
  print: (line) => process.stderr.write(`${line}\n`),
  printErr: (line) => process.stderr.write(`${line}\n`),
});
if (typeof module._hotwasm_list_json !== 'function') {
  fail(`${js} does not export _hotwasm_list_json: is it a HOT_RELOAD build that links the hotwasm runtime?`);
}
const listed = JSON.parse(module.UTF8ToString(module._hotwasm_list_json()));
const vars = listed.map(({ name, signature }) => ({ name, signature }));

const exported = WebAssembly.Module.exports(wasm).map((e) => e.name);
const fromJs = WebAssembly.Module.imports(wasm)
  .filter((i) => i.module === 'env' && (i.kind === 'function' || i.kind === 'tag'))
  .map((i) => i.name);
const internal = new Set(['memory', '__indirect_function_table', '__stack_pointer', '__memory_base', '__table_base']);
const exports = [...new Set([...exported, ...fromJs])].filter((n) => !internal.has(n)).sort();

console.log(JSON.stringify({ version: 1, vars, exports }, null, 1));
