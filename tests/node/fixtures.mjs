// Builds patch fixtures from tests/fixtures/ into SIDE_MODULEs with the real emcc,
// cached in build/fixtures/ (rebuilt when the source is newer), and loads the real
// HOT_RELOAD host bundle under Node.
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
      return id > 0 ? { id, path: at } : { status: id, error: Module.UTF8ToString(Module._hotwasm_last_error()) };
    },
    vars: () => JSON.parse(Module.UTF8ToString(Module._hotwasm_list_json())),
    lookup: (name) => Module.ccall('hotwasm_lookup', 'number', ['string'], [name]),
    /** Calls the current implementation of a var through the function table. */
    call: (name, ...args) => Module.wasmTable.get(host.lookup(name))(...args),
    pixel(x, y) {
      const at = Module._demo_framebuffer() + (y * Module._demo_width() + x) * 4;
      return Module.HEAPU32[at >> 2];
    },
  };
  return host;
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
