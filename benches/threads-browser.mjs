// Benchmark: hot reload in a pthreads host in headless Chromium (examples/threads-c on hotwasm's
// generic page, served by the real `hotwasm serve`, its four workers busy rendering). Prints a
// markdown section:
//   - apply and apply → live on every thread (p50/p95 of `rounds` real -pthread side modules,
//     alternating two versions of worker_tag), on the page's main thread (`hotwasm_apply`, the
//     page blocked while every worker loads the patch) and through the loader thread (what the
//     page's client does, awaited: the page runs on);
//   - what cross-origin isolation changes for the page: the same checks on the served page and
//     on a page from a plain server without the COOP/COEP headers.
// Run:  node benches/threads-browser.mjs [rounds]
import { createServer } from 'node:http';
import { launchBrowser, startServer } from '../tests/browser/helpers.mjs';
import { app, buildHost, root, sideModule } from '../tests/threads/pool-host.mjs';

const rounds = Number(process.argv[2] ?? 20);
const pct = (xs, p) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(xs.length * p))];
const ms = (xs) => `p50 ${pct(xs, 0.5).toFixed(1)} ms, p95 ${pct(xs, 0.95).toFixed(1)} ms`;

/** A plain server on another origin: a page and a 1×1 GIF, without COOP/COEP/CORP headers. */
function plainOrigin() {
  const gif = Buffer.from('R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7', 'base64');
  const server = createServer((req, res) => {
    if (req.url.startsWith('/pixel.gif')) res.writeHead(200, { 'content-type': 'image/gif' }).end(gif);
    else res.writeHead(200, { 'content-type': 'text/html' }).end('<!doctype html><title>plain</title>');
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

/** What isolation changes, measured in the page: SharedArrayBuffer, timer step, a foreign image. */
const isolationFacts = (foreign) => new Promise((resolve) => {
  let step = Infinity;
  for (let i = 0, last = performance.now(); i < 200000; i++) {
    const t = performance.now();
    if (t > last) { step = Math.min(step, t - last); last = t; }
  }
  const img = new Image();
  const done = (loaded) => resolve({ isolated: globalThis.crossOriginIsolated, sab: typeof SharedArrayBuffer === 'function', stepUs: step * 1000, foreignImage: loaded });
  img.onload = () => done(true);
  img.onerror = () => done(false);
  img.src = foreign;
});

/** Applies patch i on the page, on its main thread or through the loader; then waits until live. */
async function round(page, patch, i, onLoader) {
  return page.evaluate(async ([[bytes, manifest, base], i, onLoader]) => {
    const M = globalThis.hotwasm.Module;
    const path = `/threads-bench/p${onLoader ? 'l' : 'm'}${i}.so`;
    M.FS.mkdirTree('/threads-bench');
    M.FS.writeFile(path, new Uint8Array(bytes));
    const t0 = performance.now();
    if (onLoader) {
      const r = await globalThis.hotwasm.hot.registry.applyOnLoader(path, manifest, null);
      if (!r.ok) throw new Error(r.error);
    } else {
      const id = M.ccall('hotwasm_apply', 'number', ['string', 'string'], [path, manifest]);
      if (id <= 0) throw new Error(M.UTF8ToString(M._hotwasm_last_error()));
    }
    const apply = performance.now() - t0;
    const done = () => [0, 1, 2, 3].every((w) => M._pool_seen(w) === base + w);
    while (!done()) await new Promise((r) => setTimeout(r, 0));
    return { apply, live: performance.now() - t0 };
  }, [patch, i, onLoader]);
}

await buildHost();
process.env.HOTWASM_SERVER_BIN ??= `${root}/target/hotwasm-cli/cli/hotwasm`;
const server = await startServer({ project: app });
const plain = await plainOrigin();
const plainUrl = `http://127.0.0.1:${plain.address().port}`;
const ctx = await launchBrowser();
try {
  const page = await ctx.newPage();
  await page.goto(server.url);
  await page.waitForFunction(() => globalThis.hotwasm?.Module?._pool_ticks?.() > 5, null, { timeout: 60_000 });
  const patches = [
    [[...(await sideModule('tag_2000'))], 'worker_tag worker_tag__hw1 ii', 2000],
    [[...(await sideModule('tag_3000'))], 'worker_tag worker_tag__hw2 ii', 3000],
  ];
  const runs = { main: { apply: [], live: [] }, loader: { apply: [], live: [] } };
  // The main-thread path first: once the loader thread exists, a main-thread dlopen also waits
  // for it (asleep in a sliced wait: up to 100 ms), which the client never does.
  let first = null;
  for (const path of ['main', 'loader']) {
    // The first apply on the loader starts its thread: a new worker, which loads the host and
    // every patch applied before; reported on its own.
    if (path === 'loader') first = await round(page, patches[rounds % 2], rounds, true);
    for (let i = 0; i < rounds; i++) {
      const r = await round(page, patches[(i + (path === 'loader' ? rounds + 1 : 0)) % 2], i, path === 'loader');
      runs[path].apply.push(r.apply);
      runs[path].live.push(r.live);
    }
  }
  const isolatedFacts = await page.evaluate(isolationFacts, `${plainUrl}/pixel.gif`);
  const other = await ctx.newPage();
  await other.goto(`${plainUrl}/`);
  const plainFacts = await other.evaluate(isolationFacts, `${server.origin}/hotwasm/favicon.ico?none`);
  const version = ctx.browser?.()?.version?.() ?? 'headless Chromium';
  const fact = (f) => `${f.isolated ? 'yes' : 'no'} | ${f.sab ? 'yes' : 'no'} | ${f.stepUs.toFixed(1)} µs`;
  console.log(`## Threads in headless Chromium (examples/threads-c, hotwasm serve)

\`node benches/threads-browser.mjs ${rounds}\`: ${version}, the generic page, the pool's 4 workers busy,
${rounds} patches per row; "live" is apply start → every worker ran the new version (polled with
setTimeout(0)). The page's client applies through the loader thread. (Call cost: \`node benches/threads.mjs\`; a
page cannot start a thread for it here, since the pool's workers are all taken and a browser
main thread cannot wait for a new one.)

| apply path | apply | apply → live on all threads |
|---|---|---|
| loader thread (the client) | ${ms(runs.loader.apply)} (the page runs on) | ${ms(runs.loader.live)} |
| main thread (\`hotwasm_apply\`) | ${ms(runs.main.apply)} (the page blocked) | ${ms(runs.main.live)} |

The first apply through the loader starts its thread (a new worker that loads the host and the
${rounds} patches applied before it): ${first.apply.toFixed(1)} ms, the page running on; not in the rows.

What cross-origin isolation changes for the page (measured on the served page and on a page of
a plain server without the headers):

| page | crossOriginIsolated | SharedArrayBuffer | performance.now() step |
|---|---|---|---|
| \`hotwasm serve\` (COOP same-origin, COEP credentialless) | ${fact(isolatedFacts)} |
| plain server, no headers | ${fact(plainFacts)} |

An image from another origin without a CORP header, on the served page: ${isolatedFacts.foreignImage ? 'loads' : 'blocked'} (COEP credentialless fetches it without cookies; \`require-corp\` would block it).
`);
} finally {
  await ctx.close();
  await server.stop();
  plain.close();
}
