// The threads example (examples/threads-c) under Node: its real HOT_RELOAD host built by
// `hotwasm build --hot` with the app's own -pthread, and real side modules compiled by emcc with
// -pthread (what a threaded host needs: a patch imports the shared memory). Shared by
// tests/threads/*.test.mjs and benches/threads.mjs.
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
export const root = path.resolve(import.meta.dirname, '../..');
export const app = path.join(root, 'examples/threads-c');
const out = path.join(root, 'build/threads-fixtures');

/** Builds the example's HOT_RELOAD host (hotwasm build decides what is stale). */
export async function buildHost() {
  await run('bash', [path.join(root, 'scripts/hotwasm'), 'build', '--hot', '--project', app], { maxBuffer: 64 << 20 })
    .catch((e) => { throw new Error(`hotwasm build --hot failed:\n${e.stderr || e.message}`); });
  return path.join(app, 'build/hot/pool.js');
}

/** Compiles tests/threads/fixtures/<name>.c into a side module (`-pthread` unless `threads: false`). */
export async function sideModule(name, { threads = true } = {}) {
  mkdirSync(out, { recursive: true });
  const src = path.join(import.meta.dirname, 'fixtures', `${name}.c`);
  const dst = path.join(out, `${name}${threads ? '' : '-nothreads'}.wasm`);
  if (!existsSync(dst) || statSync(dst).mtimeMs < statSync(src).mtimeMs) {
    const args = ['-O1', '-fPIC', ...(threads ? ['-pthread'] : []), '-sSIDE_MODULE=1', '-sWASM_BIGINT',
      '-Wno-version-check', '-Wno-experimental', src, '-o', dst];
    await run('emcc', args).catch((e) => { throw new Error(`emcc failed for ${name}: ${e.stderr || e.message}`); });
  }
  return readFileSync(dst);
}

/** Starts the host with `workers` busy workers; resolves once each has run a tick. */
export async function startPool(js, workers) {
  const output = [];
  const Module = await createRequire(import.meta.url)(js)({ print: (l) => output.push(l), printErr: (l) => output.push(l) });
  if (Module._pool_start(workers) !== workers) throw new Error(`pool_start(${workers}) failed`);
  let n = 0;
  const pool = {
    Module,
    output,
    seen: () => Array.from({ length: workers }, (_, w) => Module._pool_seen(w)),
    ticks: () => Module._pool_ticks(),
    /** Writes a patch to a fresh path and applies it: {id, ms} or {status, error}. */
    apply(bytes, manifest) {
      const at = `/patches/p${++n}.so`;
      Module.FS.mkdirTree('/patches');
      Module.FS.writeFile(at, bytes);
      const t0 = performance.now();
      const id = Module.ccall('hotwasm_apply', 'number', ['string', 'string'], [at, manifest]);
      const ms = performance.now() - t0;
      return id > 0 ? { id, ms } : { status: id, error: pool.lastError() };
    },
    lastError: () => Module.UTF8ToString(Module._hotwasm_last_error()),
    rollback: (name) => Module.ccall('hotwasm_rollback_var', 'number', ['string'], [name]),
    /** Resolves when `done()` holds, polling every millisecond (the workers run meanwhile). */
    until: async (done, what, ms = 10000) => {
      const end = performance.now() + ms;
      while (!done()) {
        if (performance.now() > end) throw new Error(`timed out waiting for ${what}; seen ${pool.seen()}`);
        await new Promise((r) => setTimeout(r, 1));
      }
    },
  };
  await pool.until(() => pool.seen().every((v) => v !== 0), 'every worker to run a tick');
  return pool;
}
