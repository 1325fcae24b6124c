// Shared helpers for the headless-Chromium tests and the benchmark: build what is missing,
// start the real dev server on a free port, launch Chromium, open the demo page, screenshots.

import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, cpSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

export const HERE = dirname(fileURLToPath(import.meta.url));
export const ROOT = resolve(HERE, '..', '..');
export const ARTIFACTS = join(HERE, 'artifacts');
export const CHROMIUM = process.env.HOTWASM_CHROMIUM || '/usr/bin/chromium';
export const SERVER_BIN = join(ROOT, 'target', 'debug', 'hotwasm');
export const HOT_BUNDLE = join(ROOT, 'build', 'hot', 'hotwasm-demo.js');
export const PLAIN_BUNDLE = join(ROOT, 'build', 'plain', 'hotwasm-demo.js');

const log = (...a) => process.env.HOTWASM_TEST_VERBOSE && console.error('[helpers]', ...a);

/** The environment `scripts/setup.sh --print-env` prints (EM_CONFIG, PATH with emcc…). */
export function toolchainEnv() {
  const r = spawnSync('bash', [join(ROOT, 'scripts', 'setup.sh'), '--print-env'], { encoding: 'utf8' });
  const env = { ...process.env };
  if (r.status !== 0) return env;
  for (const line of r.stdout.split('\n')) {
    const m = line.match(/^export ([A-Z_]+)="(.*)"$/);
    if (!m) continue;
    env[m[1]] = m[2].replace(/\$PATH/g, env.PATH ?? '');
  }
  return env;
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
  run('cargo', ['build', '-q', '-p', 'hotwasm-server'], { env: toolchainEnv() });
  if (!existsSync(SERVER_BIN)) throw new Error(`cargo built no ${SERVER_BIN}`);
  return SERVER_BIN;
}

/** Builds the HOT_RELOAD (or plain) bundle when it is missing. */
export function ensureBundle({ hot = true } = {}) {
  const file = hot ? HOT_BUNDLE : PLAIN_BUNDLE;
  if (existsSync(file) && !process.env.HOTWASM_REBUILD_BUNDLE) return file;
  const env = toolchainEnv();
  if (hot) env.HOT_RELOAD = '1';
  else delete env.HOT_RELOAD;
  run('bash', [join(ROOT, 'scripts', 'emscripten-bundle.sh')], { env, timeout: 15 * 60_000 });
  if (!existsSync(file)) throw new Error(`scripts/emscripten-bundle.sh wrote no ${file}`);
  return file;
}

/** A scratch project root for one server: the repo's files, its own journal. */
export function scratchRoot(name = 'root') {
  const dir = mkdtempSync(join(tmpdir(), `hotwasm-${name}-`));
  return dir;
}

/**
 * Starts `hotwasm serve` and resolves once it printed its URL.
 * Returns {url, token, port, origin, proc, output(), stop(), restart()}.
 */
export async function startServer({ port = 0, args = [], stateDir = null, env = {} } = {}) {
  const bin = ensureServer();
  const state = stateDir ?? scratchRoot('state');
  const spawnOnce = (p) =>
    new Promise((resolveStart, reject) => {
      const argv = ['serve', '--root', ROOT, '--port', String(p), '--journal', join(state, 'journal'), '--no-watch', ...args];
      log('spawn', bin, argv.join(' '));
      const proc = spawn(bin, argv, {
        cwd: ROOT,
        env: { ...toolchainEnv(), ...env },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
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
          resolveStart({ proc, url: m[1], port: Number(m[2]), token: m[3], output: () => out });
        }
      };
      proc.stdout.on('data', onData);
      proc.stderr.on('data', onData);
      proc.on('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`hotwasm serve exited with ${code} before printing its URL:\n${out}`));
      });
    });

  const server = { stateDir: state };
  const adopt = (s) => Object.assign(server, s, { origin: `http://127.0.0.1:${s.port}` });
  adopt(await spawnOnce(port));
  server.stop = () =>
    new Promise((res) => {
      if (server.proc.exitCode != null || server.proc.signalCode != null) return res();
      server.proc.once('exit', () => res());
      server.proc.kill('SIGTERM');
      setTimeout(() => server.proc.kill('SIGKILL'), 3000).unref();
    });
  /** Stops and starts again on the same port and state (journal kept). */
  server.restart = async () => {
    await server.stop();
    adopt(await spawnOnce(server.port));
    return server;
  };
  return server;
}

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

