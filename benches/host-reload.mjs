// Host restart figure (issue 13, item 4): the time from saving a source of the particle demo's
// host to the page running the rebuilt host with its world (frame count, particles, score)
// restored — and the compatible patch replayed — with `hotwasm serve` and headless Chromium.
// Target: ≤ 20 s with a warm build.
//
// The demo is copied to a temp dir (the repo is not modified) as a standalone cargo package with
// its own target dir, target/bench-host-reload/ (warm after the first run). One untimed build
// warms it; then each run changes a constant of src/hot.rs (LIFETIME) and saves it.
//
//   node benches/host-reload.mjs [--runs 3] [--json build/bench/host-reload.json]
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { copyDemo, evalIn, hotwasm, launchBrowser, openDemo, startServer, toolchainEnv } from '../tests/browser/helpers.mjs';

const root = path.resolve(import.meta.dirname, '..');
const { values } = parseArgs({
  options: {
    runs: { type: 'string', default: '3' },
    json: { type: 'string' },
    help: { type: 'boolean', short: 'h' },
  },
});
if (values.help) {
  console.log('usage: node benches/host-reload.mjs [--runs 3] [--json FILE]');
  process.exit(0);
}
const RUNS = Number(values.runs);
const TARGET_DIR = path.join(root, 'target', 'bench-host-reload');

const stats = (page) => page.evaluate(() => globalThis.hotwasm.stats());

async function main() {
  const dir = mkdtempSync(path.join(tmpdir(), 'hotwasm-bench-host-reload-'));
  const env = { CARGO_TARGET_DIR: TARGET_DIR };
  let server;
  let browser;
  try {
    copyDemo(dir);
    const hotRs = path.join(dir, 'src', 'hot.rs');
    const original = readFileSync(hotRs, 'utf8');
    console.error('host-reload: warming the build (untimed)…');
    hotwasm(['build', '--hot', '--project', dir], { env: { ...toolchainEnv(), ...env, HOTWASM_HOME: root } });
    server = await startServer({ project: dir, watch: true, env });
    browser = await launchBrowser();
    const page = await openDemo(browser, server.url);
    const patch = await evalIn(page, '#include "particles.h"\nuint32_t background_color(const World *w) { (void)w; return 0xff402010u; }\n', 'c', 'bg.c');
    if (!patch.ok) throw new Error(`the background patch did not apply: ${patch.error}`);
    const rows = [];
    for (let run = 1; run <= RUNS; run++) {
      await page.waitForFunction(() => globalThis.hotwasm.stats().frame > 120, null, { timeout: 30_000 });
      await page.evaluate(() => (globalThis.hotwasm.state.paused = true));
      const before = await stats(page);
      const reloaded = page.waitForNavigation({ timeout: 300_000 });
      const savedAt = Date.now();
      writeFileSync(hotRs, original.replace('pub(crate) const LIFETIME: f32 = 8.0;', `pub(crate) const LIFETIME: f32 = ${8 + run / 10};`));
      await reloaded;
      await page.waitForFunction(() => globalThis.hotwasm?.hot?.hostReloaded?.replayedAt, null, { timeout: 120_000 });
      const detail = await page.evaluate(() => globalThis.hotwasm.hot.hostReloaded);
      const after = await stats(page);
      const replayed = await page.evaluate(() => globalThis.hotwasm.hot.vars().find((v) => v.name === 'background_color')?.patched);
      const carried = detail.restored && after.frame >= before.frame && after.particles === before.particles && after.bounces >= before.bounces;
      if (!carried || !replayed) {
        throw new Error(`run ${run}: state not carried or patch not replayed: before ${JSON.stringify(before)} after ${JSON.stringify(after)} detail ${JSON.stringify(detail)} replayed ${replayed}`);
      }
      const build = [...server.output().matchAll(/host build \d+ ready in ([\d.]+) s/g)].at(-1)?.[1];
      const row = {
        run,
        build_s: Number(build),
        restored_s: (detail.restoredAt - savedAt) / 1000,
        replayed_s: (detail.replayedAt - savedAt) / 1000,
        state_bytes: detail.bytes,
        frame: `${before.frame} → ${after.frame}`,
        particles: `${before.particles} → ${after.particles}`,
        score: `${before.bounces} → ${after.bounces}`,
      };
      rows.push(row);
      console.error(`host-reload: run ${run}: ${JSON.stringify(row)}`);
    }
    const med = (k) => rows.map((r) => r[k]).sort((a, b) => a - b)[Math.floor(rows.length / 2)];
    const summary = { runs: rows.length, median_save_to_restored_s: med('restored_s'), median_save_to_replayed_s: med('replayed_s'), median_build_s: med('build_s'), target_s: 20, rows };
    console.log(`save → new host running with the world restored (median of ${rows.length}): ${summary.median_save_to_restored_s.toFixed(1)} s (target ≤ 20 s; of which the host build ${summary.median_build_s.toFixed(1)} s); patches replayed at ${summary.median_save_to_replayed_s.toFixed(1)} s`);
    console.table(rows);
    if (values.json) writeFileSync(values.json, JSON.stringify(summary, null, 2));
  } finally {
    await browser?.close();
    await server?.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
