// The whole C library in a patch (issue 11, item 4), in a real HOT_RELOAD host (a copy of
// examples/c-host, built as a user builds it) with Node as the page: one eval calls a generated
// list of C library functions — what the host exports and what the patch links itself from
// Emscripten's PIC libc — and every printed result is checked, in order with the host's own
// stdio. The heap is the host's both ways, the rand seed is shared, and a function a patch cannot
// use is refused before sending, naming it and the fix.
//
//   node --experimental-websocket --test tests/examples/libc.test.mjs

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT, attachPage, serveApp } from '../lib/node-page.mjs';
import { CALLS, patchSource } from '../lib/libc-list.mjs';

/** Whether one of `blocks` (each `size` bytes) covers `addr`: the heap reused a freed block (dlmalloc
 * may have merged it with a free neighbour, so the new block can start before it). */
const reuses = (blocks, size, addr) => blocks.some((b) => b <= addr && addr < b + size);

function run(cmd, args, env = process.env) {
  const r = spawnSync(cmd, args, { cwd: ROOT, env, stdio: ['ignore', 'inherit', 'inherit'], timeout: 10 * 60_000 });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (${r.status ?? r.signal})`);
}

describe('the C library in a patch (examples/c-host)', { timeout: 15 * 60_000 }, () => {
  let server;
  let page;
  let scratch;
  before(async () => {
    scratch = mkdtempSync(join(tmpdir(), 'hotwasm-libc-'));
    const dir = join(scratch, 'c-host');
    cpSync(join(ROOT, 'examples/c-host'), dir, { recursive: true, filter: (src) => !/\/(build|\.hotwasm)$/.test(src) });
    run('bash', [join(ROOT, 'scripts/emscripten-bundle.sh'), dir], { ...process.env, HOT_RELOAD: '1' });
    server = await serveApp(dir);
    page = await attachPage(join(dir, 'build/hot/bounce.js'), server.url);
  });
  after(() => {
    page?.hot.close();
    server?.stop();
    if (scratch) rmSync(scratch, { recursive: true, force: true });
  });

  test('a patch calling a generated list of C library functions prints every expected result, in order with the host stdio', async () => {
    const { hot, Module } = page;
    const result = await hot.eval(patchSource(), 'c', { name: 'libc_list.c' });
    assert.ok(result.ok, `eval failed at ${result.stage}: ${result.error}\n${result.raw_output ?? ''}`);
    const out = result.pages[0].output.split('\n').filter((l) => l !== '');
    // printf's own text, then its return value on the same line (same buffer, same order).
    const expected = [
      'host puts first',
      ...CALLS.map(([, expr, , want], i) => (i === 0 ? `3.14| -2.2|1.234500e+03${expr} = ${want}` : `${expr} = ${want}`)),
      'host fputs',
      'fprintf 0.5',
    ];
    assert.deepEqual(out.slice(0, expected.length), expected);

    // The patch's malloc is the host's heap: the host frees it and hands the same block out again.
    const kept = Number(out.find((l) => l.startsWith('kept = ')).slice(7));
    assert.equal(Module.UTF8ToString(kept), 'from the patch heap');
    Module._free(kept);
    const again = Array.from({ length: 16 }, () => Module._malloc(32));
    assert.ok(reuses(again, 32, kept), `the host's malloc hands out the memory the patch allocated again (${kept} in none of ${again})`);

    // The rand seed is the host's: the patch seeded it, the host's rand() goes on from there.
    const first = Number(out.find((l) => l.startsWith('rand = ')).slice(7));
    Module._srand(12345);
    assert.equal(Module._rand(), first);
  });

  test('a block the host allocated is freed by a patch and reused by the host', async () => {
    const { hot, Module } = page;
    const block = Module._malloc(48);
    const result = await hot.eval(`#include <stdlib.h>\nvoid hotwasm_main(void) { free((void *)${block}ul); }\n`, 'c');
    assert.ok(result.ok, `eval failed: ${result.error}`);
    const again = Array.from({ length: 16 }, () => Module._malloc(48));
    assert.ok(reuses(again, 48, block), `the host's malloc hands out the memory the patch freed again (${block} in none of ${again})`);
  });

  test('a later eval includes <hotwasm_vars.h> and calls a var an earlier eval defined, without retyping it', async () => {
    const { hot } = page;
    let result = await hot.eval('int libc_helper(int v) { return v * 3; }\n', 'c');
    assert.ok(result.ok, `eval failed: ${result.error}`);
    result = await hot.eval('#include <stdio.h>\n#include <hotwasm_vars.h>\nvoid hotwasm_main(void) { printf("helper %d\\n", libc_helper(14)); }\n', 'c');
    assert.ok(result.ok, `eval failed at ${result.stage}: ${result.error}\n${result.raw_output ?? ''}`);
    assert.equal(result.pages[0].output.trim(), 'helper 42');
    // The server's vars, exact: what the header declared, with its version and journal entry.
    const helper = (await hot.serverVars()).find((v) => v.name === 'libc_helper');
    assert.deepEqual(
      { signature: helper.signature, version: helper.version, prototype: helper.prototype },
      { signature: 'ii', version: 1, prototype: 'int libc_helper(int v);' },
    );
    assert.ok(helper.defined_by_seq > 0);
  });

  test('an expression eval calls C library functions the patch links itself and prints the value', async () => {
    const { hot } = page;
    const result = await hot.eval('#include <math.h>\n#include <ctype.h>\nhypot(3.0, 4.0) + cbrt(27.0) + toupper(\'a\')', 'c');
    assert.ok(result.ok, `eval failed at ${result.stage}: ${result.error}\n${result.raw_output ?? ''}`);
    assert.deepEqual(result.pages[0].value, { type: 'double', text: '73.0' });
  });

  test('a C library function a patch cannot use is refused before sending, naming it and the fix', async () => {
    const { hot } = page;
    // (atexit is no longer one: every HOT_RELOAD host exports Emscripten's no-op atexit, for C++
    // globals with destructors; docs/ADOPTING.md.)
    for (const [call, name] of [['setenv("A", "b", 1)', 'setenv']]) {
      const result = await hot.eval(`#include <stdlib.h>\nvoid hotwasm_main(void) { ${call}; }\n`, 'c');
      assert.equal(result.ok, false, `${name} was accepted`);
      assert.equal(result.stage, 'check');
      assert.match(result.error, new RegExp(`\`${name}\``));
      assert.match(result.error, /state/);
      assert.match(result.error, /\[build\] exports/);
      assert.equal(result.seq, null, 'nothing was sent to the pages');
    }
  });
});
