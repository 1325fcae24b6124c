// Every example app end to end, as a user would run it: build it with
// `HOT_RELOAD=1 scripts/emscripten-bundle.sh <app>`, start `scripts/hotwasm serve --project <app>`,
// run the real bundle under Node as the page (attached with the public client API, over a real
// WebSocket), play some frames, eval a change through the server, and check that the change is
// live and the app's state carried on.
//
//   node --experimental-websocket --test tests/examples/
//   HOTWASM_EXAMPLES=c-host,rust-host node --experimental-websocket --test tests/examples/

import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TRAPPED } from '../../web/hotwasm-client.js';
import { ROOT, attachPage, nextPatch, serveApp } from '../lib/node-page.mjs';

/**
 * What each example is checked with: its frame export, a probe export whose value an edit
 * changes, the state counters that must carry on, and the edit itself.
 */
const EXAMPLES = [
  {
    dir: 'examples/c-host',
    bundle: 'build/hot/bounce.js',
    frame: ['bounce_frame', 1 / 60],
    counters: ['bounce_frames', 'bounce_score', 'bounce_balls'],
    probe: 'bounce_first_color',
    lang: 'c',
    edit: '#include "bounce.h"\nuint32_t ball_color(const Ball *ball) { (void)ball; return 0xff123456u; }\n',
    expect: 0xff123456,
  },
  {
    dir: 'examples/rust-host',
    bundle: 'build/hot/garden.js',
    frame: ['garden_frame'],
    counters: ['garden_day', 'garden_tallest'],
    probe: 'garden_first_color',
    lang: 'rust',
    edit: '#[no_mangle]\npub extern "C" fn leaf_color(height: f32) -> u32 { let _ = height; 0xff654321 }\n',
    expect: 0xff654321,
  },
  {
    dir: 'examples/cpp-host',
    bundle: 'build/hot/orbits.js',
    frame: ['orbits_frame', 1 / 60],
    counters: ['orbits_frames', 'orbits_laps', 'orbits_planets'],
    probe: 'orbits_first_color',
    lang: 'cpp',
    // A C++ patch with the standard library (the host links its own; the patch brings what it uses).
    edit:
      '#include <string>\n#include <vector>\n#include <algorithm>\n#include "orbits.h"\n' +
      'extern "C" uint32_t planet_color(const Planet *planet) {\n' +
      '  std::vector<uint32_t> v{0xff000003u, 0xff000001u, 0xff000002u};\n  std::sort(v.begin(), v.end());\n' +
      '  std::string s = std::to_string(v.back() & 0xff);\n  (void)planet;\n  return 0xff777700u + (uint32_t)std::stoi(s);\n}\n',
    expect: 0xff777703,
  },
  {
    dir: 'examples/large-host',
    // 1,000 hot functions; the bulk code is smaller than the scale bench's ~5 MB (benches/scale.mjs)
    // to keep the test command quick (HOTWASM_LARGE_BULK=4000 tests the full size). It is built in
    // a copy of the app, so the bench's full-size build in examples/large-host stays as it is.
    copy: true,
    prepare: (dir) => run('node', [join(dir, 'generate.mjs'), '--bulk', process.env.HOTWASM_LARGE_BULK ?? '400']),
    bundle: 'build/hot/large.js',
    frame: ['large_frame'],
    counters: ['large_frames', 'large_checksum'],
    probe: ['large_probe', 5],
    lang: 'c',
    edit: '#include <stdint.h>\nint32_t hot_0000(int32_t x) { return x + 1000000; }\n',
    expect: 1000005,
  },
];

const only = process.env.HOTWASM_EXAMPLES?.split(',');
const chosen = EXAMPLES.filter((e) => !only || only.some((o) => e.dir.endsWith(o)));

function run(cmd, args, env = process.env) {
  const r = spawnSync(cmd, args, { cwd: ROOT, env, stdio: ['ignore', 'inherit', 'inherit'], timeout: 20 * 60_000 });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (${r.status ?? r.signal})`);
}

/** A copy of the app at `dir` (without its builds and generated sources) in a temp dir. */
function copyOf(dir) {
  const copy = join(mkdtempSync(join(tmpdir(), 'hotwasm-example-')), dir.split('/').pop());
  cpSync(join(ROOT, dir), copy, { recursive: true, filter: (src) => !/\/(build|gen|\.hotwasm)$/.test(src) });
  return copy;
}

function call(hot, [name, ...args]) {
  const r = hot.call(name, ...args);
  assert.notEqual(r, TRAPPED, `${name} trapped`);
  return r;
}

for (const ex of chosen) {
  describe(`${ex.dir} end to end`, { timeout: 25 * 60_000 }, () => {
    let server;
    after(() => server?.stop());

    test('builds with HOT_RELOAD=1, serves, and a live edit changes behaviour while the state carries on', async () => {
      const dir = ex.copy ? copyOf(ex.dir) : join(ROOT, ex.dir);
      ex.prepare?.(dir);
      run('bash', [join(ROOT, 'scripts/emscripten-bundle.sh'), dir], { ...process.env, HOT_RELOAD: '1' });
      const bundle = join(dir, ex.bundle);
      assert.ok(existsSync(bundle), `the build wrote no ${bundle}`);

      server = await serveApp(dir);
      const { hot } = await attachPage(bundle, server.url);
      assert.equal(hot.state, 'open');
      try {
        for (let i = 0; i < 120; i++) call(hot, ex.frame);
        const probe = Array.isArray(ex.probe) ? ex.probe : [ex.probe];
        const before = Object.fromEntries(ex.counters.map((c) => [c, call(hot, [c])]));
        assert.notEqual(call(hot, probe) >>> 0, ex.expect >>> 0, 'the edit must change the probe');

        const applied = nextPatch(hot);
        const result = await hot.eval(ex.edit, ex.lang);
        assert.ok(result.ok, `eval failed: ${result.error}\n${result.raw_output ?? ''}`);
        const patch = await applied;
        assert.ok(patch.ok, `the page did not apply the patch: ${patch.error}`);

        assert.equal(call(hot, probe) >>> 0, ex.expect >>> 0, 'the edited function runs');
        for (const [c, v] of Object.entries(before)) {
          assert.equal(call(hot, [c]), v, `${c} kept its value across the patch`);
        }
        for (let i = 0; i < 10; i++) call(hot, ex.frame);
        const frames = ex.counters[0];
        assert.equal(call(hot, [frames]), before[frames] + 10, `${frames} carried on from where it was`);
      } finally {
        hot.close();
      }
    });
  });
}
