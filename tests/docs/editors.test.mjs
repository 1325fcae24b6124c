// What an editor gets from `hotwasm build --check` (which `hotwasm init` and `hotwasm build` share):
// with the compile_commands.json it writes, Debian's clangd-19 reports no error on each
// example's C and C++ patches (without it, it does: the database is what makes the difference);
// the .hotwasm/rust-project.json it writes describes crates the project's rustc compiles as
// described (the prelude crate `hotwasm_patch`, each Rust patch depending on it, for the target).
// Each example is a temp copy, so nothing is written into examples/.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT } from './blocks.mjs';

const HOTWASM = join(ROOT, 'scripts', 'hotwasm');
const CLANGD = process.env.HOTWASM_CLANGD || 'clangd-19';

/** A copy of examples/`name` without its build outputs (and without the compile_commands.json an
 * earlier build in the checkout wrote there: a copy without its .hotwasm/ would take it for the
 * app's own). */
function copyExample(name) {
  const dir = join(mkdtempSync(join(tmpdir(), `hotwasm-editors-${name}-`)), name);
  cpSync(join(ROOT, 'examples', name), dir, {
    recursive: true,
    filter: (src) => !/\/(build|target|\.hotwasm|compile_commands\.json)(\/|$)/.test(src.slice(ROOT.length)),
  });
  return dir;
}

function check(dir) {
  const r = spawnSync('bash', [HOTWASM, 'build', '--check', '--project', dir], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  return r.stderr;
}

/** clangd's verdict on `file`: its exit status and the number of errors it counted. */
function clangd(file, cwd) {
  const r = spawnSync(CLANGD, [`--check=${file}`], { cwd, encoding: 'utf8' });
  assert.ok(!r.error, `${CLANGD} did not run (apt-get install clangd-19): ${r.error}`);
  const errors = Number((r.stderr.match(/All checks completed, (\d+) errors/) ?? [])[1]);
  const shown = r.stderr.split('\n').filter((l) => l.startsWith('E[')).join('\n');
  return { status: r.status, errors, shown };
}

const patchesOf = (dir) => readdirSync(join(dir, 'patches')).map((f) => join(dir, 'patches', f));

describe('clangd sees each example patch as hotwasm compiles it', { timeout: 300_000 }, () => {
  for (const name of ['c-host', 'cpp-host']) {
    test(`${name}: no error in any patch with the written compile_commands.json, errors without it`, () => {
      const dir = copyExample(name);
      check(dir);
      const db = JSON.parse(readFileSync(join(dir, 'compile_commands.json'), 'utf8'));
      const patches = patchesOf(dir).filter((f) => /\.(c|cpp)$/.test(f));
      assert.ok(patches.length > 0);
      for (const file of patches) {
        const entry = db.find((e) => e.file === file);
        assert.ok(entry, `${file} is not in compile_commands.json`);
        assert.ok(entry.arguments.includes('wasm32-unknown-emscripten'), entry.arguments.join(' '));
        const verdict = clangd(file, dir);
        assert.equal(verdict.errors, 0, `${file}:\n${verdict.shown}`);
        assert.equal(verdict.status, 0);
      }
      rmSync(join(dir, 'compile_commands.json'));
      const without = clangd(patches[0], dir);
      assert.ok(without.errors > 0, 'clangd found no error even without the database: this test shows nothing');
    });
  }

  test("an app's own compile_commands.json is left alone; hotwasm's entries go to .hotwasm/", () => {
    const dir = copyExample('c-host');
    const own = '[{"directory": "/x", "file": "/x/a.c", "arguments": ["cc", "-c", "a.c"]}]\n';
    writeFileSync(join(dir, 'compile_commands.json'), own);
    const said = check(dir);
    assert.equal(readFileSync(join(dir, 'compile_commands.json'), 'utf8'), own);
    assert.match(said, /compile_commands\.json is your own/);
    const ours = JSON.parse(readFileSync(join(dir, '.hotwasm', 'compile_commands.json'), 'utf8'));
    assert.deepEqual(ours.map((e) => e.file), [join(dir, 'patches', 'colors.c')]);
  });
});

/** Compiles the crates of `project` (a rust-project.json) in order, as it describes them. */
function compileCrates(project, out) {
  const rustc = join(project.sysroot, 'bin', 'rustc');
  const rlibs = [];
  project.crates.forEach((krate, i) => {
    assert.equal(krate.target, 'wasm32-unknown-emscripten');
    assert.ok(krate.cfg.includes('target_os="emscripten"'), krate.cfg.join(' '));
    const externs = krate.deps.flatMap((d) => ['--extern', `${d.name}=${rlibs[d.crate]}`]);
    const rlib = join(out, `lib${i}.rlib`);
    const args = ['--edition', krate.edition, '--target', krate.target, '--crate-name', i === 0 ? 'hotwasm_patch' : `patch${i}`];
    const kind = i === 0 ? ['--crate-type', 'rlib', '-o', rlib] : ['--crate-type', 'cdylib', '--emit', 'metadata', '-o', join(out, `p${i}.rmeta`)];
    const r = spawnSync(rustc, [...args, ...kind, ...externs, krate.root_module], { encoding: 'utf8' });
    assert.equal(r.status, 0, `${krate.root_module}:\n${r.stderr}`);
    assert.doesNotMatch(r.stderr, /warning|error/, r.stderr);
    rlibs.push(rlib);
  });
}

describe('rust-analyzer gets the Rust patches as crates on the prelude', { timeout: 300_000 }, () => {
  test('rust-host: each patch a crate depending on an (empty) prelude, for the target', () => {
    const dir = copyExample('rust-host');
    check(dir);
    const project = JSON.parse(readFileSync(join(dir, '.hotwasm', 'rust-project.json'), 'utf8'));
    assert.deepEqual(
      project.crates.slice(1).map((c) => c.root_module),
      patchesOf(dir).filter((f) => f.endsWith('.rs')),
    );
    compileCrates(project, dir);
  });

  test('particles: a patch importing the prelude explicitly sees its types (as the editor does)', () => {
    const dir = copyExample('particles');
    writeFileSync(
      join(dir, 'patches', 'count.rs'),
      'use hotwasm_patch::*;\n\n#[no_mangle]\npub extern "C" fn live_count(world: *const World) -> u32 {\n    unsafe { (*world).count }\n}\n',
    );
    check(dir);
    const project = JSON.parse(readFileSync(join(dir, '.hotwasm', 'rust-project.json'), 'utf8'));
    assert.equal(project.crates[0].root_module, join(dir, 'patches', 'prelude.rs'));
    assert.equal(project.crates.length, 2, 'the prelude is not a patch');
    compileCrates(project, dir);
  });
});