/** Launches Chromium with a fresh profile. Returns the browser context (close it when done). */
export async function launchBrowser() {
  const profile = mkdtempSync(join(tmpdir(), 'hotwasm-chromium-'));
  const ctx = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: CHROMIUM_ARGS,
    viewport: { width: 1440, height: 900 },
  });
  const close = ctx.close.bind(ctx);
  ctx.close = async () => {
    await close();
    rmSync(profile, { recursive: true, force: true });
  };
  return ctx;
}

/** Opens the page and waits until the host animates and the client is connected. */
export async function openDemo(ctx, url, { connected = true } = {}) {
  const page = await ctx.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(e));
  page.on('console', (m) => {
    if (process.env.HOTWASM_TEST_VERBOSE) console.error(`[page] ${m.type()}: ${m.text()}`);
  });
  page.pageErrors = errors;
  await page.goto(url);
  await page.waitForFunction(() => globalThis.hotwasm?.host && globalThis.hotwasm.stats().frame > 5, null, { timeout: 30_000 });
  if (connected) await waitConnected(page);
  return page;
}

export async function waitConnected(page, timeout = 20_000) {
  await page.waitForFunction(() => globalThis.hotwasm?.client?.state === 'open', null, { timeout });
}

export const stats = (page) => page.evaluate(() => globalThis.hotwasm.stats());

/** Evaluates source through the page's client; resolves to eval_result. */
export const evalIn = (page, source, lang = 'c', name) =>
  page.evaluate(([s, l, n]) => globalThis.hotwasm.evalSource(s, l, n), [source, lang, name]);

/** Types source into the editor for `tab` and presses Ctrl+Enter, like a user. */
export async function typeAndEval(page, tab, source) {
  await page.click(`#tabs button[data-var="${tab}"]`);
  await page.fill('#code', source);
  const before = await page.evaluate(() => globalThis.hotwasm.state.lastEval?.id ?? null);
  await page.focus('#code');
  await page.keyboard.press('Control+Enter');
  await page.waitForFunction((b) => {
    const e = globalThis.hotwasm.state.lastEval;
    return e && e.id !== b && !globalThis.hotwasm.state.evalBusy;
  }, before, { timeout: 60_000 });
  return page.evaluate(() => globalThis.hotwasm.state.lastEval);
}

export async function screenshot(page, name) {
  mkdirSync(ARTIFACTS, { recursive: true });
  const file = join(ARTIFACTS, `${name}.png`);
  await page.screenshot({ path: file });
  return file;
}

/** RGBA of the canvas pixel at (x, y) in canvas pixels. */
export const pixel = (page, x, y) =>
  page.evaluate(([px, py]) => {
    const c = document.getElementById('screen');
    return [...c.getContext('2d').getImageData(px, py, 1, 1).data];
  }, [x, y]);

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** 0xAABBGGRR → [r, g, b] */
export const rgbOf = (abgr) => [abgr & 0xff, (abgr >>> 8) & 0xff, (abgr >>> 16) & 0xff];
/** Whether two [r, g, b] colours are within `tol` per channel. */
export const near = (a, b, tol = 3) => a.every((v, i) => Math.abs(v - b[i]) <= tol);

/** The background colour: the most common colour on a grid over the canvas, as [r, g, b]. */
export const backgroundPixel = (page) =>
  page.evaluate(() => {
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
    return [(k >> 16) & 255, (k >> 8) & 255, k & 255];
  });

/** Waits until the background shows `abgr` (rendering is asynchronous to the eval's answer). */
export async function waitBackground(page, abgr, timeout = 5000) {
  const want = rgbOf(abgr);
  const t0 = Date.now();
  let got;
  while (Date.now() - t0 < timeout) {
    got = await backgroundPixel(page);
    if (near(got, want)) return got;
    await sleep(50);
  }
  throw new Error(`background is ${got}, expected ${want}`);
}

export { cpSync };
