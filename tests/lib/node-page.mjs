// A real app served the way a user serves it, with Node as the page: starts
// `scripts/hotwasm serve --project <app>` and attaches the app's real bundle with the public client
// (web/hotwasm-client.js) over a real WebSocket. Shared by tests/examples, tests/cpp and benches/.
// Node 20 needs --experimental-websocket for globalThis.WebSocket.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { TRAPPED, attach } from '../../web/hotwasm-client.js';

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const require = createRequire(import.meta.url);

/**
 * The hotwasm command as a user runs it: `HOTWASM_BIN` if set, else the binary scripts/hotwasm
 * builds from this checkout (rebuilt first when stale, so a test never runs an older build).
 */
export function hotwasmCommand() {
  if (process.env.HOTWASM_BIN) return process.env.HOTWASM_BIN;
  const built = spawnSync('bash', [join(ROOT, 'scripts/hotwasm'), '--version'], { stdio: ['ignore', 'ignore', 'inherit'] });
  if (built.status !== 0) throw new Error('scripts/hotwasm could not build the hotwasm command (see above)');
  return join(process.env.HOTWASM_CLI_TARGET_DIR ?? join(ROOT, 'target/hotwasm-cli'), 'cli', 'hotwasm');
}

/**
 * Starts `hotwasm serve` for the app at `dir` (absolute) on a free port with a journal of its own;
 * resolves to `{ url, stop, pid }` (pid: the server's process) once the server prints the page's URL (its token in it).
 * Options: `watch` (default false) keeps the server's file watch on; `hotwasm` is the command to
 * run (default: scripts/hotwasm, which builds the release CLI the first time).
 */
export function serveApp(dir, { watch = false, hotwasm } = {}) {
  const journal = mkdtempSync(join(tmpdir(), 'hotwasm-journal-'));
  const args = ['serve', '--project', dir, '--port', '0', '--journal', journal, ...(watch ? [] : ['--no-watch'])];
  const [command, argv] = hotwasm ? [hotwasm, args] : ['bash', [join(ROOT, 'scripts/hotwasm'), ...args]];
  const child = spawn(command, argv, { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  child.stderr.on('data', (c) => process.stderr.write(c));
  const stop = () => {
    child.kill();
    rmSync(journal, { recursive: true, force: true });
  };
  let said = '';
  return new Promise((resolve, reject) => {
    child.stdout.on('data', (chunk) => {
      said += chunk;
      const m = said.match(/open http:\/\/([^/\s]+)\/\?token=([0-9a-f]+)/);
      if (m) resolve({ url: `ws://${m[1]}/repl?token=${m[2]}`, stop, pid: child.pid });
    });
    child.on('exit', (code) => reject(new Error(`hotwasm serve exited (${code}) before printing its URL:\n${said}`)));
  });
}

/** Instantiates the bundle `js` (its MODULARIZE factory) and attaches it to the server at `url`. */
export async function attachPage(js, url) {
  const Module = await require(js)({ print: () => {}, printErr: () => {} });
  const hot = await attach(Module, { url, WebSocket: globalThis.WebSocket });
  return { Module, hot };
}

/** The next 'patch' event of `hot`. */
export const nextPatch = (hot) => new Promise((resolve) => {
  const off = hot.on('patch', (p) => (off(), resolve(p)));
});

/** Calls the host's export `name` through the page; fails the test when the call trapped. */
export function callExport(hot, name, ...args) {
  const r = hot.call(name, ...args);
  assert.notEqual(r, TRAPPED, `${name} trapped`);
  return r;
}

/**
 * Evaluates `source` in `lang` (named `name` when given, as a saved patch file is: compiled in one
 * piece) and waits until the page applied the patch; fails the test naming the error otherwise.
 */
export async function applyPatch(hot, source, lang, name) {
  const patch = nextPatch(hot);
  const result = await hot.eval(source, lang, { name });
  assert.ok(result.ok, `eval failed: ${result.error}\n${result.raw_output ?? ''}`);
  const p = await patch;
  assert.ok(p.ok, `the page did not apply the patch: ${p.error}`);
}
