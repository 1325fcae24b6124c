// Evals that hold statements and expressions, in real pages: the example apps built with
// HOT_RELOAD=1, served by `hotwasm serve`, their bundles run under Node as pages (the public
// client over a real WebSocket). Statements run once on every page right after apply; a
// trailing expression's value comes back from every page with its type (C: the runtime formats
// it; Rust: Debug); diagnostics keep the user's lines; a global persists across evals.
//
//   node --experimental-websocket --test tests/node-repl/

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { ROOT, attachPage, nextPatch, serveApp } from '../lib/node-page.mjs';

function build(dir) {
  const r = spawnSync('bash', [join(ROOT, 'scripts/emscripten-bundle.sh'), dir], {
    cwd: ROOT,
    env: { ...process.env, HOT_RELOAD: '1' },
    stdio: ['ignore', 'inherit', 'inherit'],
    timeout: 20 * 60_000,
  });
  if (r.status !== 0) throw new Error(`building ${dir} failed (${r.status ?? r.signal})`);
}

/** Evaluates `source` and insists it applied on every page. */
async function evalOk(hot, source, lang) {
  const r = await hot.eval(source, lang);
  assert.ok(r.ok, `eval of ${JSON.stringify(source)} failed: ${r.error}\n${r.raw_output ?? ''}`);
  return r;
}

/** The value every page reported (they must agree). */
function valueOf(result) {
  const values = result.pages.map((p) => p.value ?? null);
  assert.ok(values.length > 0, 'no page answered');
  for (const v of values) assert.deepEqual(v, values[0], 'the pages disagree');
  return values[0];
}

