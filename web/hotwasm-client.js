// hotwasm-client.js: live editing for any Emscripten app — the page side of hotwasm.
// Served by `hotwasm serve` at /hotwasm/hotwasm-client.js. No dependencies, no build step.
//
//   import { attach, TRAPPED } from '/hotwasm/hotwasm-client.js';
//
//   const Module = await createMyApp();              // your MODULARIZE factory, built HOT_RELOAD
//   const hot = await attach(Module, { onEvent: (type, detail) => console.log(type, detail) });
//   requestAnimationFrame(function frame(t) {
//     hot.call('my_frame', 1 / 60);                  // a trap rolls the patch back; the loop goes on
//     requestAnimationFrame(frame);
//   });
//
// attach(Module, options) → Promise<Hot>
//   Module   an initialised Emscripten module (the factory's result). Built with HOT_RELOAD it
//            connects to the dev server; a plain build gets a Hot whose `call` is still
//            trap-safe and which never connects (status 'off').
//   options  (all optional)
//     url        WebSocket URL with ?token= (default ws://<this page's host>/repl?token=<token>)
//     token      the per-run token (default: <meta name="hotwasm-token">, else the page's ?token=)
//     onEvent    (type, detail) => void, called for every event below
//     WebSocket  a WebSocket class (default globalThis.WebSocket; Node 20: --experimental-websocket)
//     wait       'replay' (default): resolve once the journal is replayed (or the first connection
//                attempt failed, or `waitMs` passed); 'none': resolve at once
//     waitMs     upper bound for `wait: 'replay'` (default 5000)
//     preloadThreshold  patches of at least this many bytes compile asynchronously (default 0: all)
//     snapshots  {count, budgetMb} bounds of the linear-memory snapshots taken before each patch
//                (default: [serve] snapshots / snapshot_budget_mb of /hotwasm/app.json, else 8 and
//                512); false: take none
//     onTrap     'state' (undo the trapping call's writes, when it was copied, and roll the var
//                back) or 'code' (roll the var back only: the call's writes stay); default
//                [serve] on_trap of /hotwasm/app.json, else 'state'
//     callGuard  {calls, maxMb}: with onTrap 'state', the memory in use is copied before each
//                hot.call for the first `calls` calls after each patch (default 600), while it is
//                at most `maxMb` (default 32), so that a trap undoes that call only; false: never
//     backoffMin, backoffMax  reconnect delays in ms (default 250, doubling up to 5000)
//     reloadPage (msg) => void   how to load a rebuilt host after `host_reload` (default in a
//                browser: location.reload(), the app's state travelling in sessionStorage, see
//                host-reload.js; elsewhere none: the client logs that the program must restart)
//
// Hot
//   hot.on(type, fn) → unsubscribe()     subscribe to one event type ('*' for all: fn(type, detail))
//   hot.call(fn | 'export_name', ...args) → result | TRAPPED | HELD
//       Calls a wasm export (name with or without the leading '_') or any function, trap-safe:
//       the stack pointer is saved and restored; with onTrap 'state' the call's writes are undone
//       when it was copied (see callGuard); the patched var that trapped is found from its
//       versioned symbol `name__hwN` in the stack (else the newest live patch), rolled back here
//       and reported to the server (journaled for every other page and for reloads), and a 'trap'
//       event is emitted. Returns TRAPPED instead of throwing. Emscripten's `exit`/'unwind' and
//       errors of plain JS (no wasm frame: a bug in the page's own code) are rethrown untouched.
//       Returns HELD without calling while the page moves onto a rebuilt host (from attach until
//       the journal is replayed and the app's state restored): no frame runs in between.
//   hot.eval(source, lang = 'c', { name }) → Promise<eval_result>   compile + deliver to every page
//       lang: one of LANGS ('c', 'cpp', 'rust'); name: the file name diagnostics use
//       (default eval.<extensionOf(lang)>)
//       (also accepted: hot.eval({ source, lang, name }))
//   hot.rollback(varName) → Promise<rollback detail>   journaled rollback on every page
//   hot.undo(seq, { state = true }) → Promise<undo_result>   roll every page back to just before
//                           journal entry `seq`: the code, and with `state` the app's memory (the
//                           snapshot each page took before that patch); the journal forgets the
//                           undone entries. undo_result: {id, ok, seq, state, undone, pages, error}
//   hot.vars() → [{name, signature, version, patched, history: [{patch, symbol, seq, builtin, ...}]}]
//   hot.serverVars() → Promise<[{name, signature, version, prototype?, defined_by_seq?}]>   every
//                           current var as the server knows it (host manifest + journal: vars any
//                           client or saved file defined, exact versions, C prototypes)
//   hot.resetJournal()      forget the server's journal (a reload then starts from the built-in code)
//   hot.reconnect()         retry now instead of waiting for the backoff timer
//   hot.close()             disconnect for good, give stdout back
//   hot.state               'off' | 'connecting' | 'open' | 'closed' | 'stopped'
//   hot.hotReload           whether the module was built with HOT_RELOAD=1
//   hot.hostVars            the host's vars as the server's welcome listed them
//   hot.Module              the module attached to
//   hot.isOwnEval(evalId)   whether an eval sent from this page still awaits its result (its patch
//                           and output reach the page before the result does)
//   hot.recoverFromTrap(error)  what hot.call does after a trap, for code that catches traps itself
//                           (restore the stack pointer first)
//   hot.journal             {epoch, seq, localRollbacks}: how far this wasm instance got in the journal
//
// loadFactory(scriptUrl, exportName = 'createHotwasmApp') → Promise<factory>
//   Loads a classic (non-ES6) MODULARIZE script once and resolves to its factory function.
// appInfo() → Promise<{name, script, wasm, export_name, frame?}>
//   What `hotwasm serve` says about the app (GET /hotwasm/app.json, from hotwasm.toml).
//
// Events (detail shapes)
//   status       {state, reason?, retryMs?, attempt?}                     connection changes
//   welcome      the server's welcome {server_version, journal_len, host_vars, ...}
//   patch        {seq, evalId, manifest, replay, ok, error, output, value, applyMs, writeMs, preloaded, size}
//                (value: {type, text} of the eval's final expression here, or null)
//   rollback     {seq, var, replay, ok, error, local, applyMs}
//   trap         {var, vars: [{var, seq, symbol, rolledBack, error}], message, how, stack, error,
//                 pending?: the var called while no eval defines it (how 'pending': nothing rolled back;
//                 several, comma-separated, when more than one var is pending),
//                 state: {restored, scope: 'call'|'none', call, ms, bytes?, zeroed?, reason?, leftBehind?}}
//                (var null: the trap was in the app's own code, nothing to roll back; restored:
//                memory is back as before the call `call` — that call's writes are all that was
//                undone, on this page only; else `reason` says why not and `leftBehind` what stays;
//                worker: {thread, gone} when the trap was on a worker thread of a host with threads)
//   undo         {seq, before, state, replay, ok, error, undone: [seq], restored, applyMs}
//   output       {seq, evalId, text, replay}        what a patch's hotwasm_main printed here
//   diagnostics  {name, diagnostics: [{file, line, column, severity, message}], raw_output}
//                                                   a saved file failed to compile
//   eval_result  the server's answer to any eval sent from this page, plus clientMs
//   history      hot.vars() after any change of a var's version
//   replay_done  {count}        journal_reset {journal_epoch}        server_error {code, message}
//   host_build   {status: 'building'|'failed', files, error, diagnostics, raw_output}
//                                                   the server is rebuilding the host / it failed
//                                                   (the old host keeps running)
//   host_reload  {build, dropped: [{seq, reason}], hooks, bytes, error}   a new host is built:
//                the app's state was saved (bytes) and the page reloads onto it
//   host_reloaded {build, dropped, restored, bytes, error, ms, replayed, heldCalls}   this page runs
//                the new host: the fitting journal entries replayed (replayed: how many), then
//                the state restored (restored), then the app runs again (heldCalls: hot.calls
//                answered HELD meanwhile); emitted before replay_done; also hot.hostReloaded
//   log          {level, message}                   things worth telling a user
//
// What attach needs from the build (HOT_RELOAD): the registry's C ABI exports (`_hotwasm_*`) and
// the runtime methods FS, stackSave, stackRestore, UTF8ToString, stringToNewUTF8, HEAPU8 —
// `hotwasm build` sets them. Protocol: docs/PROTOCOL.md.

