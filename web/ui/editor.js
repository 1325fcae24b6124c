// ui/editor.js: a plain <textarea> with a line-number gutter and diagnostic marks (no
// dependencies). An editor shows one file (`editor.file`, the name diagnostics use); it marks only
// the diagnostics of that file, so an error in another file (a header, a saved file on disk) never
// marks lines of the text shown here.

/** Whether diagnostic file name `a` and editor file name `b` name the same file. */
export function sameFile(a, b) {
  if (!a || !b) return false;
  const norm = (p) => p.replace(/\\/g, '/').replace(/^\.\//, '');
  const [x, y] = [norm(a), norm(b)];
  if (x === y) return true;
  // A compiler may print the path absolute; the editor names it relative to the app root.
  return y.includes('/') ? x.endsWith(`/${y}`) : false;
}

export class CodeEditor {
  /**
   * @param {{textarea: HTMLTextAreaElement, gutter: HTMLElement, marks: HTMLElement,
   *          onEval: () => void, onChange?: (text) => void, file?: string}} parts
   */
  constructor({ textarea, gutter, marks, onEval, onChange, file = null }) {
    /** The file name this editor's text is evaluated as (diagnostics name it). */
    this.file = file;
    this.ta = textarea;
    this.gutter = gutter;
    this.marksEl = marks;
    this.onEval = onEval;
    this.onChange = onChange ?? (() => {});
    this.diagnostics = [];
    this.lineCount = 0;

    this.ta.addEventListener('input', () => {
      this.renderGutter();
      this.onChange(this.ta.value);
    });
    this.ta.addEventListener('scroll', () => this.syncScroll());
    this.ta.addEventListener('keydown', (e) => this.keydown(e));
    this.renderGutter();
  }

  get value() {
    return this.ta.value;
  }

  set value(text) {
    this.ta.value = text;
    this.ta.scrollTop = 0;
    this.renderGutter();
  }

  keydown(e) {
    if ((e.ctrlKey || e.metaKey) && e.key === 'Enter') {
      e.preventDefault();
      this.onEval();
      return;
    }
    if (e.key === 'Tab' && !e.ctrlKey && !e.metaKey && !e.altKey) {
      e.preventDefault();
      const { selectionStart: a, selectionEnd: b, value } = this.ta;
      if (e.shiftKey) return;
      this.ta.setRangeText('    ', a, b, 'end');
      this.ta.dispatchEvent(new Event('input'));
      return;
    }
    if (e.key === 'Enter' && !e.ctrlKey && !e.metaKey) {
      // Keep the indentation of the current line.
      const { selectionStart: a, value } = this.ta;
      const lineStart = value.lastIndexOf('\n', a - 1) + 1;
      const indent = value.slice(lineStart).match(/^[ \t]*/)[0];
      const extra = value[a - 1] === '{' ? '    ' : '';
      e.preventDefault();
      this.ta.setRangeText(`\n${indent}${extra}`, a, this.ta.selectionEnd, 'end');
      this.ta.dispatchEvent(new Event('input'));
    }
  }

  lineHeight() {
    return parseFloat(getComputedStyle(this.ta).lineHeight) || 18;
  }

  paddingTop() {
    return parseFloat(getComputedStyle(this.ta).paddingTop) || 0;
  }

  renderGutter() {
    const n = this.ta.value.split('\n').length;
    const marked = new Map();
    for (const d of this.diagnostics) {
      if (d.line > 0 && !marked.has(d.line)) marked.set(d.line, d);
    }
    const frag = document.createDocumentFragment();
    for (let i = 1; i <= n; i++) {
      const div = document.createElement('div');
      div.textContent = String(i);
      const d = marked.get(i);
      if (d) {
        div.className = `mark-${d.severity === 'warning' ? 'warning' : 'error'}`;
        div.title = `${d.line}:${d.column} ${d.message}`;
      }
      frag.append(div);
    }
    this.gutter.replaceChildren(frag);
    this.lineCount = n;
    this.renderMarks();
    this.syncScroll();
  }

  renderMarks() {
    const lh = this.lineHeight();
    const top0 = this.paddingTop();
    const frag = document.createDocumentFragment();
    for (const d of this.diagnostics) {
      if (!(d.line > 0)) continue;
      const band = document.createElement('div');
      band.className = `band ${d.severity === 'warning' ? 'warning' : 'error'}`;
      band.style.top = `${top0 + (d.line - 1) * lh}px`;
      band.style.height = `${lh}px`;
      band.dataset.line = String(d.line);
      const msg = document.createElement('span');
      msg.className = 'band-msg';
      msg.textContent = d.message;
      band.append(msg);
      frag.append(band);
    }
    this.marksEl.replaceChildren(frag);
  }

  syncScroll() {
    this.gutter.scrollTop = this.ta.scrollTop;
    this.marksEl.style.transform = `translate(${-this.ta.scrollLeft}px, ${-this.ta.scrollTop}px)`;
  }

  /**
   * Marks the diagnostics ([{file, line, column, severity, message}]) that belong to this
   * editor's file as gutter marks and line bands (notes are left to the overlay); clears the
   * marks when none do. Returns how many were marked.
   */
  setDiagnostics(diagnostics) {
    this.diagnostics = (diagnostics ?? []).filter((d) => d.severity !== 'note' && sameFile(d.file, this.file));
    this.renderGutter();
    return this.diagnostics.length;
  }

  /** Moves the caret to line:column and scrolls it into view. */
  goTo(line, column = 1) {
    const lines = this.ta.value.split('\n');
    let pos = 0;
    for (let i = 0; i < Math.min(line - 1, lines.length); i++) pos += lines[i].length + 1;
    pos += Math.max(0, column - 1);
    this.ta.focus();
    this.ta.setSelectionRange(pos, pos);
    const lh = this.lineHeight();
    this.ta.scrollTop = Math.max(0, (line - 4) * lh);
    this.syncScroll();
  }
}
