// applier.js: applies the server's journal entries (`patch`, `rollback`) to this wasm instance,
// one at a time, and remembers how far it got.
//
// Applying a patch, step by step (a failed step leaves the old code running):
//   1. seq already applied here (a reconnect raced with delivery) → ack ok, apply nothing
//   2. size check: the binary frame has the size its header announced
//   2a. snapshot linear memory (snapshots.js) as the state before this patch: before step 3,
//      because compiling a preloaded patch already instantiates it (its data is allocated, its
//      constructors run and may write app state)
//   3. write it into the virtual FS; `.so` files are compiled asynchronously first (registry.js)
//   4. `hotwasm_apply(path, manifest)`: dlopen → resolve every symbol → check every signature →
//      swap every slot, all or nothing (the runtime's loader)
//   5. run its `hotwasm_main` once, if any, capturing what it prints and the value of the
//      eval's final expression (`hotwasm_take_value`)
//   6. advance the journal position; the caller acks with the timings
//
// Journal position: kept in memory only, on purpose. It describes which entries the running
// wasm instance has applied. A page reload creates a new instance with none of them, so it says
// `journal_seq: 0` and is sent everything again; a reconnect keeps the instance and its
// position, and is sent only what it missed. Persisting it would survive a reload the wasm state
// does not.
//
// A patch that fails at step 3 or 4 leaves memory as it was before it (the snapshot is restored);
// so does a run-once function that fails at step 5 with `onTrap = 'state'` (its code is undone too,
// and the page asks the server to undo that patch everywhere, as after a trap).
//
// Traps in a call from the page (`hot.call`): a trap undoes at most the call that trapped.
//   `onTrap = 'state'` (the default): while a patch is new, the page copied memory before the call
//   (call-guard.js) and puts it back: every write of the trapping call is undone, nothing before
//   it (the frames, evals and user actions since the patch stay). Then, as in every mode, the
//   trapping var is rolled back (code only) and the page says `trap`; the server journals that
//   rollback and sends it to every *other* page. Outside the window (or over its size) the call's
//   writes stay and the `trap` event says why (`state.reason`, `state.leftBehind`).
//   `onTrap = 'code'`: no copies; the call's writes stay (`state.leftBehind` says what that means).
// This page recognises the journaled rollback on replay (by var) or as a gap in the seqs it is
// sent while connected, so it is never applied twice.
// A patch's run-once function that traps is different: the snapshot before that patch is one call
// old (the apply and the run), so it is restored (see above) and the patch undone everywhere.
//
// Undo (`undo {seq, state, journal_seq}`): every patch applied here from `seq` on is undone —
// with `state`, by restoring the snapshot before `seq` (memory, registry, Emscripten's GOT and
// LDSO: snapshots.js); without it, or with no snapshot kept, by taking those patches out of the
// registry newest first (`hotwasm_rollback_patch`), which leaves the data as it is. Either way
// the page forgets those patches (its seq ↔ patch id maps: the restored registry hands their ids
// out again) and deletes their files. A var a rollback entry in the undone range rolled back
// stays rolled back by a code-only undo (the registry keeps no popped versions).

import { manifestText } from './protocol.js';
import { describeTrap, blame, pendingMessage, pendingNames, pendingVars } from './traps.js';
import { Snapshots } from './snapshots.js';
import { CallGuard } from './call-guard.js';

/** What a trap leaves in memory when the trapping call is not undone (`trap` event, docs). */
export const LEFT_BEHIND =
  'whatever the trapping call wrote before it trapped stays as it was: data it half-updated, a Rust ' +
  'RefCell it had borrowed (every later borrow panics "already borrowed"), a lock it held, an ' +
  "interpreter it left mid-call; the app's own code may fail on it until the page is reloaded";

const now = () => globalThis.performance.now();

