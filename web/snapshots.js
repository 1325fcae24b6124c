// snapshots.js: copies of the app's linear memory taken before each patch, so that "undo with
// state" and a trap can put the world back exactly as it was before that patch.
//
// What a snapshot holds, and why that is enough:
//   - the whole linear memory up to its current length (one `TypedArray.prototype.slice`): the
//     app's heap and globals, the C library's malloc state, the runtime's registry (its slots and
//     version histories, so the code the app runs comes back with the data), and the C side of
//     Emscripten's dynamic linker (its list of loaded libraries);
//   - what Emscripten keeps in JS, outside linear memory (src/library_dylink.js): the GOT, one
//     `WebAssembly.Global` per symbol holding a memory address or a table index, and LDSO, the
//     loaded libraries by name and by handle. Of those a snapshot records only how they looked
//     (the GOT's names in order and the names that had no address yet; LDSO's two maps), because
//     they only ever grow between a snapshot and its restore.
//
// Restoring a snapshot, step by step (the caller ran no wasm code between the steps):
//   1. memory: the saved bytes are copied back over the prefix they came from; memory that grew
//      since is zeroed (wasm memory cannot shrink, so the page keeps its size, and the restored
//      allocator never handed out the grown part: it reads as fresh memory again);
//   2. GOT: entries created after the snapshot are deleted, entries that had no address then are
//      zeroed again (and lose the `required` mark later imports gave them). Those entries point
//      into memory the undone patches got from `calloc` after the snapshot, which the restored
//      allocator considers free: a global first defined by an undone patch must not keep that
//      address, or the next patch that defines it would share storage with whatever malloc puts
//      there next. With the entry gone, that patch gets fresh storage (first definition wins);
//   3. LDSO: both maps go back to their saved contents, so no record names an undone patch or a
//      handle (a `struct dso` in linear memory) that the restore freed;
//   4. every snapshot taken after this one describes a future that no longer happens: dropped.
// What is not restored: the table (it only grows; an undone patch's functions keep their slots
// but nothing in the restored memory calls them), Emscripten's file system and the page's own JS
// objects, and the preload cache of compiled patches (JS memory, never looked up again: patch
// paths are unique).
//
// Bounds: at most `count` snapshots and `budgetBytes` bytes in all; the newest survive. A single
// snapshot larger than the budget is not taken (the patch still applies; undo with state to
// before it then says there is no snapshot).
//
// Speed: copying into a fresh buffer costs the browser a page fault per 4 KB of it (measured in
// headless Chromium: a 241 MB `slice` took 200-700 ms, a copy into memory already touched ~40 ms).
// So the buffer of the last snapshot dropped (evicted, restored or undone) is kept as a spare and
// the next snapshot is copied into it: once the page holds `count` snapshots, each new one costs
// one memcpy. Until then (a fresh page), a spare buffer of the current memory size is allocated
// and touched in idle time (`requestIdleCallback`, else a timer) after start-up and after each
// snapshot, so that the copy in the patch path never pays the page faults. The spare is one
// buffer more than the bound, and is only prepared while it fits the budget beside the kept ones.

const now = () => globalThis.performance.now();
const MB = 1024 * 1024;

/** Defaults of `[serve] snapshots` and `[serve] snapshot_budget_mb` in hotwasm.toml. */
export const DEFAULT_SNAPSHOTS = 8;
export const DEFAULT_SNAPSHOT_BUDGET_MB = 512;

export class Snapshots {
  /**
   * @param {object} Module the Emscripten module (HEAPU8 exported; GOT and LDSO exported by
   *   `hotwasm build`, without them steps 2-3 above are skipped and `restore` says so)
   * @param {{count?: number, budgetMb?: number}} [options]
   */
  constructor(Module, { count = DEFAULT_SNAPSHOTS, budgetMb = DEFAULT_SNAPSHOT_BUDGET_MB } = {}) {
    this.Module = Module;
    this.count = Math.max(0, Math.floor(count));
    this.budgetBytes = Math.max(0, budgetMb) * MB;
    /** Oldest first: {seq, heap: Uint8Array, got, ldso, ms}. */
    this.list = [];
    /** The buffer of the last snapshot dropped, reused by the next one (see Speed above). */
    this.spare = null;
    this.preparing = null;
    /** The GOT as the last snapshot (or restore) saw it: the next one only looks at what changed. */
    this.gotSeen = null;
    this.prepareSpare();
  }

