// registry.js: the hotwasm C ABI of a running Emscripten host (abi/include/hotwasm.h),
// wrapped for JS: write a patch into the virtual FS, apply it, roll a var back, list the vars.
//
// Large patches: Chromium refuses synchronous `new WebAssembly.Module()` of more than 8 MB on
// the main thread, and `hotwasm_apply` dlopens synchronously. So a patch at or above
// `preloadThreshold` bytes is written with `FS.createPreloadedFile`, which runs Emscripten's
// wasm preload plugin (libdylink `registerWasmPlugin`, names ending in `.so`): it compiles and
// instantiates the side module asynchronously and keeps its exports in `preloadedWasm[path]`.
// The synchronous `dlopen` inside `hotwasm_apply` then finds them there and compiles nothing.
//
// Measured in headless Chromium 156 (tests/browser/big-patch.test.mjs): a 9 MB patch through
// the synchronous path fails ("WebAssembly.Compile is disallowed on the main thread, if the
// buffer size is larger than 8MB"); preloaded it applies in ~75 ms. A 391-byte patch applies
// in ~1.6 ms preloaded against ~7 ms synchronously, so every patch is preloaded by default
// (threshold 0); the option stays for hosts whose files do not end in `.so`.

/**
 * The status codes of the registry's C ABI: `enum hotwasm_status` in abi/include/hotwasm.h, the
 * one source (tests/node-client/protocol-mirror.test.mjs fails when this copy drifts from it).
 */
export const HOTWASM_STATUS = Object.freeze({
  HOTWASM_OK: 0,
  HOTWASM_ERR_INVALID_ARGUMENT: -1,
  HOTWASM_ERR_UNKNOWN_VAR: -2,
  HOTWASM_ERR_SIGNATURE: -3,
  HOTWASM_ERR_LOAD: -4,
  HOTWASM_ERR_SYMBOL: -5,
  HOTWASM_ERR_MANIFEST: -6,
  HOTWASM_ERR_NO_HISTORY: -7,
  HOTWASM_ERR_UNKNOWN_PATCH: -8,
  HOTWASM_ERR_PATCH_TYPES: -9,
  HOTWASM_ERR_DUPLICATE_VAR: -10,
});

/** What each status means, in words (the host adds its own detail via `hotwasm_last_error`). */
const STATUS_TEXT = {
  HOTWASM_OK: 'ok',
  HOTWASM_ERR_INVALID_ARGUMENT: 'invalid argument',
  HOTWASM_ERR_UNKNOWN_VAR: 'unknown var',
  HOTWASM_ERR_SIGNATURE: 'signature mismatch',
  HOTWASM_ERR_LOAD: 'load failed',
  HOTWASM_ERR_SYMBOL: 'symbol missing',
  HOTWASM_ERR_MANIFEST: 'malformed manifest',
  HOTWASM_ERR_NO_HISTORY: 'nothing to roll back to',
  HOTWASM_ERR_UNKNOWN_PATCH: 'unknown patch',
  HOTWASM_ERR_PATCH_TYPES: 'patch types contradict its manifest',
  HOTWASM_ERR_DUPLICATE_VAR: 'a second host slot under a var’s name',
};

/** `-3` → 'signature mismatch'; an unknown code → 'status -42'. */
export function statusText(status) {
  const name = Object.keys(HOTWASM_STATUS).find((k) => HOTWASM_STATUS[k] === status);
  return (name && STATUS_TEXT[name]) ?? name ?? `status ${status}`;
}


/** Default size from which patches are compiled asynchronously before `dlopen`. */
export const DEFAULT_PRELOAD_THRESHOLD = 0;

const now = () => globalThis.performance.now();

/**
 * Resolves when the loader thread may have written `word[0]`: its futex wake, or after 50 ms
 * (memory growth replaces the buffer the wait watches; the timer also keeps Node's event loop
 * alive, which a pending `Atomics.waitAsync` does not); every millisecond without it.
 */
function settle(word) {
  if (typeof Atomics.waitAsync !== 'function') return new Promise((resolve) => setTimeout(resolve, 1));
  const w = Atomics.waitAsync(word, 0, 0);
  if (!w.async) return Promise.resolve();
  let timer;
  return Promise.race([w.value, new Promise((resolve) => { timer = setTimeout(resolve, 50); })])
    .finally(() => clearTimeout(timer));
}

