// Two real third-party programs set up as hotwasm apps, for all-hot mode's cost and behaviour on
// code of realistic size (docs/ALL-HOT.md, "Figures"): Lua 5.4 (a C interpreter; its sources from
// the `lua-src` crate) and Box2D 2.3 (a C++ physics engine; its sources from the `wrapped2d`
// crate). Sources come through cargo as configured (a throwaway manifest under build/, `cargo
// fetch`, then `cargo metadata` for where cargo unpacked them), are copied into a scratch app under
// build/allhot-real/ with a small main of ours that exports a frame, and get a hotwasm.toml as a
// user would write it. Shared by benches/allhot-real.mjs and tests/examples/allhot-real.test.mjs.
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';

export const ROOT = path.resolve(import.meta.dirname, '..');
const WORK = path.join(ROOT, 'build', 'allhot-real');
const CRATES = { lua: ['lua-src', '=551.1.0'], box2d: ['wrapped2d', '=0.4.2'] };

/**
 * The source folders of the two crates, fetched by cargo: `{ lua, box2d }` (Lua 5.4's `.c`/`.h`
 * folder, Box2D's `Box2D` folder). Throws with what failed (e.g. offline without a cargo cache).
 */
export function fetchSources() {
  const dir = path.join(WORK, 'fetch');
  mkdirSync(path.join(dir, 'src'), { recursive: true });
  const deps = Object.values(CRATES).map(([name, v]) => `${name} = "${v}"`).join('\n');
  writeFileSync(path.join(dir, 'Cargo.toml'), `[package]\nname = "allhot-real-sources"\nversion = "0.0.0"\nedition = "2021"\n\n[workspace]\n\n[dependencies]\n${deps}\n`);
  writeFileSync(path.join(dir, 'src', 'lib.rs'), '');
  const manifest = ['--manifest-path', path.join(dir, 'Cargo.toml')];
  const fetch = (...flags) => execFileSync('cargo', ['fetch', ...flags, ...manifest], { stdio: ['ignore', 'ignore', 'pipe'] });
  try {
    fetch('--offline'); // cargo's cache, when it has them: no network
  } catch {
    try {
      fetch();
    } catch (e) {
      throw new Error(`cargo fetch of ${Object.values(CRATES).map(([n, v]) => n + v).join(', ')} failed (offline with no cargo cache?):\n${e.stderr}`);
    }
  }
  const meta = JSON.parse(execFileSync('cargo', ['metadata', '--format-version', '1', '--offline', ...manifest], { encoding: 'utf8', maxBuffer: 64 << 20 }));
  const crateDir = (name) => path.dirname(meta.packages.find((p) => p.name === name).manifest_path);
  const lua = path.join(crateDir('lua-src'), readdirSync(crateDir('lua-src')).find((d) => d.startsWith('lua-5.4')));
  return { lua, box2d: path.join(crateDir('wrapped2d'), 'Box2D', 'Box2D', 'Box2D') };
}

/** Lines of the C/C++ sources and headers under `dir` that an app compiles (ours excluded). */
export function linesOf(dir) {
  let n = 0;
  for (const e of readdirSync(dir, { recursive: true })) {
    const f = path.join(dir, e);
    if (/\.(c|cpp|h)$/.test(e) && statSync(f).isFile()) n += readFileSync(f, 'utf8').split('\n').length - 1;
  }
  return n;
}

// Our main around Lua: each frame calls the script's `frame`, which does what an embedded
// interpreter's per-frame script typically does: builds small objects with methods (tables with a
// metatable), sorts them with a Lua comparator, formats and joins strings.
const LUA_MAIN = String.raw`/* The frame around Lua 5.4 for benches/allhot-real.mjs (ours, not Lua's). */
#include <stdio.h>
#include <emscripten.h>
#include "lua.h"
#include "lauxlib.h"
#include "lualib.h"

static lua_State *L;

static const char *SCRIPT =
  "local Vec = {}\n"
  "Vec.__index = Vec\n"
  "local function vec(x, y) return setmetatable({ x = x, y = y }, Vec) end\n"
  "function Vec:add(o) return vec(self.x + o.x, self.y + o.y) end\n"
  "function Vec:len2() return self.x * self.x + self.y * self.y end\n"
  "local items, n = {}, 0\n"
  "function frame(dt)\n"
  "  n = n + 1\n"
  "  local acc = vec(0, 0)\n"
  "  for i = 1, 200 do\n"
  "    local v = vec((i * 37 + n) % 101 * dt, (i % 7) - 3)\n"
  "    acc = acc:add(v)\n"
  "    items[i] = v\n"
  "  end\n"
  "  table.sort(items, function(a, b) return a:len2() < b:len2() end)\n"
  "  local parts = {}\n"
  "  for i = 1, 40 do parts[#parts + 1] = string.format('%d:%s', i, string.lower('Item')) end\n"
  "  return math.floor(acc.x + acc.y) + #table.concat(parts, ',')\n"
  "end\n";

static int run(const char *code) {
  if (luaL_loadstring(L, code) != LUA_OK || lua_pcall(L, 0, 1, 0) != LUA_OK) {
    fprintf(stderr, "lua: %s\n", lua_tostring(L, -1));
    lua_pop(L, 1);
    return -1;
  }
  int v = (int)lua_tointeger(L, -1);
  lua_pop(L, 1);
  return v;
}

int main(void) {
  L = luaL_newstate();
  luaL_openlibs(L);
  return run(SCRIPT) < -1;
}

/* One frame: the script's frame(dt); its result. */
EMSCRIPTEN_KEEPALIVE int luabench_frame(double dt) {
  lua_getglobal(L, "frame");
  lua_pushnumber(L, dt);
  if (lua_pcall(L, 1, 1, 0) != LUA_OK) {
    fprintf(stderr, "lua: %s\n", lua_tostring(L, -1));
    lua_pop(L, 1);
    return -1;
  }
  int v = (int)lua_tointeger(L, -1);
  lua_pop(L, 1);
  return v;
}

/* string.lower('AbC'):byte(1): 97 with Lua's own str_lower. */
EMSCRIPTEN_KEEPALIVE int luabench_lower_probe(void) { return run("return string.lower('AbC'):byte(1)"); }
`;