import { ClientMsg } from './protocol.js';
import { HostRegistry } from './registry.js';
import { Connection, replUrlForPage, tokenFromPage, tokenFromServedPage } from './connection.js';
import { Applier } from './applier.js';
import { captureStdio } from './output.js';
import { describeTrap, fromWasm, isControlFlow, pendingMessage, pendingNames, pendingVars } from './traps.js';
import { restoreStash, saveState, stash, takeStash } from './host-reload.js';

export { LANGS, PROTOCOL_VERSION, extensionOf } from './protocol.js';
export { tokenFromPage } from './connection.js';
export { describeTrap } from './traps.js';

/**
 * Why this page cannot run a host built with threads (`-pthread`), or null when it can: such a
 * host needs `SharedArrayBuffer`, which browsers only give a cross-origin isolated page. Shown
 * when an app fails to start, instead of Emscripten's own message (docs/THREADS.md).
 */
export function isolationProblem(g = globalThis) {
  if (typeof g.SharedArrayBuffer === 'function' && g.crossOriginIsolated !== false) return null;
  return 'this page is not cross-origin isolated, so it has no SharedArrayBuffer and cannot run an app built '
    + 'with threads (-pthread): serve it with the headers Cross-Origin-Opener-Policy: same-origin and '
    + 'Cross-Origin-Embedder-Policy: require-corp (or credentialless, which hotwasm serve sends)';
}

