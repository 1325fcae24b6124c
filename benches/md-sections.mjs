// The sections of benchmarks that print their own markdown (bench.sh steps named `md-…`): each
// step's log from its first heading on, under a `## ` title with the command to rerun it. Used by
// report.mjs (the whole BENCHMARKS.md) and splice.mjs (`bench.sh --only`: just these sections).
import { readFileSync } from 'node:fs';
import { execSync } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';

const sh = (c) => { try { return execSync(c, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim(); } catch { return '?'; } };

/** Reads `status.tsv` of a bench output directory: step name → { st, secs, cmd }. */
export function readStatus(dir) {
  let text = '';
  try { text = readFileSync(path.join(dir, 'status.tsv'), 'utf8'); } catch { /* no run yet */ }
  return Object.fromEntries(text.trim().split('\n').filter(Boolean).map((l) => {
    const [name, st, secs, cmd] = l.split('\t');
    return [name, { name, st, secs: Number(secs), cmd }];
  }));
}

/** When and where a section was measured (a spliced section was measured apart from the rest). */
export function provenance(dir) {
  const read = (f) => { try { return readFileSync(path.join(dir, f), 'utf8').trim(); } catch { return '?'; } };
  const dirty = sh('git status --porcelain --untracked-files=no') ? ' (with uncommitted changes)' : '';
  return `Measured ${read('started')} → ${read('finished')}, commit ${sh('git rev-parse --short HEAD')}${dirty}, ${os.cpus().length} cores, load average before: ${read('loadavg')}.`;
}

/** The md-… sections of the run in `dir`: [{ title, lines }], in the run's order. */
export function mdSections(dir, { stamp = false } = {}) {
  const status = readStatus(dir);
  const read = (f) => { try { return readFileSync(path.join(dir, f), 'utf8'); } catch { return ''; } };
  const sections = [];
  for (const n of Object.keys(status).filter((k) => k.startsWith('md-'))) {
    const log = read(`${n}.log`);
    const at = log.search(/^#{2,4} /m);
    const title = at >= 0 ? log.slice(at).split('\n')[0].replace(/^#+ /, '') : n.slice(3);
    const lines = [`Rerun: \`${status[n].cmd}\``, ''];
    if (stamp) lines.push(provenance(dir), '');
    const s = status[n];
    if (s.st === 'skipped') lines.push('_skipped (BENCH_SKIP)_');
    else if (s.st !== 'ok' || at < 0) {
      const tail = log.trim().split('\n').slice(-12).join('\n');
      lines.push(s.st === 'ok' ? `No markdown heading in \`${n}.log\`; its last lines:` : `**FAILED** (${s.st}, after ${s.secs} s):`, '', '```', tail, '```');
    } else {
      const body = log.slice(at).split('\n').slice(1).join('\n').trim().split('\n');
      lines.push(...body.map((l) => l.replace(/^(#{2,3}) /, '#$1 ')));
    }
    sections.push({ title, lines });
  }
  return sections;
}
