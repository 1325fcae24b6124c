// One growing program (issue 21): eval→live latency of C and C++ text evals through the
// persistent incremental compiler session, beside the same text sent under a file name in the
// same run (a named eval: a one-shot session of its own, as a file compiles), the server's split
// of the session evals' compile (HOTWASM_EVAL_SPLIT), and the session's memory after many evals.
// The session evals of a row run one after another, as typed at the console; the named ones
// after them (a named eval is a journal entry of another kind, so interleaving them would make
// every session eval check the session against the journal in full). Real server (`hotwasm serve`), real pages: the apps'
// HOT_RELOAD bundles under Node with the public client; the clock runs from sending the eval to
// holding its eval_result (every page applied it, the value back). Prints a markdown section.
//
//   HOT_RELOAD=1 bash scripts/emscripten-bundle.sh examples/c-host
//   HOT_RELOAD=1 bash scripts/emscripten-bundle.sh examples/cpp-host
//   node --experimental-websocket benches/session.mjs [--evals 40] [--memory-evals 1000] [--json out.json]
//       [--hotwasm target/debug/hotwasm]   (a built binary instead of scripts/hotwasm's release one)
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT, attachPage, serveApp } from '../tests/lib/node-page.mjs';

const arg = (name, dflt) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : dflt;
};
const EVALS = Number(arg('evals', 40));
const MEMORY_EVALS = Number(arg('memory-evals', 1000));
// The hotwasm command (default scripts/hotwasm, the release build).
const HOTWASM = arg('hotwasm');
const WARMUP = 3;
// The server prints each eval's split of its compile (server/src/session_eval.rs `Split`); the
// lines of the current row's session evals are kept, the rest of its stderr passes through.
process.env.HOTWASM_EVAL_SPLIT = '1';
const SPLIT = /hotwasm: eval split (\w+) (\w+): in_step ([\d.]+) eval ([\d.]+) \(parse ([\d.]+) emit ([\d.]+)\) link ([\d.]+) \(symbols ([\d.]+) ld ([\d.]+)\) ms/;
const SPLIT_KEYS = ['in_step', 'eval', 'parse', 'emit', 'link', 'symbols', 'ld'];
let splitLines = null;
let partial = '';
const stderrWrite = process.stderr.write.bind(process.stderr);
process.stderr.write = (chunk) => {
  const lines = (partial + String(chunk)).split('\n');
  partial = lines.pop();
  const kept = lines.filter((line) => {
    const m = SPLIT.exec(line);
    if (m && m[2] === 'session' && splitLines) splitLines.push(m.slice(3).map(Number));
    return !m;
  });
  return kept.length === 0 || stderrWrite(kept.map((l) => `${l}\n`).join(''));
};
const q = (xs, p) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(p * s.length))];
};

/** The resident memory (MB) of the compiler sessions the server `pid` runs, and how many run. */
function sessionRss(pid) {
  let kb = 0;
  let count = 0;
  for (const p of readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
    try {
      const stat = readFileSync(`/proc/${p}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid !== pid || !stat.includes('(hotwasm-clang-')) continue;
      kb += Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${p}/status`, 'utf8'))[1]);
      count += 1;
    } catch { /* the process ended */ }
  }
  return { mb: kb / 1024, count };
}

/** Times `make(i)` evals of `lang` on `hot`, through the session (no name) and today's path. */
async function rows(hot, lang, prelude, make) {
  const ext = lang === 'cpp' ? 'cpp' : 'c';
  const out = { session: [], today: [] };
  const timed = async (source, name) => {
    const t0 = performance.now();
    const r = await hot.eval(source, lang, name ? { name } : {});
    const ms = performance.now() - t0;
    if (!r.ok) throw new Error(`${lang} eval failed: ${r.error}\n${r.raw_output ?? ''}\n${source}`);
    return { ms, compile: r.timings.compile_ms };
  };
  if (prelude) await timed(prelude);
  for (let i = 0; i < WARMUP; i++) await timed(make(i, true));
  splitLines = [];
  for (let i = WARMUP; i < EVALS + WARMUP; i++) out.session.push(await timed(make(i, true)));
  // The split lines are written before each eval_result: all of them are in by now but the last.
  await timed(make(EVALS + WARMUP, true));
  const lines = splitLines.slice(0, EVALS);
  splitLines = null;
  for (let i = 0; i < EVALS + WARMUP; i++) {
    const t = await timed(make(i, false), `bench_${i}.${ext}`);
    if (i >= WARMUP) out.today.push(t);
  }
  const fig = (xs) => ({
    p50: q(xs.map((x) => x.ms), 0.5),
    p95: q(xs.map((x) => x.ms), 0.95),
    compile_p50: q(xs.map((x) => x.compile), 0.5),
  });
  // A server that prints no split (an older build) leaves it out.
  const split = lines.length
    ? Object.fromEntries(SPLIT_KEYS.map((k, j) => [k, q(lines.map((l) => l[j]), 0.5)]))
    : null;
  return { session: { ...fig(out.session), split }, today: fig(out.today) };
}

