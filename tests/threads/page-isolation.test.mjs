// The page side of threads, with the real `hotwasm serve` and the real threaded host
// (examples/threads-c): every response carries the cross-origin isolation headers a page needs
// for SharedArrayBuffer, a page without them gets a message naming the fix, and a threaded host
// attaches with memory snapshots off and code rollback on a trap (docs/THREADS.md). Run:
//   node --experimental-websocket --test tests/threads/
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { attachPage, serveApp } from '../lib/node-page.mjs';
import { isolationProblem } from '../../web/hotwasm-client.js';
import { app, buildHost } from './pool-host.mjs';

describe('a threaded app served by hotwasm serve', () => {
  let server;
  let js;
  before(async () => {
    js = await buildHost();
    server = await serveApp(app);
  });
  after(() => {
    server?.stop();
    // The attached host's workers never exit: end the process once the tests have reported.
    setImmediate(() => process.exit(process.exitCode ?? 0));
  });

  test('the page, the bundle and the client are served cross-origin isolated', async () => {
    const base = server.url.replace(/^ws:/, 'http:').replace(/\/repl\?.*$/, '');
    for (const path of ['/', '/pool.js', '/pool.wasm', '/hotwasm/hotwasm-client.js', '/no-such-file']) {
      const r = await fetch(base + path);
      assert.equal(r.headers.get('cross-origin-opener-policy'), 'same-origin', path);
      assert.equal(r.headers.get('cross-origin-embedder-policy'), 'credentialless', path);
    }
  });

  test('a page that is not isolated is told why a threaded app cannot start and what fixes it', () => {
    assert.equal(isolationProblem({ SharedArrayBuffer, crossOriginIsolated: true }), null);
    assert.equal(isolationProblem({ SharedArrayBuffer }), null, 'Node: no crossOriginIsolated, shared memory works');
    for (const g of [{ crossOriginIsolated: false }, { SharedArrayBuffer, crossOriginIsolated: false }]) {
      assert.match(isolationProblem(g), /not cross-origin isolated.*-pthread.*Cross-Origin-Opener-Policy: same-origin.*Cross-Origin-Embedder-Policy: require-corp/s);
    }
  });

  test('a threaded host attaches with snapshots off and rolls code back on a trap', async () => {
    const { Module, hot } = await attachPage(js, server.url);
    assert.ok(Module.HEAPU8.buffer instanceof SharedArrayBuffer);
    assert.equal(hot.applier.snapshots, null, 'no memory snapshots under running workers');
    assert.equal(hot.applier.onTrap, 'code');
    assert.deepEqual(hot.registry.list().map((v) => v.name).sort(), ['pixel_color', 'worker_tag']);
  });
});