export class Applier {
  /**
   * @param {import('./registry.js').HostRegistry} registry
   * @param {{capture(fn): string}} stdio  output capture for `hotwasm_main`
   */
  constructor(registry, stdio, { snapshots = {}, onTrap = 'state', callGuard = {} } = {}) {
    this.registry = registry;
    this.stdio = stdio;
    /** Linear-memory snapshots before each patch (null: never taken). */
    this.snapshots = snapshots ? new Snapshots(registry.Module, snapshots) : null;
    /** 'state': a trap restores the snapshot before the trapping patch; 'code': rolls the var back. */
    this.onTrap = onTrap === 'code' ? 'code' : 'state';
    /** Copies of memory before each call while a patch is new (a trap undoes that call only). */
    this.callGuard = new CallGuard(registry.Module, this.onTrap === 'code' ? false : callGuard);
    this.journalEpoch = null;
    this.journalSeq = 0;
    /** seq → {seq, patchId, path, manifest, evalId, appliedAt} for patches applied here. */
    this.patches = new Map();
    /** patch id (hotwasm_apply's answer) → seq. */
    this.patchIdToSeq = new Map();
    /** vars this page rolled back itself after a trap, awaiting the server's journaled echo. */
    this.localRollbacks = [];
  }

  /** The server's journal epoch: another journal means nothing of it is applied here yet. */
  useEpoch(epoch) {
    if (epoch === this.journalEpoch) return;
    this.journalEpoch = epoch;
    this.journalSeq = 0;
    this.localRollbacks = [];
  }

  /**
   * The server journals a trap's rollback and sends it to every page but the one that trapped.
   * So a gap in the seqs of the *live* entries this page is sent is exactly its own trap
   * rollbacks: consume that many pending local rollbacks. A replay has other gaps — entries an
   * undo forgot, and commands a new instance is not sent (docs/PROTOCOL.md, "What a reload
   * replays") — and none of those: it sends this page's own rollbacks, recognised by var.
   */
  skipGap(seq, replay) {
    const gap = seq - this.journalSeq - 1;
    if (!replay && gap > 0 && this.journalSeq > 0) this.localRollbacks.splice(0, gap);
  }

  /** Applies one `patch`; resolves to the event detail (`ok`, `error`, `output`, timings). */
  async applyPatch(header, bytes) {
    const seq = header.seq;
    const base = {
      seq,
      evalId: header.eval_id ?? null,
      manifest: header.manifest ?? [],
      replay: !!header.replay,
      size: bytes.length,
      path: header.path,
    };
    if (seq <= this.journalSeq) return { ...base, ok: true, duplicate: true, error: null, output: '', applyMs: 0 };
    this.skipGap(seq, base.replay);
    const t0 = now();
    const out = { ok: false, error: null, output: '', value: null, patchId: 0, writeMs: 0, preloaded: false, snapshot: null };
    try {
      if (bytes.length !== header.size) {
        throw new Error(`patch ${seq}: got ${bytes.length} bytes, the header announced ${header.size}`);
      }
      out.snapshot = this.snapshots?.take(seq) ?? null;
      const write = await this.registry.writePatch(header.path, bytes);
      out.writeMs = write.ms;
      out.preloaded = write.preloaded;
      const applied = this.registry.loaderThread
        ? await this.registry.applyOnLoader(header.path, manifestText(base.manifest), header.run)
        : this.registry.apply(header.path, manifestText(base.manifest));
      if (!applied.ok) {
        // Compiling it may have run its constructors: put memory back as it was before it.
        if (this.snapshots?.has(seq)) this.snapshots.restore(seq);
        throw new Error(applied.error);
      }
      out.ok = true;
      out.patchId = applied.patchId;
      this.callGuard.arm();
      this.patches.set(seq, { ...base, patchId: applied.patchId, appliedAt: Date.now() });
      this.patchIdToSeq.set(applied.patchId, seq);
      if (header.run) Object.assign(out, this.undoFailedRun(seq, this.runOnce(applied.patchId, header.path, header.run)));
    } catch (e) {
      out.error = e.message;
    }
    this.journalSeq = seq;
    return { ...base, ...out, applyMs: now() - t0 };
  }