  /**
   * In idle time, allocates and touches a buffer for the next snapshot when no evicted one will
   * be there to reuse (see Speed above).
   */
  prepareSpare() {
    if (this.preparing || this.count === 0) return;
    const idle = globalThis.requestIdleCallback ?? ((fn) => setTimeout(fn, 20));
    this.preparing = idle(() => {
      this.preparing = null;
      const len = this.Module.HEAPU8?.length ?? 0;
      if (!len || (this.spare && this.spare.byteLength >= len)) return;
      if (this.list.length + 1 > this.count || this.bytes + 2 * len > this.budgetBytes) return; // eviction will give one
      const buf = new ArrayBuffer(len);
      new Uint8Array(buf).fill(0xff); // page it in now, not during the next patch
      this.spare = buf;
    });
    this.preparing?.unref?.(); // Node: never keep the process alive for it
  }

  /** Bytes held by every kept snapshot. */
  get bytes() {
    return this.list.reduce((n, s) => n + s.heap.length, 0);
  }

  /** Keeps the buffer of a dropped snapshot for the next one (the largest seen). */
  release(snap) {
    const buf = snap.heap.buffer;
    if (!this.spare || buf.byteLength > this.spare.byteLength) this.spare = buf;
  }

  /** The seqs that have a snapshot, oldest first. */
  get seqs() {
    return this.list.map((s) => s.seq);
  }

  has(seq) {
    return this.list.some((s) => s.seq === seq);
  }

  /** Copies linear memory as it is now, as the state before patch `seq`. */
  take(seq) {
    if (this.count === 0) return { kept: false, ms: 0, bytes: 0, reason: 'snapshots are off ([serve] snapshots = 0)' };
    const t0 = now();
    const live = this.Module.HEAPU8;
    const len = live.length;
    if (len > this.budgetBytes) {
      return { kept: false, ms: now() - t0, bytes: len, reason: `linear memory (${mb(len)}) is over [serve] snapshot_budget_mb (${mb(this.budgetBytes)})` };
    }
    for (const s of this.list.filter((x) => x.seq === seq)) this.release(s);
    this.list = this.list.filter((s) => s.seq !== seq);
    const evicted = this.evict(len);
    let heap;
    if (this.spare && this.spare.byteLength >= len) {
      heap = new Uint8Array(this.spare, 0, len);
      heap.set(live);
    } else {
      heap = live.slice();
    }
    this.spare = null;
    const got = saveGot(this.Module.GOT, this.gotSeen);
    this.gotSeen = got;
    const snap = { seq, heap, got, ldso: saveLdso(this.Module.LDSO), ms: 0 };
    snap.ms = now() - t0;
    this.list.push(snap);
    this.prepareSpare();
    return { kept: true, ms: snap.ms, bytes: len, evicted };
  }

  /**
   * Drops the oldest snapshots until one of `incoming` more bytes fits both bounds; returns the
   * seqs dropped.
   */
  evict(incoming = 0) {
    const dropped = [];
    let total = this.bytes;
    const room = incoming ? 1 : 0;
    while (this.list.length && (this.list.length + room > this.count || total + incoming > this.budgetBytes)) {
      const old = this.list.shift();
      total -= old.heap.length;
      dropped.push(old.seq);
      this.release(old);
    }
    return dropped;
  }

  /** Forgets the snapshot of `seq` and every newer one (their futures were undone). */
  dropFrom(seq) {
    for (const s of this.list) if (s.seq >= seq) this.release(s);
    this.list = this.list.filter((s) => s.seq < seq);
  }

