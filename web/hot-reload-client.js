// hot-reload-client.js: the page side of hotwasm (docs/PROTOCOL.md, version 1).
//
// Connects to the dev server's WebSocket with the per-run token, says `hello` with the journal
// position of *this wasm instance*, applies every `patch` / `rollback` it is sent (in order, one
// at a time), acks each with its timings, reconnects with exponential backoff (250 ms → 5 s)
// when the server goes away, and recovers from traps in patched functions.
//
// Works in browsers and in Node ≥ 20 (`globalThis.WebSocket`; Node 20 needs
// `--experimental-websocket`, or pass `WebSocket` in the options).
//
// Journal position: kept in memory only, on purpose. It describes which journal entries the
// running wasm instance has applied. A page reload creates a new instance with none of them,
// so it must say `journal_seq: 0` and be sent everything again; a reconnect without a reload
// keeps the instance and its position, and is sent only what it missed. Persisting the
// position (sessionStorage, localStorage) would survive a reload that the wasm state does not.

import { ClientMsg, manifestText, parseServerMsg } from './protocol.js';
import { HostRegistry } from './registry.js';

export { PROTOCOL_VERSION } from './protocol.js';
export { HostRegistry } from './registry.js';

const now = () => globalThis.performance.now();

// Trap attribution reads the patched function's frame from the trap's stack. A Rust panic
// reaches the trap through a dozen frames of the host's panic machinery (panic → abort), deeper
// than V8's default of 10 captured frames, so keep more of them.
if (typeof Error.stackTraceLimit === 'number' && Error.stackTraceLimit < 100) Error.stackTraceLimit = 100;

const BACKOFF_MIN_MS = 250;
const BACKOFF_MAX_MS = 5000;
const EVAL_TIMEOUT_MS = 120_000;

