// Builds patch fixtures from tests/fixtures/ into SIDE_MODULEs with the real emcc,
// cached in build/fixtures/ (rebuilt when the source is newer), loads the real HOT_RELOAD
// particle demo bundle under Node, and builds small C/C++ hosts against the runtime staticlib.
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
export const root = path.resolve(import.meta.dirname, '../..');
const out = path.join(root, 'build/fixtures');
/** The particle demo: its bundle dir and the header its patches include (particles.h). */
export const demo = path.join(root, 'examples/particles');
export const hotDir = path.join(demo, 'build/hot');
export const plainDir = path.join(demo, 'build/plain');
const includes = [path.join(root, 'abi/include'), path.join(demo, 'include')];

/** Compiles tests/fixtures/<name>.c with -D defines; returns the .wasm bytes. */
export async function sideModule(name, defines = {}) {
  mkdirSync(out, { recursive: true });
  const src = path.join(root, 'tests/fixtures', `${name}.c`);
  const tag = Object.entries(defines).map(([k, v]) => `-${k}${v}`).join('');
  const dst = path.join(out, `${name}${tag}.wasm`);
  if (!existsSync(dst) || statSync(dst).mtimeMs < statSync(src).mtimeMs) {
    const args = ['-O1', '-fPIC', '-sSIDE_MODULE=1', '-sWASM_BIGINT', '-Wno-version-check', ...includes.map((d) => `-I${d}`),
      ...Object.entries(defines).map(([k, v]) => `-D${k}=${v}`), src, '-o', dst];
    await run('emcc', args).catch((e) => { throw new Error(`emcc failed for ${name}: ${e.stderr || e.message}\n(run: eval "$(bash scripts/setup.sh --print-env)")`); });
  }
  return readFileSync(dst);
}

/** Builds many fixtures, two emcc processes at a time. */
export async function sideModules(jobs) {
  const results = new Array(jobs.length);
  let next = 0;
  const worker = async () => {
    while (next < jobs.length) {
      const i = next++;
      results[i] = await sideModule(jobs[i][0], jobs[i][1]);
    }
  };
  await Promise.all([worker(), worker()]);
  return results;
}

/** Starts the HOT_RELOAD particle demo host; returns the Emscripten module with helpers. */
export async function loadHost() {
  const js = path.join(hotDir, 'particles.js');
  if (!existsSync(js)) throw new Error(`${hotDir} is missing: run HOT_RELOAD=1 scripts/emscripten-bundle.sh examples/particles`);
  const host = await startHost(js);
  host.pixel = (x, y) => {
    const { Module } = host;
    const at = Module._demo_framebuffer() + (y * Module._demo_width() + x) * 4;
    return Module.HEAPU32[at >> 2];
  };
  return host;
}

/** Instantiates the MODULARIZE host at `js`; returns it with the registry helpers. */
async function startHost(js) {
  const output = [];
  const Module = await createRequire(import.meta.url)(js)({
    print: (l) => output.push(l),
    printErr: (l) => output.push(l),
  });
  let n = 0;
  const host = {
    Module,
    output,
    /** Writes a patch to a fresh path and applies it; returns {id} or {status, error}. */
    apply(bytes, manifest, at = `/patches/p${++n}.so`) {
      Module.FS.mkdirTree('/patches');
      Module.FS.writeFile(at, bytes);
      const id = Module.ccall('hotwasm_apply', 'number', ['string', 'string'], [at, manifest]);
      return id > 0 ? { id, path: at } : { status: id, error: host.lastError() };
    },
    lastError: () => Module.UTF8ToString(Module._hotwasm_last_error()),
    vars: () => JSON.parse(Module.UTF8ToString(Module._hotwasm_list_json())),
    lookup: (name) => Module.ccall('hotwasm_lookup', 'number', ['string'], [name]),
    rollback: (name) => Module.ccall('hotwasm_rollback_var', 'number', ['string'], [name]),
    /** Calls the current implementation of a var through the function table. */
    call: (name, ...args) => Module.wasmTable.get(host.lookup(name))(...args),
  };
  return host;
}