/** What stays after a trap on a worker: the dead thread's part of the app. */
const LEFT_BEHIND_ON_WORKER = "what the thread had half-written stays, and a lock it held stays held; the app's other threads run on, except those waiting for it; reload the page to start the threads again";

/** What `hot.call` returns when the call trapped. */
export const TRAPPED = Object.freeze({ trapped: true, toString: () => 'TRAPPED' });
/**
 * What `hot.call` returns, without calling, while the page moves onto a rebuilt host: between
 * the journal's replay and the restore of the app's state no app code runs.
 */
export const HELD = Object.freeze({ held: true, toString: () => 'HELD' });

const EVAL_TIMEOUT_MS = 120_000;
const ROLLBACK_TIMEOUT_MS = 15_000;
const now = () => globalThis.performance.now();

/** Loads a classic MODULARIZE script once and resolves to its factory function. */
export function loadFactory(scriptUrl, exportName = 'createHotwasmApp') {
  if (typeof globalThis[exportName] === 'function') return Promise.resolve(globalThis[exportName]);
  return new Promise((resolve, reject) => {
    const s = document.createElement('script');
    s.src = scriptUrl;
    s.async = true;
    s.onload = () =>
      typeof globalThis[exportName] === 'function'
        ? resolve(globalThis[exportName])
        : reject(new Error(`${scriptUrl} loaded but defines no ${exportName}(): check [app] export_name in hotwasm.toml (emcc -sEXPORT_NAME)`));
    s.onerror = () => reject(new Error(`could not load ${scriptUrl}: build the app with \`hotwasm build --hot\``));
    document.head.append(s);
  });
}

/** The app as `hotwasm serve` describes it from hotwasm.toml (GET /hotwasm/app.json). */
export async function appInfo() {
  const res = await fetch('/hotwasm/app.json', { cache: 'no-store' });
  if (!res.ok) throw new Error(`/hotwasm/app.json: ${res.status} ${res.statusText} (is this page served by \`hotwasm serve\`?)`);
  const app = await res.json();
  for (const key of ['script', 'export_name']) {
    if (!app[key]) throw new Error(`/hotwasm/app.json has no "${key}": check [app] in hotwasm.toml`);
  }
  return app;
}

/**
 * The snapshot bounds and trap behaviour hotwasm.toml's [serve] asks for (via app.json), for the
 * options the caller left out; {} outside a page served by `hotwasm serve`.
 */
async function stateOptions(options) {
  if (options.snapshots !== undefined && options.onTrap !== undefined) return {};
  if (!globalThis.location?.host || typeof fetch !== 'function') return {};
  const app = await appInfo().catch(() => null);
  if (!app) return {};
  const out = {};
  if (app.snapshots != null || app.snapshot_budget_mb != null) {
    out.snapshots = { count: app.snapshots ?? undefined, budgetMb: app.snapshot_budget_mb ?? undefined };
  }
  if (app.on_trap) out.onTrap = app.on_trap;
  return out;
}

/** Attaches hotwasm to a running Emscripten module; see the top of this file. */
export async function attach(Module, options = {}) {
  if (!Module || typeof Module !== 'object' || typeof Module.stackSave !== 'function') {
    throw new TypeError(
      'attach(Module): pass the initialised Emscripten module (`await createMyApp()`), built with ' +
        '-sEXPORTED_RUNTIME_METHODS including stackSave,stackRestore (hotwasm build does this)',
    );
  }
  const hot = new Hot(Module, { ...(await stateOptions(options)), ...options });
  await hot.start(options);
  return hot;
}

