// Benchmark: eval→live latency measured in headless Chromium, split into compile / transfer /
// apply, with the server's fast path and with `--plain-emcc`; then the demo's frame rate and
// per-frame cost with and without HOT_RELOAD.
//
//   node tests/browser/bench-latency.mjs [--evals 50] [--skip-plain-emcc] [--skip-fps] [--skip-latency]
//                                        [--lang c|rust|both]
//
// `--lang rust` measures Rust evals instead (a plain background_color and a std-heavy one using
// format!, Vec and HashMap), fast path only, and reports their patch sizes; `both` does C then Rust.
//
// Needs the HOT_RELOAD bundle (built if missing) and, for the fps comparison, the plain bundle.

import { parseArgs } from 'node:util';
import { dirname, join } from 'node:path';
import { APP_INCLUDE, HOT_BUNDLE, PLAIN_BUNDLE, ensureBundle, framesPass, launchBrowser, openDemo, startServer } from './helpers.mjs';

const { values: opts } = parseArgs({
  options: {
    evals: { type: 'string', default: '50' },
    'skip-plain-emcc': { type: 'boolean', default: false },
    'skip-fps': { type: 'boolean', default: false },
    'skip-latency': { type: 'boolean', default: false },
    'fps-seconds': { type: 'string', default: '5' },
    lang: { type: 'string', default: 'c' },
  },
});
const N = Number(opts.evals);

const pct = (xs, p) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))];
};
const fmt = (x) => (x == null || Number.isNaN(x) ? '   –  ' : x.toFixed(1).padStart(6));

function report(label, rows) {
  const cols = [
    ['compile', (r) => r.timings.compile_ms],
    ['check', (r) => r.timings.check_ms],
    ['transfer', (r) => r.timings.transfer_ms],
    ['apply', (r) => r.timings.apply_ms],
    ['server total', (r) => r.timings.total_ms],
    ['eval→live (page)', (r) => r.liveMs],
    ['eval→result (page)', (r) => r.clientMs],
    ['patch bytes', (r) => r.size],
  ];
  console.log(`\n${label}: ${rows.length} evals`);
  console.log(`  ${'ms'.padEnd(20)}   p50     p95     max`);
  for (const [name, get] of cols) {
    const xs = rows.map(get).filter((x) => typeof x === 'number');
    if (!xs.length) continue;
    console.log(`  ${name.padEnd(20)} ${fmt(pct(xs, 50))}  ${fmt(pct(xs, 95))}  ${fmt(Math.max(...xs))}`);
  }
}

/** Runs `n` distinct evals of background_color in the page; returns eval_result rows.
 *  `kind`: 'c', 'rust' (a constant colour) or 'rust-std' (format!, Vec, HashMap). */
async function evalLoop(page, n, kind = 'c') {
  return page.evaluate(async ([count, kind, include]) => {
    const hot = globalThis.hotwasm.hot;
    const rows = [];
    for (let i = 0; i < count; i++) {
      const colour = (0xff000000 | ((i * 2654435761) & 0xffffff)) >>> 0;
      const hex = `0x${colour.toString(16)}`;
      const source = {
        c: `${include}\nuint32_t background_color(const World *w) { (void)w; return ${hex}u; }\n`,
        rust: `#[no_mangle]\npub extern "C" fn background_color(_w: *const World) -> u32 {\n    ${hex}\n}\n`,
        'rust-std': `use std::collections::HashMap;\n#[no_mangle]\npub extern "C" fn background_color(w: *const World) -> u32 {\n    let frame = unsafe { (*w).frame };\n    let words: Vec<String> = (1..=4).map(|i| format!("w{}-{}", i, frame % 1)).collect();\n    let mut counts: HashMap<&str, u32> = HashMap::new();\n    for w in &words { *counts.entry(w.as_str()).or_insert(0) += 1; }\n    (${hex}u32 & !0xff) | counts.values().sum::<u32>()\n}\n`,
      }[kind];
      const lang = kind === 'c' ? 'c' : 'rust';
      let liveAt = null;
      let size = null;
      const t0 = performance.now();
      const off = hot.on('patch', (p) => {
        if (liveAt == null) liveAt = performance.now();
        size ??= p.size;
      });
      const r = await hot.eval(source, lang, { name: `background_color.${lang === 'c' ? 'c' : 'rs'}` });
      off();
      if (!r.ok) throw new Error(`eval ${i} failed: ${r.error}\n${r.raw_output}`);
      rows.push({ timings: r.timings, clientMs: r.clientMs, liveMs: liveAt != null ? liveAt - t0 : null, size });
    }
    return rows;
  }, [n, kind, APP_INCLUDE]);
}

