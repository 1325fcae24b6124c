// Where the HOT_RELOAD overhead of a host goes (issue 18, item 5): builds an example with
// `hotwasm build --hot` plus a linker map (`-Wl,-Map`) and function names (`--profiling-funcs`:
// the same code, names kept; its build/hot is left so: rebuild it for other figures), then splits the final wasm by what put each
// byte there: the app, the hotwasm runtime (libhotwasm_runtime.a, or the runtime crates of a Rust
// host), the C library and malloc, the C++ runtime, Rust's std; plus the export section and the
// data. The JS is split into Emscripten's dynamic linker (what only a MAIN_MODULE carries) and the
// rest. Prints a markdown section.
//
//   node benches/size-split.mjs [--apps c-host,cpp-host,rust-host,particles] [--json FILE]
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';

const root = path.resolve(import.meta.dirname, '..');
const { values } = parseArgs({
  options: {
    apps: { type: 'string', default: 'c-host,cpp-host,rust-host,particles' },
    json: { type: 'string' },
    help: { type: 'boolean', short: 'h' },
  },
});
if (values.help) {
  console.log('usage: node benches/size-split.mjs [--apps c-host,cpp-host,rust-host,particles] [--json FILE]');
  process.exit(0);
}

/** Reads an unsigned LEB128 at `at`: [value, next offset]. */
function leb(bytes, at) {
  let value = 0;
  let shift = 0;
  for (;;) {
    const b = bytes[at++];
    value += (b & 0x7f) * 2 ** shift;
    shift += 7;
    if (b < 0x80) return [value, at];
  }
}

/** The sections of a wasm module: [{id, name, start, end}] (start/end of the payload). */
function sections(bytes) {
  const out = [];
  let at = 8;
  while (at < bytes.length) {
    const id = bytes[at];
    const [size, body] = leb(bytes, at + 1);
    let name = ['custom', 'type', 'import', 'function', 'table', 'memory', 'global', 'export', 'start', 'element', 'code', 'data', 'datacount', 'tag'][id] ?? `id${id}`;
    if (id === 0) {
      const [len, s] = leb(bytes, body);
      name = `custom:${Buffer.from(bytes.subarray(s, s + len)).toString()}`;
    }
    out.push({ id, name, start: body, end: body + size, total: body + size - at });
    at = body + size;
  }
  return out;
}

/** Function index → body size (code section) and index → name (name section). */
function functions(bytes) {
  const secs = sections(bytes);
  let imported = 0;
  const imp = secs.find((s) => s.id === 2);
  if (imp) {
    let [n, at] = leb(bytes, imp.start);
    for (let i = 0; i < n; i++) {
      let len;
      [len, at] = leb(bytes, at);
      at += len;
      [len, at] = leb(bytes, at);
      at += len;
      const kind = bytes[at++];
      if (kind === 0) {
        [, at] = leb(bytes, at);
        imported++;
      } else if (kind === 1) {
        at++;
        const flags = bytes[at++];
        [, at] = leb(bytes, at);
        if (flags & 1) [, at] = leb(bytes, at);
      } else if (kind === 2) {
        const flags = bytes[at++];
        [, at] = leb(bytes, at);
        if (flags & 1) [, at] = leb(bytes, at);
      } else if (kind === 3) {
        at += 2;
      } else if (kind === 4) {
        at++;
        [, at] = leb(bytes, at);
      }
    }
  }
  const sizes = new Map();
  const code = secs.find((s) => s.id === 10);
  let [n, at] = leb(bytes, code.start);
  for (let i = 0; i < n; i++) {
    const [size, body] = leb(bytes, at);
    sizes.set(imported + i, body + size - at);
    at = body + size;
  }
  const names = new Map();
  const nameSec = secs.find((s) => s.name === 'custom:name');
  if (nameSec) {
    let [len, p] = leb(bytes, nameSec.start);
    p += len;
    while (p < nameSec.end) {
      const sub = bytes[p];
      const [subSize, subBody] = leb(bytes, p + 1);
      if (sub === 1) {
        let [count, q] = leb(bytes, subBody);
        for (let i = 0; i < count; i++) {
          let idx;
          [idx, q] = leb(bytes, q);
          let l;
          [l, q] = leb(bytes, q);
          names.set(idx, Buffer.from(bytes.subarray(q, q + l)).toString());
          q += l;
        }
      }
      p = subBody + subSize;
    }
  }
  return { secs, sizes, names };
}

/** Symbol name → input file (`lib.a(member.o)` or an object path) from a wasm-ld map's CODE part. */
function mapInputs(text) {
  const out = new Map();
  let inCode = false;
  let input = null;
  for (const line of text.split('\n')) {
    const cols = line.trim().split(/\s+/);
    if (cols.length === 4 && cols[0] === '-' && /^[A-Z]+$/.test(cols[3])) {
      inCode = cols[3] === 'CODE';
      continue;
    }
    if (!inCode || cols.length < 4) continue;
    const rest = cols.slice(3).join(' ');
    const m = rest.match(/^(.*):\((.*)\)$/);
    if (m) input = m[1];
    else if (input) out.set(rest, input);
  }
  return out;
}