export class Hot {
  constructor(Module, options = {}) {
    this.Module = Module;
    this.registry = new HostRegistry(Module, { preloadThreshold: options.preloadThreshold });
    this.stdio = captureStdio(Module);
    // A host with threads (shared memory) takes no memory snapshots and rolls code back on a trap
    // (so no call guard either): restoring memory under running workers would overwrite their
    // stacks, their thread records and the dynamic linker's state mid-flight (docs/THREADS.md).
    const threaded = typeof SharedArrayBuffer === 'function' && Module.HEAPU8?.buffer instanceof SharedArrayBuffer;
    this.applier = new Applier(this.registry, this.stdio, threaded
      ? { snapshots: null, onTrap: 'code' }
      : { snapshots: options.snapshots ?? {}, onTrap: options.onTrap, callGuard: options.callGuard ?? {} });
    /** Nesting of `hot.call` (a JS import calling back into the app). */
    this.depth = 0;
    /** While true (a host reload's replay and restore), `hot.call` returns HELD. */
    this.holding = false;
    this.heldCalls = 0;
    /** The record of a host reload awaiting the replay before its state is restored. */
    this.carried = null;
    this.pendingUndos = new Map();
    this.listeners = new Map();
    this.exports = new Map();
    this.pendingEvals = new Map();
    this.evalCounter = 0;
    this.welcome = null;
    /** `trap` messages that found the connection down: sent after the next welcome. */
    this.unsentTraps = [];
    /** Runs server messages strictly in order (a patch's async preload included). */
    this.chain = Promise.resolve();
    if (options.onEvent) this.on('*', options.onEvent);
    this.takeWorkerTraps(Module);
    this.reloadPage = options.reloadPage ?? (typeof globalThis.location?.reload === 'function' ? () => globalThis.location.reload() : null);
    /** The `host_reloaded` detail when this page was reloaded onto a rebuilt host, else null. */
    this.hostReloaded = null;
    const token = options.token ?? tokenFromPage();
    const inPage = !!globalThis.location?.host;
    this.connection = new Connection({
      url: options.url ?? (token && inPage ? replUrlForPage(token) : null),
      WebSocket: options.WebSocket,
      backoffMin: options.backoffMin,
      backoffMax: options.backoffMax,
      refreshToken: options.refreshToken ?? (inPage && !options.url ? () => tokenFromServedPage() : null),
      onOpen: (ws) => this.enqueue(() => this.connection.send(ClientMsg.hello(this.applier.journalEpoch, this.applier.journalSeq), ws)),
      onMessage: (msg, ws) => this.enqueue(() => this.handle(msg, ws)),
      onPatch: (header, bytes, ws) => this.enqueue(() => this.handlePatch(header, bytes, ws)),
      onStatus: (state, extra) => this.emit('status', { state, ...extra }),
      onClose: (reason) => this.failPending(reason),
      log: (level, message) => this.log(level, message),
    });
  }

  get hotReload() {
    return this.registry.hotReload;
  }

  get state() {
    return this.hotReload ? this.connection.state : 'off';
  }

  get hostVars() {
    return this.welcome?.host_vars ?? [];
  }

  // ---- events ---------------------------------------------------------------------------

  on(type, fn) {
    if (!this.listeners.has(type)) this.listeners.set(type, new Set());
    this.listeners.get(type).add(fn);
    return () => this.listeners.get(type)?.delete(fn);
  }

  emit(type, detail) {
    const call = (fn, args) => {
      try {
        fn(...args);
      } catch (e) {
        console.error(`hotwasm: a "${type}" listener threw`, e);
      }
    };
    for (const fn of this.listeners.get(type) ?? []) call(fn, [detail]);
    for (const fn of this.listeners.get('*') ?? []) call(fn, [type, detail]);
  }

  log(level, message) {
    this.emit('log', { level, message });
  }

  /** Resolves when the first connection settled (see `wait` in the options). */
  start({ wait = 'replay', waitMs = 5000 } = {}) {
    if (!this.hotReload) {
      this.emit('status', { state: 'off', reason: 'this module was built without HOT_RELOAD=1: rebuild it with `hotwasm build --hot` to edit it live' });
      return Promise.resolve();
    }
    const settled = new Promise((resolve) => {
      if (wait === 'none') return resolve();
      const offs = [
        this.on('replay_done', () => done()),
        this.on('status', (s) => (s.state === 'closed' || s.state === 'stopped') && done()),
      ];
      const timer = setTimeout(() => done(), waitMs);
      const done = () => {
        clearTimeout(timer);
        offs.forEach((off) => off());
        resolve();
      };
    });
    this.holdForCarriedState();
    this.connection.start();
    return settled;
  }

