// call-guard.js: a copy of linear memory taken before each call from the page into the app while a
// patch is new, so that a trap undoes the call that trapped — and nothing the app did before it.
//
// Why per call: the snapshot before a patch (snapshots.js) is far in the past by the time the
// patched code traps: restoring it would throw away every frame, every user action and every
// eval since the patch. A trap's damage is confined to the call that trapped (its writes before
// the trap, a `RefCell` it had borrowed, an interpreter it left mid-call, a lock it held), so
// the page copies memory before each `hot.call` and puts exactly that call's writes back.
//
// While a patch is new: the copy costs one memcpy per call, so it is taken for the first `calls`
// calls after each patch applied on this page (default 600: ten seconds of frames at 60 fps), and
// only while the copied part is at most `maxMb`. A trap outside that window, or over that size,
// rolls back the code only and the `trap` event says that the call's writes stayed
// (`state.restored: false`, `state.reason`).
//
// Only the used part of memory is copied: everything below the heap's break (`sbrk(0)`: the
// data, the stack, every block malloc handed out, the allocator's own state, the runtime's
// registry). Nothing above the break was handed out, so restoring writes the copy back below the
// old break and zeroes what the trapping call took above it (the restored allocator will hand it
// out again as fresh memory). A host that does not export `sbrk` (built before it was in
// scripts/libc-exports.txt) gets the whole memory copied. What a call changes outside linear
// memory is not undone: Emscripten's GOT and LDSO (an app that dlopens inside a call), the file
// system, the page's JS objects. Cost: docs/PROTOCOL.md, "Undo and state snapshots".
//
// The copy reuses one buffer, allocated and touched when a patch applies (not in the first
// guarded call: a fresh buffer costs a page fault per 4 KB), grown only when the break passed it.

const now = () => globalThis.performance.now();
const MB = 1024 * 1024;

/** Defaults: guarded calls after each patch, and the largest copy per call. */
export const DEFAULT_GUARD_CALLS = 600;
export const DEFAULT_GUARD_MAX_MB = 32;

export class CallGuard {
  /**
   * @param {object} Module the Emscripten module
   * @param {{calls?: number, maxMb?: number}|false} [options] false: never guard calls
   */
  constructor(Module, options = {}) {
    const { calls = DEFAULT_GUARD_CALLS, maxMb = DEFAULT_GUARD_MAX_MB } = options || {};
    this.Module = Module;
    this.calls = options === false ? 0 : Math.max(0, Math.floor(calls));
    this.maxMb = maxMb;
    /** The reused buffer (null until the first patch). */
    this.buffer = null;
    /** Guarded calls left before the newest patch stops counting as new. */
    this.left = 0;
    /** The number of the call whose copy is held (0: none), and the break it was taken at. */
    this.held = 0;
    this.heldEnd = 0;
    this.serial = 0;
    this.why = null;
    /** What the copies cost on this page: {count, totalMs, maxMs, bytes}. */
    this.stats = { count: 0, totalMs: 0, maxMs: 0, bytes: 0 };
  }

  /** The end of the used part of memory: the heap's break, else the whole memory. */
  usedEnd() {
    const M = this.Module;
    const len = M.HEAPU8.length;
    return typeof M._sbrk === 'function' ? Math.min(len, M._sbrk(0) >>> 0) : len;
  }

  /** A patch applied here: the next `calls` calls are guarded; the buffer is made ready now. */
  arm() {
    if (!this.calls) return;
    this.left = this.calls;
    this.ensureBuffer(this.usedEnd());
  }

  ensureBuffer(bytes) {
    if (this.buffer && this.buffer.length >= bytes) return;
    // Room for the heap to grow a little, within the limit.
    const size = Math.max(bytes, Math.min(Math.ceil((bytes * 1.25) / 65536) * 65536, this.maxMb * MB));
    this.buffer = new Uint8Array(size);
    this.buffer.fill(0xff); // page it in now, not during a call
  }

  /**
   * Before a call: copies the used memory when a patch is new. Returns the call's number (pass it
   * to `restore` if the call traps), or 0 with `why` set when the call is not guarded.
   */
  before() {
    this.held = 0;
    if (this.left <= 0) {
      this.why = this.calls ? `it came ${this.calls} or more calls after the newest patch (only calls while a patch is new are copied)` : 'per-call copies are off on this page';
      return 0;
    }
    this.left -= 1;
    const t0 = now();
    const end = this.usedEnd();
    if (end > this.maxMb * MB) {
      this.why = `the app's memory in use (${Math.round(end / MB)} MB) is over the per-call copy limit (${this.maxMb} MB)`;
      return 0;
    }
    this.ensureBuffer(end);
    this.buffer.set(this.Module.HEAPU8.subarray(0, end));
    this.held = ++this.serial;
    this.heldEnd = end;
    const ms = now() - t0;
    const s = this.stats;
    s.count += 1;
    s.totalMs += ms;
    s.maxMs = Math.max(s.maxMs, ms);
    s.bytes = end;
    return this.held;
  }

  /**
   * After call `n` trapped: the used memory back as before it, what the call took above the old
   * break zeroed. Returns {restored, ms, bytes, zeroed, reason?}.
   */
  restore(n) {
    if (!n || n !== this.held) return { restored: false, ms: 0, bytes: 0, reason: this.why ?? 'the call was not copied' };
    const t0 = now();
    const end = this.heldEnd;
    const grown = this.usedEnd(); // the break as the trapping call left it
    // ---- STATE-CHANGING SECTION: no wasm code runs until it ends ----
    const heap = this.Module.HEAPU8;
    heap.set(this.buffer.subarray(0, end), 0);
    const zeroed = Math.max(0, grown - end);
    if (zeroed) heap.fill(0, end, grown);
    // ---- end ----
    this.held = 0;
    return { restored: true, ms: now() - t0, bytes: end, zeroed };
  }

  /** Mean and worst copy time so far, for a readout: `{count, meanMs, maxMs, bytes}`. */
  cost() {
    const s = this.stats;
    return { count: s.count, meanMs: s.count ? s.totalMs / s.count : 0, maxMs: s.maxMs, bytes: s.bytes };
  }
}
