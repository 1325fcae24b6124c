// Patches of any size load: Chromium refuses synchronous compilation of more than 8 MB of wasm
// on the main thread, so the client preloads patches asynchronously before `hotwasm_apply`.
// A 9 MB patch (a function plus 9 MB of data) is compiled here and applied in the page through
// the client's registry, once the synchronous way (expected to fail) and once preloaded.

import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureBundle, openDemo, screenshot, servedApp, toolchainEnv } from './helpers.mjs';

const SIZE = 9 * 1024 * 1024;

function bigPatch() {
  const dir = mkdtempSync(join(tmpdir(), 'hotwasm-big-'));
  writeFileSync(join(dir, 'blob.bin'), randomBytes(SIZE));
  writeFileSync(
    join(dir, 'big.c'),
    `#include <stdint.h>
static const unsigned char blob[] = {
#embed "blob.bin"
};
static unsigned calls;
uint32_t background_color__hw9000(const void *w) {
    (void)w;
    return 0xff203040u | (uint32_t)(blob[calls++ % sizeof blob] & 1u);
}
`,
  );
  execFileSync(
    'emcc',
    ['-O1', '-std=c23', '-fPIC', '-sSIDE_MODULE=1', '-sWASM_BIGINT', '-Wno-version-check',
      join(dir, 'big.c'), '-o', join(dir, 'big.so')],
    { env: toolchainEnv(), stdio: 'pipe', cwd: dir },
  );
  return readFileSync(join(dir, 'big.so'));
}

describe('a 9 MB patch', { timeout: 300_000 }, () => {
  let bytes;
  const app = servedApp({
    prepare: () => {
      ensureBundle({ hot: true });
      bytes = bigPatch();
    },
  });

  test('fails synchronously, applies preloaded, and the animation never stops', async () => {
    assert.ok(bytes.length > 8 * 1024 * 1024, `patch is ${bytes.length} bytes`);
    const page = await openDemo(app.browser, app.server.url);
    await page.route('**/test-patches/big.so', (route) => route.fulfill({ body: bytes, contentType: 'application/octet-stream' }));
    const out = await page.evaluate(async () => {
      const { HostRegistry } = await import('/hotwasm/registry.js');
      const M = globalThis.hotwasm.Module;
      const data = new Uint8Array(await (await fetch('/test-patches/big.so')).arrayBuffer());
      const manifest = 'background_color background_color__hw9000 ip\n';
      const run = async (threshold, path) => {
        const reg = new HostRegistry(M, { preloadThreshold: threshold });
        const f0 = globalThis.hotwasm.stats().frame;
        const t0 = performance.now();
        const w = await reg.writePatch(path, data);
        const r = reg.apply(path, manifest);
        return { ...r, preloaded: w.preloaded, ms: performance.now() - t0, frames: globalThis.hotwasm.stats().frame - f0 };
      };
      const sync = await run(Infinity, '/hotwasm/big-sync.so');
      const pre = await run(0, '/hotwasm/big-preloaded.so');
      return { sync, pre, size: data.length };
    });
    assert.equal(out.sync.ok, false, 'the synchronous path is refused by Chromium');
    assert.match(out.sync.error, /8 ?MB|disallowed on the main thread/i);
    assert.equal(out.pre.ok, true, out.pre.error);
    assert.equal(out.pre.preloaded, true);
    console.log(`# 9 MB patch: preloaded apply ${out.pre.ms.toFixed(1)} ms (${out.pre.frames} frames ran meanwhile)`);
    const v = await page.evaluate(() => globalThis.hotwasm.hot.vars().find((x) => x.name === 'background_color'));
    assert.equal(v.history.at(-1).symbol, 'background_color__hw9000');
    const f = (await page.evaluate(() => globalThis.hotwasm.stats())).frame;
    await page.waitForFunction((f0) => globalThis.hotwasm.stats().frame > f0 + 10, f);
    await screenshot(page, '10-big-patch-applied');
    await page.close();
  });
});