  /**
   * After a host rebuild: the state the old host saved waits for the journal's replay, and no app
   * code runs through `hot.call` until both are done (host-reload.js, "the order").
   */
  holdForCarriedState() {
    const record = takeStash();
    if (!record) return;
    this.carried = record;
    this.holding = true;
    const off = this.on('status', (s) => {
      if (s.state !== 'closed' && s.state !== 'stopped') return;
      off();
      // No server to replay from: the state comes back anyway, on the built-in code.
      this.enqueue(() => this.finishHostReload({ replayed: false, reason: s.reason ?? 'the connection closed before the journal was replayed' }));
    });
    this.offHoldStatus = off;
  }

  /** The journal is replayed (or cannot be): restore the carried state, then let the app run. */
  finishHostReload({ replayed, reason = null, count = 0 }) {
    const record = this.carried;
    if (!record) return;
    this.carried = null;
    this.offHoldStatus?.();
    const detail = restoreStash(this.Module, record, () => this.registry.lastError());
    // The snapshots taken before each replayed patch hold the fresh host's state, not the app's.
    this.applier.snapshots?.dropFrom(0);
    this.holding = false;
    detail.replayed = replayed ? count : null;
    if (!replayed) detail.error = [detail.error, `the journal was not replayed: ${reason}`].filter(Boolean).join('; ');
    detail.heldCalls = this.heldCalls;
    detail.replayedAt = Date.now();
    this.hostReloaded = detail;
    this.emit('host_reloaded', detail);
  }

  /**
   * A welcome on reconnect naming a newer host build than this page's first welcome did: the
   * page was offline when the server sent `host_reload`, so it moves onto the new host now (the
   * dropped entries are unknown here; the journal already forgot them).
   */
  missedHostReload(msg) {
    this.hostBuild ??= msg.host_build ?? 0;
    if (!((msg.host_build ?? 0) > this.hostBuild)) return false;
    this.log('info', `the host was rebuilt (build ${msg.host_build}) while this page was offline: loading it`);
    this.onHostReload({ build: msg.host_build, dropped: [] });
    return true;
  }

  /** `host_reload`: save the app's state, keep it across the reload, load the new host. */
  onHostReload(msg) {
    this.hostBuild = msg.build;
    const saved = saveState(this.Module, () => this.registry.lastError());
    const keepError = stash({ build: msg.build, dropped: msg.dropped, bytes: saved.bytes, saveError: saved.error });
    this.emit('host_reload', { build: msg.build, dropped: msg.dropped ?? [], hooks: saved.hooks, bytes: saved.bytes?.length ?? 0, error: saved.error ?? keepError });
    if (!this.reloadPage) {
      this.log('info', `a new host was built (build ${msg.build}): start this program again to run it`);
      return;
    }
    this.connection.stop();
    this.reloadPage(msg);
  }

  /** Runs `fn` after everything received before it. */
  enqueue(fn) {
    this.chain = this.chain.then(fn).catch((e) => {
      console.error('hotwasm: handling a server message failed', e);
      this.log('error', `handling a server message failed: ${e.message}`);
    });
  }

  // ---- server messages ------------------------------------------------------------------

  handle(msg, ws) {
    switch (msg.type) {
      case 'welcome':
        if (this.missedHostReload(msg)) return;
        this.welcome = msg;
        this.applier.useEpoch(msg.journal_epoch);
        this.connection.opened();
        this.unsentTraps.splice(0).forEach((m) => this.sendTrap(m));
        return this.emit('welcome', msg);
      case 'rollback': {
        const detail = this.applier.applyRollback(msg);
        this.connection.send(ClientMsg.ack(msg.seq, detail.ok, detail.applyMs, detail.error, ''), ws);
        if (detail.duplicate) return;
        this.emit('rollback', detail);
        return this.emit('history', this.vars());
      }
      case 'undo': {
        const detail = this.applier.applyUndo(msg);
        this.connection.send(ClientMsg.ack(detail.seq, detail.ok, detail.applyMs, detail.error, ''), ws);
        if (detail.duplicate) return;
        this.emit('undo', detail);
        return this.emit('history', this.vars());
      }
      case 'undo_result':
        return this.settleUndo(msg);
      case 'eval_result':
        return this.settleEval(msg);
      case 'journal_reset':
        this.applier.useEpoch(msg.journal_epoch);
        return this.emit('journal_reset', msg);
      case 'host_reload':
        return this.onHostReload(msg);
      case 'replay_done':
        // Every patch of the replay is applied (this runs after them, in order): state now.
        if (this.carried) this.finishHostReload({ replayed: true, count: msg.count });
        return this.emit('replay_done', msg);
      case 'error':
        this.log('error', `the server refused a message (${msg.code}): ${msg.message}`);
        this.failRequest(msg);
        return this.emit('server_error', msg);
      default: // diagnostics, pong, host_build, vars_result, session_reset_result
        return this.emit(msg.type, msg);
    }
  }

