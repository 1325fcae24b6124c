// Rust evals that need standard library code the host does not link (issue 18, item 3), in a
// real page: examples/rust-host (a small Rust app: Vec, RefCell, a thread-local) built with
// HOT_RELOAD=1, served by `hotwasm serve`, its bundle run under Node as a page over a real
// WebSocket. The patch links the stateless std code it needs (sorting, B-trees, float
// formatting, i128 division) and shares the host's allocator and panic machinery; each value
// comes back from the page.
//
//   node --experimental-websocket --test tests/node-repl/rust-std.test.mjs

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT, attachPage, serveApp } from '../lib/node-page.mjs';

const APP = join(ROOT, 'examples/rust-host');

/** The std cases: the eval, the Debug text of its value, and a piece of a std symbol's mangled
 *  name the host must not export (so the patch has to link that code itself). */
const CASES = [
  ['v.sort()', 'let mut v = vec![3, 1, 2];\nv.sort();\nv', '[1, 2, 3]', 'smallsort22panic_on_ord_violation'],
  ['sort_unstable_by_key', "let mut v = vec![(1, 'c'), (3, 'a'), (2, 'b')];\nv.sort_unstable_by_key(|p| p.1);\nv", "[(3, 'a'), (2, 'b'), (1, 'c')]", 'smallsort22panic_on_ord_violation'],
  ['BTreeMap', 'let mut m = std::collections::BTreeMap::new();\nfor k in [5, 1, 4] { m.insert(k, k * 2); }\nm', '{1: 2, 4: 8, 5: 10}', '5btree'],
  ['format!("{:e}")', 'format!("{:e}", 1234.5f64)', '"1.2345e3"', '8LowerExp'],
  ['i128 arithmetic', 'let a: i128 = std::hint::black_box(i128::MAX);\na / 1_000_000_007 + a % 1_000_000_007', '170141182269480955845960428939', '__divti3'],
  ['iterator chain', '(1..=20).filter(|n| n % 3 != 0).map(|n| n * n).rev().step_by(2).take(4).collect::<Vec<i32>>()', '[400, 289, 196, 121]', null],
];

function build(dir) {
  const r = spawnSync('bash', [join(ROOT, 'scripts/emscripten-bundle.sh'), dir], {
    cwd: ROOT,
    env: { ...process.env, HOT_RELOAD: '1' },
    stdio: ['ignore', 'inherit', 'inherit'],
    timeout: 20 * 60_000,
  });
  if (r.status !== 0) throw new Error(`building ${dir} failed (${r.status ?? r.signal})`);
}

describe('Rust evals that need std code examples/rust-host does not link', { timeout: 25 * 60_000, concurrency: false }, () => {
  let server;
  let hot;
  let exports;
  before(async () => {
    build(APP);
    exports = JSON.parse(readFileSync(join(APP, 'build/hot/hotwasm-host.json'))).exports;
    server = await serveApp(APP);
    ({ hot } = await attachPage(join(APP, 'build/hot/garden.js'), server.url));
  });
  after(() => {
    hot?.close();
    server?.stop();
  });

  for (const [name, source, text, lacking] of CASES) {
    test(`${name} returns the right value`, async () => {
      if (lacking) assert.ok(!exports.some((e) => e.includes(lacking)), `the host links no ${lacking}: the patch must link it`);
      const r = await hot.eval(source, 'rust');
      assert.ok(r.ok, `eval of ${JSON.stringify(source)} failed: ${r.error}\n${r.raw_output ?? ''}`);
      assert.ok(r.pages.length > 0, 'no page answered');
      for (const p of r.pages) assert.equal(p.value?.text, text);
    });
  }

  test('std state the host lacks (stdout) is refused before sending, naming the symbol and the fix', async () => {
    assert.ok(!exports.some((e) => e.includes('stdio') && e.includes('_print')), 'the host links no std::io::_print');
    const r = await hot.eval('println!("hi");\n1', 'rust');
    assert.equal(r.ok, false, 'refused');
    assert.match(r.error, /std::io::stdio::_print/);
    // Why depends on what the host links: std state itself, or a C function behind it (a lock).
    assert.match(r.error, /state of the standard library|which neither the host nor the standard library's objects provide/);
    assert.match(r.error, /cannot link itself/);
    assert.match(r.error, /hotwasm build --hot/);
  });
});