describe('C statements and expressions on two pages of examples/c-host', { timeout: 25 * 60_000, concurrency: false }, () => {
  const APP = join(ROOT, 'examples/c-host');
  let server;
  const pages = [];
  before(async () => {
    build(APP);
    server = await serveApp(APP);
    for (let i = 0; i < 2; i++) pages.push((await attachPage(join(APP, 'build/hot/bounce.js'), server.url)).hot);
  });
  after(() => {
    for (const hot of pages) hot.close();
    server?.stop();
  });

  test('a statement-only eval runs once on each page, right after apply', async () => {
    const [hot, other] = pages;
    await evalOk(hot, 'int runs = 0;\n', 'c');
    const seen = nextPatch(other);
    const r = await evalOk(hot, '#include <stdio.h>\nextern int runs;\nruns++;\nprintf("ran %d\\n", runs);\n', 'c');
    assert.equal(r.pages.length, 2);
    for (const p of r.pages) {
      assert.equal(p.output.trim(), 'ran 1', `page ${p.page} ran the statements once`);
      assert.equal(p.value ?? null, null, 'statements print no value');
    }
    const patch = await seen;
    assert.deepEqual(patch.manifest, [], 'nothing but statements: no var changes');
    assert.deepEqual(valueOf(await evalOk(hot, 'extern int runs;\nruns', 'c')), { type: 'int', text: '1' });
  });

  test('a trailing expression prints its value with its type: int, double, string, _Bool, pointer', async () => {
    const [hot] = pages;
    const cases = [
      ['6*7', { type: 'int', text: '42' }],
      ['0.1 + 0.2', { type: 'double', text: '0.30000000000000004' }],
      ['"hi\\n"', { type: 'char *', text: '"hi\\n"' }],
      // (The type as C names it: the session reports clang's own type.)
      ['(_Bool)1', { type: '_Bool', text: 'true' }],
      ['(const char *)0', { type: 'const char *', text: 'NULL' }],
    ];
    for (const [source, want] of cases) assert.deepEqual(valueOf(await evalOk(hot, source, 'c')), want, source);
    const ptr = valueOf(await evalOk(hot, 'static int cell = 5;\n&cell', 'c'));
    assert.equal(ptr.type, 'int *', 'the pointer type as clang names it');
    assert.match(ptr.text, /^0x[0-9a-f]+$/);
    const patch = nextPatch(hot);
    await evalOk(hot, 'int twice(int x) { return 2 * x; }\ntwice(21)', 'c');
    assert.deepEqual((await patch).value, { type: 'int', text: '42' }, "the page's own patch event carries the value");
  });

  test('a global bumped by three evals keeps its storage: `counter` is 3', async () => {
    const [hot] = pages;
    await evalOk(hot, 'int counter = 0;\n', 'c');
    for (let i = 0; i < 3; i++) await evalOk(hot, 'extern int counter;\ncounter++;\n', 'c');
    assert.deepEqual(valueOf(await evalOk(hot, 'extern int counter;\ncounter', 'c')), { type: 'int', text: '3' });
  });

  test("a C global whose initializer is not a constant is C's error at its line; assigned, it gets its value when the eval runs", async () => {
    const [hot] = pages;
    const refused = await hot.eval('int scale(int v) { return 3 * v; }\nint tripled = scale(7);\ntripled', 'c');
    assert.equal(refused.ok, false);
    const d = refused.diagnostics.find((x) => x.severity === 'error');
    assert.match(d.message, /not a compile-time constant/);
    assert.equal(d.line, 2, JSON.stringify(d));
    const r = await evalOk(hot, 'int scale(int v) { return 3 * v; }\nint tripled = 0;\ntripled = scale(7);\ntripled', 'c');
    assert.deepEqual(valueOf(r), { type: 'int', text: '21' });
    assert.deepEqual(valueOf(await evalOk(hot, 'extern int tripled;\ntripled + 1', 'c')), { type: 'int', text: '22' });
  });

  test('a tentative definition `int t;` is one global: a later eval sets and reads the same storage', async () => {
    const [hot, other] = pages;
    await evalOk(hot, 'int tentative;', 'c');
    await evalOk(hot, 'extern int tentative;\ntentative = 5;', 'c');
    assert.deepEqual(valueOf(await evalOk(other, 'tentative + 1', 'c')), { type: 'int', text: '6' });
    await evalOk(hot, 'int tentative_list[];\ntentative_list[0] = 7;', 'c');
    assert.deepEqual(valueOf(await evalOk(hot, 'tentative_list[0]', 'c')), { type: 'int', text: '7' }, 'an incomplete array gets one element');
  });

  test('C++ values print with their type: bool as true/false, a pointer as its address', async () => {
    const [hot] = pages;
    assert.deepEqual(valueOf(await evalOk(hot, '3 > 2', 'cpp')), { type: 'bool', text: 'true' });
    assert.deepEqual(valueOf(await evalOk(hot, 'bool flag = false;\nflag', 'cpp')), { type: 'bool', text: 'false' });
    const ptr = valueOf(await evalOk(hot, 'int box = 5;\nint *at = &box;\nat', 'cpp'));
    assert.equal(ptr.type, 'int *');
    assert.match(ptr.text, /^0x[0-9a-f]+$/);
    assert.deepEqual(valueOf(await evalOk(hot, '(_Bool)0', 'c')), { type: '_Bool', text: 'false' });
  });

  test('a std::map global of a console C++ eval in a host without libc++ is used by a later eval', async () => {
    const [hot, other] = pages;
    await evalOk(hot, '#include <map>\nstd::map<int, int> squares{{1, 1}, {2, 4}};\nint grow_squares() { return 0; }', 'cpp');
    // A redefinition is parsed twice by the session; the map's helpers it is the first to use
    // must still reach its patch.
    const r = await evalOk(hot, 'int grow_squares() {\n  squares[3] = 9;\n  squares.emplace(4, 16);\n  return (int)squares.size() * 100 + squares.find(3)->second;\n}\ngrow_squares()', 'cpp');
    assert.deepEqual(valueOf(r), { type: 'int', text: '409' });
    assert.deepEqual(valueOf(await evalOk(other, 'squares.erase(1);\n(int)squares.size()', 'cpp')), { type: 'int', text: '3' });
  });

  test('a compile error in a statement names the line the user wrote', async () => {
    const [hot] = pages;
    const r = await hot.eval('int fine = 1;\nint add(int a) { return a + fine; }\n\nfine += missing;\n', 'c');
    assert.equal(r.ok, false);
    assert.equal(r.stage, 'compile');
    const d = r.diagnostics.find((x) => x.severity === 'error');
    assert.equal(d.line, 4, JSON.stringify(d));
    assert.equal(d.column, 9, JSON.stringify(d));
  });
});

describe('Rust statements and expressions on examples/rust-host', { timeout: 25 * 60_000, concurrency: false }, () => {
  const APP = join(ROOT, 'examples/rust-host');
  let server;
  let hot;
  before(async () => {
    build(APP);
    server = await serveApp(APP);
    ({ hot } = await attachPage(join(APP, 'build/hot/garden.js'), server.url));
  });
  after(() => {
    hot?.close();
    server?.stop();
  });

  test('the final expression prints through Debug with its type: a Vec and a struct', async () => {
    assert.deepEqual(valueOf(await evalOk(hot, 'let v: Vec<i32> = (1..=3).collect();\nv', 'rust')), { type: 'Vec<i32>', text: '[1, 2, 3]' });
    const r = await evalOk(hot, '#[derive(Debug)]\nstruct Point { x: i32, y: f64 }\nPoint { x: 1, y: 0.5 }', 'rust');
    assert.deepEqual(valueOf(r), { type: 'Point', text: 'Point { x: 1, y: 0.5 }' });
    const stmt = await evalOk(hot, 'let mut n = 0;\nfor i in 0..4 { n += i; }\n', 'rust');
    assert.equal(valueOf(stmt), null, 'statements ending in `;` print nothing');
  });
});
