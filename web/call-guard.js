// call-guard.js: a copy of linear memory taken before each call from the page into the app while a
// patch is new, so that a trap undoes the call that trapped — and nothing the app did before it.
//
// Why per call: the snapshot before a patch (snapshots.js) is far in the past by the time the
// patched code traps: restoring it would throw away every frame, every user action and every
// eval since the patch. A trap's damage is confined to the call that trapped (its writes before
// the trap, a `RefCell` it had borrowed, an interpreter it left mid-call, a lock it held), so
// the page copies memory before each `hot.call` and puts exactly that call's writes back.
//
// While a patch is new: the copy costs one memcpy of the app's memory per call (measured in
// headless Chromium, tests/browser/trap-scope.test.mjs prints it: see docs/PROTOCOL.md, "Traps"),
// so it is taken for the first `calls` calls after each patch applied on this page (default 600:
// ten seconds of frames at 60 fps), and only while memory is at most `maxMb`. A trap outside that
// window, or over that size, rolls back the code only and the `trap` event says that the call's
// writes stayed (`state.restored: false`, `state.reason`).
//
// The copy reuses one buffer (a `Snapshots` of count 1: the buffer of the previous call's copy is
// the next one's), so after the first call no memory is allocated and no page faults are paid.
// Restoring puts the memory, Emscripten's GOT and LDSO back as before the call (snapshots.js).

import { Snapshots } from './snapshots.js';

const now = () => globalThis.performance.now();

/** Defaults: guarded calls after each patch, and the largest memory copied per call. */
export const DEFAULT_GUARD_CALLS = 600;
export const DEFAULT_GUARD_MAX_MB = 256;

export class CallGuard {
  /**
   * @param {object} Module the Emscripten module
   * @param {{calls?: number, maxMb?: number}|false} [options] false: never guard calls
   */
  constructor(Module, options = {}) {
    const { calls = DEFAULT_GUARD_CALLS, maxMb = DEFAULT_GUARD_MAX_MB } = options || {};
    this.calls = options === false ? 0 : Math.max(0, Math.floor(calls));
    this.maxMb = maxMb;
    this.copies = new Snapshots(Module, { count: this.calls ? 1 : 0, budgetMb: maxMb });
    /** Guarded calls left before the newest patch stops counting as new. */
    this.left = 0;
    /** The number of the call whose copy is held (0: none). */
    this.held = 0;
    this.serial = 0;
    /** What the copies cost on this page: {count, totalMs, maxMs, bytes}. */
    this.stats = { count: 0, totalMs: 0, maxMs: 0, bytes: 0 };
  }

  /** A patch applied here: the next `calls` calls are guarded. */
  arm() {
    this.left = this.calls;
  }

  /**
   * Before a call: copies memory when a patch is new. Returns the call's number (pass it to
   * `restore` if the call traps), or 0 with `why` set when the call is not guarded.
   */
  before() {
    this.held = 0;
    if (this.left <= 0) {
      this.why = this.calls ? `the call came ${this.calls} or more calls after the newest patch (only calls while a patch is new are copied)` : 'per-call copies are off on this page';
      return 0;
    }
    this.left -= 1;
    const len = this.copies.Module.HEAPU8?.length ?? 0;
    if (len > this.maxMb * 1024 * 1024) {
      this.why = `linear memory (${Math.round(len / 1048576)} MB) is over the per-call copy limit (${this.maxMb} MB)`;
      return 0;
    }
    const n = ++this.serial;
    const t = this.copies.take(n);
    if (!t.kept) {
      this.why = t.reason;
      return 0;
    }
    this.held = n;
    const s = this.stats;
    s.count += 1;
    s.totalMs += t.ms;
    s.maxMs = Math.max(s.maxMs, t.ms);
    s.bytes = t.bytes;
    return n;
  }

  /**
   * After call `n` trapped: memory, GOT and LDSO back as before it. Returns
   * {restored, ms, bytes, zeroed, reason?}.
   */
  restore(n) {
    if (!n || n !== this.held) return { restored: false, ms: 0, bytes: 0, reason: this.why ?? 'this call was not copied' };
    const t0 = now();
    const r = this.copies.restore(n);
    this.held = 0;
    return { restored: true, ms: now() - t0, bytes: r.bytes, zeroed: r.zeroed, warning: r.warning };
  }

  /** Mean and worst copy time so far, for a readout: `{count, meanMs, maxMs, bytes}`. */
  cost() {
    const s = this.stats;
    return { count: s.count, meanMs: s.count ? s.totalMs / s.count : 0, maxMs: s.maxMs, bytes: s.bytes };
  }
}
