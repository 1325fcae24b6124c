// applier.js: applies the server's journal entries (`patch`, `rollback`) to this wasm instance,
// one at a time, and remembers how far it got.
//
// Applying a patch, step by step (a failed step leaves the old code running):
//   1. seq already applied here (a reconnect raced with delivery) → ack ok, apply nothing
//   2. size check: the binary frame has the size its header announced
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
// Traps: the page rolls the trapping var back itself and says `trap`; the server journals that
// rollback and sends it to every *other* page. This page recognises it on replay (by var) or as
// a gap in the seqs it is sent while connected, so it is never applied twice.

import { manifestText } from './protocol.js';
import { describeTrap, blame } from './traps.js';

const now = () => globalThis.performance.now();

export class Applier {
  /**
   * @param {import('./registry.js').HostRegistry} registry
   * @param {{capture(fn): string}} stdio  output capture for `hotwasm_main`
   */
  constructor(registry, stdio) {
    this.registry = registry;
    this.stdio = stdio;
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
   * So a gap in the seqs this page is sent, while connected, is exactly its own trap rollbacks:
   * consume that many pending local rollbacks.
   */
  skipGap(seq) {
    const gap = seq - this.journalSeq - 1;
    if (gap > 0 && this.journalSeq > 0) this.localRollbacks.splice(0, gap);
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
    this.skipGap(seq);
    const t0 = now();
    const out = { ok: false, error: null, output: '', value: null, patchId: 0, writeMs: 0, preloaded: false };
    try {
      if (bytes.length !== header.size) {
        throw new Error(`patch ${seq}: got ${bytes.length} bytes, the header announced ${header.size}`);
      }
      const write = await this.registry.writePatch(header.path, bytes);
      out.writeMs = write.ms;
      out.preloaded = write.preloaded;
      const applied = this.registry.apply(header.path, manifestText(base.manifest));
      if (!applied.ok) throw new Error(applied.error);
      out.ok = true;
      out.patchId = applied.patchId;
      this.patches.set(seq, { ...base, patchId: applied.patchId, appliedAt: Date.now() });
      this.patchIdToSeq.set(applied.patchId, seq);
      if (header.run) Object.assign(out, this.runOnce(applied.patchId, header.path, header.run));
    } catch (e) {
      out.error = e.message;
    }
    this.journalSeq = seq;
    return { ...base, ...out, applyMs: now() - t0 };
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
        error = `${symbol} failed: ${describeTrap(e)}`;
      }
    });
    const value = error ? null : this.registry.takeValue();
    return { output, error, value };
  }

  /** Applies one `rollback`; returns the event detail. */
  applyRollback(msg) {
    if (msg.seq <= this.journalSeq) return { seq: msg.seq, var: msg.var, replay: !!msg.replay, ok: true, error: null, duplicate: true, applyMs: 0 };
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
    return { seq: msg.seq, var: msg.var, replay: !!msg.replay, ok: result.ok, error: result.error, local: local >= 0, applyMs: now() - t0 };
  }

  /**
   * After a call threw (the stack pointer already restored): rolls back the patched vars to
   * blame. Returns `{message, how, vars: [{var, seq, symbol, rolledBack, error}], var}`; `var`
   * is null when no patched function could be blamed (the trap is in the app's own code).
   */
  rollBackTrap(error) {
    const message = describeTrap(error);
    const { vars, how } = blame(error?.stack ?? '', this.vars().filter((v) => v.patched));
    const results = vars.map((v) => {
      const top = v.history.at(-1);
      const rb = this.registry.rollbackVar(v.name);
      if (rb.ok) this.localRollbacks.push(v.name);
      return { var: v.name, seq: top.seq ?? 0, symbol: top.symbol, rolledBack: rb.ok, error: rb.error };
    });
    return { message, how, vars: results, var: results[0]?.var ?? null, stack: error?.stack ?? '' };
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