/** The token the server injected into the page (`<meta name="hotwasm-token">`) or `?token=`. */
export function tokenFromPage(doc = globalThis.document, loc = globalThis.location) {
  const meta = doc?.querySelector?.('meta[name="hotwasm-token"]');
  const fromMeta = meta?.getAttribute('content');
  if (fromMeta && !/^(%|\{\{)/.test(fromMeta)) return fromMeta; // not the unreplaced placeholder
  if (loc?.search) {
    const q = new URLSearchParams(loc.search).get('token');
    if (q) return q;
  }
  return null;
}

/**
 * The token in a fresh copy of this page from the server (a restarted server has a new one).
 * Same-origin only: other sites cannot read the response, and the server checks `Host`.
 */
export async function tokenFromServedPage(loc = globalThis.location) {
  if (!loc || typeof fetch !== 'function') return null;
  const res = await fetch(loc.pathname || '/', { cache: 'no-store' });
  if (!res.ok) return null;
  const m = (await res.text()).match(/<meta\s+name="hotwasm-token"\s+content="([^"]*)"/);
  return m && !/^(%|\{\{)/.test(m[1]) ? m[1] : null;
}

/** `ws://<page host>/repl?token=…` for a page served by the dev server. */
export function replUrlForPage(token, loc = globalThis.location) {
  const scheme = loc.protocol === 'https:' ? 'wss:' : 'ws:';
  return `${scheme}//${loc.host}/repl?token=${encodeURIComponent(token)}`;
}

/**
 * Print hooks to pass to the Emscripten module factory (`print`/`printErr` are read once when
 * the module starts, so they must be ours from the start). `capture(fn)` returns what the wasm
 * code printed while `fn` ran.
 */
export function createPrintHooks({ print = console.log, printErr = console.warn } = {}) {
  let sink = null;
  return {
    print: (text) => (sink ? sink.push(text) : print(text)),
    printErr: (text) => (sink ? sink.push(text) : printErr(text)),
    capture(fn) {
      const lines = [];
      const outer = sink;
      sink = lines;
      try {
        fn();
      } finally {
        sink = outer;
      }
      return lines.join('\n');
    },
  };
}

/** Best-effort description of what was thrown out of wasm. */
export function describeTrap(error) {
  if (error instanceof Error) return `${error.name}: ${error.message}`;
  if (globalThis.WebAssembly?.Exception && error instanceof WebAssembly.Exception) {
    return 'uncaught wasm exception (a Rust panic or C++ throw left the patched function)';
  }
  return String(error);
}

/**
 * The client. Events (subscribe with `on(type, fn)`):
 *   status        {state: 'connecting'|'open'|'closed'|'stopped', retryMs?, attempt?, reason?}
 *   welcome       the server's welcome message
 *   patch         {seq, evalId, manifest, replay, ok, error, output, applyMs, writeMs, preloaded, patchId, size}
 *   rollback      {seq, var, replay, ok, error, local}
 *   eval_result   the server's eval_result plus `clientMs` (eval sent → result received)
 *   diagnostics   a file-watch compile failure
 *   replay_done   {count}
 *   journal_reset {journal_epoch}
 *   trap          {var, seq, message, rolledBack, error}
 *   server_error  the server's `error` message
 *   vars          registry.list() after any change
 *   log           {level, message}
 */
export class HotReloadClient {
  /**
   * @param {object} options
   * @param {object} options.module the Emscripten module (runtime initialised)
   * @param {string} [options.url] full ws URL including `?token=`; default: this page's /repl
   * @param {string} [options.token] default: tokenFromPage()
   * @param {ReturnType<typeof createPrintHooks>} [options.printHooks]
   * @param {typeof WebSocket} [options.WebSocket]
   * @param {number} [options.preloadThreshold] bytes from which patches compile asynchronously
   */
  constructor(options) {
    this.module = options.module;
    this.registry = options.registry ?? new HostRegistry(options.module, { preloadThreshold: options.preloadThreshold });
    this.printHooks = options.printHooks ?? null;
    this.WebSocket = options.WebSocket ?? globalThis.WebSocket;
    this.token = options.token ?? tokenFromPage();
    this.url = options.url ?? (this.token ? replUrlForPage(this.token) : null);
    this.backoffMin = options.backoffMinMs ?? BACKOFF_MIN_MS;
    this.backoffMax = options.backoffMaxMs ?? BACKOFF_MAX_MS;
    /** Async () => the server's current token; called before each reconnect attempt. */
    this.refreshToken = options.refreshToken ?? (options.url ? null : tokenFromServedPage);

    this.journalEpoch = null;
    this.journalSeq = 0;
    this.welcome = null;
    this.hostVars = [];

    this.ws = null;
    this.state = 'idle';
    this.attempt = 0;
    this.retryTimer = null;
    this.stopped = false;
    this.pendingHeader = null;
    this.chain = Promise.resolve();
    this.listeners = new Map();
    this.pendingEvals = new Map();
    this.evalCounter = 0;

    /** seq → {seq, patchId, path, manifest, evalId, appliedAt} for patches applied here. */
    this.patches = new Map();
    /** patch id (hotwasm_apply's answer) → seq. */
    this.patchIdToSeq = new Map();
    /** versioned symbol → {var, seq}. */
    this.symbols = new Map();
    /** vars this page rolled back itself after a trap, awaiting the server's journaled echo. */
    this.localRollbacks = [];
  }

  // ---- events ---------------------------------------------------------------------------

  on(type, fn) {
    if (!this.listeners.has(type)) this.listeners.set(type, new Set());
    this.listeners.get(type).add(fn);
    return () => this.listeners.get(type).delete(fn);
  }

  emit(type, detail) {
    for (const fn of this.listeners.get(type) ?? []) {
      try {
        fn(detail);
      } catch (e) {
        console.error(`hotwasm: a "${type}" listener threw`, e);
      }
    }
  }

  log(level, message) {
    this.emit('log', { level, message });
  }

  setStatus(state, extra = {}) {
    this.state = state;
    this.emit('status', { state, ...extra });
  }

  // ---- connection -----------------------------------------------------------------------

  /** Connects (and keeps reconnecting until `stop()`). */
  start() {
    if (!this.url) {
      this.setStatus('closed', {
        reason: 'no token: open the URL the server printed (it carries ?token=…), or serve this page with `hotwasm serve`',
      });
      return this;
    }
    if (!this.WebSocket) {
      this.setStatus('closed', { reason: 'this JS engine has no WebSocket (Node 20: run with --experimental-websocket)' });
      return this;
    }
    this.stopped = false;
    this.connect();
    return this;
  }

  stop() {
    this.stopped = true;
    clearTimeout(this.retryTimer);
    this.retryTimer = null;
    if (this.ws) {
      try {
        this.ws.close(1000, 'client stopped');
      } catch {
        /* already closed */
      }
    }
    this.ws = null;
    this.failPendingEvals('the client was stopped');
    this.setStatus('stopped');
  }

  async connect() {
    clearTimeout(this.retryTimer);
    this.retryTimer = null;
    this.setStatus('connecting', { attempt: this.attempt });
    if (this.attempt > 0 && this.refreshToken) {
      // A restarted server has a new per-run token: ask for it before trying again.
      try {
        const token = await this.refreshToken();
        if (token && token !== this.token) {
          this.token = token;
          const u = new URL(this.url);
          u.searchParams.set('token', token);
          this.url = u.toString();
          this.log('info', 'the server has a new token (it restarted); using it');
        }
      } catch {
        /* server still down: the WebSocket attempt below fails and backs off */
      }
      if (this.stopped || this.state !== 'connecting') return;
    }
    let ws;
    try {
      ws = new this.WebSocket(this.url);
    } catch (e) {
      this.scheduleReconnect(`cannot open the WebSocket: ${e.message}`);
      return;
    }
    ws.binaryType = 'arraybuffer';
    this.ws = ws;
    this.pendingHeader = null;
    ws.onopen = () => {
      // Say hello only once everything received earlier has been applied, so the journal
      // position sent is the one the wasm instance really has.
      this.chain = this.chain.then(() => {
        if (this.ws === ws) this.send(ClientMsg.hello(this.journalEpoch, this.journalSeq), ws);
      });
    };
    ws.onmessage = (ev) => {
      if (this.ws === ws) this.receive(ev.data);
    };
    ws.onerror = () => {
      /* a close event follows with the details */
    };
    ws.onclose = (ev) => {
      if (this.ws !== ws) return;
      this.ws = null;
      this.pendingHeader = null;
      this.failPendingEvals('the connection to the server closed before it answered');
      if (this.stopped) return;
      const why = ev.code === 1006 ? 'server unreachable' : `closed (${ev.code}${ev.reason ? `: ${ev.reason}` : ''})`;
      this.scheduleReconnect(why);
    };
  }

  scheduleReconnect(reason) {
    const retryMs = Math.min(this.backoffMax, this.backoffMin * 2 ** this.attempt);
    this.attempt += 1;
    this.setStatus('closed', { reason, retryMs, attempt: this.attempt });
    this.retryTimer = setTimeout(() => this.connect(), retryMs);
  }

  /** Reconnects now instead of waiting for the backoff timer. */
  reconnectNow() {
    if (this.stopped || this.state === 'open' || this.state === 'connecting') return;
    this.connect();
  }

  send(msg, ws = this.ws) {
    if (!ws || ws.readyState !== 1) return false;
    ws.send(JSON.stringify(msg));
    return true;
  }

  /** Runs `fn` after everything received before it (messages are handled strictly in order). */
  enqueue(fn) {
    this.chain = this.chain.then(fn).catch((e) => {
      console.error('hotwasm: handling a server message failed', e);
      this.log('error', `handling a server message failed: ${e.message}`);
    });
  }

  receive(data) {
    if (typeof data === 'string') {
      let msg;
      try {
        msg = parseServerMsg(data);
      } catch (e) {
        this.log('error', e.message);
        return;
      }
      if (msg.type === 'patch') {
        if (this.pendingHeader) this.log('error', `patch ${this.pendingHeader.seq} header was not followed by its bytes`);
        this.pendingHeader = msg;
        return;
      }
      this.enqueue(() => this.handle(msg));
      return;
    }
    const header = this.pendingHeader;
    this.pendingHeader = null;
    if (!header) {
      this.log('error', 'server sent a binary frame without a patch header; ignored');
      return;
    }
    const bytes = new Uint8Array(data);
    const ws = this.ws;
    this.enqueue(() => this.handlePatch(header, bytes, ws));
  }

  handle(msg) {
    switch (msg.type) {
      case 'welcome':
        this.welcome = msg;
        this.hostVars = msg.host_vars ?? [];
        if (msg.journal_epoch !== this.journalEpoch) {
          // Another journal: the server sends all of it; nothing of it is applied here yet.
          this.journalEpoch = msg.journal_epoch;
          this.journalSeq = 0;
          this.localRollbacks = [];
        }
        this.attempt = 0;
        this.setStatus('open');
        this.emit('welcome', msg);
        return;
      case 'rollback':
        return this.handleRollback(msg);
      case 'eval_result': {
        const pending = this.pendingEvals.get(msg.id);
        const result = { ...msg, clientMs: pending ? now() - pending.sentAt : null };
        if (pending) {
          this.pendingEvals.delete(msg.id);
          clearTimeout(pending.timer);
          pending.resolve(result);
        }
        this.emit('eval_result', result);
        return;
      }
      case 'diagnostics':
        this.emit('diagnostics', msg);
        return;
      case 'replay_done':
        this.emit('replay_done', msg);
        return;
      case 'journal_reset':
        this.journalEpoch = msg.journal_epoch;
        this.journalSeq = 0;
        this.localRollbacks = [];
        this.emit('journal_reset', msg);
        return;
      case 'pong':
        this.emit('pong', msg);
        return;
      case 'error':
        this.log('error', `server refused a message (${msg.code}): ${msg.message}`);
        this.emit('server_error', msg);
        return;
      default:
        return;
    }
  }

  // ---- patches --------------------------------------------------------------------------

  /**
   * The server journals a trap's rollback and sends it to every page but the one that trapped
   * (which already rolled back). So a gap in the seqs this page is sent, while connected, is
   * exactly its own trap rollbacks: consume that many pending local rollbacks.
   */
  skipGap(seq) {
    const gap = seq - this.journalSeq - 1;
    if (gap > 0 && this.journalSeq > 0) this.localRollbacks.splice(0, gap);
  }

  async handlePatch(header, bytes, ws) {
    const seq = header.seq;
    const base = {
      seq,
      evalId: header.eval_id ?? null,
      manifest: header.manifest ?? [],
      replay: !!header.replay,
      size: bytes.length,
      path: header.path,
    };
    if (seq <= this.journalSeq) {
      // Already applied by this instance (a reconnect raced with delivery): do not apply twice.
      this.send(ClientMsg.ack(seq, true, 0, null, ''), ws);
      return;
    }
    this.skipGap(seq);
    const t0 = now();
    let ok = false;
    let error = null;
    let output = '';
    let patchId = 0;
    let write = { ms: 0, preloaded: false };
    try {
      if (bytes.length !== header.size) {
        throw new Error(`patch ${seq}: got ${bytes.length} bytes, the header announced ${header.size}`);
      }
      write = await this.registry.writePatch(header.path, bytes);
      const applied = this.registry.apply(header.path, manifestText(base.manifest));
      if (!applied.ok) throw new Error(applied.error);
      ok = true;
      patchId = applied.patchId;
      this.patches.set(seq, { ...base, patchId, appliedAt: Date.now() });
      this.patchIdToSeq.set(patchId, seq);
      for (const m of base.manifest) this.symbols.set(m.symbol, { var: m.var, seq });
      if (header.run) {
        const run = this.runOnce(patchId, header.path, header.run);
        output = run.output;
        error = run.error;
      }
    } catch (e) {
      error = e.message;
    }
    const applyMs = now() - t0;
    this.journalSeq = seq;
    this.send(ClientMsg.ack(seq, ok, applyMs, error, output), ws);
    this.emit('patch', { ...base, ok, error, output, applyMs, writeMs: write.ms, preloaded: write.preloaded, patchId });
    this.emit('vars', this.vars());
  }

  /** Runs the patch's `hotwasm_main` once, capturing what it prints; a trap there is reported, not fatal. */
  runOnce(patchId, path, symbol) {
    const M = this.module;
    const sp = M.stackSave();
    let error = null;
    const go = () => {
      try {
        this.registry.run(patchId, path, symbol);
      } catch (e) {
        M.stackRestore(sp);
        error = `${symbol} failed: ${describeTrap(e)}`;
      }
      if (typeof M._fflush === 'function') {
        try {
          M._fflush(0);
        } catch {
          /* stdout could not be flushed: output may be incomplete */
        }
      }
    };
    const output = this.printHooks ? this.printHooks.capture(go) : (go(), '');
    return { output, error };
  }

  handleRollback(msg) {
    const ws = this.ws;
    if (msg.seq <= this.journalSeq) {
      this.send(ClientMsg.ack(msg.seq, true, 0, null, ''), ws);
      return;
    }
    const local = this.localRollbacks.indexOf(msg.var);
    if (local < 0) this.skipGap(msg.seq);
    const t0 = now();
    let result;
    if (local >= 0) {
      // This page already rolled the var back when it trapped; this is the journaled echo.
      this.localRollbacks.splice(local, 1);
      result = { ok: true, error: null };
    } else {
      result = this.registry.rollbackVar(msg.var);
    }
    this.journalSeq = msg.seq;
    this.send(ClientMsg.ack(msg.seq, result.ok, now() - t0, result.error, ''), ws);
    this.emit('rollback', { seq: msg.seq, var: msg.var, replay: !!msg.replay, ok: result.ok, error: result.error, local: local >= 0 });
    this.emit('vars', this.vars());
  }

  // ---- requests -------------------------------------------------------------------------

  /**
   * Sends `eval` and resolves to the server's `eval_result` (plus `clientMs`). Rejects when the
   * connection is not open or closes before the answer.
   */
  eval({ lang = 'c', source, name } = {}) {
    const id = `e${++this.evalCounter}-${Math.random().toString(36).slice(2, 8)}`;
    return new Promise((resolve, reject) => {
      if (!this.send(ClientMsg.eval(id, lang, source, name))) {
        reject(new Error('not connected to the hotwasm server: start it with `hotwasm serve`, the page reconnects by itself'));
        return;
      }
      const timer = setTimeout(() => {
        this.pendingEvals.delete(id);
        reject(new Error(`the server did not answer eval ${id} within ${EVAL_TIMEOUT_MS / 1000} s`));
      }, EVAL_TIMEOUT_MS);
      this.pendingEvals.set(id, { resolve, reject, timer, sentAt: now() });
    });
  }

  failPendingEvals(reason) {
    for (const [id, p] of this.pendingEvals) {
      clearTimeout(p.timer);
      p.reject(new Error(reason));
      this.pendingEvals.delete(id);
    }
  }

  /** Asks the server to roll `varName` back on every page (it is journaled and echoed here). */
  requestRollback(varName) {
    if (!this.send(ClientMsg.rollback(varName))) {
      throw new Error('not connected: a rollback must go through the server so it is journaled');
    }
  }

  requestJournalReset() {
    if (!this.send(ClientMsg.journalReset())) throw new Error('not connected to the hotwasm server');
  }

  // ---- registry views -------------------------------------------------------------------

  /** The host's vars with each history entry annotated with its journal seq and eval id. */
  vars() {
    let list;
    try {
      list = this.registry.list();
    } catch {
      return [];
    }
    return list.map((v) => ({
      ...v,
      // The first history entry is the host's built-in code (`patch: null`).
      patched: (v.history ?? []).length > 0 && v.history[v.history.length - 1].patch != null,
      history: (v.history ?? []).map((h) => {
        const seq = this.patchIdToSeq.get(h.patch) ?? null;
        const p = seq != null ? this.patches.get(seq) : null;
        return { ...h, builtin: h.patch == null, seq, evalId: p?.evalId ?? null, appliedAt: p?.appliedAt ?? null };
      }),
    }));
  }

  // ---- traps ----------------------------------------------------------------------------

  /**
   * Call after a host call threw (and after restoring the stack pointer). Finds the patched
   * var that trapped, rolls it back here, and tells the server (`trap`), which journals the
   * rollback for the other pages. Returns `{var, seq, message, rolledBack, blamed}`; `var` is
   * null when no patched function could be blamed (the trap is in the host's own code).
   */
  recoverFromTrap(error) {
    const message = describeTrap(error);
    const vars = this.vars();
    const patched = vars.filter((v) => v.patched);
    let blamed = this.blameFromStack(error?.stack ?? '', patched);
    let how = 'stack';
    if (!blamed.length) {
      // No patch symbol in the stack (names stripped): blame the most recently applied patch
      // that is still live, every var of it.
      let newest = null;
      for (const v of patched) {
        const top = v.history[v.history.length - 1];
        if (!newest || top.patch > newest.patch) newest = top;
      }
      blamed = newest ? patched.filter((v) => v.history[v.history.length - 1].patch === newest.patch) : [];
      how = 'newest patch';
    }
    const results = [];
    for (const v of blamed) {
      const top = v.history[v.history.length - 1];
      const seq = top.seq ?? this.symbols.get(top.symbol)?.seq ?? 0;
      const rb = this.registry.rollbackVar(v.name);
      if (rb.ok) {
        this.localRollbacks.push(v.name);
        this.send(ClientMsg.trap(seq, v.name, message));
      }
      results.push({ var: v.name, seq, symbol: top.symbol, rolledBack: rb.ok, error: rb.error });
    }
    const info = { message, how, vars: results, var: results[0]?.var ?? null, stack: error?.stack ?? '' };
    this.emit('trap', info);
    this.emit('vars', this.vars());
    return info;
  }

  /**
   * The patched var whose code trapped, from the innermost matching stack frame. A frame names
   * a var by its versioned symbol, or — patches keep their original function names in the name
   * section while only exports are versioned — by the var's own name in a frame that is not in
   * the host's module (the outermost wasm frame is always the host's `demo_frame`).
   */
  blameFromStack(stack, patched) {
    const frames = stack.split('\n').filter((l) => l.includes('wasm://') || l.includes('wasm-function['));
    const moduleOf = (l) => l.match(/wasm:\/\/wasm\/([^:)\s]+)/)?.[1] ?? null;
    const hostModule = frames.length ? moduleOf(frames[frames.length - 1]) : null;
    const bySymbol = new Map();
    const byName = new Map();
    for (const v of patched) {
      bySymbol.set(v.history[v.history.length - 1].symbol, v);
      byName.set(v.name, v);
    }
    for (const line of frames) {
      const words = line.match(/[A-Za-z_][A-Za-z0-9_]*/g) ?? [];
      for (const w of words) if (bySymbol.has(w)) return [bySymbol.get(w)];
      if (moduleOf(line) !== hostModule) {
        for (const w of words) if (byName.has(w)) return [byName.get(w)];
      }
    }
    return [];
  }
}
