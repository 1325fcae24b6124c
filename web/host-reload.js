// host-reload.js: moving a page onto a rebuilt host (`host_reload`, docs/PROTOCOL.md) with the
// app's state. The server rebuilt the host after a save of one of its sources; then, step by step:
//   1. old host: save the app's state through its hooks (`hotwasm_state_save`, hotwasm.h) and
//      copy the bytes out of wasm memory;
//   2. keep them, with the build number and the dropped journal entries, in sessionStorage
//      (this tab only) and reload the document: the new bundle loads (no-store, `?build=N`);
//   3. new host, after its `main` (attach): take the record and hold every `hot.call` (it answers
//      HELD without calling: no frame of the app's loop runs from here to step 5);
//   4. the server replays the journal entries that fit the new host (it forgot the others): the
//      definitions and their statements run on the new host's fresh state;
//   5. at `replay_done`: hand the bytes to the app's restore hook (`hotwasm_state_reserve` +
//      `hotwasm_state_restore`), drop the snapshots taken during the replay (they hold the fresh
//      state), release `hot.call`, emit `host_reloaded`.
// The order: replay, then restore. The restore hook runs with every replayed definition in
// place, so it may call functions evals defined (a scripting host's hook re-registering them
// with its interpreter, say); the carried state already holds what the replayed statements did
// in the old host, so it overwrites what they did again on the fresh state. If the connection
// fails before the replay, the state is restored on the built-in code and `host_reloaded.error`
// says so.
// An app without hooks is reloaded and replayed as on any page load (held until replay_done).

const KEY = 'hotwasm:host-reload';

/** The key of this page's record (per path: two apps in one tab do not mix). */
const keyFor = (loc = globalThis.location) => `${KEY}:${loc?.pathname ?? '/'}`;

/** Whether the host's app registered state hooks. */
export function hasStateHooks(Module) {
  return typeof Module?._hotwasm_state_has_hooks === 'function' && Module._hotwasm_state_has_hooks() === 1;
}

/**
 * Runs the app's save hook; resolves to `{hooks, bytes: Uint8Array|null, error}`.
 * @param {object} Module  the Emscripten module
 * @param {() => string} lastError  the runtime's last error text
 */
export function saveState(Module, lastError) {
  if (!hasStateHooks(Module)) return { hooks: false, bytes: null, error: null };
  const n = Module._hotwasm_state_save();
  if (n < 0) return { hooks: true, bytes: null, error: `the app's state was not saved: ${lastError()}` };
  const at = Module._hotwasm_state_data();
  return { hooks: true, bytes: Module.HEAPU8.slice(at, at + n), error: null };
}

/** Hands `bytes` to the app's restore hook in this (new) host; `{ok, error}`. */
export function restoreState(Module, bytes, lastError) {
  if (!hasStateHooks(Module)) {
    return { ok: false, error: 'the new host registers no state hooks: the app starts fresh' };
  }
  const at = Module._hotwasm_state_reserve(bytes.length);
  Module.HEAPU8.set(bytes, at);
  const status = Module._hotwasm_state_restore(bytes.length);
  return status === 0 ? { ok: true, error: null } : { ok: false, error: lastError() };
}

const toBase64 = (bytes) => {
  let s = '';
  for (let i = 0; i < bytes.length; i += 0x8000) s += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(s);
};
const fromBase64 = (text) => Uint8Array.from(atob(text), (c) => c.charCodeAt(0));

/**
 * Keeps the record across the document reload; returns an error text when it could not be kept
 * (storage disabled or full: the app then starts fresh in the new host).
 */
export function stash({ build, dropped, bytes, saveError }) {
  const record = { build, dropped, state: bytes ? toBase64(bytes) : null, saveError, savedAt: Date.now() };
  try {
    globalThis.sessionStorage.setItem(keyFor(), JSON.stringify(record));
    return null;
  } catch (e) {
    try {
      globalThis.sessionStorage.setItem(keyFor(), JSON.stringify({ ...record, state: null, saveError: `the saved state (${bytes?.length ?? 0} bytes) could not be kept: ${e.message}` }));
    } catch {
      /* no storage at all */
    }
    return e.message;
  }
}

/** The record a previous document of this tab left before reloading onto a new host, removed. */
export function takeStash() {
  try {
    const text = globalThis.sessionStorage?.getItem(keyFor());
    if (!text) return null;
    globalThis.sessionStorage.removeItem(keyFor());
    const record = JSON.parse(text);
    return { ...record, bytes: record.state ? fromBase64(record.state) : null };
  } catch {
    return null;
  }
}

/**
 * In the new host: restores what `takeStash` found. Returns the `host_reloaded` event detail:
 * `{build, dropped, restored, bytes, error, ms}` (`ms`: from saving in the old host to restored).
 */
export function restoreStash(Module, record, lastError) {
  let restored = false;
  let error = record.saveError ?? null;
  if (record.bytes) {
    const r = restoreState(Module, record.bytes, lastError);
    restored = r.ok;
    error = r.error;
  }
  return {
    build: record.build,
    dropped: record.dropped ?? [],
    restored,
    bytes: record.bytes?.length ?? 0,
    error,
    savedAt: record.savedAt,
    restoredAt: Date.now(),
    ms: Date.now() - record.savedAt,
  };
}
