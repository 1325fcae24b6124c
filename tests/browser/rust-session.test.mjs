// A Rust REPL session is one growing program (issue 21, item 3), in the particle demo (a Rust
// host) in headless Chromium against the real server: a struct and functions (one taking and
// returning the struct, one returning a String) defined in one eval are used by name in later
// evals; an eval of items only is accepted; a static keeps its value across evals; a redefined
// function reaches the callers compiled before it (in its own eval and in others); an undone
// eval's items are gone; a reloaded page gets the session replayed from the journal and goes on.
//
//   node --test tests/browser/rust-session.test.mjs

import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { evalIn, openDemo, servedApp, waitConnected } from './helpers.mjs';

const ok = (r) => assert.equal(r.ok, true, `${r.stage}: ${r.error} ${r.raw_output ?? ''}`);
/** Evaluates Rust `source` in `page`; returns the one page's value text. */
const value = async (page, source) => {
  const r = await evalIn(page, source, 'rust', 'eval.rs');
  ok(r);
  assert.equal(r.pages.length, 1, 'one page answered');
  return r.pages[0].value?.text;
};

const ITEMS = `#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Pt { x: f64, y: f64 }
fn scaled(p: Pt, k: f64) -> Pt { Pt { x: p.x * k, y: p.y * k } }
fn label(p: Pt) -> String { format!("({}, {})", p.x, p.y) }
impl Pt { fn area(&self) -> f64 { self.x * self.y } }
`;

describe('a Rust session in headless Chromium keeps its items', { timeout: 300_000 }, () => {
  const app = servedApp();

  test('a struct and fns of one eval (items only) are used by later evals, String and struct values included', async () => {
    const page = await openDemo(app.browser, app.server.url);
    const defs = await evalIn(page, ITEMS, 'rust', 'eval.rs');
    ok(defs);
    assert.equal(await value(page, 'scaled(Pt { x: 1.5, y: 2.0 }, 2.0)'), 'Pt { x: 3.0, y: 4.0 }');
    assert.equal(await value(page, 'let p = scaled(Pt { x: 1.0, y: 0.5 }, 4.0);\nlabel(p)'), '"(4, 2)"');
    assert.equal(await value(page, 'Pt { x: 3.0, y: 4.0 }.area()'), '12.0');
    await page.close();
  });

  test('a static keeps its value across evals', async () => {
    const page = await openDemo(app.browser, app.server.url);
    ok(await evalIn(page, 'static mut TOTAL: i64 = 100;\n', 'rust', 'eval.rs'));
    assert.equal(await value(page, 'unsafe { TOTAL += 5; TOTAL }'), '105');
    assert.equal(await value(page, 'unsafe { TOTAL += 5; TOTAL }'), '110');
    // Defined again with its type: the storage and its value stay.
    ok(await evalIn(page, 'static mut TOTAL: i64 = 0;\n', 'rust', 'eval.rs'));
    assert.equal(await value(page, 'unsafe { TOTAL }'), '110');
    await page.close();
  });

  test('a redefined fn reaches the callers compiled before it, in its own eval and in later ones', async () => {
    const page = await openDemo(app.browser, app.server.url);
    ok(await evalIn(page, 'fn base() -> i32 { 1 }\nfn tens() -> i32 { base() * 10 }\n', 'rust', 'eval.rs'));
    ok(await evalIn(page, 'fn hundreds() -> i32 { base() * 100 }\n', 'rust', 'eval.rs'));
    assert.equal(await value(page, '(tens(), hundreds())'), '(10, 100)');
    ok(await evalIn(page, 'fn base() -> i32 { 2 }\n', 'rust', 'eval.rs'));
    assert.equal(await value(page, '(tens(), hundreds())'), '(20, 200)');
    await page.close();
  });

  test('undo removes the items of the evals it undoes', async () => {
    const page = await openDemo(app.browser, app.server.url);
    const defs = await evalIn(page, 'fn soon_gone() -> u8 { 7 }\n', 'rust', 'eval.rs');
    ok(defs);
    assert.equal(await value(page, 'soon_gone()'), '7');
    const undone = await page.evaluate((seq) => globalThis.hotwasm.hot.undo(seq, { state: false }), defs.seq);
    assert.ok(undone.undone.includes(defs.seq), JSON.stringify(undone));
    const after = await evalIn(page, 'soon_gone()', 'rust', 'eval.rs');
    assert.equal(after.ok, false);
    assert.match(after.raw_output, /cannot find function `soon_gone`/);
    await page.close();
  });

  test('a reloaded page gets the session replayed from the journal and later evals use its items', async () => {
    const page = await openDemo(app.browser, app.server.url);
    ok(await evalIn(page, 'fn greet(n: &str) -> String { format!("hi {n}") }\nstatic mut SEEN: u32 = 3;\n', 'rust', 'eval.rs'));
    assert.equal(await value(page, 'unsafe { SEEN += 1; SEEN }'), '4');
    await page.reload();
    await page.waitForFunction(() => globalThis.hotwasm?.view && globalThis.hotwasm.stats().frame > 5, null, { timeout: 30_000 });
    await waitConnected(page);
    // The definitions were replayed into the fresh instance (the static from its initializer;
    // the command that bumped it is not replayed).
    assert.equal(await value(page, 'unsafe { SEEN += 1; SEEN }'), '4');
    assert.equal(await value(page, 'greet("again")'), '"hi again"');
    assert.equal(await value(page, 'label(scaled(Pt { x: 1.0, y: 1.0 }, 3.0))'), '"(3, 3)"');
    await page.close();
  });
});