async function latency(browser, label, args, kind = 'c') {
  const server = await startServer({ args });
  try {
    const page = await openDemo(browser, server.url);
    await evalLoop(page, 3, kind); // warm-up: caches, first compile
    const rows = await evalLoop(page, N, kind);
    report(label, rows);
    await page.close();
    return rows;
  } finally {
    await server.stop();
  }
}

/** rAF frames per second over `seconds`, and the cost of one demo_frame call in a tight loop. */
async function frameRate(browser, server, seconds) {
  const page = await openDemo(browser, server.url, { connected: false });
  await framesPass(page, 30);
  const result = await page.evaluate(async (secs) => {
    const h = globalThis.hotwasm;
    const f0 = h.stats().frame;
    const t0 = performance.now();
    await new Promise((r) => setTimeout(r, secs * 1000));
    const fps = ((h.stats().frame - f0) * 1000) / (performance.now() - t0);
    // Cost of one simulated + rendered frame, excluding the page's own work.
    h.state.paused = true;
    // Best of 7 batches of 300 frames through the trap-safe call: the machine's other load only
    // ever adds time.
    let frameMs = Infinity;
    for (let b = 0; b < 7; b++) {
      const t1 = performance.now();
      for (let i = 0; i < 300; i++) h.hot.call('demo_frame', 1 / 60);
      frameMs = Math.min(frameMs, (performance.now() - t1) / 300);
    }
    h.state.paused = false;
    return { fps, frameMs, particles: h.stats().particles, hot: h.hot.hotReload };
  }, seconds);
  await page.close();
  return result;
}

const browser = await launchBrowser();
try {
  ensureBundle({ hot: true });
  const c = opts.lang !== 'rust';
  const rust = opts.lang === 'rust' || opts.lang === 'both';
  if (c && !opts['skip-latency']) await latency(browser, 'fast path (default)', []);
  if (c && !opts['skip-latency'] && !opts['skip-plain-emcc']) await latency(browser, 'plain emcc (--plain-emcc)', ['--plain-emcc']);
  if (c && !opts['skip-latency'] && !opts['skip-plain-emcc']) await latency(browser, 'plain emcc -O1 (--plain-emcc --opt 1)', ['--plain-emcc', '--opt', '1']);
  if (rust && !opts['skip-latency']) {
    await latency(browser, 'Rust, constant colour (fast path)', [], 'rust');
    await latency(browser, 'Rust, std-heavy: format!, Vec, HashMap (fast path)', [], 'rust-std');
  }
  if (!opts['skip-fps']) {
    ensureBundle({ hot: false });
    const secs = Number(opts['fps-seconds']);
    const rate = async (args) => {
      const server = await startServer({ args });
      try {
        return await frameRate(browser, server, secs);
      } finally {
        await server.stop();
      }
    };
    {
      const hot = await rate([]);
      // The same page over the plain bundle (the host manifest still comes from the hot build).
      const plain = await rate(['--bundle', dirname(PLAIN_BUNDLE), '--host-manifest', join(dirname(HOT_BUNDLE), 'hotwasm-host.json')]);
      console.log('\nframe rate (headless Chromium, rAF-capped) and cost of one demo_frame:');
      for (const [name, r] of [['HOT_RELOAD', hot], ['plain', plain]]) {
        console.log(`  ${name.padEnd(11)} ${r.fps.toFixed(1).padStart(5)} fps   ${r.frameMs.toFixed(3)} ms/frame   ${r.particles} particles`);
      }
    }
  }
} finally {
  await browser.close();
}
