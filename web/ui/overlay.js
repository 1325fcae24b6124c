// ui/overlay.js: the diagnostics overlay — a compile error, a refused patch or a patch that did
// not load, shown over the running app (which keeps running the previous code). Each located
// diagnostic is a link; the page decides where it leads (`onLocate`).

function make(tag, className, text) {
  const e = document.createElement(tag);
  if (className) e.className = className;
  if (text != null) e.textContent = text;
  return e;
}

export class DiagnosticsOverlay {
  /** @param {HTMLElement} container  the overlay is appended to it (position: relative) */
  constructor(container) {
    this.root = make('div', 'overlay');
    this.root.id = 'diag-overlay';
    this.root.hidden = true;
    this.root.setAttribute('role', 'alert');
    const header = make('header');
    this.title = make('b', null, 'compile error');
    this.title.id = 'diag-title';
    const close = make('button', 'link', '×');
    close.type = 'button';
    close.id = 'diag-close';
    close.onclick = () => this.hide();
    header.append(this.title, close);
    this.list = make('ol');
    this.list.id = 'diag-list';
    const details = make('details');
    this.raw = make('pre');
    this.raw.id = 'diag-raw';
    details.append(make('summary', null, 'compiler output'), this.raw);
    const footer = make('footer', null, 'The app keeps running the previous code. ');
    this.hint = make('span', null, 'Fix the marked line and press Ctrl+Enter.');
    this.hint.id = 'diag-hint';
    footer.append(this.hint);
    this.root.append(header, this.list, details, footer);
    container.append(this.root);
  }

  get visible() {
    return !this.root.hidden;
  }

  /**
   * @param {{title: string, diagnostics?: Array, raw?: string, error?: string|null,
   *          onLocate?: (d) => void, marked?: boolean}} what
   *   `marked`: some diagnostics are marked in an editor (shows the "fix the marked line" hint)
   */
  show({ title, diagnostics = [], raw = '', error = null, onLocate = null, marked = false }) {
    this.list.replaceChildren();
    for (const d of diagnostics) {
      const li = make('li', d.severity === 'warning' ? 'warning' : d.severity === 'note' ? 'note' : 'error');
      const where = make('button', 'loc', `${d.file ?? ''}:${d.line}:${d.column}`);
      where.type = 'button';
      where.disabled = !onLocate;
      if (onLocate) where.onclick = () => onLocate(d);
      li.append(where, make('span', null, `${d.severity ?? 'error'}: ${d.message}`));
      this.list.append(li);
    }
    if (!diagnostics.length && error) this.list.append(make('li', 'error', error));
    this.hint.hidden = !marked;
    this.title.textContent = title;
    this.raw.textContent = raw || '(no compiler output)';
    this.root.hidden = false;
  }

  hide() {
    this.root.hidden = true;
  }
}

/** A one-line notice over the app (a trap rolled back, the app failed to start). */
export class Banner {
  /** @param {HTMLElement} root with `.banner-title`, `.banner-body` and a `.link` dismiss button */
  constructor(root) {
    this.root = root;
    root.querySelector('.link')?.addEventListener('click', () => (root.hidden = true));
  }

  show(kind, title, body) {
    this.root.dataset.kind = kind;
    this.root.querySelector('.banner-title').textContent = title;
    this.root.querySelector('.banner-body').textContent = body;
    this.root.hidden = false;
  }
}
