// ui/evaluate.js: evaluating an editor's text and showing where errors are — in the overlay
// always, and as line marks only in the editor that shows the file the diagnostics name.
//
//   const evaluator = new Evaluator({ hot, overlay, timing, log, editors: () => [editor] });
//   await evaluator.run(editor, 'c');         // eval → timings, overlay or cleared marks
//
// File-watch errors (a saved file failed to compile) arrive as 'diagnostics' events naming the
// file: they go to the editor showing that file, or only to the overlay when none does.

import { showTiming } from './console.js';

const STAGE_TITLE = { compile: 'compile error', check: 'patch refused', deliver: 'patch failed to load' };

export class Evaluator {
  /**
   * @param {object} o
   * @param {import('../hotwasm-client.js').Hot} o.hot
   * @param {import('./overlay.js').DiagnosticsOverlay} o.overlay
   * @param {HTMLElement} [o.timing]    where the timings go
   * @param {(kind, text, detail?) => void} [o.log]
   * @param {() => Array<import('./editor.js').CodeEditor>} o.editors  every editor on the page
   * @param {(editor, d) => void} [o.reveal]  bring `editor` into view before going to `d`
   */
  constructor({ hot, overlay, timing = null, log = () => {}, editors, reveal = () => {} }) {
    Object.assign(this, { hot, overlay, timing, log, editors, reveal });
    this.busy = false;
    /** The last eval_result, plus `liveMs` (eval sent → its patch applied on this page). */
    this.last = null;
    this.appliedAt = new Map();
    hot.on('patch', (p) => p.evalId && hot.isOwnEval(p.evalId) && this.appliedAt.set(p.evalId, performance.now()));
    /** eval id → what its patch printed on this page. */
    this.printedHere = new Map();
    hot.on('output', (o) => o.evalId && hot.isOwnEval(o.evalId) && this.printedHere.set(o.evalId, o.text));
    hot.on('diagnostics', (d) => this.show(`compile error in ${d.name}`, d.diagnostics ?? [], d.raw_output ?? '', null));
  }

  /** Evaluates `source` as file `name`; resolves to the eval_result (null while another runs). */
  async run({ source, lang, name }) {
    if (this.busy) return null;
    this.busy = true;
    if (this.timing) {
      this.timing.className = 'timing busy';
      this.timing.textContent = 'compiling…';
    }
    const sentAt = performance.now();
    try {
      const result = await this.hot.eval(source, lang, { name });
      const live = this.appliedAt.get(result.id);
      this.appliedAt.delete(result.id);
      this.last = { ...result, liveMs: live != null ? live - sentAt : null };
      if (this.timing) showTiming(this.timing, result, this.last.liveMs);
      if (result.ok) this.succeeded(name, result);
      else this.failed(name, result);
      return this.last;
    } catch (e) {
      if (this.timing) {
        this.timing.className = 'timing bad';
        this.timing.textContent = e.message;
      }
      this.log('error', e.message);
      this.last = { ok: false, error: e.message, id: null };
      return this.last;
    } finally {
      this.busy = false;
    }
  }

  succeeded(name, result) {
    this.overlay.hide();
    for (const ed of this.editors()) ed.setDiagnostics([]);
    this.log('ok', `${name} live as patch #${result.seq}`);
    // This page's output is in the console already (the 'output' event); add what other pages
    // printed differently.
    const mine = this.printedHere.get(result.id) ?? '';
    this.printedHere.delete(result.id);
    for (const p of result.pages ?? []) if (p.output && p.output !== mine) this.log('output', `page ${p.page} printed:`, p.output);
  }

  failed(name, result) {
    const title = `${STAGE_TITLE[result.stage] ?? 'eval failed'} in ${name}`;
    const diagnostics = result.diagnostics ?? [];
    this.show(title, diagnostics, result.raw_output ?? '', result.error);
    this.log('error', `${title}: ${result.error ?? `${diagnostics.length} diagnostics`}`);
  }

  /** Overlay always; marks in the editors whose file the diagnostics name (none elsewhere). */
  show(title, diagnostics, raw, error) {
    let marked = 0;
    for (const ed of this.editors()) marked += ed.setDiagnostics(diagnostics);
    const onLocate = (d) => {
      const ed = this.editors().find((e) => e.diagnostics.includes(d));
      if (!ed) return;
      this.reveal(ed, d);
      ed.goTo(d.line, d.column);
    };
    this.overlay.show({ title, diagnostics, raw, error, onLocate, marked: marked > 0 });
  }
}
