// ui/history.js: the patch history of every var (newest first) with a "Roll back" button per
// var, and per patch two undo buttons: "code" (roll every var back to before that patch, the data
// stays) and "code + state" (also restore the app's memory as it was before that patch). Both go
// through the server (`hot.rollback`, `hot.undo`), so they are journaled and reach every page.
// Re-renders on the client's 'history' and 'status' events.

function make(tag, className, text) {
  const e = document.createElement(tag);
  if (className) e.className = className;
  if (text != null) e.textContent = text;
  return e;
}

export class HistoryPanel {
  /**
   * @param {HTMLElement} container
   * @param {import('../hotwasm-client.js').Hot} hot
   * @param {{onSelect?: (name) => void, onError?: (message) => void, filter?: (v) => boolean}} [o]
   */
  constructor(container, hot, { onSelect = null, onError = null, filter = null } = {}) {
    this.container = container;
    this.hot = hot;
    this.onSelect = onSelect;
    this.onError = onError ?? ((m) => console.error(m));
    this.filter = filter ?? (() => true);
    hot.on('history', (vars) => this.render(vars));
    hot.on('status', () => this.render(hot.vars()));
    this.render(hot.vars());
  }

  render(vars) {
    const root = this.container;
    root.replaceChildren();
    for (const v of vars.filter(this.filter)) root.append(this.renderVar(v));
    if (!root.children.length) root.append(make('p', 'muted', 'no hot functions yet'));
  }

  renderVar(v) {
    const box = make('div', 'hist-var');
    box.dataset.var = v.name;
    const head = make('div', 'hist-head');
    const title = make('button', 'link var-name', v.name);
    title.type = 'button';
    title.title = `${v.name} "${v.signature}"`;
    if (this.onSelect) title.onclick = () => this.onSelect(v.name);
    const ver = make('span', 'ver', v.patched ? `v${v.history.length} live` : v.history.length ? 'built-in' : 'no code yet');
    const rb = make('button', 'ghost small', 'Roll back');
    rb.type = 'button';
    rb.disabled = !v.patched || this.hot.state !== 'open';
    rb.title = 'Restore the previous version on every page (journaled)';
    rb.dataset.rollback = v.name;
    rb.onclick = () => this.hot.rollback(v.name).catch((e) => this.onError(`rollback of ${v.name}: ${e.message}`));
    head.append(title, ver, rb);
    const ol = make('ol', 'hist-list');
    [...v.history].reverse().forEach((h, i) => {
      const when = h.appliedAt ? new Date(h.appliedAt).toLocaleTimeString([], { hour12: false }) : '';
      const text = h.builtin ? 'built-in' : `#${h.seq ?? '?'} · ${h.symbol}${when ? ` · ${when}` : ''}`;
      const li = make('li', i === 0 ? 'current' : '');
      li.append(make('span', 'hist-text', text));
      if (!h.builtin && h.seq != null) li.append(this.undoButton(h.seq, false), this.undoButton(h.seq, true));
      ol.append(li);
    });
    box.append(head, ol);
    return box;
  }

  /** "code" / "code + state": undo patch #seq and every later one on every page. */
  undoButton(seq, state) {
    const b = make('button', 'ghost small undo', state ? '↶ code + state' : '↶ code');
    b.type = 'button';
    b.disabled = this.hot.state !== 'open';
    b.title = state
      ? `Undo: roll code and state back to before patch #${seq} on every page (the memory snapshot each page took before it; later patches are undone too)`
      : `Undo: roll the code back to before patch #${seq} on every page (later patches too); the data stays as it is`;
    b.dataset[state ? 'undoState' : 'undoCode'] = String(seq);
    b.onclick = () =>
      this.hot.undo(seq, { state }).then(
        (r) => !r.ok && this.onError(`undo to before #${seq}: ${r.error}`),
        (e) => this.onError(`undo to before #${seq}: ${e.message}`),
      );
    return b;
  }
}
