// C++ live editing end to end, as a user would do it: build the app with
// `HOT_RELOAD=1 scripts/emscripten-bundle.sh`, start `scripts/hotwasm serve`, run the real bundle
// under Node as the page (attached with the public client API over a real WebSocket), and eval
// C++ through the server. In examples/cpp-host (orbits, a C++ app):
// - a patch using the standard library changes what the app draws while its state carries on;
// - an exception escaping a hot function is a trap: hot.call returns TRAPPED, the var is rolled
//   back and the app keeps running;
// - a compile error names the user's line; a C++-linkage definition of a var is refused with the fix.
// In examples/particles (the Rust demo, which links no C++): the same std-heavy patch works (the
// patch brings the C++ library), C++ globals with constructors and destructors work (the host
// exports `__cxa_atexit`), and an escaping exception (Rust aborts at the demo's extern "C"
// export) is a trap too.
//
//   node --experimental-websocket --test tests/cpp/

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { attach, TRAPPED } from '../../web/hotwasm-client.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const APP = join(ROOT, 'examples/cpp-host');
const require = createRequire(import.meta.url);

const FRAME = ['orbits_frame', 1 / 60];
const COUNTERS = ['orbits_frames', 'orbits_laps', 'orbits_planets'];
const PROBE = 'orbits_first_color';

// planet_color with the standard library: a sorted palette, a histogram keyed by strings, a lambda.
const STD_EDIT = `#include <algorithm>
#include <string>
#include <unordered_map>
#include <vector>
#include "orbits.h"

extern "C" uint32_t planet_color(const Planet *planet) {
  std::vector<uint32_t> palette{0xff000003u, 0xff000001u, 0xff000002u};
  std::sort(palette.begin(), palette.end(), [](uint32_t a, uint32_t b) { return a < b; });
  std::unordered_map<std::string, int> seen;
  seen[std::to_string(planet->laps)] += 1;
  return palette[seen.size() - 1] | 0x00123400u;
}
`;
const STD_EDIT_COLOR = 0xff123401;

const THROWING_EDIT = `#include <stdexcept>
#include "orbits.h"

extern "C" uint32_t planet_color(const Planet *planet) {
  if (planet->laps >= 0) throw std::runtime_error("no colour for this planet");
  return 0;
}
`;

function run(cmd, args, env = process.env) {
  const r = spawnSync(cmd, args, { cwd: ROOT, env, stdio: ['ignore', 'inherit', 'inherit'], timeout: 20 * 60_000 });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (${r.status ?? r.signal})`);
}

/** Starts `scripts/hotwasm serve` for `app` and resolves once it prints its URL. */
function serve(app, journal) {
  const child = spawn('bash', [join(ROOT, 'scripts/hotwasm'), 'serve', '--project', app, '--port', '0', '--no-watch', '--journal', journal], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let said = '';
  return new Promise((resolve, reject) => {
    child.stdout.on('data', (chunk) => {
      said += chunk;
      const m = said.match(/open http:\/\/([^/\s]+)\/\?token=([0-9a-f]+)/);
      if (m) resolve({ child, url: `ws://${m[1]}/repl?token=${m[2]}` });
    });
    child.stderr.on('data', (c) => process.stderr.write(c));
    child.on('exit', (code) => reject(new Error(`hotwasm serve exited (${code}) before printing its URL:\n${said}`)));
  });
}