  async handlePatch(header, bytes, ws) {
    const detail = await this.applier.applyPatch(header, bytes);
    this.connection.send(ClientMsg.ack(header.seq, detail.ok, detail.applyMs, detail.error, detail.output, detail.value), ws);
    // Its run-once function trapped and the page restored its state: undone everywhere, as a trap.
    if (detail.runUndone) this.sendTrap(ClientMsg.undo(`trap-${++this.evalCounter}`, header.seq, true, detail.error));
    if (detail.duplicate) return;
    this.emit('patch', detail);
    if (detail.output) this.emit('output', { seq: detail.seq, evalId: detail.evalId, text: detail.output, replay: detail.replay });
    this.emit('history', this.vars());
  }

  // ---- trap-safe calls ------------------------------------------------------------------

  /** The function behind an export name (`frame` or `_frame`), looked up once. */
  exportFn(name) {
    let fn = this.exports.get(name);
    if (fn) return fn;
    const M = this.Module;
    fn = M[`_${name}`] ?? M[name];
    if (typeof fn !== 'function') {
      const bare = name.replace(/^_/, '');
      throw new Error(`the module exports no function \`${bare}\`: add "${bare}" to [build] exports in hotwasm.toml and rebuild`);
    }
    this.exports.set(name, fn);
    return fn;
  }

  /** Trap-safe call; see the top of this file. */
  call(fn, ...args) {
    if (this.holding) {
      this.heldCalls += 1;
      return HELD;
    }
    const f = typeof fn === 'function' ? fn : this.exportFn(String(fn));
    const name = typeof fn === 'function' ? fn.name || null : String(fn).replace(/^_/, '');
    const M = this.Module;
    const sp = M.stackSave();
    // The outermost call only: a trap undoes that call's writes (call-guard.js).
    const copy = this.depth === 0 && this.hotReload ? this.applier.callGuard.before() : 0;
    this.depth += 1;
    try {
      return f(...args);
    } catch (error) {
      // The wasm frames a trap unwound never ran their epilogues: put the stack pointer back.
      M.stackRestore(sp);
      if (isControlFlow(error) || !fromWasm(error)) throw error;
      this.recoverFromTrap(error, { call: name, copy });
      return TRAPPED;
    } finally {
      this.depth -= 1;
    }
  }

  /**
   * Undoes the trapping call when `hot.call` copied memory before it (`copy`: its number from
   * the call guard; `call`: the export's name, for the event), rolls back the patched var to
   * blame for `error` (here at once, then journaled by the server for every other page) and
   * emits 'trap'. Call it yourself only if you catch traps without `hot.call`, after restoring
   * the stack pointer (no copy then: the call's writes stay, and the event says so).
   */
  recoverFromTrap(error, { call = null, copy = 0 } = {}) {
    const pending = this.hotReload ? pendingVars(error, (frame) => pendingNames(this.applier.patches, (path) => this.Module.FS.readFile(path), this.vars(), frame)) : [];
    // A call of a var no eval defines yet: the caller's code is not at fault, nothing rolls back.
    const info = pending.length
      ? { message: pendingMessage(pending), how: 'pending', pending: pending.join(', '), vars: [], var: null, stack: error?.stack ?? '', state: this.applier.undoCall(call, copy) }
      : this.hotReload ? this.applier.rollBackTrap(error, { call, copy }) : { message: describeTrap(error), how: 'none', vars: [], var: null, stack: error?.stack ?? '', state: null };
    // The code rollback is journaled for every other page; the undone call was this page's own.
    for (const v of info.vars) {
      if (v.rolledBack) this.sendTrap(ClientMsg.trap(v.seq, v.var, info.message));
    }
    this.emit('trap', { ...info, error });
    if (info.vars.length) this.emit('history', this.vars());
    return info;
  }

