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

/**
 * [header, C expression, printf format, expected text]: one printed line each,
 * `<expression> = <text>`. Floats with a fixed number of digits so the text is exact.
 */
const CALLS = [
  // stdio: the printf family with floats (printf becomes __small_printf), snprintf, sprintf.
  ['stdio.h', 'printf("%.2f|%5.1f|%e", 3.14159, -2.25, 1234.5)', '%d', '23'],
  ['stdio.h', '(snprintf(buf, sizeof buf, "%.3f|%g|%x", 2.0 / 3.0, 1e-5, 255), buf)', '%s', '0.667|1e-05|ff'],
  ['stdio.h', '(sprintf(buf, "%08.3f", 3.5), buf)', '%s', '0003.500'],
  ['stdio.h', '(sscanf("12 3.5", "%d %lf", &ia, &da), ia + da)', '%.1f', '15.5'],
  // string.h
  ['string.h', 'strlen("hotwasm")', '%zu', '7'],
  ['string.h', '(strcpy(buf, "ab"), strcat(buf, "cd"), strncat(buf, "efgh", 2), buf)', '%s', 'abcdef'],
  ['string.h', '(ps = "hello", strchr(ps, \'l\') - ps)', '%td', '2'],
  ['string.h', 'strrchr("hello", \'l\')', '%s', 'lo'],
  ['string.h', 'strstr("needle in haystack", "hay")', '%s', 'haystack'],
  ['string.h', 'strspn("aabbc", "ab") + 10 * strcspn("xyz:1", ":")', '%zu', '34'],
  ['string.h', 'strpbrk("key=value", "=:")', '%s', '=value'],
  ['string.h', 'strncmp("abcx", "abcy", 3) == 0 && strcmp("a", "b") < 0 && memcmp("ab", "ac", 2) < 0', '%d', '1'],
  ['string.h', '(memset(buf, \'z\', 3), buf[3] = 0, memmove(buf + 1, buf, 2), buf)', '%s', 'zzz'],
  ['string.h', '(char *)memchr("abcdef", \'d\', 6)', '%s', 'def'],
  ['string.h', '(strncpy(buf, "xyzw", 2), buf[2] = 0, buf)', '%s', 'xy'],
  ['string.h', 'strnlen("abcdef", 4)', '%zu', '4'],
  ['string.h', '(ps = strdup("dup"), strcpy(buf, ps), free(ps), buf)', '%s', 'dup'],
  ['string.h', '(ps = strndup("abcdef", 3), strcpy(buf, ps), free(ps), buf)', '%s', 'abc'],
  ['string.h', '(strcpy(buf, "a,b;c"), strtok(buf, ",;"), strtok(NULL, ",;"))', '%s', 'b'],
  ['string.h', 'strlen(strerror(ERANGE)) > 0', '%d', '1'],
  // math.h, double
  ...[
    ['sqrt(2.0)', '1.4142'], ['cbrt(27.0)', '3.0000'], ['hypot(3.0, 4.0)', '5.0000'],
    ['sin(1.0)', '0.8415'], ['cos(1.0)', '0.5403'], ['tan(1.0)', '1.5574'], ['asin(0.5)', '0.5236'],
    ['acos(0.5)', '1.0472'], ['atan(1.0)', '0.7854'], ['atan2(1.0, 2.0)', '0.4636'],
    ['sinh(1.0)', '1.1752'], ['cosh(1.0)', '1.5431'], ['tanh(1.0)', '0.7616'], ['exp(1.0)', '2.7183'],
    ['exp2(10.0)', '1024.0000'], ['expm1(1e-3)', '0.0010'], ['log(10.0)', '2.3026'],
    ['log10(1000.0)', '3.0000'], ['log2(8.0)', '3.0000'], ['log1p(1.0)', '0.6931'],
    ['pow(2.0, 0.5)', '1.4142'], ['floor(-1.5)', '-2.0000'], ['ceil(-1.5)', '-1.0000'],
    ['round(2.5)', '3.0000'], ['trunc(-2.7)', '-2.0000'], ['fmod(7.5, 2.0)', '1.5000'],
    ['remainder(7.5, 2.0)', '-0.5000'], ['fabs(-3.25)', '3.2500'], ['fmin(1.0, 2.0)', '1.0000'],
    ['fmax(1.0, 2.0)', '2.0000'], ['copysign(3.0, -1.0)', '-3.0000'], ['ldexp(0.75, 4)', '12.0000'],
    ['frexp(12.0, &ia) + ia', '4.7500'], ['modf(3.75, &da) + da', '3.7500'],
    ['(double)lround(2.5)', '3.0000'], ['(double)lrint(2.5)', '2.0000'], ['nearbyint(3.5)', '4.0000'],
    ['rint(-3.5)', '-4.0000'], ['erf(0.5)', '0.5205'], ['erfc(0.5)', '0.4795'], ['tgamma(5.0)', '24.0000'],
    ['lgamma(5.0)', '3.1781'], ['fma(2.0, 3.0, 1.0)', '7.0000'], ['fdim(5.0, 3.0)', '2.0000'],
  ].map(([e, want]) => ['math.h', e, '%.4f', want]),
  // math.h, float (promoted to double by printf)
  ...[
    ['sqrtf(2.0f)', '1.4142'], ['cbrtf(8.0f)', '2.0000'], ['hypotf(3.0f, 4.0f)', '5.0000'],
    ['sinf(1.0f)', '0.8415'], ['cosf(1.0f)', '0.5403'], ['tanf(1.0f)', '1.5574'], ['asinf(0.5f)', '0.5236'],
    ['acosf(0.5f)', '1.0472'], ['atanf(1.0f)', '0.7854'], ['atan2f(1.0f, 2.0f)', '0.4636'],
    ['sinhf(1.0f)', '1.1752'], ['coshf(1.0f)', '1.5431'], ['tanhf(1.0f)', '0.7616'], ['expf(1.0f)', '2.7183'],
    ['exp2f(3.0f)', '8.0000'], ['logf(10.0f)', '2.3026'], ['log10f(100.0f)', '2.0000'], ['log2f(8.0f)', '3.0000'],
    ['log1pf(1.0f)', '0.6931'], ['powf(2.0f, 3.0f)', '8.0000'], ['floorf(-1.5f)', '-2.0000'],
    ['ceilf(-1.5f)', '-1.0000'], ['roundf(2.5f)', '3.0000'], ['truncf(-2.7f)', '-2.0000'],
    ['fmodf(7.5f, 2.0f)', '1.5000'], ['fabsf(-3.25f)', '3.2500'], ['fminf(1.0f, 2.0f)', '1.0000'],
    ['fmaxf(1.0f, 2.0f)', '2.0000'], ['copysignf(3.0f, -1.0f)', '-3.0000'], ['ldexpf(0.75f, 4)', '12.0000'],
    ['erff(0.5f)', '0.5205'], ['tgammaf(5.0f)', '24.0000'], ['lgammaf(5.0f)', '3.1781'], ['fmaf(2.0f, 3.0f, 1.0f)', '7.0000'],
  ].map(([e, want]) => ['math.h', e, '%.4f', want]),
  // stdlib.h
  ['stdlib.h', '(qsort(arr, 5, sizeof arr[0], cmp_int), arr[0] * 10000 + arr[1] * 1000 + arr[2] * 100 + arr[3] * 10 + arr[4])', '%d', '12345'],
  ['stdlib.h', '*(int *)bsearch(&ia_key, arr, 5, sizeof arr[0], cmp_int)', '%d', '4'],
  ['stdlib.h', 'strtod("2.5e3", NULL)', '%.1f', '2500.0'],
  ['stdlib.h', '(strtod("1e999", NULL), errno == ERANGE)', '%d', '1'],
  ['stdlib.h', 'strtol("ff", NULL, 16) + strtoul("10", NULL, 8) + strtoll("-5", NULL, 10)', '%lld', '258'],
  ['stdlib.h', 'atoi("42") + atol("100") + atoll("1000")', '%lld', '1142'],
  ['stdlib.h', 'atof("0.25")', '%.2f', '0.25'],
  ['stdlib.h', 'abs(-3) + labs(-40L) + llabs(-500LL)', '%lld', '543'],
  ['stdlib.h', 'div(17, 5).quot * 10 + ldiv(17L, 5L).rem', '%ld', '32'],
  ['stdlib.h', '(srand(7), ia = rand(), srand(7), ia == rand())', '%d', '1'],
  ['stdlib.h', '(ps = calloc(4, 4), ps = realloc(ps, 64), ia = ps[3], free(ps), ia)', '%d', '0'],
  // time.h
  ['time.h', 'time(NULL) > 1600000000', '%d', '1'],
  ['time.h', 'clock() >= 0', '%d', '1'],
  ['time.h', 'difftime((time_t)10, (time_t)4)', '%.1f', '6.0'],
  ['time.h', 'gmtime(&epoch_day)->tm_year * 1000 + gmtime(&epoch_day)->tm_yday', '%d', '70001'],
  ['time.h', '(strftime(buf, sizeof buf, "%Y-%m-%d %H:%M", gmtime(&epoch_day)), buf)', '%s', '1970-01-02 00:00'],
  ['time.h', 'mktime(localtime(&epoch_day)) == epoch_day', '%d', '1'],
  // ctype.h
  ['ctype.h', 'toupper(\'q\') * 1000 + tolower(\'Q\')', '%d', '81113'],
  ['ctype.h', '!!isalpha(\'a\') + !!isdigit(\'7\') + !!isalnum(\'z\') + !!isspace(\' \') + !!isupper(\'A\') + !!islower(\'a\') + !!ispunct(\'!\') + !!isxdigit(\'f\') + !!isprint(\'x\') + !!iscntrl(\'\\n\') + !!isgraph(\'#\')', '%d', '11'],
];

