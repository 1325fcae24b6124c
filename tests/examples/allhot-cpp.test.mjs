// All-hot mode in a C++ host (docs/ALL-HOT.md): a small C++ app with no marks, written here,
// built with `hotwasm build --hot`, served by the real server, its bundle under Node as the page.
// A patch redefines a member function of a class in a namespace (addressed by its mangled name,
// as the compiler names it) and the host's own caller runs the new version.
//
//   node --experimental-websocket --test tests/examples/allhot-cpp.test.mjs

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TRAPPED } from '../../web/hotwasm-client.js';
import { ROOT, attachPage, nextPatch, serveApp } from '../lib/node-page.mjs';

const HOTWASM = process.env.HOTWASM_BIN
  ?? join(process.env.CARGO_TARGET_DIR || join(ROOT, 'target'), 'debug', 'hotwasm');

const FILES = {
  'hotwasm.toml': `[app]
name = "shapes"
lang = "cpp"
export_name = "createShapes"

[build]
sources = ["src/*.cpp"]
cflags = ["-std=c++20", "-Iinclude"]
exports = ["main", "shapes_area", "shapes_scaled"]

[hot]
mode = "all"

[patches]
include_dirs = ["include"]
`,
  'include/shapes.h': `#pragma once
#include <cstdint>
namespace geo {
struct Box {
  int32_t w, h;
  int32_t area() const;
};
int32_t scale(int32_t x);
}  // namespace geo
extern "C" int32_t shapes_area(void);
extern "C" int32_t shapes_scaled(void);
`,
  'src/shapes.cpp': `#include "shapes.h"
namespace geo {
int32_t Box::area() const { return w * h; }
int32_t scale(int32_t x) { return x * 2; }
}  // namespace geo
namespace {
geo::Box box{3, 4};
}
extern "C" int32_t shapes_area(void) { return box.area(); }
extern "C" int32_t shapes_scaled(void) { return geo::scale(box.w); }
int main() { return 0; }
`,
};

function call(hot, name, ...args) {
  const r = hot.call(name, ...args);
  assert.notEqual(r, TRAPPED, `${name} trapped`);
  return r;
}

describe('a C++ host with no marks: every function hot', { timeout: 15 * 60_000 }, () => {
  let server;
  let hot;

  before(async () => {
    const dir = join(mkdtempSync(join(tmpdir(), 'hotwasm-allhot-cpp-')), 'shapes');
    for (const [name, text] of Object.entries(FILES)) {
      mkdirSync(join(dir, name, '..'), { recursive: true });
      writeFileSync(join(dir, name), text);
    }
    const built = spawnSync(HOTWASM, ['build', '--hot', '--project', dir], { stdio: ['ignore', 'inherit', 'inherit'] });
    assert.equal(built.status, 0, 'hotwasm build --hot failed');
    server = await serveApp(dir, { hotwasm: HOTWASM });
    ({ hot } = await attachPage(join(dir, 'build/hot/shapes.js'), server.url));
  });

  after(() => {
    hot?.close();
    server?.stop();
  });

  test('a patch redefines a member function in a namespace and the host\'s caller runs it', async () => {
    assert.equal(call(hot, 'shapes_area'), 12);
    const patch = nextPatch(hot);
    const r = await hot.eval('#include "shapes.h"\nint32_t geo::Box::area() const { return w + h + geo::scale(1); }\n', 'cpp');
    assert.ok(r.ok, `eval failed: ${r.error}\n${r.raw_output ?? ''}`);
    assert.ok((await patch).ok, 'the page applied the patch');
    assert.equal(call(hot, 'shapes_area'), 9, 'Box::area is the patch\'s, calling the host\'s geo::scale');
    assert.equal(call(hot, 'shapes_scaled'), 6, 'the rest of the host is unchanged');
  });
});