/** The `hotwasm_*` functions abi/include/hotwasm.h declares: what every HOT_RELOAD host exports. */
export function abiFunctions() {
  const header = readFileSync(path.join(root, 'abi/include/hotwasm.h'), 'utf8');
  return [...new Set([...header.matchAll(/\b(hotwasm_[a-z_]+)\(/g)].map((m) => m[1]))];
}

/** libhotwasm_runtime.a for wasm32-unknown-emscripten: $HOTWASM_RUNTIME_STATICLIB if set, else built
 *  with cargo (a no-op when current) as `hotwasm build` builds it (its target dir, profile `staticlib`). */
export async function runtimeStaticlib() {
  if (process.env.HOTWASM_RUNTIME_STATICLIB) return process.env.HOTWASM_RUNTIME_STATICLIB;
  const target = path.join(process.env.CARGO_TARGET_DIR ?? path.join(root, 'target'), 'hotwasm-runtime-staticlib');
  await run('cargo', ['build', '--profile', 'staticlib', '-q', '-p', 'hotwasm-runtime-staticlib', '--target', 'wasm32-unknown-emscripten'],
    { cwd: root, env: { ...process.env, CARGO_TARGET_DIR: target } })
    .catch((e) => { throw new Error(`building the runtime staticlib failed: ${e.stderr || e.message}`); });
  return path.join(target, 'wasm32-unknown-emscripten/staticlib/libhotwasm_runtime.a');
}

/** Builds tests/fixtures/hosts/<file> (C, or C++ for .cpp) as a HOT_RELOAD host the way a C/C++ app
 *  is built: -DHOTWASM_HOT_RELOAD, MAIN_MODULE=2, linked with libhotwasm_runtime.a, exporting
 *  `exports` and the registry ABI. Starts it; returns the host with the registry helpers. */
export async function cHost(file, exports) {
  const lib = await runtimeStaticlib();
  const src = path.join(root, 'tests/fixtures/hosts', file);
  const dir = path.join(out, 'hosts', path.parse(file).name);
  mkdirSync(dir, { recursive: true });
  const js = path.join(dir, 'host.js');
  const inputs = [src, lib, path.join(root, 'abi/include/hotwasm.h'), path.join(root, 'abi/include/hotwasm_hot.h')];
  if (!existsSync(js) || inputs.some((f) => statSync(f).mtimeMs > statSync(js).mtimeMs)) {
    const names = [...exports, ...abiFunctions()].map((n) => `_${n}`);
    const compiler = file.endsWith('.cpp') ? 'em++' : 'emcc';
    // -fwasm-exceptions as Rust hosts and C++ patches use: the host then provides the exception tag.
    await run(compiler, ['-O2', '-fwasm-exceptions', '-DHOTWASM_HOT_RELOAD', `-I${path.join(root, 'abi/include')}`, src, lib, '-o', js,
      '-sMAIN_MODULE=2', '-sALLOW_TABLE_GROWTH=1', '-sWASM_BIGINT', '-sMODULARIZE=1', '-sENVIRONMENT=node',
      '-sFILESYSTEM=1', '-sEXIT_RUNTIME=0', `-sEXPORTED_FUNCTIONS=${JSON.stringify(names)}`,
      '-sEXPORTED_RUNTIME_METHODS=FS,ccall,UTF8ToString,wasmTable', '-Wno-version-check'])
      .catch((e) => { throw new Error(`${compiler} failed for ${file}: ${e.stderr || e.message}`); });
  }
  return startHost(js);
}

/** Compiles tests/fixtures/rust/<name>.rs into a SIDE_MODULE as the server does for
 *  Rust: rustc --emit obj for wasm32-unknown-emscripten against the hotwasm_patch prelude
 *  crate, then linked by emcc; std comes from the host. Returns the .wasm bytes. */
export async function rustSideModule(name) {
  mkdirSync(out, { recursive: true });
  const prelude = path.join(demo, 'patches/prelude.rs');
  const rlib = path.join(out, 'libhotwasm_patch.rlib');
  const common = ['--edition', '2021', '--target', 'wasm32-unknown-emscripten', '-C', 'opt-level=2', '-C', 'relocation-model=pic'];
  const fail = (what) => (e) => { throw new Error(`${what} failed: ${e.stderr || e.message}`); };
  if (!existsSync(rlib) || statSync(rlib).mtimeMs < statSync(prelude).mtimeMs) {
    await run('rustc', [...common, '--crate-type', 'rlib', '--crate-name', 'hotwasm_patch', prelude, '-o', rlib]).catch(fail('rustc (prelude)'));
  }
  const src = path.join(root, 'tests/fixtures/rust', `${name}.rs`);
  const obj = path.join(out, `rust-${name}.o`);
  const dst = path.join(out, `rust-${name}.wasm`);
  if (!existsSync(dst) || statSync(dst).mtimeMs < statSync(src).mtimeMs) {
    await run('rustc', [...common, '--crate-type', 'lib', '--emit', 'obj', '-C', 'codegen-units=1',
      '--extern', `hotwasm_patch=${rlib}`, src, '-o', obj]).catch(fail(`rustc ${name}`));
    await run('emcc', ['-sSIDE_MODULE=1', '-sWASM_BIGINT', '-fwasm-exceptions', '-Wno-version-check', obj, '-o', dst]).catch(fail(`emcc link ${name}`));
  }
  return readFileSync(dst);
}
