// All-hot mode for a Rust host end to end (docs/ALL-HOT.md): examples/allhot-rust, a Rust app with
// no `hot_fn!` at all, built with `hotwasm build --hot`, served by the real server, its real bundle
// under Node as the page. A patch (an eval, and the saved file patches/step.rs) replaces a plain
// private fn and a fn in a module, by their paths, and the host's own callers run the new version;
// a redefinition of a generic fn is refused naming why. A patch calls the app's private fns and
// reads its statics by their paths (through the host's slots: always the newest version), and one
// calling a fn whose signature names a type of the app's is refused, naming the fn and the type;
// the snippets docs/ALL-HOT.md shows for these are the ones run here.
//
//   node --experimental-websocket --test tests/examples/allhot-rust.test.mjs

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT, applyPatch, attachPage, callExport, hotwasmCommand, nextPatch, serveApp } from '../lib/node-page.mjs';

const HOTWASM = hotwasmCommand();
const applied = (hot, source) => applyPatch(hot, source, 'rust');
const DOC = readFileSync(join(ROOT, 'docs/ALL-HOT.md'), 'utf8');

/** `text`, after checking docs/ALL-HOT.md shows it word for word (so the doc's snippet is run here). */
function documented(text) {
  assert.ok(DOC.includes(text), `docs/ALL-HOT.md no longer shows:\n${text}`);
  return text;
}
// Built in place: its Cargo.toml names the runtime by a path relative to the checkout.
const DIR = join(ROOT, 'examples/allhot-rust');

