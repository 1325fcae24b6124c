// The fenced code blocks of README.md and docs/*.md, and how the docs tests run one command line
// of them as written. `~/hotwasm` in the docs is "your clone of hotwasm": in these tests it is the
// checkout under test (ROOT).
import { spawn } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** The Markdown files whose blocks must run: README.md and every docs/*.md. */
export function docFiles() {
  const docs = readdirSync(join(ROOT, 'docs'))
    .filter((f) => f.endsWith('.md'))
    .map((f) => `docs/${f}`);
  return ['README.md', ...docs.sort()];
}

/** Every fenced block of `file` (relative to ROOT): `{file, line, lang, text}`. */
export function blocksOf(file) {
  const lines = readFileSync(join(ROOT, file), 'utf8').split('\n');
  const blocks = [];
  let open = null;
  lines.forEach((line, i) => {
    const fence = line.match(/^```(\S*)\s*$/);
    if (!fence) {
      if (open) open.body.push(line);
      return;
    }
    if (open) {
      blocks.push({ file, line: open.line, lang: open.lang, text: open.body.join('\n') + '\n' });
      open = null;
    } else {
      open = { line: i + 1, lang: fence[1], body: [] };
    }
  });
  return blocks;
}

/** Every ```sh and ```toml block of the docs. */
export function runnableBlocks() {
  return docFiles().flatMap(blocksOf).filter((b) => b.lang === 'sh' || b.lang === 'toml');
}

/** The command lines of a sh block: one per line, without the trailing `# comment`. */
export function commandLines(block) {
  return block.text
    .split('\n')
    .map((l) => l.replace(/\s+#\s.*$/, '').trim())
    .filter((l) => l && !l.startsWith('#'));
}

/** `~/hotwasm` → the checkout under test. */
export const withHome = (line) => line.replaceAll('~/hotwasm', `'${ROOT}'`);

/**
 * Runs `line` with bash in `cwd`. Resolves `{code, out}` when it exits, or, when it prints the URL
 * of a page to open (`hotwasm serve`, `scripts/demo.sh`), once that page answers 200 — then the
 * server is stopped (its whole process group) and `served` holds the URL.
 */
export function runLine(line, { cwd, env = process.env, timeoutMs = 600_000 }) {
  const child = spawn('bash', ['-c', line], { cwd, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  const stop = () => {
    try {
      process.kill(-child.pid, 'SIGTERM');
    } catch {
      /* already gone */
    }
  };
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      stop();
      resolve({ code: 'timeout', out });
    }, timeoutMs);
    let served = null;
    const read = async (chunk) => {
      out += chunk;
      const m = out.match(/open (http:\/\/\S+\/\?token=[0-9a-f]+)/);
      if (!m || served) return;
      served = m[1];
      const status = await fetch(served).then((r) => r.status, (e) => String(e));
      out += `\n[docs test: GET ${served} → ${status}]\n`;
      stop();
      clearTimeout(timer);
      resolve({ code: status === 200 ? 0 : `page answered ${status}`, out, served });
    };
    child.stdout.on('data', read);
    child.stderr.on('data', (c) => (out += c));
    child.on('exit', (code) => {
      clearTimeout(timer);
      if (!served) resolve({ code, out });
    });
  });
}