  /**
   * A host with threads reports a trap on a worker thread to the main thread with its stack
   * (server/src/bundle/worker_traps.js, linked into the host); from now on each report rolls
   * back the var it blames, in order with the patches (the queue: never while the loader thread
   * applies one). Reports from before the client attached are handled first.
   */
  takeWorkerTraps(Module) {
    if (!Array.isArray(Module.hotwasmWorkerTraps)) return;
    const earlier = Module.hotwasmWorkerTraps.splice(0);
    Module.hotwasmWorkerTrap = (report) => this.enqueue(() => this.recoverFromWorkerTrap(report));
    earlier.forEach((r) => Module.hotwasmWorkerTrap(r));
  }

  /**
   * A trap on a worker: that thread is gone (its stack unwound, its wait never ends, whatever
   * waits for it waits forever); the patched var its stack names is rolled back here, journaled
   * by the server for every page and reload, and 'trap' says which thread and which var.
   */
  recoverFromWorkerTrap(report) {
    const error = Object.assign(new Error(report.message), { name: report.name ?? 'Error', stack: report.stack ?? '' });
    const info = this.hotReload ? this.applier.rollBackTrap(error) : { how: 'none', vars: [], var: null, stack: error.stack };
    const thread = `worker thread 0x${(report.thread >>> 0).toString(16)}`;
    const rolled = info.vars.filter((v) => v.rolledBack).map((v) => `${v.var} (patch #${v.seq})`);
    const message = `${describeTrap(error)} on ${thread}: that thread is gone (whatever waits for it waits forever)` +
      (rolled.length ? `; rolled back ${rolled.join(', ')}, the previous version runs on every other thread and page` : '; no patched var to roll back: the trap was in the app\'s own code');
    const detail = {
      ...info,
      message,
      worker: { thread: report.thread, gone: true },
      state: { restored: false, scope: 'none', call: null, ms: 0, reason: 'the trap was on a worker thread, which is gone', leftBehind: LEFT_BEHIND_ON_WORKER },
    };
    for (const v of info.vars) if (v.rolledBack) this.sendTrap(ClientMsg.trap(v.seq, v.var, message));
    this.emit('trap', { ...detail, error });
    if (info.vars.length) this.emit('history', this.vars());
    return detail;
  }

  /** Tells the server (which journals the rollback for every other page), now or once back. */
  sendTrap(msg) {
    if (!this.connection.send(msg)) this.unsentTraps.push(msg);
  }

  // ---- requests -------------------------------------------------------------------------

  /** Compiles `source` on the server and delivers it to every page; resolves to eval_result. */
  eval(source, lang = 'c', { name } = {}) {
    if (source && typeof source === 'object') ({ source, lang = 'c', name } = source);
    const id = `e${++this.evalCounter}-${Math.random().toString(36).slice(2, 8)}`;
    return new Promise((resolve, reject) => {
      if (!this.connection.send(ClientMsg.eval(id, lang, source, name))) {
        reject(new Error('not connected to the hotwasm server: start it with `hotwasm serve`; the page reconnects by itself'));
        return;
      }
      const timer = setTimeout(() => {
        this.pendingEvals.delete(id);
        reject(new Error(`the server did not answer eval ${id} within ${EVAL_TIMEOUT_MS / 1000} s`));
      }, EVAL_TIMEOUT_MS);
      this.pendingEvals.set(id, { resolve, reject, timer, sentAt: now() });
    });
  }

  /** Whether an eval sent from this page awaits its result (the patch may arrive first). */
  isOwnEval(evalId) {
    return this.pendingEvals.has(evalId);
  }

  settleEval(msg) {
    const pending = this.pendingEvals.get(msg.id);
    const result = { ...msg, clientMs: pending ? now() - pending.sentAt : null };
    if (pending) {
      this.pendingEvals.delete(msg.id);
      clearTimeout(pending.timer);
      pending.resolve(result);
    }
    this.emit('eval_result', result);
  }

  /** A refusal that names an eval of this page (busy, too large, …) ends that eval's wait. */
  failRequest(msg) {
    const pending = msg.id != null && this.pendingEvals.get(msg.id);
    if (!pending) return;
    this.pendingEvals.delete(msg.id);
    clearTimeout(pending.timer);
    pending.reject(Object.assign(new Error(`the server refused eval ${msg.id} (${msg.code}): ${msg.message}`), { code: msg.code }));
  }

  failPending(reason) {
    for (const p of [...this.pendingUndos.values()]) p.reject(new Error(reason));
    for (const [id, p] of this.pendingEvals) {
      clearTimeout(p.timer);
      p.reject(new Error(reason));
      this.pendingEvals.delete(id);
    }
  }

