// Shared helpers for the headless-Chromium tests and the benchmark: build what is missing, start
// the real dev server on a free port, launch Chromium, open a page and wait for it to run, wait
// for the page's own events (never for time), screenshots.

import { spawn, spawnSync } from 'node:child_process';
import { after, before } from 'node:test';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const HERE = dirname(fileURLToPath(import.meta.url));
export const ROOT = resolve(HERE, '..', '..');
export const ARTIFACTS = join(HERE, 'artifacts');
export const CHROMIUM = process.env.HOTWASM_CHROMIUM || '/usr/bin/chromium';
export const SERVER_BIN = join(process.env.CARGO_TARGET_DIR || join(ROOT, 'target'), 'debug', 'hotwasm');
/** The particle demo: the app most tests drive. */
export const PARTICLES = join(ROOT, 'examples', 'particles');
export const HOT_BUNDLE = process.env.HOTWASM_BUNDLE || join(PARTICLES, 'build', 'hot', 'particles.js');
export const PLAIN_BUNDLE = join(PARTICLES, 'build', 'plain', 'particles.js');
/** `hotwasm serve` flags that show the particles app on hotwasm's generic page instead of its own. */
export const GENERIC_PAGE_ARGS = ['--page', 'hotwasm', '--frame', 'demo_frame'];
/** How a C patch for the particles app gets its types (`World`, `Particle`, `demo_world()`). */
export const APP_INCLUDE = '#include "particles.h"';

const log = (...a) => process.env.HOTWASM_TEST_VERBOSE && console.error('[helpers]', ...a);

/**
 * Copies the particle demo into `dir` as a standalone cargo package (the workspace's inherited
 * keys spelled out, the runtime by absolute path), so a test or bench may edit its host sources
 * without touching the repo. Build it with its own CARGO_TARGET_DIR.
 */
export function copyDemo(dir) {
  for (const f of ['hotwasm.toml', 'include', 'patches', 'src', 'web']) cpSync(join(PARTICLES, f), join(dir, f), { recursive: true });
  cpSync(join(ROOT, 'Cargo.lock'), join(dir, 'Cargo.lock'));
  cpSync(join(ROOT, 'rust-toolchain.toml'), join(dir, 'rust-toolchain.toml'));
  const toml = readFileSync(join(PARTICLES, 'Cargo.toml'), 'utf8')
    .replace('edition.workspace = true', 'edition = "2021"')
    .replace('license.workspace = true', 'license = "MIT OR Apache-2.0"')
    .replace(/\[lints\]\nworkspace = true\n?/, '')
    .replace('path = "../../runtime"', `path = ${JSON.stringify(join(ROOT, 'runtime'))}`);
  writeFileSync(join(dir, 'Cargo.toml'), `${toml}\n[workspace]\n`);
}

/**
 * Copies examples/c-host (bounce: balls, a frame count and a score; C state hooks; hot functions
 * `ball_speed`, `ball_color`, `sky_color`) into a fresh temp dir, `[serve]` lines appended to its
 * hotwasm.toml, and builds it with `hotwasm build --hot` (~10 s). Returns the dir (remove it).
 */
export function bounceApp(serveToml = '') {
  const dir = mkdtempSync(join(tmpdir(), 'hotwasm-bounce-'));
  for (const f of ['hotwasm.toml', 'src', 'patches']) cpSync(join(ROOT, 'examples', 'c-host', f), join(dir, f), { recursive: true });
  if (serveToml) writeFileSync(join(dir, 'hotwasm.toml'), `${readFileSync(join(dir, 'hotwasm.toml'), 'utf8')}${serveToml}\n`);
  hotwasm(['build', '--hot', '--project', dir]);
  return dir;
}

let printedEnv;