export class HostRegistry {
  /**
   * @param {object} Module the Emscripten module object (after its runtime initialised)
   * @param {{preloadThreshold?: number}} [options]
   */
  constructor(Module, { preloadThreshold } = {}) {
    this.Module = Module;
    this.preloadThreshold = preloadThreshold ?? DEFAULT_PRELOAD_THRESHOLD;
  }

  /** Whether this host was built with HOT_RELOAD=1 (exports the registry C ABI). */
  get hotReload() {
    return typeof this.Module._hotwasm_apply === 'function';
  }

  /**
   * Whether patches go through the runtime's loader thread (`hotwasm_apply_on_loader`): a host
   * with threads, whose `dlopen` on the main thread would block until every worker loaded the
   * patch (docs/THREADS.md).
   */
  get loaderThread() {
    const M = this.Module;
    return typeof M._hotwasm_apply_on_loader === 'function' && typeof SharedArrayBuffer === 'function' &&
      M.HEAPU8?.buffer instanceof SharedArrayBuffer;
  }

  /** Calls `fn(ptr)` with `text` as a temporary C string. */
  withCString(text, fn) {
    const M = this.Module;
    const ptr = M.stringToNewUTF8(text);
    try {
      return fn(ptr);
    } finally {
      if (typeof M._free === 'function') M._free(ptr);
    }
  }

  withCStrings(texts, fn) {
    const M = this.Module;
    const ptrs = texts.map((t) => M.stringToNewUTF8(t));
    try {
      return fn(...ptrs);
    } finally {
      if (typeof M._free === 'function') ptrs.forEach((p) => M._free(p));
    }
  }

  lastError() {
    const M = this.Module;
    if (typeof M._hotwasm_last_error !== 'function') return '';
    return M.UTF8ToString(M._hotwasm_last_error());
  }

  /** A readable message for a negative status, with the host's own words when it gave some. */
  statusMessage(status) {
    const detail = this.lastError();
    const kind = statusText(status);
    return detail ? `${kind}: ${detail}` : kind;
  }

  /**
   * Writes the patch bytes to `path`; for big patches also compiles them asynchronously so
   * the synchronous `dlopen` finds them ready. Resolves to `{ms, preloaded}`.
   */
  async writePatch(path, bytes) {
    const FS = this.Module.FS;
    const t0 = now();
    const slash = path.lastIndexOf('/');
    const dir = slash > 0 ? path.slice(0, slash) : '/';
    const base = path.slice(slash + 1);
    FS.mkdirTree(dir);
    // Not with a loader thread: it loads the patch first (on a worker, where a big module
    // compiles synchronously), and the main thread then compiles it asynchronously; a preload
    // would instantiate a second copy of it on the main thread.
    const preload = !this.loaderThread &&
      bytes.length >= this.preloadThreshold && path.endsWith('.so') && typeof FS.createPreloadedFile === 'function';
    if (!preload) {
      FS.writeFile(path, bytes);
      return { ms: now() - t0, preloaded: false };
    }
    try {
      FS.unlink(path); // createDataFile refuses to overwrite
    } catch {
      /* not there: fine */
    }
    await new Promise((resolve, reject) => {
      FS.createPreloadedFile(dir, base, bytes, true, false, resolve, () =>
        reject(new Error(`the browser could not compile the patch ${path} (see the console for the reason)`)),
      );
    });
    return { ms: now() - t0, preloaded: true };
  }

  /** `hotwasm_apply`: resolves to `{ok, patchId, error}`. */
  apply(path, manifestText) {
    const M = this.Module;
    if (!this.hotReload) {
      return { ok: false, patchId: 0, error: 'this host was built without HOT_RELOAD=1: rebuild it with `hotwasm build --hot`' };
    }
    const status = this.withCStrings([path, manifestText], (p, m) => M._hotwasm_apply(p, m));
    if (status > 0) return { ok: true, patchId: status, error: null };
    return { ok: false, patchId: 0, error: this.statusMessage(status) };
  }

