// ui/console.js: the page console — a log of what happened (patches applied, rollbacks, traps,
// what hotwasm_main printed, the value of an eval's final expression) and an optional one-line entry with history (↑/↓) that evaluates
// what is typed. `logEvents(hot, console)` writes the client's events into it.

const LOG_MAX = 200;

function make(tag, className, text) {
  const e = document.createElement(tag);
  if (className) e.className = className;
  if (text != null) e.textContent = text;
  return e;
}

export class PageConsole {
  /**
   * @param {HTMLOListElement} list  the log (newest first)
   * @param {{input?: HTMLInputElement, onSubmit?: (text) => void}} [entry] a one-line REPL entry
   */
  constructor(list, { input = null, onSubmit = null } = {}) {
    this.list = list;
    this.input = input;
    this.history = [];
    this.cursor = 0;
    if (input && onSubmit) {
      input.addEventListener('keydown', (e) => this.key(e, onSubmit));
    }
  }

  /** Adds one line: kind is ok | info | error | output | value | replay | trap. */
  log(kind, text, detail) {
    const li = make('li', `log-${kind}`);
    li.append(make('time', null, new Date().toLocaleTimeString([], { hour12: false })), make('span', null, text));
    if (detail) li.append(make('pre', null, detail));
    this.list.prepend(li);
    while (this.list.children.length > LOG_MAX) this.list.lastElementChild.remove();
  }

  key(e, onSubmit) {
    const input = this.input;
    if (e.key === 'Enter' && input.value.trim()) {
      e.preventDefault();
      const text = input.value;
      if (this.history.at(-1) !== text) this.history.push(text);
      this.cursor = this.history.length;
      input.value = '';
      onSubmit(text);
    } else if (e.key === 'ArrowUp' && this.cursor > 0) {
      e.preventDefault();
      input.value = this.history[--this.cursor];
    } else if (e.key === 'ArrowDown' && this.cursor < this.history.length) {
      e.preventDefault();
      this.cursor += 1;
      input.value = this.history[this.cursor] ?? '';
    }
  }
}

/**
 * The console's own commands (as in the terminal REPL): `:help`, `:c` / `:cpp` / `:rust` (the
 * language of the lines that follow), `:vars`, `:rollback NAME`, `:undo N [--code]`, `:reset`. Returns whether
 * `line` was one.
 * @param {{hot, log: (kind, text, detail?) => void, setLang: (lang) => void}} ctx
 */