/** The environment `scripts/setup.sh --print-env` prints (EM_CONFIG, PATH with emcc…), read once. */
export function toolchainEnv() {
  if (!printedEnv) {
    const r = spawnSync('bash', [join(ROOT, 'scripts', 'setup.sh'), '--print-env'], { encoding: 'utf8' });
    printedEnv = {};
    const path = process.env.PATH ?? '';
    for (const line of r.status === 0 ? r.stdout.split('\n') : []) {
      const m = line.match(/^export ([A-Z_]+)="(.*)"$/);
      if (m) printedEnv[m[1]] = m[2].replace(/\$PATH/g, path);
    }
  }
  return { ...process.env, ...printedEnv };
}

function run(cmd, args, opts = {}) {
  log('run', cmd, args.join(' '));
  const r = spawnSync(cmd, args, { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], ...opts });
  if (r.status !== 0) {
    throw new Error(`${cmd} ${args.join(' ')} failed (exit ${r.status}):\n${r.stdout}\n${r.stderr}`.slice(0, 6000));
  }
  return r;
}

/** Builds the server binary (cargo is quick when nothing changed). */
export function ensureServer() {
  if (process.env.HOTWASM_SERVER_BIN) return process.env.HOTWASM_SERVER_BIN;
  run('cargo', ['build', '-q', '-p', 'hotwasm-server'], { env: toolchainEnv() });
  if (!existsSync(SERVER_BIN)) throw new Error(`cargo built no ${SERVER_BIN}`);
  return SERVER_BIN;
}

/** Runs the `hotwasm` command (the debug build the tests use) with `args`; returns its output. */
export function hotwasm(args, opts = {}) {
  return run(ensureServer(), args, { env: { ...toolchainEnv(), HOTWASM_HOME: ROOT }, timeout: 15 * 60_000, ...opts }).stdout;
}

/** Builds the particles app (HOT_RELOAD or plain) when its bundle is missing. */
export function ensureBundle({ hot = true } = {}) {
  const file = hot ? HOT_BUNDLE : PLAIN_BUNDLE;
  if (existsSync(file) && !process.env.HOTWASM_REBUILD_BUNDLE) return file;
  const env = toolchainEnv();
  if (hot) env.HOT_RELOAD = '1';
  else delete env.HOT_RELOAD;
  run('bash', [join(ROOT, 'scripts', 'emscripten-bundle.sh'), PARTICLES], { env, timeout: 15 * 60_000 });
  if (!existsSync(file)) throw new Error(`scripts/emscripten-bundle.sh ${PARTICLES} wrote no ${file}`);
  return file;
}

/**
 * Starts `hotwasm serve` for `project` (default: the particles demo) and resolves once it printed
 * its URL. Returns {url, token, port, origin, proc, output(), stop(), restart()}.
 */
