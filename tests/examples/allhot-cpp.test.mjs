// All-hot mode in a C++ host (docs/ALL-HOT.md): a small C++ app with no marks, written here,
// built with `hotwasm build --hot`, served by the real server, its bundle under Node as the page.
// Patches redefine a member function of a class in a namespace (addressed by its mangled name,
// as the compiler names it), a function in an anonymous namespace, and template instantiations
// the host uses (by explicit specialization), and the host's own callers run the new versions.
//
//   node --experimental-websocket --test tests/examples/allhot-cpp.test.mjs

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { applyPatch, attachPage, callExport, hotwasmCommand, nextPatch, serveApp } from '../lib/node-page.mjs';

const HOTWASM = hotwasmCommand();
const applied = (hot, source) => applyPatch(hot, source, 'cpp');

const FILES = {
  'hotwasm.toml': `[app]
name = "shapes"
lang = "cpp"
export_name = "createShapes"

[build]
sources = ["src/*.cpp"]
cflags = ["-std=c++20", "-Iinclude"]
exports = ["main", "shapes_area", "shapes_scaled", "shapes_bonus", "shapes_twice", "shapes_twice_more", "shapes_pair"]

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
extern "C" int32_t shapes_bonus(int32_t x);
extern "C" int32_t shapes_twice(int32_t x);
extern "C" int32_t shapes_twice_more(int32_t x);
extern "C" int32_t shapes_pair(int32_t x);
// A function template the host instantiates for int32_t in both of its files.
template <typename T> T twice(T x) { return x + x; }
// A class template whose member the host instantiates for int32_t.
template <typename T> struct Pair {
  T a, b;
  T sum() const { return a + b; }
};
`,
  'src/more.cpp': `#include "shapes.h"
extern "C" int32_t shapes_twice_more(int32_t x) { return twice(x) + 1; }
extern "C" int32_t shapes_pair(int32_t x) { return Pair<int32_t>{x, 5}.sum(); }
`,
  'src/shapes.cpp': `#include "shapes.h"
namespace geo {
int32_t Box::area() const { return w * h; }
int32_t scale(int32_t x) { return x * 2; }
}  // namespace geo
namespace {
geo::Box box{3, 4};
// A function in an anonymous namespace: internal linkage, hot all the same.
int32_t bonus(int32_t x) { return x + box.h; }
}  // namespace
extern "C" int32_t shapes_area(void) { return box.area(); }
extern "C" int32_t shapes_scaled(void) { return geo::scale(box.w); }
extern "C" int32_t shapes_bonus(int32_t x) { return bonus(x); }
extern "C" int32_t shapes_twice(int32_t x) { return twice(x); }
int main() { return 0; }
`,
};

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
    assert.equal(callExport(hot, 'shapes_area'), 12);
    const patch = nextPatch(hot);
    const r = await hot.eval('#include "shapes.h"\nint32_t geo::Box::area() const { return w + h + geo::scale(1); }\n', 'cpp');
    assert.ok(r.ok, `eval failed: ${r.error}\n${r.raw_output ?? ''}`);
    assert.ok((await patch).ok, 'the page applied the patch');
    assert.equal(callExport(hot, 'shapes_area'), 9, 'Box::area is the patch\'s, calling the host\'s geo::scale');
    assert.equal(callExport(hot, 'shapes_scaled'), 6, 'the rest of the host is unchanged');
  });

  test('a patch redefines a function in an anonymous namespace and the host\'s caller runs it', async () => {
    assert.equal(callExport(hot, 'shapes_bonus', 1), 5);
    await applied(hot, '#include "shapes.h"\nnamespace {\nint32_t bonus(int32_t x) { return x * 100; }\n}\n');
    assert.equal(callExport(hot, 'shapes_bonus', 2), 200, 'bonus is the patch\'s');
  });

  test('a second redefinition in an anonymous namespace calls a helper of its own there; rollback returns to the first', async () => {
    await applied(hot, '#include "shapes.h"\nnamespace {\nint32_t triple(int32_t x) { return 3 * x; }\nint32_t bonus(int32_t x) { return triple(x) + 1; }\n}\n');
    assert.equal(callExport(hot, 'shapes_bonus', 2), 7, 'the new bonus calls the patch\'s own triple');
    await hot.rollback('_ZN12_GLOBAL__N_15bonusEi');
    assert.equal(callExport(hot, 'shapes_bonus', 2), 200, 'the first patch\'s bonus again');
  });

  test('an explicit specialization replaces the function template instantiation the host uses, in every file', async () => {
    assert.equal(callExport(hot, 'shapes_twice', 7), 14);
    assert.equal(callExport(hot, 'shapes_twice_more', 7), 15);
    await applied(hot, '#include "shapes.h"\ntemplate <> int32_t twice<int32_t>(int32_t x) { return x * 10; }\n');
    assert.equal(callExport(hot, 'shapes_twice', 7), 70, 'twice<int32_t> is the patch\'s');
    assert.equal(callExport(hot, 'shapes_twice_more', 7), 71, 'in the other file too');
    await applied(hot, '#include "shapes.h"\ntemplate <> int32_t twice<int32_t>(int32_t x) { return x * 20; }\n');
    assert.equal(callExport(hot, 'shapes_twice', 7), 140, 'a second specialization is a new version');
  });

  test('an explicit specialization replaces a member function of a class template the host uses', async () => {
    assert.equal(callExport(hot, 'shapes_pair', 3), 8);
    await applied(hot, '#include "shapes.h"\ntemplate <> int32_t Pair<int32_t>::sum() const { return a * b; }\n');
    assert.equal(callExport(hot, 'shapes_pair', 3), 15, 'Pair<int32_t>::sum is the patch\'s');
  });
});
