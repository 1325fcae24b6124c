// Server memory: peak RSS (VmHWM of the `hotwasm serve` process itself; compiler children are
// separate processes under their own RLIMIT_AS cap) through a run of 200 evals delivered to one
// page client, then through a compile bomb (nested macro expansion) that the server must stop
// by its compile timeout / memory cap while staying up and serving the next eval.
//   node --experimental-websocket benches/server-memory.mjs [--evals 200] [--json out.json]
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { colourSource, connect, evalOn, ping, startServer } from './lib.mjs';

const { values: opts } = parseArgs({ options: { evals: { type: 'string', default: '200' }, json: { type: 'string' }, 'limit-mib': { type: 'string', default: '200' } } });
const N = Number(opts.evals);
const LIMIT = Number(opts['limit-mib']);
const mib = (kib) => Math.round((kib / 1024) * 10) / 10;

// 10 tokens, squared at each level: B4 would be 10^16 tokens, far past any cap.
const BOMB = `#define B0(x) x x x x x x x x x x
#define B1(x) B0(B0(x))
#define B2(x) B1(B1(x))
#define B3(x) B2(B2(x))
#define B4(x) B3(B3(x))
int bomb(void) { return 0 B4(+1); }
`;

const server = await startServer();
const failures = [];
const result = { evals: N, limit_mib: LIMIT };
try {
  result.start_rss_mib = mib(server.memory().rssKiB);
  const page = await connect(server.url, 'page');
  const repl = await connect(server.url, 'repl');
  const t0 = performance.now();
  let failed = 0;
  for (let i = 0; i < N; i++) {
    const r = await evalOn(repl, `mem${i}`, colourSource(i));
    if (!r.ok) { failed += 1; if (failed <= 3) failures.push(`eval ${i}: ${r.stage}: ${r.error}`); }
  }
  result.evals_s = (performance.now() - t0) / 1000;
  result.evals_failed = failed;
  result.page_acks = page.acks;
  const m1 = server.memory();
  result.after_evals_hwm_mib = mib(m1.hwmKiB);
  result.after_evals_rss_mib = mib(m1.rssKiB);

  const b0 = performance.now();
  const bomb = await evalOn(repl, 'bomb', BOMB, 120_000);
  result.bomb_ms = performance.now() - b0;
  result.bomb = { ok: bomb.ok, stage: bomb.stage, error: bomb.error, compile_ms: bomb.timings?.compile_ms };
  if (bomb.ok) failures.push('the compile bomb compiled');
  if (!server.alive()) failures.push('server died in the compile bomb');
  await ping(repl);
  const after = await evalOn(repl, 'after-bomb', colourSource(99999));
  result.eval_after_bomb_ok = after.ok;
  if (!after.ok) failures.push(`eval after the bomb: ${after.stage}: ${after.error}`);
  const m2 = server.memory();
  result.after_bomb_hwm_mib = mib(m2.hwmKiB);
  result.after_bomb_rss_mib = mib(m2.rssKiB);
  result.peak_hwm_mib = result.after_bomb_hwm_mib;
  result.under_limit = result.peak_hwm_mib < LIMIT;
  if (!result.under_limit) failures.push(`server peak RSS ${result.peak_hwm_mib} MiB ≥ ${LIMIT} MiB`);
  page.ws.close();
  repl.ws.close();
} catch (e) {
  failures.push(String(e.stack ?? e));
} finally {
  await server.stop();
}
result.failures = failures;
console.log(JSON.stringify(result, null, 2));
if (opts.json) writeFileSync(opts.json, JSON.stringify(result, null, 2));
process.exit(failures.length ? 1 : 0);