  /** Every current var as the server knows it (a `vars` request, answered by `vars_result`). */
  serverVars() {
    const id = `v${++this.evalCounter}`;
    return new Promise((resolve, reject) => {
      const finish = (fn, value) => (clearTimeout(timer), off(), fn(value));
      const off = this.on('vars_result', (m) => m.id === id && finish(resolve, m.vars));
      const timer = setTimeout(() => finish(reject, new Error(`the server did not answer vars within ${EVAL_TIMEOUT_MS / 1000} s`)), EVAL_TIMEOUT_MS);
      if (!this.connection.send(ClientMsg.vars(id))) finish(reject, new Error('not connected to the hotwasm server: start it with `hotwasm serve`'));
    });
  }

  /**
   * Starts fresh C and C++ compiler sessions on the server (`:reset`): later evals no longer see
   * what earlier evals declared; the pages keep running what they applied. Resolves with the
   * last journal entry the old sessions held.
   */
  resetSession() {
    const id = `r${++this.evalCounter}`;
    return new Promise((resolve, reject) => {
      const finish = (fn, value) => (clearTimeout(timer), off(), fn(value));
      const off = this.on('session_reset_result', (m) => m.id === id && finish(resolve, m.after_seq));
      const timer = setTimeout(() => finish(reject, new Error(`the server did not answer session_reset within ${EVAL_TIMEOUT_MS / 1000} s`)), EVAL_TIMEOUT_MS);
      if (!this.connection.send(ClientMsg.sessionReset(id))) finish(reject, new Error('not connected to the hotwasm server: start it with `hotwasm serve`'));
    });
  }

  /**
   * Asks the server to roll `varName` back one version on every page (journaled). Resolves
   * with the rollback's detail once it reached this page; rejects when the server refuses.
   */
  rollback(varName) {
    return new Promise((resolve, reject) => {
      const offs = [];
      const finish = (fn, value) => {
        clearTimeout(timer);
        offs.forEach((off) => off());
        fn(value);
      };
      offs.push(this.on('rollback', (r) => r.var === varName && !r.replay && finish(r.ok ? resolve : reject, r.ok ? r : new Error(r.error))));
      offs.push(this.on('server_error', (e) => finish(reject, new Error(e.message))));
      const timer = setTimeout(() => finish(reject, new Error(`the rollback of ${varName} did not come back within ${ROLLBACK_TIMEOUT_MS / 1000} s`)), ROLLBACK_TIMEOUT_MS);
      if (!this.connection.send(ClientMsg.rollback(varName))) {
        finish(reject, new Error('not connected: a rollback goes through the server so that it is journaled'));
      }
    });
  }

  /**
   * Rolls every page back to just before journal entry `seq` (code, and with `state` memory);
   * resolves to the server's undo_result once every page answered, rejects when refused.
   */
  undo(seq, { state = true } = {}) {
    const id = `u${++this.evalCounter}-${Math.random().toString(36).slice(2, 8)}`;
    return new Promise((resolve, reject) => {
      const off = this.on('server_error', (e) => settle(reject, new Error(e.message)));
      const timer = setTimeout(() => settle(reject, new Error(`the server did not answer undo ${id} within ${EVAL_TIMEOUT_MS / 1000} s`)), EVAL_TIMEOUT_MS);
      const settle = (fn, value) => {
        clearTimeout(timer);
        off();
        this.pendingUndos.delete(id);
        fn(value);
      };
      this.pendingUndos.set(id, { resolve: (msg) => settle(resolve, msg), reject: (e) => settle(reject, e) });
      if (!this.connection.send(ClientMsg.undo(id, seq, state))) {
        settle(reject, new Error('not connected: an undo goes through the server so that every page and the journal follow'));
      }
    });
  }

  settleUndo(msg) {
    this.pendingUndos.get(msg.id)?.resolve(msg);
    this.emit('undo_result', msg);
  }

  resetJournal() {
    if (!this.connection.send(ClientMsg.journalReset())) throw new Error('not connected to the hotwasm server');
  }

  reconnect() {
    this.connection.reconnectNow();
  }

  close() {
    this.connection.stop();
    this.stdio.release();
  }

  vars() {
    return this.applier.vars();
  }

  /** The journal position of this wasm instance (for tests and tools). */
  get journal() {
    return { epoch: this.applier.journalEpoch, seq: this.applier.journalSeq, localRollbacks: [...this.applier.localRollbacks] };
  }
}
