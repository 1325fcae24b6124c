// Every command line and config snippet of README.md and docs/*.md, run as written: each ```sh
// line by bash (a server it starts — `hotwasm serve`, `scripts/demo.sh` — must print its URL and
// serve the page, then it is stopped), each hotwasm.toml snippet through the real config reader
// (`hotwasm build --check`), each Cargo.toml snippet by cargo's own resolver (`cargo metadata`).
// Commands naming `scripts/` run in this checkout; the others in a scratch directory: README's
// where `my-app` gets created, docs/ADOPTING.md's in "your app's directory", an app made by
// `hotwasm init`. `~/hotwasm` (the clone the docs tell you to make) is this checkout.
// Two commands are not run here, each for the reason beside it in NOT_RUN_HERE.
import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, mkdirSync, readFileSync, realpathSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT, commandLines, runLine, runnableBlocks, withHome } from './blocks.mjs';

const SCRATCH = realpathSync(mkdtempSync(join(tmpdir(), 'hotwasm-docs-')));
const HOTWASM = join(ROOT, 'scripts', 'hotwasm');
/** Where README's commands run (they create `my-app` here). */
const APPS = join(SCRATCH, 'apps');
/** "Your app's directory" of docs/ADOPTING.md: a C app from `hotwasm init`. */
const APP = join(SCRATCH, 'app');
/** A Rust app from `hotwasm init` beside `hotwasm` (→ this checkout), for Cargo.toml snippets. */
const RUST_APP = join(SCRATCH, 'garden');

/** Commands that cannot run inside the test suite, and what is checked of them instead. */
const NOT_RUN_HERE = {
  // It runs this very test (CI runs exactly this command: .ci/run execs it).
  'bash scripts/test.sh': () => {
    assert.match(readFileSync(join(ROOT, '.ci', 'run'), 'utf8'), /^exec bash scripts\/test\.sh$/m);
  },
  // About 10 minutes, and it rewrites BENCHMARKS.md: parsed by bash only.
  'bash scripts/bench.sh': () => {
    const r = spawnSync('bash', ['-n', join(ROOT, 'scripts', 'bench.sh')], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
  },
};

const run = (cmd, args, opts = {}) => {
  const r = spawnSync(cmd, args, { encoding: 'utf8', ...opts });
  assert.equal(r.status, 0, `${cmd} ${args.join(' ')}:\n${r.stdout}\n${r.stderr}`);
  return r.stdout;
};

before(() => {
  mkdirSync(APPS);
  symlinkSync(ROOT, join(SCRATCH, 'hotwasm'));
  run('bash', [HOTWASM, 'init', '--lang', 'c', APP]);
  run('bash', [HOTWASM, 'init', '--lang', 'rust', RUST_APP]);
  writeFileSync(join(RUST_APP, 'Cargo.toml.scaffold'), readFileSync(join(RUST_APP, 'Cargo.toml')));
});

/** Where a documented command runs: `scripts/…` relative → this checkout. */
function cwdOf(block, line) {
  if (/(^|\s)(bash\s+)?scripts\//.test(line)) return ROOT;
  return block.file === 'README.md' ? APPS : APP;
}

async function runShLine(block, line) {
  if (NOT_RUN_HERE[line]) return NOT_RUN_HERE[line]();
  const clone = line.match(/^git clone <this repository> ~\/hotwasm$/);
  // The clone the docs tell you to make, made (into the scratch dir: ~/hotwasm is this checkout).
  const command = clone ? `git clone --quiet '${ROOT}' '${join(SCRATCH, 'clone')}'` : withHome(line);
  const { code, out } = await runLine(command, { cwd: cwdOf(block, line) });
  assert.equal(code, 0, `${block.file}:${block.line}: \`${line}\` failed:\n${out.slice(-4000)}`);
  if (clone) assert.ok(existsSync(join(SCRATCH, 'clone', 'scripts', 'hotwasm')));
}

/** `text` without the `[name]` tables listed (each up to the next table header). */
function withoutTables(text, names) {
  let skip = false;
  return text
    .split('\n')
    .filter((l) => {
      const header = l.match(/^\[([^\]]+)\]\s*$/);
      if (header) skip = names.includes(header[1]);
      return !skip;
    })
    .join('\n');
}

function checkCargoSnippet(block) {
  const scaffold = readFileSync(join(RUST_APP, 'Cargo.toml.scaffold'), 'utf8');
  const tables = [...block.text.matchAll(/^\[([^\]]+)\]\s*$/gm)].map((m) => m[1]);
  assert.ok(tables.length > 0, `${block.file}:${block.line}: a Cargo.toml snippet names its tables`);
  writeFileSync(join(RUST_APP, 'Cargo.toml'), `${withoutTables(scaffold, tables)}\n${block.text}`);
  const meta = JSON.parse(
    run('cargo', ['metadata', '--offline', '--format-version', '1', '--manifest-path', join(RUST_APP, 'Cargo.toml')]),
  );
  const runtime = meta.packages.find((p) => p.name === 'hotwasm-runtime');
  assert.equal(realpathSync(runtime.manifest_path), realpathSync(join(ROOT, 'runtime', 'Cargo.toml')));
}

function checkHotwasmToml(block, n) {
  const dir = join(SCRATCH, `config-${n}`);
  mkdirSync(dir);
  writeFileSync(join(dir, 'hotwasm.toml'), block.text);
  const out = run('bash', [HOTWASM, 'build', '--check', '--project', dir]);
  assert.match(out, /the config is valid/);
}

describe('every command line and config snippet of README.md and docs/', { timeout: 1_800_000 }, () => {
  runnableBlocks().forEach((block, n) => {
    const lines = block.lang === 'sh' ? commandLines(block) : [];
    test(`${block.file}:${block.line} (${block.lang}) ${lines.join(' ; ')}`, async () => {
      if (block.lang === 'toml') {
        if (/^# Cargo\.toml\s*$/m.test(block.text.split('\n')[0])) checkCargoSnippet(block);
        else checkHotwasmToml(block, n);
        return;
      }
      assert.ok(lines.length > 0, 'an empty sh block');
      for (const line of lines) await runShLine(block, line);
    });
  });

  test('the config check names each path the config lists that does not exist', () => {
    const dir = join(SCRATCH, 'config-paths');
    mkdirSync(dir);
    writeFileSync(join(dir, 'hotwasm.toml'), '[app]\nname = "a"\nlang = "c"\n[build]\nsources = ["src/*.c"]\n[patches]\ninclude_dirs = ["headers"]\n');
    const r = spawnSync('bash', [HOTWASM, 'build', '--check', '--project', dir], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stderr, /\[build\] sources: `src\/\*\.c` matches no file/);
    assert.match(r.stderr, /\[patches\] include_dirs: .*headers does not exist/);
  });

  test('the config check refuses what the reader refuses (so a snippet with a dead key fails)', () => {
    const dir = join(SCRATCH, 'config-bad');
    mkdirSync(dir);
    writeFileSync(join(dir, 'hotwasm.toml'), '[app]\nname = "a"\nlang = "c"\ncolour = "red"\n[build]\nsources = ["*.c"]\n');
    const r = spawnSync('bash', [HOTWASM, 'build', '--check', '--project', dir], { encoding: 'utf8' });
    assert.notEqual(r.status, 0);
    assert.match(r.stderr, /unknown field `colour`/);
  });
});