// Our main around Box2D: a pyramid of boxes on the ground (Box2D's own Testbed "Pyramid"), sleeping
// off so every frame solves all contacts (a constant load); a frame is one world step.
const BOX2D_MAIN = String.raw`// The frame around Box2D 2.3 for benches/allhot-real.mjs (ours, not Box2D's).
#include <emscripten.h>
#include "Box2D/Box2D.h"

static b2World *world;
static b2Body *top;

static void build(int rows) {
  world = new b2World(b2Vec2(0.0f, -10.0f));
  world->SetAllowSleeping(false);
  b2BodyDef gd;
  b2Body *ground = world->CreateBody(&gd);
  b2EdgeShape edge;
  edge.Set(b2Vec2(-40.0f, 0.0f), b2Vec2(40.0f, 0.0f));
  ground->CreateFixture(&edge, 0.0f);
  b2PolygonShape box;
  box.SetAsBox(0.5f, 0.5f);
  b2Vec2 x(-7.0f, 0.75f);
  for (int i = 0; i < rows; ++i) {
    b2Vec2 y = x;
    for (int j = i; j < rows; ++j) {
      b2BodyDef bd;
      bd.type = b2_dynamicBody;
      bd.position = y;
      top = world->CreateBody(&bd);
      top->CreateFixture(&box, 5.0f);
      y += b2Vec2(1.125f, 0.0f);
    }
    x += b2Vec2(0.5625f, 1.0f);
  }
}

int main() {
  build(12);
  return 0;
}

// One frame: one step of the world; the top box's height in mm.
extern "C" EMSCRIPTEN_KEEPALIVE int box2d_frame(double dt) {
  world->Step(1.0f / 60.0f, 8, 3);
  return (int)(top->GetPosition().y * 1000.0f);
}
`;

const TOML = {
  lua: (mode) => `# Lua 5.4 (the lua-src crate's copy) with our frame, set up by benches/real-apps.mjs.
[app]
name = "luabench"
lang = "c"
export_name = "createLuabench"

[build]
sources = ["src/*.c"]
cflags = ["-O2", "-Isrc"]
exports = ["main", "luabench_frame", "luabench_lower_probe"]

[patches]
include_dirs = ["src"]
${mode}`,
  box2d: (mode) => `# Box2D 2.3 (the wrapped2d crate's copy) with our frame, set up by benches/real-apps.mjs.
[app]
name = "box2dbench"
lang = "cpp"
export_name = "createBox2dbench"

[build]
sources = ["src/**/*.cpp"]
cflags = ["-O2", "-Isrc", "-std=c++11", "-Wno-deprecated"]
exports = ["main", "box2d_frame"]

[patches]
include_dirs = ["src"]
${mode}`,
};

/** The app name (the bundle's basename) and frame export of each app. */
export const APPS = {
  lua: { name: 'luabench', frame: 'luabench_frame', lang: 'c' },
  box2d: { name: 'box2dbench', frame: 'box2d_frame', lang: 'cpp' },
};

/**
 * Writes the app `app` ('lua' | 'box2d') from the fetched `sources` into build/allhot-real/<app>/
 * <variant>/ (kept between runs so unchanged objects are not recompiled) and returns its folder.
 * `allHot` adds `[hot] mode = "all"`; `cflags` / `ldflags` are appended to the app's own.
 */
export function setUpApp(app, sources, variant, { allHot = false, cflags = [], ldflags = [] } = {}) {
  const dir = path.join(WORK, app, variant);
  const src = path.join(dir, 'src');
  if (!existsSync(src)) {
    mkdirSync(src, { recursive: true });
    if (app === 'lua') cpSync(sources.lua, src, { recursive: true, filter: (f) => !/\/(lua|luac)\.c$/.test(f) });
    else cpSync(sources.box2d, path.join(src, 'Box2D'), { recursive: true, filter: (f) => !/\.(cmake|in|txt)$/.test(f) });
  }
  const main = path.join(src, app === 'lua' ? 'luabench.c' : 'box2d_bench.cpp');
  const text = app === 'lua' ? LUA_MAIN : BOX2D_MAIN;
  if (!existsSync(main) || readFileSync(main, 'utf8') !== text) writeFileSync(main, text);
  let toml = TOML[app](allHot ? '\n[hot]\nmode = "all"\n' : '');
  const list = (xs) => xs.map((f) => JSON.stringify(f)).join(', ');
  if (cflags.length) toml = toml.replace(/^cflags = \[(.*)\]$/m, (_, fs) => `cflags = [${fs}, ${list(cflags)}]`);
  if (ldflags.length) toml = toml.replace(/^exports = /m, `ldflags = [${list(ldflags)}]\nexports = `);
  const file = path.join(dir, 'hotwasm.toml');
  if (!existsSync(file) || readFileSync(file, 'utf8') !== toml) writeFileSync(file, toml);
  return dir;
}

/** Removes build/allhot-real/<app>/ (a fresh set-up next time). */
export function forgetApp(app) {
  rmSync(path.join(WORK, app), { recursive: true, force: true });
}