  /**
   * After the run-once function: with `onTrap = 'state'`, a failed run (it trapped, perhaps after
   * writing garbage) restores the snapshot before the patch here — its data and its code — and
   * the ack says so (`ok: false`). Returns `run` ({output, error}), amended when it restored.
   */
  undoFailedRun(seq, run) {
    if (!run.error || this.onTrap !== 'state' || !this.snapshots?.has(seq)) return run;
    const r = this.restoreState(seq);
    if (!r.restored) return run;
    return { ...run, ok: false, runUndone: true, error: `${run.error}; this page restored its code and state from before patch #${seq}` };
  }

  /**
   * Runs the patch's `hotwasm_main` once; a trap there is reported, not fatal. Returns what it
   * printed and the value it recorded (`{type, text}` or null).
   */
  runOnce(patchId, path, symbol) {
    const M = this.registry.Module;
    const sp = M.stackSave();
    let error = null;
    this.registry.takeValue(); // a value left by anything earlier is not this eval's
    const output = this.stdio.capture(() => {
      try {
        this.registry.run(patchId, path, symbol);
      } catch (e) {
        M.stackRestore(sp);
        // A call of a var no eval defines yet names it (only this patch's vars can be the one).
        const pending = pendingVars(e, () => pendingNames(new Map([[0, { path }]]), (p) => M.FS.readFile(p), this.vars()));
        error = `${symbol} failed: ${pending.length ? pendingMessage(pending) : describeTrap(e)}`;
      }
    });
    const value = error ? null : this.registry.takeValue();
    return { output, error, value };
  }

  /** Applies one `rollback`; returns the event detail. */
  applyRollback(msg) {
    if (msg.seq <= this.journalSeq) return { seq: msg.seq, var: msg.var, replay: !!msg.replay, ok: true, error: null, duplicate: true, applyMs: 0 };
    const local = this.localRollbacks.indexOf(msg.var);
    if (local < 0) this.skipGap(msg.seq, !!msg.replay);
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
    return { seq: msg.seq, var: msg.var, replay: !!msg.replay, ok: result.ok, error: result.error, local: local >= 0, applyMs: now() - t0 };
  }

  /**
   * After a call threw (the stack pointer already restored): with `onTrap = 'state'`, puts memory
   * back as it was before that call when the call was copied (call-guard.js: `copy` is the number
   * `callGuard.before()` gave it), then rolls back the patched vars to blame, code only. Returns
   * `{message, how, vars: [{var, seq, symbol, rolledBack, error}], var, stack, state}`; `var` is
   * null when no patched function could be blamed (the trap is in the app's own code; the call is
   * still undone). `state`: `{restored, scope: 'call'|'none', call, ms, bytes?, reason?, leftBehind?}`.
   */
  rollBackTrap(error, { call = null, copy = 0 } = {}) {
    const message = describeTrap(error);
    const { vars, how } = blame(error?.stack ?? '', this.vars().filter((v) => v.patched));
    const state = this.undoCall(call, copy);
    const results = vars.map((v) => {
      const top = v.history.at(-1);
      const rb = this.registry.rollbackVar(v.name);
      if (rb.ok) this.localRollbacks.push(v.name);
      return { var: v.name, seq: top.seq ?? 0, symbol: top.symbol, rolledBack: rb.ok, error: rb.error };
    });
    return { message, how, vars: results, var: results[0]?.var ?? null, stack: error?.stack ?? '', state };
  }

  /** Undoes the trapping call's writes when `onTrap` is 'state' and the call was copied. */
  undoCall(call, copy) {
    if (this.onTrap === 'code') return { restored: false, scope: 'none', call, ms: 0, reason: '[serve] on_trap is "code"', leftBehind: LEFT_BEHIND };
    const r = this.callGuard.restore(copy);
    if (r.restored) return { restored: true, scope: 'call', call, ms: r.ms, bytes: r.bytes, zeroed: r.zeroed };
    return { restored: false, scope: 'none', call, ms: 0, reason: r.reason, leftBehind: LEFT_BEHIND };
  }