  /**
   * Puts memory, the GOT and LDSO back as they were before patch `seq` (see the top of this
   * file). Returns {ms, bytes, zeroed, got: {deleted, zeroed}, libs, warning}; throws when there
   * is no snapshot of `seq` (ask `has` first) or memory shrank (a different instance).
   */
  restore(seq) {
    const snap = this.list.find((s) => s.seq === seq);
    if (!snap) throw new Error(`no snapshot before patch #${seq} on this page (kept: ${this.describeKept()})`);
    const M = this.Module;
    const heap = M.HEAPU8;
    if (heap.length < snap.heap.length) {
      throw new Error(`linear memory is ${mb(heap.length)}, smaller than the ${mb(snap.heap.length)} snapshot before patch #${seq}: it belongs to another instance`);
    }
    const t0 = now();
    // ---- STATE-CHANGING SECTION: no wasm code runs until it ends ----
    heap.set(snap.heap, 0);
    const zeroed = heap.length - snap.heap.length;
    if (zeroed) heap.fill(0, snap.heap.length);
    const got = restoreGot(M.GOT, snap.got);
    this.gotSeen = snap.got; // the GOT is exactly as that snapshot saw it again
    const libs = restoreLdso(M.LDSO, snap.ldso);
    // ---- end ----
    this.dropFrom(seq);
    const warning = M.GOT && M.LDSO ? null : 'this host build does not export GOT and LDSO: globals first defined by the undone patches may keep pointing into freed memory (rebuild it with `hotwasm build --hot`)';
    return { ms: now() - t0, bytes: snap.heap.length, zeroed, got, libs, warning };
  }

  describeKept() {
    return this.list.length ? `#${this.seqs.join(', #')}` : 'none';
  }
}

const mb = (n) => `${(n / MB).toFixed(n < 10 * MB ? 1 : 0)} MB`;

/**
 * The GOT's names in order (it only grows) and the names with no address yet. Reading a
 * `WebAssembly.Global` costs ~2 µs (a host with thousands of exports: milliseconds), and an
 * entry with an address never loses it (only a restore zeroes entries, and it resets `seen`):
 * so only the entries added since `seen` and those unset then are read.
 */
function saveGot(GOT, seen) {
  if (!GOT) return null;
  const names = Object.keys(GOT);
  const fresh = !seen || seen.count > names.length;
  const unset = new Map();
  const check = (name) => {
    const g = GOT[name];
    if (g && g.value == 0) unset.set(name, !!g.required);
  };
  if (fresh) names.forEach(check);
  else {
    for (const name of seen.unset.keys()) check(name);
    for (let i = seen.count; i < names.length; i++) check(names[i]);
  }
  return { count: names.length, unset };
}

function restoreGot(GOT, saved) {
  if (!GOT || !saved) return { deleted: 0, zeroed: 0 };
  const names = Object.keys(GOT);
  let deleted = 0;
  let zeroed = 0;
  for (const name of names.slice(saved.count)) {
    delete GOT[name];
    deleted++;
  }
  for (const [name, required] of saved.unset) {
    const g = GOT[name];
    if (!g || g.value == 0) continue;
    g.value = 0;
    g.required = required;
    zeroed++;
  }
  return { deleted, zeroed };
}

function saveLdso(LDSO) {
  if (!LDSO) return null;
  return { byName: { ...LDSO.loadedLibsByName }, byHandle: { ...LDSO.loadedLibsByHandle } };
}

/** Puts both maps back; returns how many library records were forgotten. */
function restoreLdso(LDSO, saved) {
  if (!LDSO || !saved) return 0;
  let forgotten = 0;
  for (const [key, map] of [
    ['loadedLibsByName', saved.byName],
    ['loadedLibsByHandle', saved.byHandle],
  ]) {
    const live = LDSO[key];
    for (const k of Object.keys(live)) {
      if (!(k in map)) {
        delete live[k];
        if (key === 'loadedLibsByName') forgotten++;
      }
    }
    Object.assign(live, map);
  }
  return forgotten;
}