describe('examples/allhot-rust: every non-generic fn of the crate hot, no marks', { timeout: 15 * 60_000 }, () => {
  let server;
  let hot;

  before(async () => {
    const built = spawnSync(HOTWASM, ['build', '--hot', '--project', DIR], { stdio: ['ignore', 'inherit', 'inherit'] });
    assert.equal(built.status, 0, 'hotwasm build --hot failed');
    server = await serveApp(DIR, { hotwasm: HOTWASM, watch: true });
    ({ hot } = await attachPage(join(DIR, 'build/hot/spin.js'), server.url));
  });

  after(() => {
    hot?.close();
    server?.stop();
  });

  test('the host manifest lists the crate\'s plain fns as vars and its generic fn as cold, with no hot_fn! in the sources', () => {
    for (const f of ['lib.rs', 'physics.rs']) {
      assert.doesNotMatch(readFileSync(join(DIR, 'src', f), 'utf8'), /hot_fn!/);
    }
    const manifest = JSON.parse(readFileSync(join(DIR, 'build/hot/hotwasm-host.json'), 'utf8'));
    const vars = manifest.vars.map((v) => v.name);
    assert.ok(vars.some((n) => /4spin4step$/.test(n)), `no var for spin::step in ${vars}`);
    assert.ok(vars.some((n) => /7physics7advance$/.test(n)), `no var for spin::physics::advance in ${vars}`);
    assert.ok(manifest.cold.some((c) => /`pick::<i32>` is not hot: it is generic/.test(c.why)), JSON.stringify(manifest.cold));
  });

  test('an eval redefining a plain private fn by its path changes what the host\'s next frame shows', async () => {
    for (let i = 0; i < 7; i++) callExport(hot, 'spin_frame', 1 / 60);
    assert.equal(callExport(hot, 'spin_value'), 70, 'the host\'s own step() and physics::advance()');
    await applied(hot, 'fn step(n: i32) -> i32 { n % 100 + 1 }\n');
    assert.equal(callExport(hot, 'spin_value'), 80, 'spin_value (host code) calls the patched step');
    callExport(hot, 'spin_frame', 1 / 60);
    assert.equal(callExport(hot, 'spin_value'), 90, 'the frame count carried on across the patch');
  });

  test('a saved patch file redefining the plain fn reaches the host\'s callers', async () => {
    // A file of its own (removed after), so the example's patches/step.rs stays as it is.
    const file = join(DIR, 'patches', 'saved-by-test.rs');
    const patch = nextPatch(hot);
    try {
      writeFileSync(file, 'fn step(n: i32) -> i32 {\n    n % 100 + 2\n}\n');
      const p = await patch;
      assert.ok(p.ok, `the page did not apply the saved file: ${p.error}`);
    } finally {
      unlinkSync(file);
    }
    assert.equal(callExport(hot, 'spin_value'), 100, 'the saved step: (8 frames + 2) * 10');
  });

  test('a patch redefining a fn in a module by its path reaches the host\'s callers', async () => {
    await applied(hot, 'pub mod physics {\n    pub fn advance(s: i32) -> i32 { s * 1000 }\n}\n');
    assert.equal(callExport(hot, 'spin_value'), 10000, 'physics::advance replaced; step is still the saved one');
  });

  test('rolling a redefined fn back restores the host\'s own version for its callers', async () => {
    const advance = JSON.parse(readFileSync(join(DIR, 'build/hot/hotwasm-host.json'), 'utf8'))
      .vars.find((v) => /7physics7advance$/.test(v.name)).name;
    await hot.rollback(advance);
    assert.equal(callExport(hot, 'spin_value'), 100);
  });

  test('a redefined fn that calls itself runs its own new version', async () => {
    await applied(hot, 'fn step(n: i32) -> i32 { if n > 3 { step(n - 3) } else { n + 40 } }\n');
    assert.equal(callExport(hot, 'spin_value'), 420, 'step(8) = step(5) = step(2) = 42, times 10');
  });

  test('a #[no_mangle] fn the page calls is hot too: its redefinition reaches the page\'s calls', async () => {
    assert.equal(callExport(hot, 'spin_pick', 1000), 1000, 'the host\'s own spin_pick: the larger of 8 frames and 1000');
    await applied(hot, '#[no_mangle]\npub extern "C" fn spin_pick(floor: i32) -> i32 { -floor }\n');
    assert.equal(callExport(hot, 'spin_pick', 1000), -1000, 'the page\'s call of the export runs the patch');
  });

  test('a redefinition of a generic fn is refused, naming why', async () => {
    const r = await hot.eval('fn pick<T: Copy + PartialOrd>(a: T, _b: T) -> T { a }\n', 'rust');
    assert.equal(r.ok, false, 'a generic fn was redefined');
    assert.match(r.error, /redefines the host's `pick`, which a patch cannot replace: `pick::<i32>` is not hot: it is generic/);
  });

  test('a function kept cold by [hot] cold cannot be redefined, and the refusal names the key', async () => {
    const r = await hot.eval('fn checksum(x: i32) -> i32 { x }\n', 'rust');
    assert.equal(r.ok, false, 'a cold function was redefined');
    assert.match(r.error, /`checksum` is not hot: it is kept cold by \[hot\] cold/);
  });

  test('a redefinition with another signature is refused before sending', async () => {
    const r = await hot.eval('pub mod physics {\n    pub fn advance(s: f64) -> f64 { s }\n}\n', 'rust');
    assert.equal(r.ok, false, 'a signature mismatch was sent');
    assert.match(r.error, /`spin::physics::advance` is declared with signature `ii` but the patch defines it as `dd`/);
  });

  test('a patch calls the host\'s private fn and a fn in a module by path and reads the host\'s private static', async () => {
    await applied(hot, 'fn step(n: i32) -> i32 { n % 100 }\n'); // the host's own step again
    await applied(hot, documented(`#[no_mangle]
pub extern "C" fn spin_checksum() -> i32 {
    let frames = FRAMES.load(std::sync::atomic::Ordering::Relaxed);
    physics::advance(step(frames + 100)) * 1000 + frames
}
`));
    callExport(hot, 'spin_frame', 1 / 60);
    const n = callExport(hot, 'spin_value') / 10; // the host's physics::advance(step(frames)), step = n % 100
    assert.equal(callExport(hot, 'spin_checksum'), n * 10 * 1000 + n, 'step(frames + 100) = frames, advance ×10, plus FRAMES');
  });

  test('a patch\'s call by path is late-bound: it runs the newest version of the host fn', async () => {
    const n = callExport(hot, 'spin_value') / 10;
    await applied(hot, 'pub mod physics {\n    pub fn advance(s: i32) -> i32 { s * 2 }\n}\n');
    assert.equal(callExport(hot, 'spin_checksum'), n * 2 * 1000 + n, 'the patched spin_checksum calls the newer physics::advance');
  });

  test('a patch\'s own module of a host module\'s path still calls the host\'s fns of that module it does not define', async () => {
    const n = callExport(hot, 'spin_value') / 2; // the newest advance doubles
    await applied(hot, 'pub mod physics {\n    pub fn advance(s: i32) -> i32 { scale(s) + 1 }\n}\nfn unused() -> i32 { physics::scale(1) }\n');
    assert.equal(callExport(hot, 'spin_value'), n * 10 + 1, 'the host\'s physics::scale, called from the patch\'s physics');
    await applied(hot, 'pub mod physics {\n    pub fn advance(s: i32) -> i32 { s * 2 }\n}\n');
  });

  test('an eval\'s statements call the app\'s fns by path', async () => {
    const patch = nextPatch(hot);
    const r = await hot.eval(`${documented('physics::advance(step(7))')}\n`, 'rust');
    assert.ok(r.ok, `eval failed: ${r.error}`);
    const p = await patch;
    assert.deepEqual(p.value, { type: 'i32', text: '14' }, 'step(7) = 7, the newest advance doubles it');
  });

  test('a call of a fn whose signature names a type of the app\'s is refused, naming the fn, the type and what to do', async () => {
    const r = await hot.eval(documented('physics::height(&physics::Ball { y: 1 }, 2)\n'), 'rust');
    assert.equal(r.ok, false, 'the call of physics::height was compiled');
    assert.match(r.error, /the patch names the host's `physics::height`, which a patch cannot reach: the host's `physics::height` uses `Ball`, a type the patch cannot name/);
    assert.match(r.error, /wrap the call in a host function of such types/);
  });
});