describe('a C++ app live-edited in C++', { timeout: 25 * 60_000 }, () => {
  const journal = mkdtempSync(join(tmpdir(), 'hotwasm-cpp-journal-'));
  let server;
  let hot;

  const call = ([name, ...args]) => {
    const r = hot.call(name, ...args);
    assert.notEqual(r, TRAPPED, `${name} trapped`);
    return r;
  };
  const counters = () => Object.fromEntries(COUNTERS.map((c) => [c, call([c])]));
  /** Evals `source` as C++ and waits for this page to apply the patch. */
  const evalApplied = async (source) => {
    const applied = new Promise((resolve) => {
      const off = hot.on('patch', (p) => (off(), resolve(p)));
    });
    const result = await hot.eval(source, 'cpp');
    assert.ok(result.ok, `eval failed: ${result.error}\n${result.raw_output ?? ''}`);
    const patch = await applied;
    assert.ok(patch.ok, `the page did not apply the patch: ${patch.error}`);
    return result;
  };

  before(async () => {
    run('bash', [join(ROOT, 'scripts/emscripten-bundle.sh'), APP], { ...process.env, HOT_RELOAD: '1' });
    const bundle = join(APP, 'build/hot/orbits.js');
    assert.ok(existsSync(bundle), `the build wrote no ${bundle}`);
    server = await serve(APP, journal);
    const Module = await require(bundle)({ print: () => {}, printErr: () => {} });
    hot = await attach(Module, { url: server.url, WebSocket: globalThis.WebSocket });
    for (let i = 0; i < 400; i++) call(FRAME);
  });

  after(() => {
    hot?.close();
    server?.child.kill();
    rmSync(journal, { recursive: true, force: true });
  });

  test('a patch using std containers, algorithms and strings changes the app; its state carries on', async () => {
    const before = counters();
    assert.notEqual(call([PROBE]) >>> 0, STD_EDIT_COLOR >>> 0);
    const result = await evalApplied(STD_EDIT);
    console.log(`std-heavy C++ eval: compile ${result.timings?.compile_ms ?? '?'} ms, total ${JSON.stringify(result.timings)}`);
    assert.equal(call([PROBE]) >>> 0, STD_EDIT_COLOR >>> 0, 'the edited planet_color runs');
    assert.deepEqual(counters(), before, 'the app state is the same right after the patch');
    for (let i = 0; i < 10; i++) call(FRAME);
    assert.equal(call(['orbits_frames']), before.orbits_frames + 10, 'frames carry on from where they were');
  });

  test('an exception escaping a hot function is a trap: the var rolls back and the app keeps running', async () => {
    const colorBefore = call([PROBE]) >>> 0;
    const framesBefore = call(['orbits_frames']);
    await evalApplied(THROWING_EDIT);
    const trapped = new Promise((resolve) => {
      const off = hot.on('trap', (t) => (off(), resolve(t)));
    });
    assert.equal(hot.call(...FRAME), TRAPPED, 'the frame that met the exception is reported as trapped');
    const trap = await trapped;
    assert.deepEqual(trap.vars.map((v) => [v.var, v.rolledBack]), [['planet_color', true]]);
    assert.equal(call([PROBE]) >>> 0, colorBefore, 'planet_color is the version before the throwing one');
    for (let i = 0; i < 5; i++) call(FRAME);
    assert.ok(call(['orbits_frames']) >= framesBefore + 5, 'the app keeps animating');
  });

  test('a C++ compile error names the line of the user\'s source', async () => {
    const result = await hot.eval('#include "orbits.h"\nextern "C" uint32_t space_color(int32_t laps) {\n  return laps + not_declared;\n}\n', 'cpp');
    assert.equal(result.ok, false);
    const error = result.diagnostics.find((d) => d.severity === 'error');
    assert.ok(error, `no error diagnostic in ${JSON.stringify(result)}`);
    assert.equal(error.line, 3);
    assert.match(error.message, /not_declared/);
  });

  test('a var defined with C++ linkage is refused with the fix instead of defining a new function', async () => {
    // Earlier evals included orbits.h, whose `extern "C"` declaration an eval sees (the vars
    // context), so a definition with its exact parameters would take its C linkage; one with
    // other parameters is a C++ overload of the var's name.
    const result = await hot.eval('#include <cstdint>\nstruct Planet;\nuint32_t planet_color(const Planet *planet, int32_t shade) { return shade; }\n', 'cpp');
    assert.equal(result.ok, false);
    assert.match(result.error ?? '', /planet_color\(Planet const\*, int\)` has C\+\+ linkage/);
    assert.match(result.error ?? '', /extern "C"/);
  });
});

describe('the Rust demo host (links no C++) live-edited in C++', { timeout: 25 * 60_000 }, () => {
  const DEMO = join(ROOT, 'examples/particles');
  const journal = mkdtempSync(join(tmpdir(), 'hotwasm-cpp-demo-journal-'));
  let server;
  let hot;
  let Module;

  const call = ([name, ...args]) => {
    const r = hot.call(name, ...args);
    assert.notEqual(r, TRAPPED, `${name} trapped`);
    return r;
  };
  /** The colour most pixels of the framebuffer have: the background. */
  const background = () => {
    const n = call(['demo_width']) * call(['demo_height']);
    const at = call(['demo_framebuffer']) >> 2;
    const counts = new Map();
    for (const px of Module.HEAPU32.subarray(at, at + n)) counts.set(px, (counts.get(px) ?? 0) + 1);
    return [...counts].sort((a, b) => b[1] - a[1])[0][0] >>> 0;
  };
  const evalApplied = async (source, options) => {
    const applied = new Promise((resolve) => {
      const off = hot.on('patch', (p) => (off(), resolve(p)));
    });
    const result = await hot.eval(source, 'cpp', options);
    assert.ok(result.ok, `eval failed: ${result.error}\n${result.raw_output ?? ''}`);
    const patch = await applied;
    assert.ok(patch.ok, `the page did not apply the patch: ${patch.error}`);
  };

  before(async () => {
    run('bash', [join(ROOT, 'scripts/emscripten-bundle.sh'), DEMO], { ...process.env, HOT_RELOAD: '1' });
    const bundle = join(DEMO, 'build/hot/particles.js');
    assert.ok(existsSync(bundle), `the build wrote no ${bundle}`);
    server = await serve(DEMO, journal);
    Module = await require(bundle)({ print: () => {}, printErr: () => {} });
    hot = await attach(Module, { url: server.url, WebSocket: globalThis.WebSocket });
    for (let i = 0; i < 60; i++) call(['demo_frame', 1 / 60]);
  });

  after(() => {
    hot?.close();
    server?.child.kill();
    rmSync(journal, { recursive: true, force: true });
  });

  test('a std-heavy C++ patch redefines a Rust hot function; the particles carry on', async () => {
    const frames = Number(call(['demo_frame_count']));
    const bounces = call(['demo_bounces']);
    await evalApplied(`#include <algorithm>
#include <string>
#include <unordered_map>
#include <vector>
#include "particles.h"

extern "C" uint32_t background_color(const World *world) {
  std::vector<uint32_t> shades{0xff000003u, 0xff000001u, 0xff000002u};
  std::sort(shades.begin(), shades.end(), [](uint32_t a, uint32_t b) { return a < b; });
  std::unordered_map<std::string, uint32_t> named;
  named[std::to_string(world->count > 0)] = shades[0];
  return named.begin()->second | 0x00123400u;
}
`);
    call(['demo_frame', 1 / 60]);
    assert.equal(background(), 0xff123401, 'the C++ background_color paints the frame');
    assert.equal(Number(call(['demo_frame_count'])), frames + 1, 'the frame count carried on');
    assert.ok(call(['demo_bounces']) >= bounces, 'the score carried on');
  });

  test('an exception escaping through the Rust host is a trap: rolled back, the demo keeps running', async () => {
    const expected = background();
    await evalApplied('#include <stdexcept>\n#include "particles.h"\nextern "C" uint32_t background_color(const World *world) {\n  throw std::runtime_error("no background");\n}\n');
    const trapped = new Promise((resolve) => {
      const off = hot.on('trap', (t) => (off(), resolve(t)));
    });
    assert.equal(hot.call('demo_frame', 1 / 60), TRAPPED);
    const trap = await trapped;
    assert.deepEqual(trap.vars.map((v) => [v.var, v.rolledBack]), [['background_color', true]]);
    const frames = Number(call(['demo_frame_count']));
    call(['demo_frame', 1 / 60]);
    assert.equal(Number(call(['demo_frame_count'])), frames + 1, 'the demo keeps simulating');
    assert.equal(background(), expected, 'the previous background_color is back');
  });

  test('C++ globals with constructors and destructors work in the Rust host and keep their state', async () => {
    // A named eval (as a saved file or an editor sends): the one-process compile, which links the
    // libc++ members the patch needs into it. The next test does it through the console.
    await evalApplied(`#include <map>
#include <string>
#include <vector>
#include "particles.h"

std::vector<int> v{1, 2, 3};
std::string s = "ab";
std::map<int, int> m{{1, 2}};

extern "C" uint32_t background_color(const World *world) {
  v.push_back(4);
  s += 'c';
  m[static_cast<int>(v.size())] = 0;
  int sum = 0;
  for (int x : v) sum += x;
  return 0xff000000u | static_cast<uint32_t>(sum * 0x100 + static_cast<int>(s.size()) * 0x10 + static_cast<int>(m.size()));
}
`, { name: 'globals.cpp' });
    call(['demo_frame', 1 / 60]);
    assert.equal(background(), (0xff000000 | (10 * 0x100 + 3 * 0x10 + 2)) >>> 0, 'the globals were constructed once, before the first call');
    call(['demo_frame', 1 / 60]);
    // Each call pushes 4 onto v, a 'c' onto s and a key into m: after k calls, sum 6 + 4k,
    // s.size() 2 + k, m.size() 1 + k.
    const color = background() & 0xffffff;
    const [sum, size, keys] = [color >> 8, (color >> 4) & 0xf, color & 0xf];
    const k = size - 2;
    assert.ok(k >= 2, `background_color ran again on the next frame (${k} calls)`);
    assert.deepEqual([sum, keys], [6 + 4 * k, 1 + k], 'the globals kept their state between frames');
  });

  test("a std::map global of one console eval is used by a later console eval that redefines a hot function (the session's own link)", async () => {
    // Console evals go through the persistent compiler session. The second one redefines
    // background_color (an earlier console eval defined it), so the session parses it twice, and
    // the libc++ helpers it is the first to use (std::map's hidden templates) must still reach
    // its patch.
    await evalApplied('#include <map>\n#include <string>\nstd::map<int, int> seen{{1, 2}};\nstd::string word = "ab";\n');
    await evalApplied(`#include "particles.h"
extern "C" uint32_t background_color(const World *world) {
  seen[static_cast<int>(seen.size()) + 1] = 0;
  word += 'c';
  return 0xff000000u | static_cast<uint32_t>(static_cast<int>(word.size()) * 0x10 + static_cast<int>(seen.size()));
}
`);
    call(['demo_frame', 1 / 60]);
    assert.equal(background(), 0xff000032, 'the map and the string kept by the session grew once');
  });
});
