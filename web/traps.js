// traps.js: what to make of an exception that left wasm code — which patched var to blame.
//
// A patch's functions are exported under versioned names (`step__hw12` implements var `step`,
// docs/PROTOCOL.md), and the server keeps function names in patches, so a trap's stack names the
// patched function that trapped. A Rust panic reaches the trap through a dozen frames of the
// host's panic machinery, deeper than V8's default of 10 captured frames: keep more of them.

if (typeof Error.stackTraceLimit === 'number' && Error.stackTraceLimit < 100) Error.stackTraceLimit = 100;

/** Best-effort description of what was thrown out of wasm: names the var when it was pending. */
export function describeTrap(error) {
  const pending = pendingVar(error);
  if (pending !== null) return pendingMessage(pending);
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

/**
 * The var a trap called while no eval defined it (its slot holds nothing), or null.
 *
 * A patch reaches every var it calls through its trampoline `__wrap_<var>`
 * (pipeline/src/compile/trampolines.rs), which only loads the var's slot and calls through it:
 * the one way that call traps is an empty slot (the runtime refuses a version of another
 * signature), so a RuntimeError whose innermost frame is `__wrap_<var>` names a pending var.
 * The call path stays as it was (no check per call): the name is read from the trap's stack.
 */
export function pendingVar(error) {
  const W = globalThis.WebAssembly;
  const runtimeError = (W?.RuntimeError && error instanceof W.RuntimeError) || error?.name === 'RuntimeError';
  if (!runtimeError) return null;
  const innermost = String(error?.stack ?? '').split('\n').find((l) => /wasm:\/\/|wasm-function\[/.test(l));
  // V8: `    at __wrap_later (wasm://wasm/…)`; SpiderMonkey: `__wrap_later@wasm://…`.
  const m = innermost?.trim().match(/^(?:at\s+)?__wrap_(\S+?)(?:\s+\(|@)/);
  return m ? m[1] : null;
}

/** What a user reads when pending var `name` was called. */
export function pendingMessage(name) {
  return `\`${name}\` was called but no eval defines it yet: define it (or undo the eval that calls it)`;
}
