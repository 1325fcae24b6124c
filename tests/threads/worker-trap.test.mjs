// What a trap in a patched function on a worker does today (docs/THREADS.md, "A trap on a
// worker"): under Node the trap ends the worker, Emscripten rethrows it on the main thread and the
// process exits, naming the patched function; nothing rolls the patch back. This test pins that
// behaviour down so a change to it (trap recovery on workers) is seen. Run:
//   node --test tests/threads/worker-trap.test.mjs
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import path from 'node:path';
import { test } from 'node:test';
import { buildHost } from './pool-host.mjs';

test('a trap on a worker ends the program under Node, naming the patched function; the pool does not carry on', async () => {
  const js = await buildHost();
  const child = spawn(process.execPath, [path.join(import.meta.dirname, 'trap-on-worker.mjs'), js], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (c) => { out += c; });
  child.stderr.on('data', (c) => { out += c; });
  const code = await new Promise((resolve) => child.on('exit', resolve));
  assert.match(out, /applied \{"id":\d+/, 'the patch applied');
  assert.notEqual(code, 0, out);
  assert.match(out, /RuntimeError\]?: unreachable/);
  assert.match(out, /worker_tag__hw6/, 'the stack names the patched function');
  assert.doesNotMatch(out, /the pool kept ticking/);
});
