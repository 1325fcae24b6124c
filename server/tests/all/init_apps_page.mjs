// The page of a fresh `hotwasm init` app, under Node: the real `hotwasm serve` (file watch on),
// the app's HOT_RELOAD bundle, attached with the public client API over a real WebSocket. It runs
// frames, then saves the scaffold's patch file with a new body (what a user does first) and
// checks that the running app calls the new `app_value` and kept its frame count.
//   node --experimental-websocket page.mjs <hotwasm binary> <app dir> <bundle js> <patch file> <new source>
// Run by server/tests/all/init_apps_live_edit_on_the_first_try.rs; prints `ok: ...` on success.

import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const { TRAPPED } = await import(join(ROOT, 'web/hotwasm-client.js'));
const { serveApp, attachPage } = await import(join(ROOT, 'tests/lib/node-page.mjs'));
const [hotwasm, app, bundle, patchFile, newSource] = process.argv.slice(2);

const server = await serveApp(app, { watch: true, hotwasm });
const { hot } = await attachPage(bundle, server.url);
try {
  assert.equal(hot.hotReload, true, 'the bundle is a HOT_RELOAD build');
  // Its name as the host's linker knows it: `app_value` in C, mangled in C++ (`_Z9app_valuei`)
  // and Rust (v0: `_RNv…9app_value`), where every function of an all-hot app is hot.
  const appValue = hot.hostVars.map((v) => v.name).find((n) => n === 'app_value' || /\dapp_value/.test(n));
  assert.ok(appValue, `app_value is a host var: ${JSON.stringify(hot.hostVars)}`);
  for (let i = 0; i < 150; i++) assert.notEqual(hot.call('app_frame', 1 / 60), TRAPPED);
  assert.equal(hot.call('app_frames'), 150);
  assert.equal(hot.call('app_current'), 50, 'the built-in app_value: frame % 100');

  const applied = new Promise((resolve, reject) => {
    hot.on('patch', (d) => (d.ok ? resolve(d) : reject(new Error(`the saved patch failed to apply: ${d.error}`))));
    hot.on('diagnostics', (d) => reject(new Error(`the saved patch did not compile: ${JSON.stringify(d)}`)));
  });
  writeFileSync(patchFile, newSource);
  const patch = await applied;
  assert.deepEqual(patch.manifest.map((e) => e.var), [appValue]);
  assert.equal(hot.call('app_current'), 1050, 'the running app calls the saved app_value');
  assert.equal(hot.call('app_frames'), 150, 'the app kept its state');
  for (let i = 0; i < 10; i++) assert.notEqual(hot.call('app_frame', 1 / 60), TRAPPED);
  assert.equal(hot.call('app_current'), 1060);
  console.log(`ok: ${patch.size}-byte patch applied in ${patch.applyMs.toFixed(1)} ms; frames kept (${hot.call('app_frames')})`);
} finally {
  hot.close();
  server.stop();
}
