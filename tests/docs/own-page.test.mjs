// docs/ADOPTING.md's "A Rust app with its own page", as written: a `hotwasm init --lang rust` app
// gets the section's files (each block's first line names its file), is built with HOT_RELOAD and
// served, and its own page runs in headless Chromium: the fps counter counts, pause stops the
// generations and play resumes them, a click toggles the cell under it.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { ROOT, blocksOf } from './blocks.mjs';
import { hotwasm, launchBrowser, startServer, toolchainEnv } from '../browser/helpers.mjs';

const SECTION = '### A Rust app with its own page';

/** The section's blocks as `{path: text}`, each named by its first line. */
function sectionFiles() {
  const doc = readFileSync(join(ROOT, 'docs', 'ADOPTING.md'), 'utf8').split('\n');
  const start = doc.findIndex((l) => l.startsWith(SECTION)) + 1;
  assert.ok(start > 0, `docs/ADOPTING.md has no "${SECTION}"`);
  const end = doc.findIndex((l, i) => i > start && /^## /.test(l));
  const files = {};
  for (const b of blocksOf('docs/ADOPTING.md').filter((b) => b.line > start && b.line < end)) {
    const name = b.text.match(/^(?:#|\/\/|<!--)\s*(\S+)/)?.[1];
    assert.ok(name, `docs/ADOPTING.md:${b.line}: the block's first line names no file`);
    files[name] = b.text;
  }
  return files;
}

/** Resolves after `n` animation frames of the page. */
const frames = (page, n) =>
  page.evaluate(
    (k) =>
      new Promise((done) => {
        const step = () => (--k <= 0 ? done() : requestAnimationFrame(step));
        requestAnimationFrame(step);
      }),
    n,
  );

const generation = async (page) => Number(await page.textContent('#generation'));

/** The canvas colour at the middle of cell (`row`, `col`). */
const cellColour = (page, row, col) =>
  page.evaluate(
    ([r, c]) => {
      const canvas = document.getElementById('board');
      const size = canvas.width / 64;
      return [...canvas.getContext('2d').getImageData((c + 0.5) * size, (r + 0.5) * size, 1, 1).data].join(',');
    },
    [row, col],
  );

describe("the docs' Rust app with its own page", { timeout: 900_000 }, () => {
  let dir;
  let server;
  let browser;

  before(async () => {
    dir = join(mkdtempSync(join(tmpdir(), 'hotwasm-own-page-')), 'life');
    hotwasm(['init', '--lang', 'rust', dir]);
    rmSync(join(dir, 'patches', 'app_value.rs'));
    const files = sectionFiles();
    assert.deepEqual(Object.keys(files).sort(), ['hotwasm.toml', 'src/lib.rs', 'web/game.js', 'web/index.html']);
    for (const [path, text] of Object.entries(files)) {
      mkdirSync(dirname(join(dir, path)), { recursive: true });
      writeFileSync(join(dir, path), text);
    }
    // The workspace's target dir: the dependencies the demo's HOT_RELOAD build compiled for the
    // target (hotwasm-abi's bindings, libc) are reused instead of built again for this app.
    const env = { ...toolchainEnv(), HOTWASM_HOME: ROOT, CARGO_TARGET_DIR: join(ROOT, 'target') };
    hotwasm(['build', '--hot', '--project', dir], { env });
    server = await startServer({ project: dir });
    browser = await launchBrowser();
  });

  after(async () => {
    await browser?.close();
    await server?.stop();
  });

  test('fps counts, pause and play stop and resume the generations, a click toggles a cell', async () => {
    const page = await browser.newPage();
    const errors = [];
    page.on('pageerror', (e) => errors.push(e));
    await page.goto(server.url);
    await page.waitForFunction(() => /^[1-9]\d* fps$/.test(document.getElementById('fps').textContent), null, {
      timeout: 30_000,
    });
    assert.ok((await generation(page)) > 0);

    await page.click('#play');
    assert.equal(await page.textContent('#play'), 'play');
    const paused = await generation(page);
    await frames(page, 10);
    assert.equal(await generation(page), paused, 'a paused universe stays in its generation');

    const before = await cellColour(page, 3, 5);
    const box = await page.locator('#board').boundingBox();
    const size = box.width / 64;
    await page.mouse.click(box.x + 5.5 * size, box.y + 3.5 * size);
    const toggled = await cellColour(page, 3, 5);
    assert.notEqual(toggled, before, 'the click toggled the cell under it');
    await page.mouse.click(box.x + 5.5 * size, box.y + 3.5 * size);
    assert.equal(await cellColour(page, 3, 5), before, 'a second click toggles it back');

    await page.click('#play');
    await page.waitForFunction((g) => Number(document.getElementById('generation').textContent) > g + 5, paused);
    assert.deepEqual(errors, []);
  });
});