/** The patch: every call of CALLS printed on its own line, between lines the host's own stdio prints. */
function patchSource() {
  const headers = [...new Set(['stdio.h', 'stdlib.h', 'string.h', 'errno.h', ...CALLS.map(([h]) => h)])];
  const lines = CALLS.map(([, expr, fmt]) => `  printf("%s = ${fmt}\\n", ${JSON.stringify(expr)}, ${expr});`);
  return [
    ...headers.map((h) => `#include <${h}>`),
    'static int cmp_int(const void *a, const void *b) { return *(const int *)a - *(const int *)b; }',
    'void hotwasm_main(void) {',
    '  char buf[128]; char *ps; int ia; double da; int arr[5] = {4, 2, 5, 1, 3}; int ia_key = 4;',
    '  time_t epoch_day = 86400; (void)ps; (void)ia; (void)da; (void)ia_key; (void)epoch_day;',
    '  puts("host puts first");',
    ...lines,
    '  fputs("host fputs", stdout); putchar(\'\\n\'); fprintf(stdout, "fprintf %.1f\\n", 0.5);',
    '  char *kept = malloc(32); strcpy(kept, "from the patch heap");',
    '  printf("kept = %lu\\n", (unsigned long)kept);',
    '  srand(12345); printf("rand = %d\\n", rand());',
    '}',
    '',
  ].join('\n');
}

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

  test('a C library function a patch cannot use is refused before sending, naming it and the fix', async () => {
    const { hot } = page;
    for (const [call, name] of [['setenv("A", "b", 1)', 'setenv'], ['atexit(0)', 'atexit']]) {
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