const STD = '#include <vector>\n#include <string>\n#include <algorithm>\n';
const figures = { evals: EVALS };
{
  const app = join(ROOT, 'examples/c-host');
  const server = await serveApp(app, { hotwasm: HOTWASM });
  const { hot } = await attachPage(join(app, 'build/hot/bounce.js'), server.url);
  try {
    figures.c_trivial = await rows(hot, 'c', null, (i) => `6*${7 + i}\n`);
    figures.session_rss_before = sessionRss(server.pid);
    for (let i = 0; i < MEMORY_EVALS; i++) {
      const r = await hot.eval(`int mem_${i}(int x) { return x + ${i}; }\nmem_${i}(1)\n`, 'c');
      if (!r.ok) throw new Error(`memory eval ${i} failed: ${r.error}`);
    }
    figures.session_rss_after = sessionRss(server.pid);
  } finally {
    hot.close();
    server.stop();
  }
}
{
  const app = join(ROOT, 'examples/cpp-host');
  const server = await serveApp(app, { hotwasm: HOTWASM });
  const { hot } = await attachPage(join(app, 'build/hot/orbits.js'), server.url);
  try {
    figures.cpp_trivial = await rows(hot, 'cpp', null, (i) => `6*${7 + i}\n`);
    // The session parsed the headers once (the prelude eval); a named eval includes them each time.
    // Locals, not globals: a global with a destructor needs `__cxa_atexit`, which cpp-host lacks.
    figures.cpp_std = await rows(hot, 'cpp', STD, (i, session) =>
      `${session ? '' : STD}int digits_${i}(int k) {\n  std::vector<int> v{k, 3, 1, 2};\n  std::sort(v.begin(), v.end());\n  return (int)std::to_string(v[3] * 10).size();\n}\ndigits_${i}(${i})\n`);
  } finally {
    hot.close();
    server.stop();
  }
}
figures.load_average_1m = Number(readFileSync('/proc/loadavg', 'utf8').split(' ')[0]);
const f = (x) => x.toFixed(1);
const line = (what, r, target) =>
  `| ${what} | ${f(r.session.p50)} / ${f(r.session.p95)} | ${f(r.today.p50)} / ${f(r.today.p95)} | ${f(r.session.compile_p50)} | ${f(r.today.compile_p50)} | ${target} |`;
const splitLine = (what, r) => {
  const s = r.session.split;
  if (!s) return `| ${what} | (not printed by this server) | | |`;
  return `| ${what} | ${f(s.in_step)} | ${f(s.eval)} (${f(s.parse)} + ${f(s.emit)}) | ${f(s.link)} (${f(s.symbols)}, ${f(s.ld)}) |`;
};
console.log(`## One growing program: C/C++ evals through the persistent compiler session (issue 21)

eval→live through the real server and a Node page (the app's HOT_RELOAD bundle), ${EVALS} evals per row after ${WARMUP} warm-up ones through the session, one after another as typed at the console, then the same texts sent under a file name (a named eval: a one-shot session of its own, no earlier evals, headers parsed each time). 1-minute load average at the end: ${figures.load_average_1m}. Server: ${HOTWASM ?? 'scripts/hotwasm (profile cli)'}.

| eval | session p50 / p95 ms | named eval p50 / p95 ms | session compile p50 ms | named eval compile p50 ms | target (session) |
|---|---|---|---|---|---|
${line('C trivial (`6*k`, c-host)', figures.c_trivial, 'p50 ≤ 30, p95 ≤ 50')}
${line('C++ trivial (`6*k`, cpp-host)', figures.cpp_trivial, 'p50 ≤ 30')}
${line('C++ with `<vector>`/`<string>`/`<algorithm>` (sort + to_string)', figures.cpp_std, 'p50 ≤ 100')}

Server-side split of the session evals' compile, medians per step (ms): bringing the session in step with the journal; the session's eval (clang's parse and IR, then -O2 and object emission); the link (late-binding plan and trampolines, then lld in the session process).

| eval | in step | eval (parse + emit) | link (of it: plan and trampolines, lld) |
|---|---|---|---|
${splitLine('C trivial', figures.c_trivial)}
${splitLine('C++ trivial', figures.cpp_trivial)}
${splitLine('C++ std', figures.cpp_std)}

Compiler sessions' memory (RSS of every session process of the C app's server: the console's C session and the spares started ahead for named evals), before and after ${MEMORY_EVALS} more C evals (a function and a call each): ${f(figures.session_rss_before?.mb)} MB in ${figures.session_rss_before?.count} processes → ${f(figures.session_rss_after?.mb)} MB in ${figures.session_rss_after?.count}.

Run: \`node --experimental-websocket benches/session.mjs --evals ${EVALS} --memory-evals ${MEMORY_EVALS}\` (needs both apps' HOT_RELOAD bundles).`);
const json = arg('json');
if (json) writeFileSync(json, JSON.stringify(figures, null, 2));
