// Prints `{"vars": [...]}` of a built HOT_RELOAD host: what the host registered at start-up,
// asked from the host itself. The bundle is instantiated under Node with `noInitialRun`
// (constructors run, so every hot function has registered its slot; `main` does not run) and
// `_hotwasm_list_json()` is called.
//   node scripts/host-manifest.mjs <out>/hot/<name>.js <out>/hot/<name>.wasm
// `hotwasm build --hot` runs it and adds the exports, read from the wasm by hotwasm_abi::wasm
// (one reader for the server, the runtime and the build). It names no app and runs no app code
// beyond constructors.
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

console.log(JSON.stringify({ vars }));