  /**
   * `hotwasm_apply` on the runtime's loader thread, awaited: the main thread keeps running (its
   * frames, its event loop, where Emscripten loads the patch into it) while every thread syncs.
   * `run` (or null) names the patch's run-once function, looked up there too. Resolves like
   * `apply`. Nothing else may call the runtime until it resolved (the client's queue ensures it).
   */
  async applyOnLoader(path, manifestText, run) {
    const M = this.Module;
    const ptrs = [path, manifestText, run ?? ''].map((t) => M.stringToNewUTF8(t));
    const done = M._malloc(4);
    const word = () => new Int32Array(M.HEAPU8.buffer, done, 1);
    Atomics.store(word(), 0, 0);
    try {
      const handed = M._hotwasm_apply_on_loader(ptrs[0], ptrs[1], run ? ptrs[2] : 0, done);
      if (handed < 0) return { ok: false, patchId: 0, error: this.statusMessage(handed) };
      let status;
      while ((status = Atomics.load(word(), 0)) === 0) await settle(word());
      if (status > 0) return { ok: true, patchId: status, error: null };
      return { ok: false, patchId: 0, error: this.statusMessage(status) };
    } finally {
      ptrs.forEach((p) => M._free(p));
      M._free(done);
    }
  }

  /** `hotwasm_rollback_var`: `{ok, error}`. */
  rollbackVar(name) {
    const M = this.Module;
    if (!this.hotReload) return { ok: false, error: 'this host was built without HOT_RELOAD=1' };
    const status = this.withCString(name, (p) => M._hotwasm_rollback_var(p));
    if (status >= 0) return { ok: true, error: null };
    return { ok: false, error: this.statusMessage(status) };
  }

  /** `hotwasm_rollback_patch`: takes patch `patchId` out of every var's history; `{ok, error}`. */
  rollbackPatch(patchId) {
    const M = this.Module;
    if (typeof M._hotwasm_rollback_patch !== 'function') return { ok: false, error: 'this host exports no hotwasm_rollback_patch: rebuild it with `hotwasm build --hot`' };
    const status = M._hotwasm_rollback_patch(patchId);
    if (status >= 0) return { ok: true, error: null };
    return { ok: false, error: this.statusMessage(status) };
  }

  /** `hotwasm_list_json` parsed: `[{name, signature, version, history:[{patch, symbol}]}]`. */
  list() {
    const M = this.Module;
    if (typeof M._hotwasm_list_json !== 'function') return [];
    return JSON.parse(M.UTF8ToString(M._hotwasm_list_json()));
  }

  /**
   * The value the last run-once function recorded (`hotwasm_take_value`), taken: `{type, text}`
   * or null (none, or a host older than value printing).
   */
  takeValue() {
    const M = this.Module;
    if (typeof M._hotwasm_take_value !== 'function') return null;
    const ptr = M._hotwasm_take_value();
    return ptr ? JSON.parse(M.UTF8ToString(ptr)) : null;
  }

  /**
   * Calls `void symbol(void)` from the patch at `path` (patch id `patchId`) once.
   * Uses the host's `hotwasm_run(patch_id, symbol)` when it exports one; otherwise
   * `dlopen` (returns the loaded handle: the path is already open) + `dlsym` + the table.
   */
  run(patchId, path, symbol) {
    const M = this.Module;
    if (typeof M._hotwasm_run === 'function') {
      const status = this.withCString(symbol, (s) => M._hotwasm_run(patchId, s));
      if (status < 0) throw new Error(`running ${symbol}: ${this.statusMessage(status)}`);
      return;
    }
    const table = M.wasmTable;
    if (typeof M._dlopen !== 'function' || typeof M._dlsym !== 'function' || !table) {
      throw new Error(
        `this host cannot run ${symbol}: it exports neither hotwasm_run nor dlopen/dlsym/wasmTable to JS`,
      );
    }
    const handle = this.withCString(path, (p) => M._dlopen(p, 2 /* RTLD_NOW */));
    if (!handle) throw new Error(`dlopen(${path}) failed while looking for ${symbol}`);
    const fnIndex = this.withCString(symbol, (s) => M._dlsym(handle, s));
    if (!fnIndex) throw new Error(`the patch does not export ${symbol}`);
    table.get(fnIndex)();
  }
}