export function consoleCommand(line, { hot, log, setLang }) {
  const [cmd, arg] = line.trim().split(/\s+/, 2);
  if (!cmd.startsWith(':')) return false;
  const langs = { ':c': 'c', ':cpp': 'cpp', ':rust': 'rust' };
  if (cmd in langs) {
    setLang(langs[cmd]);
    log('info', `console lines are ${cmd.slice(1)} now`);
  } else if (cmd === ':vars') {
    const lines = hot.vars().map((v) => `${v.name} "${v.signature}" ${v.patched ? `v${v.history.length} (patch #${v.history.at(-1).seq ?? '?'})` : 'built-in'}`);
    log('info', `${lines.length} vars`, lines.join('\n'));
  } else if (cmd === ':undo' && /^\d+$/.test(arg ?? '')) {
    const state = !/--code\b/.test(line);
    hot.undo(Number(arg), { state }).then(
      (r) => log(r.ok ? 'info' : 'error', `undo to before #${arg} (${state ? 'code and state' : 'code only'}): ${r.ok ? `undid #${r.undone.join(', #')} on every page` : r.error}`),
      (e) => log('error', `undo to before #${arg}: ${e.message}`),
    );
  } else if (cmd === ':reset') {
    hot.resetSession().then(
      (after) => log('info', `fresh C and C++ sessions: later lines no longer see what lines up to #${after} declared`),
      (e) => log('error', `reset: ${e.message}`),
    );
  } else if (cmd === ':rollback' && arg) {
    hot.rollback(arg).then(
      () => log('info', `${arg} rolled back on every page`),
      (e) => log('error', `rollback of ${arg}: ${e.message}`),
    );
  } else {
    log('info', 'console commands', ':c  :cpp  :rust   language of the next lines\n:vars           every var, its signature and version\n:rollback NAME  roll NAME back one version on every page\n:undo N         code and state back to before patch #N on every page (:undo N --code: code only)\n:reset          fresh C and C++ sessions (later lines no longer see earlier declarations)\nanything else is evaluated (Enter), ↑/↓ walk the history');
  }
  return true;
}

/** An eval's printed value as the console and the terminal REPL show it: `= 42 (int)`. */
export const formatValue = (v) => `= ${v.text} (${v.type})`;

const ms = (x) => (x == null ? '–' : x < 10 ? x.toFixed(1) : Math.round(x).toString());

/** `the call of \`frame\`` or `the call`: which call a trap event's state speaks of. */
const callName = (t) => (t.state?.call ? `the call of \`${t.state.call}\`` : 'the call');

/**
 * What a page says about a trap event in a patched function: `{title, detail}` for a banner.
 * Says exactly what was undone: the trapping call's writes (restored) or nothing of the data, and
 * then why not and what stays.
 */
export function trapReport(t) {
  const names = t.vars.map((v) => `${v.var} (patch #${v.seq})`).join(', ');
  if (t.state?.restored) {
    return {
      title: `Trap in ${names}: rolled back, the trapping call undone`,
      detail: `${t.message}. Memory is back as it was just before ${callName(t)} that trapped (its writes undone here, nothing before it); the previous version of the code runs again on every page. Fix the code and eval again.`,
    };
  }
  if (t.worker) {
    return { title: `Trap on a worker thread in ${names}: rolled back, that thread is gone`, detail: `${t.message}. Fix the code and eval again; reload the page to start the threads again.` };
  }
  const why = t.state?.reason ? ` The trapping call was not undone: ${t.state.reason}; ${t.state.leftBehind}.` : '';
  return {
    title: `Trap in ${names}: rolled back`,
    detail: `${t.message}. The previous version runs again on every page.${why} Fix the code and eval again.`,
  };
}

/** Writes the client's events into the console as a user wants to read them. */
export function logEvents(hot, c) {
  hot.on('status', (s) => s.reason && s.retryMs == null && c.log('error', `not connected: ${s.reason}`));
  hot.on('welcome', (w) => c.log('info', `connected to hotwasm ${w.server_version ?? ''} · journal ${w.journal_len ?? 0} entries`));
  hot.on('patch', (p) => {
    const names = p.manifest.map((m) => m.var).join(', ') || 'statements only';
    if (!p.ok) c.log('error', `patch #${p.seq} (${names}) did not apply: ${p.error}`);
    // A replay is summed up by replay_done; only what went wrong in it is worth a line.
    else if (!p.replay && !hot.isOwnEval(p.evalId)) c.log('ok', `applied patch #${p.seq} (${names}) in ${ms(p.applyMs)} ms`);
    if (p.ok && p.value && !p.replay) c.log('value', formatValue(p.value));
  });
  hot.on('output', (o) => !o.replay && c.log('output', `patch #${o.seq} printed:`, o.text));
  hot.on('rollback', (r) => (!r.replay || !r.ok) && c.log(r.ok ? 'info' : 'error', `rollback #${r.seq} of ${r.var}${r.ok ? '' : `: ${r.error}`}`));
  hot.on('trap', (t) => {
    const names = () => t.vars.map((v) => `${v.var} (patch #${v.seq})`).join(', ');
    const undone = t.state?.restored ? `; ${callName(t)} undone (${ms(t.state.ms)} ms)` : t.state?.reason ? `; ${callName(t)} not undone: ${t.state.reason}` : '';
    if (t.var) c.log('trap', `trap in ${names()} → rolled back (${t.how})${undone}`, t.message);
    else if (t.pending) c.log('trap', `trap: ${t.message}${undone}`);
    else c.log('error', `trap in the app's own code${undone}: ${t.message}`);
  });
  hot.on('undo', (u) => {
    if (u.replay && u.ok) return; // summed up by replay_done
    const what = u.restored ? 'code and state' : 'code';
    const text = u.undone.length ? `undid patches #${[...u.undone].sort((a, b) => a - b).join(', #')} (${what} back to before #${u.before})` : `undo to before #${u.before}: nothing applied here to undo`;
    c.log(u.ok ? 'info' : 'error', `${u.replay ? 'replayed ' : ''}${text}${u.ok ? '' : `: ${u.error}`}`);
  });
  hot.on('diagnostics', (d) => {
    const first = (d.diagnostics ?? []).find((x) => x.severity !== 'note');
    c.log('error', `compile error in ${d.name}${first ? `:${first.line}: ${first.message}` : ''} (the running code is unchanged)`);
  });
  hot.on('replay_done', (r) => r.count && c.log('replay', `journal replayed: ${r.count} ${r.count === 1 ? 'entry' : 'entries'}`));
  hot.on('journal_reset', () => c.log('info', 'journal cleared: a reload now starts from the built-in code'));
  hot.on('log', (l) => c.log(l.level === 'error' ? 'error' : 'info', l.message));
  hot.on('host_build', (b) => {
    if (b.status === 'building') return c.log('info', `${b.files.join(', ')} changed: the server is rebuilding the host…`);
    const first = (b.diagnostics ?? []).find((x) => x.severity !== 'note');
    c.log('error', `host build failed${first ? ` (${first.file}:${first.line}: ${first.message})` : ''}: the old host keeps running`, b.raw_output);
  });
  hot.on('host_reloaded', (r) => {
    c.log(r.error ? 'error' : 'ok', `new host (build ${r.build}) running${r.restored ? `, app state restored (${r.bytes} bytes)` : ''}${r.error ? ` — ${r.error}` : ''}`);
    for (const d of r.dropped) c.log('error', `journal entry #${d.seq} dropped: ${d.reason}`);
  });
}

/** "compile 12 ms · transfer 3 ms · apply 1.2 ms" readout of an eval_result into `el`. */
export function showTiming(el, result, liveMs = null) {
  const t = result.timings ?? {};
  el.className = `timing ${result.ok ? 'ok' : 'bad'}`;
  el.replaceChildren();
  for (const [k, v] of [['compile', t.compile_ms], ['transfer', t.transfer_ms], ['apply', t.apply_ms]]) {
    const s = make('span', null, `${k} `);
    s.append(make('b', null, ms(v)), ' ms');
    el.append(s);
  }
  const total = make('span', 'total', liveMs != null ? `live in ${ms(liveMs)} ms` : `total ${ms(t.total_ms)} ms`);
  total.title = `server total ${ms(t.total_ms)} ms; eval sent → result here ${ms(result.clientMs)} ms`;
  el.append(total);
}

/** The connection pill: live / connecting… / offline · retry in 2.0 s (click to retry now). */
export function connectionPill(pill, hot) {
  const show = ({ state, retryMs, reason }) => {
    pill.dataset.state = state;
    const label = pill.querySelector('b') ?? pill;
    label.textContent =
      state === 'open' ? 'live'
        : state === 'connecting' ? 'connecting…'
          : state === 'closed' && retryMs != null ? `offline · retry in ${(retryMs / 1000).toFixed(1)} s`
            : state === 'closed' ? 'offline' : state;
    pill.title = reason ? `${reason}${retryMs != null ? ' · click to retry now' : ''}` : 'Connection to the hotwasm dev server';
  };
  pill.onclick = () => hot.reconnect();
  hot.on('status', show);
  show({ state: hot.state });
}