  /**
   * Restores the snapshot before patch `before` and forgets every patch applied here from it on.
   * Returns {restored, before, undone: [seq], ms, reason?, warning?}; `restored` false (nothing
   * changed) when there is no such snapshot.
   */
  restoreState(before) {
    const undone = this.appliedFrom(before);
    if (!this.snapshots?.has(before)) {
      const reason = this.snapshots
        ? `no snapshot before patch #${before} is kept on this page (kept: ${this.snapshots.describeKept()}; raise [serve] snapshots or snapshot_budget_mb in hotwasm.toml)`
        : 'snapshots are off on this page';
      return { restored: false, before, undone: [], ms: 0, reason };
    }
    const r = this.snapshots.restore(before);
    this.forget(undone);
    return { restored: true, before, undone, ms: r.ms, bytes: r.bytes, warning: r.warning };
  }

  /** The seqs of the patches applied here from `seq` on, newest first. */
  appliedFrom(seq) {
    return [...this.patches.keys()].filter((s) => s >= seq).sort((a, b) => b - a);
  }

  /** Forgets patches undone here: their seq ↔ patch id entries and their files. */
  forget(seqs) {
    const FS = this.registry.Module.FS;
    for (const seq of seqs) {
      const p = this.patches.get(seq);
      if (!p) continue;
      this.patches.delete(seq);
      if (this.patchIdToSeq.get(p.patchId) === seq) this.patchIdToSeq.delete(p.patchId);
      try {
        FS?.unlink(p.path);
      } catch {
        /* already gone */
      }
    }
    this.snapshots?.dropFrom(Math.min(...seqs, Infinity));
  }

  /**
   * Applies one `undo {seq, state, journal_seq}`: undoes every patch applied here from `seq` on
   * (see the top of this file). Returns the event detail.
   */
  applyUndo(msg) {
    const entry = msg.journal_seq;
    const base = { seq: entry, before: msg.seq, state: !!msg.state, replay: !!msg.replay };
    if (entry <= this.journalSeq) return { ...base, ok: true, error: null, duplicate: true, undone: [], restored: false, applyMs: 0 };
    this.skipGap(entry, !!msg.replay);
    const t0 = now();
    const undone = this.appliedFrom(msg.seq);
    let restored = false;
    let error = null;
    if (undone.length && msg.state) {
      const r = this.restoreState(msg.seq);
      restored = r.restored;
      if (!restored) error = `code rolled back, state kept: ${r.reason}`;
    }
    if (undone.length && !restored) {
      const failed = [];
      for (const seq of undone) {
        const rb = this.registry.rollbackPatch(this.patches.get(seq).patchId);
        if (!rb.ok) failed.push(`#${seq}: ${rb.error}`);
      }
      this.forget(undone);
      if (failed.length) error = [error, `rolling back ${failed.join('; ')}`].filter(Boolean).join('; ');
    }
    this.journalSeq = entry;
    return { ...base, ok: error == null, error, undone, restored, applyMs: now() - t0 };
  }

  /** The host's vars, each history entry annotated with its journal seq and eval id. */
  vars() {
    let list;
    try {
      list = this.registry.list();
    } catch {
      return [];
    }
    return list.map((v) => {
      const history = (v.history ?? []).map((h) => {
        const seq = this.patchIdToSeq.get(h.patch) ?? null;
        const p = seq != null ? this.patches.get(seq) : null;
        return { ...h, builtin: h.patch == null, seq, evalId: p?.evalId ?? null, appliedAt: p?.appliedAt ?? null };
      });
      // The first history entry is the host's built-in code (`patch: null`).
      return { ...v, history, patched: history.length > 0 && history.at(-1).patch != null };
    });
  }
}
