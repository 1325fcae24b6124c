// Fan-out: 50 page clients on the real server, one repl client sends an eval; time until every
// page acked the patch (the server's eval_result, which waits for all acks).
//   node --experimental-websocket benches/fanout.mjs [--clients 50] [--evals 5] [--json out.json]
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { colourSource, connect, evalOn, pct, startServer } from './lib.mjs';

const { values: opts } = parseArgs({ options: { clients: { type: 'string', default: '50' }, evals: { type: 'string', default: '5' }, json: { type: 'string' } } });
const N = Number(opts.clients);
const E = Number(opts.evals);
const server = await startServer();
const failures = [];
let result;
try {
  const t0 = performance.now();
  const pages = await Promise.all(Array.from({ length: N }, () => connect(server.url, 'page')));
  const connectMs = performance.now() - t0;
  const repl = await connect(server.url, 'repl');
  const runs = [];
  for (let i = 0; i < E; i++) {
    const before = pages.map((p) => p.acks);
    const start = performance.now();
    const r = await evalOn(repl, `fan${i}`, colourSource(1000 + i));
    const resultMs = performance.now() - start;
    const acked = pages.filter((p, k) => p.acks === before[k] + 1).length;
    const lastAck = Math.max(...pages.map((p) => p.lastAckAt)) - start;
    if (!r.ok) failures.push(`eval ${i}: ${r.stage}: ${r.error}`);
    if (acked !== N) failures.push(`eval ${i}: ${acked}/${N} pages acked`);
    if ((r.pages ?? []).length !== N || !(r.pages ?? []).every((p) => p.ok)) failures.push(`eval ${i}: eval_result lists ${(r.pages ?? []).filter((p) => p.ok).length}/${N} ok pages`);
    runs.push({ resultMs, lastAckMs: lastAck, compile: r.timings?.compile_ms, transfer: r.timings?.transfer_ms, total: r.timings?.total_ms });
  }
  for (const p of pages) if (p.errors.length) failures.push(`page: ${p.errors.join('; ')}`);
  const col = (k) => runs.map((r) => r[k]);
  result = {
    clients: N,
    evals: E,
    connect_all_ms: connectMs,
    eval_to_all_acked_ms: { first: runs[0].resultMs, p50: pct(col('resultMs'), 50), p50_warm: pct(col('resultMs').slice(1), 50), max: Math.max(...col('resultMs')) },
    last_ack_sent_ms: { p50: pct(col('lastAckMs'), 50), max: Math.max(...col('lastAckMs')) },
    server_compile_ms_p50: pct(col('compile'), 50),
    server_transfer_ms_p50: pct(col('transfer'), 50),
    server_total_ms_p50: pct(col('total'), 50),
    failures,
  };
  for (const p of [...pages, repl]) p.ws.close();
} catch (e) {
  failures.push(String(e.stack ?? e));
  result = { clients: N, failures };
} finally {
  await server.stop();
}
console.log(JSON.stringify(result, null, 2));
if (opts.json) writeFileSync(opts.json, JSON.stringify(result, null, 2));
process.exit(failures.length ? 1 : 0);
