// A Rust host that keeps its state in a `RefCell` and calls a hot function while it holds the
// borrow (the shape an adopter's app had): a patched function that traps inside that call leaves
// the `RefCell` borrowed unless the call is undone. With `on_trap = "state"` the page undoes the
// trapping call (web/call-guard.js), so the borrow flag is back and the frames go on; with
// `on_trap = "code"` every later frame fails on "already borrowed", as the trap event's
// `leftBehind` and docs/PROTOCOL.md say.
//
// The app: `hotwasm init --lang rust` with its lib.rs rewritten, built once (a Rust host: a few
// minutes cold), served twice (the second time with `on_trap = "code"`), on hotwasm's generic
// page in headless Chromium.
//
//   node --test tests/browser/trap-refcell.test.mjs

import { describe, test } from 'node:test';
import { appendFileSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import assert from 'node:assert/strict';
import { ROOT, evalIn, hotwasm, openGeneric, servedApp, startServer, toolchainEnv } from './helpers.mjs';

const LIB = `//! cells: a hotwasm app whose state lives in a RefCell borrowed across a hot call.
use hotwasm_runtime::hot_fn;
use std::cell::RefCell;

hot_fn! {
    /// The value each frame records.
    pub fn app_value(frame: i32) -> i32 {
        frame % 100
    }
}

thread_local! {
    static VALUES: RefCell<Vec<i32>> = const { RefCell::new(Vec::new()) };
}

/// One frame: records app_value while the state is borrowed.
#[no_mangle]
pub extern "C" fn app_frame(_dt_seconds: f64) {
    VALUES.with(|v| {
        let mut v = v.borrow_mut();
        let n = v.len() as i32 + 1;
        let value = app_value(n);
        v.push(value);
    });
}

/// Frames so far.
#[no_mangle]
pub extern "C" fn app_frames() -> i32 {
    VALUES.with(|v| v.borrow().len() as i32)
}

/// What the app shows now.
#[no_mangle]
pub extern "C" fn app_current() -> i32 {
    app_value(app_frames())
}

/// Start-up.
pub fn start() {}
`;

const TRAPPING = '#include <stdint.h>\nint32_t app_value(int32_t frame) {\n  (void)frame;\n  __builtin_trap();\n}\n';

/** Runs `n` frames through the trap-safe call; returns how many trapped. */
const frames = (page, n) =>
  page.evaluate((k) => {
    let trapped = 0;
    for (let i = 0; i < k; i++) if (globalThis.hotwasm.hot.call('app_frame', 1 / 60)?.trapped) trapped++;
    return trapped;
  }, n);
const count = (page) => page.evaluate(() => globalThis.hotwasm.Module._app_frames());

async function openPaused(browser, url) {
  const page = await openGeneric(browser, url);
  await page.evaluate(() => {
    globalThis.hotwasm.state.paused = true;
    globalThis.__traps = [];
    globalThis.hotwasm.hot.on('trap', (t) => globalThis.__traps.push({ ...t, error: String(t.error) }));
  });
  return page;
}

describe('a trap inside a RefCell borrow of a Rust host', { timeout: 900_000 }, () => {
  let app;
  const served = servedApp({
    prepare: () => {
      const root = mkdtempSync(join(tmpdir(), 'hotwasm-cells-'));
      app = join(root, 'cells');
      hotwasm(['init', '--lang', 'rust', '--name', 'cells', app]);
      writeFileSync(join(app, 'src', 'lib.rs'), LIB);
      // A target dir of its own, kept between runs (the runtime crate and std's PIC objects warm).
      hotwasm(['build', '--hot', '--project', app], { env: { ...toolchainEnv(), HOTWASM_HOME: ROOT, CARGO_TARGET_DIR: join(ROOT, 'target', 'test-rust-apps') } });
      return root;
    },
    serve: false,
  });

  test('on_trap = "state": the trapping call is undone, the RefCell is free again and the frames go on', async () => {
    const server = await startServer({ project: app });
    try {
      const page = await openPaused(served.browser, server.url);
      const r = await evalIn(page, TRAPPING, 'c', 'app_value.c');
      assert.equal(r.ok, true, `${r.error} ${r.raw_output}`);
      const before = await count(page);
      assert.equal(await frames(page, 1), 1, 'the patched app_value trapped inside the borrow');
      assert.equal(await count(page), before);
      assert.equal(await frames(page, 5), 0, 'no "already borrowed": the borrow was undone with the call');
      assert.equal(await count(page), before + 5);
      const [t] = await page.evaluate(() => globalThis.__traps);
      assert.deepEqual([t.var, t.state.restored, t.state.call], ['app_value', true, 'app_frame']);
    } finally {
      await server.stop();
    }
  });

  test('on_trap = "code": the RefCell stays borrowed and every later frame fails, as the event says', async () => {
    appendFileSync(join(app, 'hotwasm.toml'), 'on_trap = "code"\n');
    const server = await startServer({ project: app });
    try {
      const page = await openPaused(served.browser, server.url);
      const r = await evalIn(page, TRAPPING, 'c', 'app_value2.c');
      assert.equal(r.ok, true, `${r.error} ${r.raw_output}`);
      assert.equal(await frames(page, 1), 1);
      const [t] = await page.evaluate(() => globalThis.__traps);
      assert.equal(t.var, 'app_value');
      assert.equal(t.state.restored, false);
      assert.match(t.state.leftBehind, /RefCell it had borrowed/);
      assert.equal(await frames(page, 3), 3, 'the built-in app_value runs, but the RefCell is still borrowed');
      const later = await page.evaluate(() => globalThis.__traps.slice(1));
      assert.ok(later.every((x) => x.var === null), 'those traps are in the app\'s own code');
    } finally {
      await server.stop();
    }
  });
});
