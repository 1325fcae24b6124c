// The C++ threads example (examples/threads-cpp, app `search`): its std::thread search pool,
// built by the real `hotwasm build --hot` with the app's own -pthread. Shared by
// tests/threads/cpp-*.test.mjs and benches/threads*.mjs.
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
export const root = path.resolve(import.meta.dirname, '../..');
export const searchApp = path.join(root, 'examples/threads-cpp');
export const SEARCH_THREADS = [0, 1, 2, 3];

/** Builds the example's HOT_RELOAD host (hotwasm build decides what is stale). */
export async function buildSearchHost() {
  await run('bash', [path.join(root, 'scripts/hotwasm'), 'build', '--hot', '--project', searchApp], { maxBuffer: 64 << 20 })
    .catch((e) => { throw new Error(`hotwasm build --hot failed:\n${e.stderr || e.message}`); });
  return path.join(searchApp, 'build/hot/search.js');
}

/** Waits until every search thread's latest root eval is `want(t)`; names what they saw on timeout. */
export async function everyThreadEvaluates(page, want, timeout = 20_000) {
  const expected = SEARCH_THREADS.map(want);
  await page.waitForFunction((w) => w.every((v, t) => globalThis.hotwasm.Module._search_root_eval(t) === v), expected, { timeout })
    .catch(async (e) => {
      const seen = await page.evaluate((ts) => ts.map((t) => globalThis.hotwasm.Module._search_root_eval(t)), SEARCH_THREADS);
      throw new Error(`the search threads evaluated ${seen}, not ${expected}: ${e.message}`);
    });
}