export async function startServer({ project = PARTICLES, port = 0, args = [], watch = false, stateDir = null, env = {} } = {}) {
  const bin = ensureServer();
  const state = stateDir ?? mkdtempSync(join(tmpdir(), 'hotwasm-state-'));
  const spawnOnce = (p) =>
    new Promise((resolveStart, reject) => {
      const argv = ['serve', '--project', project, '--port', String(p), '--journal', join(state, 'journal'), ...(watch ? [] : ['--no-watch']), ...args];
      log('spawn', bin, argv.join(' '));
      // HOTWASM_HOME: serve this checkout's web/ at /hotwasm/, wherever the binary was built.
      const procEnv = { ...toolchainEnv(), HOTWASM_HOME: ROOT, ...env };
      const proc = spawn(bin, argv, { cwd: ROOT, env: procEnv, stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      const timer = setTimeout(() => {
        proc.kill('SIGKILL');
        reject(new Error(`hotwasm serve printed no URL within 60 s:\n${out}`));
      }, 60_000);
      const onData = (chunk) => {
        out += chunk.toString();
        log('server:', chunk.toString().trimEnd());
        const m = out.match(/(http:\/\/(?:127\.0\.0\.1|localhost):(\d+)\/?\S*token=([A-Za-z0-9_-]+))/);
        if (m) {
          clearTimeout(timer);
          proc.off('exit', onExit);
          resolveStart({ proc, url: m[1], port: Number(m[2]), token: m[3], output: () => out });
        }
      };
      const onExit = (code) => {
        clearTimeout(timer);
        reject(new Error(`hotwasm serve exited with ${code} before printing its URL:\n${out}`));
      };
      proc.stdout.on('data', onData);
      proc.stderr.on('data', onData);
      proc.on('exit', onExit);
    });

  const server = { stateDir: state };
  const adopt = (s) => Object.assign(server, s, { origin: `http://127.0.0.1:${s.port}` });
  adopt(await spawnOnce(port));
  server.stop = () =>
    new Promise((res) => {
      if (server.proc.exitCode != null || server.proc.signalCode != null) return res();
      const kill = setTimeout(() => server.proc.kill('SIGKILL'), 3000);
      server.proc.once('exit', () => {
        clearTimeout(kill);
        res();
      });
      server.proc.kill('SIGTERM');
    });
  /** Stops and starts again on the same port and state (journal kept). */
  server.restart = async () => {
    await server.stop();
    adopt(await spawnOnce(server.port));
    return server;
  };
  return server;
}

const VIEWPORT = { width: 1440, height: 900 };

export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  // Headless tabs in the background must keep animating for the two-pages test.
  '--disable-background-timer-throttling',
  '--disable-renderer-backgrounding',
  '--disable-backgrounding-occluded-windows',
];

/**
 * A Chromium for one test file: a fresh context (its own cookies and storage) in the browser
 * `HOTWASM_BROWSER_WS` names (scripts/test.sh starts one for the whole suite with
 * chromium-server.mjs: one launch instead of one per file), else a browser launched with a fresh
 * profile. Returns the browser context; closing it closes what it opened.
 */
export async function launchBrowser() {
  const { chromium } = await import('playwright-core');
  if (process.env.HOTWASM_BROWSER_WS) {
    const browser = await chromium.connect(process.env.HOTWASM_BROWSER_WS);
    const ctx = await browser.newContext({ viewport: VIEWPORT });
    const close = ctx.close.bind(ctx);
    ctx.close = async () => {
      await close();
      await browser.close(); // a connected browser only disconnects: the shared one runs on
    };
    return ctx;
  }
  const profile = mkdtempSync(join(tmpdir(), 'hotwasm-chromium-'));
  const ctx = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: CHROMIUM_ARGS,
    viewport: VIEWPORT,
  });
  const close = ctx.close.bind(ctx);
  ctx.close = async () => {
    await close();
    rmSync(profile, { recursive: true, force: true });
  };
  return ctx;
}

/**
 * Registers the before/after of a suite that drives one served app in Chromium. `before`: builds
 * what the app needs (`prepare`, which may return a temp dir of the app; default: the particle
 * demo's HOT_RELOAD bundle), starts `hotwasm serve` (`serve`: startServer's options, or a function
 * of the prepared dir giving them; false: the tests start their own) and a browser context.
 * `after`: closes the context, stops the server, removes the prepared dir. Returns the suite's
 * fixture, whose `dir`, `server` and `browser` are set once `before` ran.
 */
export function servedApp({ prepare = () => void ensureBundle({ hot: true }), serve = {} } = {}) {
  const fx = { dir: null, server: null, browser: null };
  before(async () => {
    fx.dir = (await prepare()) ?? null;
    if (serve !== false) fx.server = await startServer(typeof serve === 'function' ? serve(fx.dir) : serve);
    fx.browser = await launchBrowser();
  });
  after(async () => {
    await fx.browser?.close();
    await fx.server?.stop();
    if (fx.dir) rmSync(fx.dir, { recursive: true, force: true });
  });
  return fx;
}

/** Opens `url` and records page errors (and the console with HOTWASM_TEST_VERBOSE). */
async function open(ctx, url) {
  const page = await ctx.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(e));
  page.on('console', (m) => {
    if (process.env.HOTWASM_TEST_VERBOSE) console.error(`[page] ${m.type()}: ${m.text()}`);
  });
  page.pageErrors = errors;
  await page.goto(url);
  return page;
}

