// Late binding and persistent globals in a real app: the C example host (bounce, built with
// HOT_RELOAD by `hotwasm build --hot`, its registry the real hotwasm runtime), the real
// `hotwasm serve`, and this Node process as the page, attached with the public client API over a
// real WebSocket. Each eval prints what it checks from `hotwasm_main`; the page's output comes
// back in the eval result.
//   node --experimental-websocket real_app.mjs <app dir (built)> <bundle js>
// Run by server/tests/all/late_binding_in_a_real_app.rs.

import assert from 'node:assert/strict';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const { TRAPPED } = await import(join(ROOT, 'web/hotwasm-client.js'));
const { serveApp, attachPage } = await import(join(ROOT, 'tests/lib/node-page.mjs'));
const [app, bundle] = process.argv.slice(2);

const server = await serveApp(app);
const { hot } = await attachPage(bundle, server.url);

/** Evals `source` and returns what its hotwasm_main printed on this page. */
async function evalOk(source) {
  const r = await hot.eval(source, 'c');
  assert.ok(r.ok, `eval failed: ${r.error}\n${r.raw_output ?? ''}\n--- source:\n${source}`);
  return r.pages.map((p) => p.output).join('');
}

const steps = [];
async function step(what, fn) {
  await fn();
  steps.push(what);
}

try {
  for (let i = 0; i < 30; i++) assert.notEqual(hot.call('bounce_frame', 1 / 60), TRAPPED);
  const frames = hot.call('bounce_frames');

  await step('redefine a callee: an earlier caller sees it', async () => {
    assert.match(await evalOk('#include <stdio.h>\nint b(int x) { return x + 1; }\nint a(int x) { return b(x) * 2; }\nvoid hotwasm_main(void) { printf("a=%d\\n", a(1)); }\n'), /a=4\b/);
    assert.match(await evalOk('#include <stdio.h>\nint a(int);\nint b(int x) { return x + 100; }\nvoid hotwasm_main(void) { printf("a=%d\\n", a(1)); }\n'), /a=202\b/);
  });

  await step('mutual recursion across two evals', async () => {
    const first = await hot.eval('int is_odd(int);\nint is_even(int n) { return n == 0 ? 1 : is_odd(n - 1); }\n', 'c');
    assert.ok(first.ok, first.error);
    assert.ok(first.diagnostics.some((d) => d.message.includes('`is_odd` is declared but no eval defines it yet')), JSON.stringify(first.diagnostics));
    assert.match(await evalOk('#include <stdio.h>\nint is_even(int);\nint is_odd(int n) { return n == 0 ? 0 : is_even(n - 1); }\nvoid hotwasm_main(void) { printf("e=%d o=%d\\n", is_even(10), is_odd(7)); }\n'), /e=1 o=1\b/);
  });

  await step('a stored function pointer follows a redefinition', async () => {
    assert.match(await evalOk('#include <stdio.h>\nint f(void) { return 1; }\nint (*saved)(void) = f;\nvoid hotwasm_main(void) { printf("s=%d\\n", saved()); }\n'), /s=1\b/);
    assert.match(await evalOk('#include <stdio.h>\nextern int (*saved)(void);\nint f(void) { return 2; }\nvoid hotwasm_main(void) { printf("s=%d\\n", saved()); }\n'), /s=2\b/);
  });

  await step('a global bumped by three evals', async () => {
    assert.match(await evalOk('#include <stdio.h>\nint counter = 0;\nint bump(void) { return ++counter; }\nvoid hotwasm_main(void) { printf("c=%d\\n", bump()); }\n'), /c=1\b/);
    assert.match(await evalOk('#include <stdio.h>\nextern int counter;\nint bump_ten(void) { return counter += 10; }\nvoid hotwasm_main(void) { printf("c=%d\\n", bump_ten()); }\n'), /c=11\b/);
    assert.match(await evalOk('#include <stdio.h>\nint counter = 0;\nint bump(void) { return counter += 100; }\nvoid hotwasm_main(void) { printf("c=%d\\n", bump()); }\n'), /c=111\b/);
  });

  await step('an initializer change takes effect, the same text keeps the value', async () => {
    assert.match(await evalOk('#include <stdio.h>\nint counter = 0;\nint peek(void) { return counter; }\nvoid hotwasm_main(void) { printf("c=%d\\n", peek()); }\n'), /c=111\b/);
    assert.match(await evalOk('#include <stdio.h>\nint counter = 5;\nint peek(void) { return counter; }\nvoid hotwasm_main(void) { printf("c=%d\\n", peek()); }\n'), /c=5\b/);
  });

  await step('a type change is refused naming both types', async () => {
    const r = await hot.eval('long long counter = 0;\nlong long peek_ll(void) { return counter; }\n', 'c');
    assert.equal(r.ok, false);
    assert.equal(r.stage, 'check');
    assert.match(r.error, /`int \(4 bytes\)`.*`long long \(8 bytes\)`/);
  });

  await step('a redefined host var reaches the host', async () => {
    await evalOk('#include "bounce.h"\nuint32_t ball_color(const Ball *ball) { (void)ball; return 0xff00ff00u; }\n');
    assert.equal(hot.call('bounce_first_color') >>> 0, 0xff00ff00);
  });

  for (let i = 0; i < 10; i++) assert.notEqual(hot.call('bounce_frame', 1 / 60), TRAPPED);
  assert.equal(hot.call('bounce_frames'), frames + 10, 'the app kept its state and kept running');
  console.log(`ok: ${steps.join('; ')}`);
} finally {
  hot.close();
  server.stop();
}
