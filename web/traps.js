// traps.js: what to make of an exception that left wasm code — which patched var to blame.
//
// A patch's functions are exported under versioned names (`step__hw12` implements var `step`,
// docs/PROTOCOL.md), and the server keeps function names in patches, so a trap's stack names the
// patched function that trapped. A Rust panic reaches the trap through a dozen frames of the
// host's panic machinery, deeper than V8's default of 10 captured frames: keep more of them.

if (typeof Error.stackTraceLimit === 'number' && Error.stackTraceLimit < 100) Error.stackTraceLimit = 100;

/** Best-effort description of what was thrown out of wasm. */
export function describeTrap(error) {
  if (error instanceof Error) return `${error.name}: ${error.message}`;
  if (globalThis.WebAssembly?.Exception && error instanceof WebAssembly.Exception) {
    return 'uncaught wasm exception (a Rust panic or C++ throw left the patched function)';
  }
  return String(error);
}

/**
 * Whether `error` is Emscripten's control flow rather than a failure: `exit()` throws an
 * `ExitStatus`, `emscripten_set_main_loop(..., simulate_infinite_loop)` throws 'unwind'.
 * Those are passed on untouched.
 */
export function isControlFlow(error) {
  return error === 'unwind' || error?.name === 'ExitStatus';
}

/**
 * Whether `error` came out of wasm code (a trap, Emscripten's abort, a wasm exception, or a JS
 * import that threw while wasm frames were on the stack) rather than from plain JS: a bug in the
 * page's own JS must surface as itself, never roll a patch back.
 */
export function fromWasm(error) {
  const W = globalThis.WebAssembly;
  if (W?.RuntimeError && error instanceof W.RuntimeError) return true;
  if (W?.Exception && error instanceof W.Exception) return true;
  return /wasm-function\[|wasm:\/\//.test(String(error?.stack ?? ''));
}

/**
 * The patched vars to blame for a trap: the innermost stack frame that names a patched var's
 * live versioned symbol, or the var's own name in a frame outside the host's module (patches
 * keep their original function names in the name section; the outermost wasm frame is always
 * the host's). Falls back to every var of the newest live patch when the stack names none.
 *
 * @param {string} stack  `error.stack`
 * @param {Array<{name, history: Array<{patch, symbol}>}>} patched vars whose live version is a patch
 * @returns {{vars: Array, how: 'stack'|'newest patch'}}
 */
export function blame(stack, patched) {
  const fromStack = blameFromStack(stack, patched);
  if (fromStack.length) return { vars: fromStack, how: 'stack' };
  let newest = null;
  for (const v of patched) {
    const top = v.history.at(-1);
    if (!newest || top.patch > newest.patch) newest = top;
  }
  const vars = newest ? patched.filter((v) => v.history.at(-1).patch === newest.patch) : [];
  return { vars, how: 'newest patch' };
}

function blameFromStack(stack, patched) {
  const frames = stack.split('\n').filter((l) => l.includes('wasm://') || l.includes('wasm-function['));
  const moduleOf = (l) => l.match(/wasm:\/\/wasm\/([^:)\s]+)/)?.[1] ?? null;
  const hostModule = frames.length ? moduleOf(frames.at(-1)) : null;
  const bySymbol = new Map(patched.map((v) => [v.history.at(-1).symbol, v]));
  const byName = new Map(patched.map((v) => [v.name, v]));
  for (const line of frames) {
    const words = line.match(/[A-Za-z_][A-Za-z0-9_]*/g) ?? [];
    for (const w of words) if (bySymbol.has(w)) return [bySymbol.get(w)];
    if (moduleOf(line) !== hostModule) {
      for (const w of words) if (byName.has(w)) return [byName.get(w)];
    }
  }
  return [];
}

/** What engines say when `call_indirect` finds no function (V8, SpiderMonkey, JavaScriptCore). */
const NULL_CALL = /null function|indirect call to null|null table entry|table index is out of bounds/;

/**
 * The vars a trap may have called while no eval defined them (their slots hold nothing): `[]`
 * when the trap is something else.
 *
 * A patch reaches every var it calls through the var's slot (pipeline/src/compile/trampolines.rs:
 * load the slot, `call_indirect` through it, inlined into the caller), and a pending var's slot
 * holds nothing, so the call traps with the engine's "null function" in the patch's own code. So:
 * a null-call trap whose innermost frame is in a patch (not the host's module) is a call of a
 * pending var when there is one; `pending(frame)` lists them ([pendingNames]), asked only then
 * with the words of the innermost frame.
 * The call path stays as it was (no check per call): all of this is read after the trap.
 */
export function pendingVars(error, pending) {
  const W = globalThis.WebAssembly;
  const runtimeError = (W?.RuntimeError && error instanceof W.RuntimeError) || error?.name === 'RuntimeError';
  if (!runtimeError || !NULL_CALL.test(String(error?.message ?? ''))) return [];
  const frames = String(error?.stack ?? '').split('\n').filter((l) => /wasm:\/\/|wasm-function\[/.test(l));
  const moduleOf = (l) => l.match(/wasm:\/\/wasm\/([^:)\s]+)/)?.[1] ?? null;
  if (frames.length < 2 || moduleOf(frames[0]) === moduleOf(frames.at(-1))) return [];
  return pending(frames[0].match(/[A-Za-z_][A-Za-z0-9_$]*/g) ?? []);
}

/**
 * The vars that patches applied here call but that have no implementation: every name in the
 * `hotwasm.vars` section of each patch file (`patches`: the applier's seq → {path}, `readFile`
 * the module's FS.readFile) that `vars` (`hot.vars()`, which lists only vars with an
 * implementation) does not name. Sorted. When a patch defines a var that `frame` (the words of
 * the trap's innermost frame: patches keep their function names) names, only such patches count.
 */
export function pendingNames(patches, readFile, vars, frame = []) {
  const live = new Set(vars.map((v) => v.name));
  const names = new Set();
  const words = new Set(frame);
  const all = [...patches.values()];
  const trapping = all.filter((p) => (p.manifest ?? []).some((m) => words.has(m.var)));
  for (const p of trapping.length ? trapping : all) {
    let bytes;
    try {
      bytes = readFile(p.path);
    } catch {
      continue; // forgotten meanwhile
    }
    for (const text of customSections(bytes, 'hotwasm.vars')) {
      for (const line of text.split('\n')) {
        const name = line.split(' ')[0];
        if (name && !live.has(name)) names.add(name);
      }
    }
  }
  return [...names].sort();
}

/** The text of every custom section called `wanted` in the wasm module `bytes`. */
function customSections(bytes, wanted) {
  const out = [];
  const decoder = new TextDecoder();
  let at = 8; // magic and version
  const leb = () => {
    let value = 0;
    for (let shift = 0; at < bytes.length; shift += 7) {
      const b = bytes[at++];
      value += (b & 0x7f) * 2 ** shift;
      if (b < 0x80) break;
    }
    return value;
  };
  while (at < bytes.length) {
    const id = bytes[at++];
    const size = leb();
    const end = at + size;
    if (id === 0) {
      const len = leb();
      if (decoder.decode(bytes.subarray(at, at + len)) === wanted) out.push(decoder.decode(bytes.subarray(at + len, end)));
    }
    at = end;
  }
  return out;
}

/** What a user reads when pending var `names[0]` (or one of `names`) was called. */
export function pendingMessage(names) {
  const which = names.length === 1 ? `\`${names[0]}\`` : `one of ${names.map((n) => `\`${n}\``).join(', ')}`;
  return `${which} was called but no eval defines it yet: define it (or undo the eval that calls it)`;
}