/** Opens the particle demo's page; waits until it animates and (by default) is connected. */
export async function openDemo(ctx, url, { connected = true } = {}) {
  const page = await open(ctx, url);
  await page.waitForFunction(() => globalThis.hotwasm?.view && globalThis.hotwasm.stats().frame > 5, null, { timeout: 30_000 });
  if (connected) await waitConnected(page);
  return page;
}

/** Opens hotwasm's generic page; waits until the app's frame export ran and it is connected. */
export async function openGeneric(ctx, url, { connected = true } = {}) {
  const page = await open(ctx, url);
  await page.waitForFunction(() => globalThis.hotwasm?.hot && globalThis.hotwasm.state.frames > 5, null, { timeout: 30_000 });
  if (connected) await waitConnected(page);
  return page;
}

export async function waitConnected(page, timeout = 20_000) {
  await page.waitForFunction(() => globalThis.hotwasm?.hot?.state === 'open', null, { timeout });
}

export const stats = (page) => page.evaluate(() => globalThis.hotwasm.stats());

/** Waits until the demo has run `n` more frames than now (the way to let time pass: frames). */
export async function framesPass(page, n = 10, timeout = 10_000) {
  const f0 = (await stats(page)).frame;
  await page.waitForFunction(([f, k]) => globalThis.hotwasm.stats().frame >= f + k, [f0, n], { timeout });
  return f0;
}

/** Evaluates source through the page's client; resolves to eval_result. */
export const evalIn = (page, source, lang = 'c', name) =>
  page.evaluate(([s, l, n]) => globalThis.hotwasm.hot.eval(s, l, { name: n }), [source, lang, name]);

/** Types source into the editor for `tab` and presses Ctrl+Enter, like a user. */
export async function typeAndEval(page, tab, source) {
  await page.click(`#tabs button[data-var="${tab}"]`);
  await page.fill('#code', source);
  return pressEval(page);
}

/** Presses Ctrl+Enter in the editor and waits for the eval's result. */
export async function pressEval(page) {
  const before = await page.evaluate(() => globalThis.hotwasm.evaluator.last?.id ?? null);
  await page.focus('#code');
  await page.keyboard.press('Control+Enter');
  await page.waitForFunction(
    (b) => {
      const e = globalThis.hotwasm.evaluator;
      return e.last && e.last.id !== b && !e.busy;
    },
    before,
    { timeout: 60_000 },
  );
  return page.evaluate(() => globalThis.hotwasm.evaluator.last);
}

export async function screenshot(page, name) {
  mkdirSync(ARTIFACTS, { recursive: true });
  const file = join(ARTIFACTS, `${name}.png`);
  await page.screenshot({ path: file });
  return file;
}

/** 0xAABBGGRR → [r, g, b] */
export const rgbOf = (abgr) => [abgr & 0xff, (abgr >>> 8) & 0xff, (abgr >>> 16) & 0xff];

/**
 * Waits until the canvas background (its most common colour on a grid) shows `abgr`: rendering
 * follows the eval's answer by a frame or two. Checked once per animation frame in the page.
 */
export async function waitBackground(page, abgr, timeout = 5000) {
  const want = rgbOf(abgr);
  try {
    await page.waitForFunction(
      (w) => {
        const c = document.getElementById('screen');
        const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
        const counts = new Map();
        for (let y = 2; y < c.height; y += 7) {
          for (let x = 2; x < c.width; x += 7) {
            const i = (y * c.width + x) * 4;
            const k = (d[i] << 16) | (d[i + 1] << 8) | d[i + 2];
            counts.set(k, (counts.get(k) ?? 0) + 1);
          }
        }
        const [k] = [...counts].sort((a, b) => b[1] - a[1])[0];
        const got = [(k >> 16) & 255, (k >> 8) & 255, k & 255];
        globalThis.__lastBackground = got;
        return got.every((v, i) => Math.abs(v - w[i]) <= 3);
      },
      want,
      { timeout, polling: 'raf' },
    );
  } catch (e) {
    const got = await page.evaluate(() => globalThis.__lastBackground);
    throw new Error(`background is ${got}, expected ${want} (${e.message.split('\n')[0]})`);
  }
}
