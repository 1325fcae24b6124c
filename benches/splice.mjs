// `bash scripts/bench.sh --only "md-a md-b"`: puts the sections of just those benchmarks into
// BENCHMARKS.md, replacing the sections of the same title (or adding them at the end), each stamped
// with when and at which commit it was measured; the rest of the file stays as the last full run
// wrote it.
//   node benches/splice.mjs OUT_DIR BENCHMARKS.md
import { readFileSync, writeFileSync } from 'node:fs';
import { mdSections } from './md-sections.mjs';

const [dir, file] = process.argv.slice(2);
if (!dir || !file) {
  console.error('usage: node benches/splice.mjs OUT_DIR BENCHMARKS.md');
  process.exit(2);
}
let text = readFileSync(file, 'utf8');
for (const { title, lines } of mdSections(dir, { stamp: true })) {
  const block = `## ${title}\n\n${lines.join('\n')}\n`;
  const start = text.indexOf(`\n## ${title}\n`);
  if (start < 0) { text = `${text.trimEnd()}\n\n${block}`; continue; }
  const next = text.indexOf('\n## ', start + 1);
  text = `${text.slice(0, start + 1)}${block}${next < 0 ? '' : `\n${text.slice(next + 1)}`}`;
}
writeFileSync(file, text.endsWith('\n') ? text : `${text}\n`);