/** What put a function into the host, from its input file (and name when the map has none). */
function component(input, name) {
  const f = input ?? '';
  if (/libhotwasm_runtime|hotwasm[_-]runtime|hotwasm_abi|hotwasm-abi/.test(f)) return 'hotwasm runtime';
  if (/lib(c|compiler_rt|dlmalloc|stubs|noexit|sockets|emmalloc)(-[a-z-]+)?\.a/.test(f)) return 'C library + malloc';
  if (/libc\+\+|libunwind/.test(f)) return 'C++ runtime (libc++, libc++abi, libunwind)';
  if (/lib(std|core|alloc|hashbrown|rustc_demangle|panic_unwind|miniz|addr2line|gimli|object)-/.test(f)) return "Rust's std";
  // A Rust host is one LTO object: its functions are told apart by their (demangled) names.
  if (/hotwasm/.test(name ?? '')) return 'hotwasm runtime';
  if (/^<?(core|alloc|std|hashbrown|compiler_builtins|rustc_demangle|panic_unwind)::|^<\w+ as (core|alloc|std)::|^<(&|\*const |\*mut |\[)/.test(name ?? '')) return "Rust's std";
  if (input) return 'the app';
  return name?.startsWith('hotwasm') ? 'hotwasm runtime' : 'unattributed (linker-made)';
}

const kb = (n) => (n / 1024).toFixed(1);

function measureApp(app) {
  const src = path.join(root, 'examples', app);
  const work = mkdtempSync(path.join(tmpdir(), `hotwasm-size-${app}-`));
  try {
    const map = path.join(work, 'host.map');
    // Through EMCC_CFLAGS, which emcc appends to its command line: the app's hotwasm.toml stays as
    // it is (a Rust host's target directory relinks when it changes).
    const env = { ...process.env, EMCC_CFLAGS: `${process.env.EMCC_CFLAGS ?? ''} --profiling-funcs -Wl,-Map=${map}`.trim() };
    execFileSync('bash', [path.join(root, 'scripts/hotwasm'), 'build', '--hot', '--project', src], { stdio: ['ignore', 'ignore', 'inherit'], env });
    const hot = path.join(src, 'build/hot');
    const wasmFile = readdirSync(hot).find((f) => f.endsWith('.wasm'));
    const bytes = readFileSync(path.join(hot, wasmFile));
    const { secs, sizes, names } = functions(bytes);
    const inputs = mapInputs(readFileSync(map, 'utf8'));
    const parts = new Map();
    for (const [idx, size] of sizes) {
      const name = names.get(idx);
      const c = component(inputs.get(name), name);
      parts.set(c, (parts.get(c) ?? 0) + size);
    }
    const bySection = Object.fromEntries(secs.filter((s) => s.name !== 'custom:name').map((s) => [s.name, s.total]));
    const namesBytes = secs.find((s) => s.name === 'custom:name')?.total ?? 0;
    const js = readFileSync(path.join(hot, wasmFile.replace(/\.wasm$/, '.js')), 'utf8');
    // The plain build the overhead is measured against (no EMCC_CFLAGS: exactly what ships).
    execFileSync('bash', [path.join(root, 'scripts/hotwasm'), 'build', '--project', src], { stdio: ['ignore', 'ignore', 'inherit'] });
    const plainDir = path.join(src, 'build/plain');
    const plain = (ext) => {
      try {
        return statSync(path.join(plainDir, wasmFile.replace(/\.wasm$/, ext))).size;
      } catch {
        return null;
      }
    };
    return {
      app,
      wasmWithoutNames: bytes.length - namesBytes,
      js: js.length,
      plainWasm: plain('.wasm'),
      plainJs: plain('.js'),
      code: Object.fromEntries([...parts].sort((a, b) => b[1] - a[1])),
      sections: bySection,
    };
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

const results = values.apps.split(',').map((a) => measureApp(a.trim()));
const lines = ['## HOT_RELOAD size: where the overhead goes', '', 'Each example built plain (`hotwasm build`) and HOT_RELOAD (`hotwasm build --hot`, plus a linker map and `--profiling-funcs` for the split; the name section is left out of the figures). Overhead: HOT_RELOAD wasm + JS minus plain wasm + JS (target ≤ 300 KB).', ''];
lines.push('| app | plain wasm + JS (KB) | HOT_RELOAD wasm + JS (KB) | overhead (KB) | code: runtime / C library / C++ runtime / Rust std / app / linker-made (KB) | exports, data, other sections (KB) |');
lines.push('|---|---:|---:|---:|---|---|');
for (const r of results) {
  const c = (k) => kb(r.code[k] ?? 0);
  const s = r.sections;
  const other = r.wasmWithoutNames - (s.code ?? 0) - (s.export ?? 0) - (s.data ?? 0);
  const plain = r.plainWasm == null ? 'not built' : `${kb(r.plainWasm)} + ${kb(r.plainJs)}`;
  const overhead = r.plainWasm == null ? '–' : kb(r.wasmWithoutNames + r.js - r.plainWasm - r.plainJs);
  lines.push(`| \`examples/${r.app}\` | ${plain} | ${kb(r.wasmWithoutNames)} + ${kb(r.js)} | ${overhead} | ${c('hotwasm runtime')} / ${c('C library + malloc')} / ${c('C++ runtime (libc++, libc++abi, libunwind)')} / ${c("Rust's std")} / ${c('the app')} / ${c('unattributed (linker-made)')} | ${kb(s.export ?? 0)}, ${kb(s.data ?? 0)}, ${kb(other)} |`);
}
console.log(lines.join('\n'));
if (values.json) writeFileSync(values.json, JSON.stringify(results, null, 1));
