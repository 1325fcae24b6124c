// Writes the host manifest of a HOT_RELOAD bundle to stdout: the hot vars the host declares
// (asked from the host itself, run under Node with --hotwasm-manifest) and every symbol a patch
// may import from it (the wasm module's exports, plus the JS library functions it imports,
// which Emscripten's dynamic linker also resolves for side modules).
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';

const dir = path.resolve(process.argv[2] ?? 'build/hot');
const wasm = new WebAssembly.Module(readFileSync(path.join(dir, 'hotwasm_demo.wasm')));

let printed = '';
const create = createRequire(import.meta.url)(path.join(dir, 'hotwasm-demo.js'));
await create({
  arguments: ['--hotwasm-manifest'],
  print: (line) => { printed += line + '\n'; },
  printErr: (line) => process.stderr.write(line + '\n'),
});
const vars = JSON.parse(printed.trim().split('\n').pop());

const exported = WebAssembly.Module.exports(wasm).map((e) => e.name);
// JS library functions and exception tags the host imports: the dynamic linker resolves a
// side module's imports of these names from the same place.
const fromJs = WebAssembly.Module.imports(wasm)
  .filter((i) => i.module === 'env' && (i.kind === 'function' || i.kind === 'tag'))
  .map((i) => i.name);
const internal = new Set(['memory', '__indirect_function_table', '__stack_pointer', '__memory_base', '__table_base']);
const exports = [...new Set([...exported, ...fromJs])].filter((n) => !internal.has(n)).sort();

const missing = vars.filter((v) => !exports.includes(v.name)).map((v) => v.name);
if (missing.length) {
  console.error(`host-manifest: hot functions without an exported trampoline: ${missing.join(', ')}; list them in examples/particles/src/hot.rs with hot_fn!`);
  process.exit(1);
}
console.log(JSON.stringify({ version: 1, vars, exports }, null, 1));
