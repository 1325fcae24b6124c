// Rust patches in headless Chromium against the real dev server and HOT_RELOAD bundle: the
// editor's C/Rust switch, a Rust redefinition of a hot function (visible, state kept), a
// std-heavy patch (format!, HashMap, catch_unwind) with the right result and hotwasm_main output,
// a rustc error in the overlay at the right line, and a panic that traps and is rolled back.

import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { evalIn, framesPass, openDemo, screenshot, servedApp, stats, typeAndEval, waitBackground } from './helpers.mjs';

const STD_HEAVY = `use std::collections::HashMap;

#[no_mangle]
pub extern "C" fn background_color(world: *const World) -> u32 {
    let frame = unsafe { (*world).frame };
    let words: Vec<String> = (1..=4).map(|i| format!("w{}-{}", i, frame % 1)).collect();
    let mut counts: HashMap<&str, u32> = HashMap::new();
    for w in &words {
        *counts.entry(w.as_str()).or_insert(0) += 1;
    }
    let total: u32 = counts.values().sum(); // 4
    let caught = std::panic::catch_unwind(|| {
        if total == 4 {
            panic!("expected and caught");
        }
        0u32
    });
    let bonus = if caught.is_err() { 0x10 } else { 0 };
    0xff00_0000 | (total * 0x20 + bonus) // 0xff000090
}

#[no_mangle]
pub extern "C" fn hotwasm_main() {
    let squares: Vec<String> = (1..=3).map(|i| (i * i).to_string()).collect();
    println!("rust says {}", squares.join(","));
}
`;

describe('Rust patches in headless Chromium', { timeout: 300_000 }, () => {
  const app = servedApp();

  test('the editor switches a var to Rust; a Rust edit changes the picture and keeps state', async () => {
    const page = await openDemo(app.browser, app.server.url);
    await page.click('#tabs button[data-var="background_color"]');
    await page.click('.lang button[data-lang="rust"]');
    const text = await page.inputValue('#code');
    assert.match(text, /pub extern "C" fn background_color/, 'the Rust default source is shown');
    assert.equal(await page.textContent('#tabs button[data-var="background_color"] .lang-tag'), 'rs');
    // The built-in Rust source compiles as it is.
    await page.focus('#code');
    const same = await typeAndEval(page, 'background_color', text);
    assert.equal(same.ok, true, `default Rust source: ${same.error} ${same.raw_output}`);
    await framesPass(page, 30);
    const s0 = await stats(page);
    const edited = text.replace('0xff1a_1210', '0xff20_6040');
    const r = await typeAndEval(page, 'background_color', edited);
    assert.equal(r.ok, true, `Rust eval failed: ${r.error} ${r.raw_output}`);
    await waitBackground(page, 0xff206040);
    const s1 = await stats(page);
    assert.ok(s1.frame > s0.frame, 'frame counter kept counting');
    assert.ok(s1.bounces >= s0.bounces, 'bounces kept');
    const vars = await page.evaluate(() => globalThis.hotwasm.hot.vars().find((v) => v.name === 'background_color'));
    assert.match(vars.history.at(-1).symbol, /^background_color__hw\d+$/);
    await screenshot(page, 'rust-01-background');
    // Back to C in the same tab: the C source, and a C eval still works.
    await page.click('.lang button[data-lang="c"]');
    assert.match(await page.inputValue('#code'), /uint32_t background_color/);
    await page.close();
  });

  test('the other built-in Rust sources compile and apply', async () => {
    const page = await openDemo(app.browser, app.server.url);
    const sources = await page.evaluate(async () => {
      const m = await import('./sources.js');
      return m.VARS.map((v) => [v.name, m.defaultSource(v.name, 'rust')]);
    });
    for (const [name, src] of sources) {
      if (name === 'background_color') continue;
      const r = await evalIn(page, src, 'rust', `${name}.rs`);
      assert.equal(r.ok, true, `${name}: ${r.error} ${r.raw_output}`);
    }
    assert.ok((await stats(page)).traps === 0, 'no traps');
    await page.close();
  });

  test('a std-heavy Rust patch gives the right result and hotwasm_main output comes back', async () => {
    const page = await openDemo(app.browser, app.server.url);
    const r = await evalIn(page, STD_HEAVY, 'rust', 'background_color.rs');
    assert.equal(r.ok, true, `${r.error} ${r.raw_output}`);
    await waitBackground(page, 0xff000090);
    assert.match(r.pages.map((p) => p.output).join(''), /rust says 1,4,9/);
    await page.close();
  });

  test('a rustc error shows in the overlay at the right line', async () => {
    const page = await openDemo(app.browser, app.server.url);
    await page.click('#tabs button[data-var="background_color"]');
    await page.click('.lang button[data-lang="rust"]');
    const bad = `// a typo on line 4
#[no_mangle]
pub extern "C" fn background_color(_world: *const World) -> u32 {
    0xff00_ff00 + missing_value
}
`;
    const r = await typeAndEval(page, 'background_color', bad);
    assert.equal(r.ok, false);
    assert.equal(r.stage, 'compile');
    await page.waitForSelector('#diag-overlay:not([hidden])');
    const first = r.diagnostics.find((d) => d.severity === 'error');
    assert.equal(first.line, 4);
    assert.equal(first.column, 19);
    assert.match(await page.textContent('#diag-list'), /background_color\.rs:4:19/);
    assert.match(await page.textContent('#diag-raw'), /missing_value/);
    const marked = await page.$$eval('#gutter .mark-error', (els) => els.map((e) => Number(e.textContent)));
    assert.ok(marked.includes(4), `gutter marks line 4: ${marked}`);
    await screenshot(page, 'rust-02-compile-error');
    await page.close();
  });

  test('a panic in a patched Rust function is rolled back and the app keeps running', async () => {
    const page = await openDemo(app.browser, app.server.url);
    const before = await page.evaluate(() => globalThis.hotwasm.hot.vars().find((v) => v.name === 'particle_color'));
    const r = await evalIn(
      page,
      `#[no_mangle]
pub extern "C" fn particle_color(world: *const World, _p: *const Particle) -> u32 {
    let empty: Vec<u32> = Vec::new();
    empty[unsafe { (*world).frame } as usize] // index out of bounds: panics
}
`,
      'rust',
      'particle_color.rs',
    );
    assert.equal(r.ok, true, `the panicking patch applied: ${r.error}`);
    await page.waitForFunction(() => globalThis.hotwasm.state.traps > 0, null, { timeout: 10_000 });
    await page.waitForSelector('#banner:not([hidden])');
    const banner = await page.textContent('#banner');
    assert.match(banner, /particle_color/);
    assert.match(banner, /rolled back/);
    assert.match(await page.textContent('#log'), /trap in particle_color \(patch #\d+\) → rolled back \(stack\)/, 'blamed from the stack');
    const info = await page.evaluate(() => globalThis.hotwasm.hot.vars().find((v) => v.name === 'particle_color'));
    assert.equal(info.history.length, before.history.length, 'particle_color is back to its previous version');
    const { traps } = await stats(page);
    await framesPass(page, 30); // frames keep advancing after the panic
    assert.equal((await stats(page)).traps, traps, 'no further traps after rollback');
    await screenshot(page, 'rust-03-panic-rolled-back');
    await page.close();
  });
});
