// app.js: the demo page. Boots the Emscripten host, drives its frames (trap-safe), connects the
// hot-reload client, and wires the editor, diagnostics overlay, history and status readouts.

import { HotReloadClient, createPrintHooks, tokenFromPage } from './hot-reload-client.js';
import { DemoHost, loadFactory } from './host.js';
import { CodeEditor } from './editor.js';
import { VARS, defaultSource, fileName } from './sources.js';

const $ = (id) => document.getElementById(id);
const params = new URLSearchParams(location.search);

/**
 * Where the host bundle is: `?host=`, `<meta name="hotwasm-host">`, beside the page (the dev
 * server serves its bundle folder next to web/), or the repo's build folders (a static server
 * at the repo root).
 */
function hostCandidates() {
  const explicit = params.get('host') ?? document.querySelector('meta[name="hotwasm-host"]')?.content;
  if (explicit) return [explicit];
  return ['hotwasm-demo.js', '/build/hot/hotwasm-demo.js', '/build/plain/hotwasm-demo.js'];
}

// ---- log panel --------------------------------------------------------------------------

const LOG_MAX = 200;
function log(kind, text, detail) {
  const li = document.createElement('li');
  li.className = `log-${kind}`;
  const time = document.createElement('time');
  time.textContent = new Date().toLocaleTimeString([], { hour12: false });
  const msg = document.createElement('span');
  msg.textContent = text;
  li.append(time, msg);
  if (detail) {
    const pre = document.createElement('pre');
    pre.textContent = detail;
    li.append(pre);
  }
  const list = $('log');
  list.prepend(li);
  while (list.children.length > LOG_MAX) list.lastElementChild.remove();
}

// ---- banner (traps, load failures) ------------------------------------------------------

function showBanner(kind, title, body) {
  const b = $('banner');
  b.dataset.kind = kind;
  $('banner-title').textContent = title;
  $('banner-body').textContent = body;
  b.hidden = false;
}
$('banner-close').onclick = () => ($('banner').hidden = true);

// ---- diagnostics overlay ----------------------------------------------------------------

const state = {
  tab: VARS[0].name,
  vars: new Map(VARS.map((v) => [v.name, { ...v, lang: 'c' }])),
  evalBusy: false,
  lastEval: null,
  paused: false,
  traps: 0,
  hostTraps: 0,
};

function hideDiagnostics() {
  $('diag-overlay').hidden = true;
  editor?.setDiagnostics([]);
}

function showDiagnostics({ title, diagnostics = [], raw = '', error = null, forTab = null }) {
  const list = $('diag-list');
  list.replaceChildren();
  for (const d of diagnostics) {
    const li = document.createElement('li');
    li.className = d.severity === 'warning' ? 'warning' : 'error';
    const where = document.createElement('button');
    where.type = 'button';
    where.className = 'loc';
    where.textContent = `${d.file ?? ''}:${d.line}:${d.column}`;
    where.onclick = () => {
      if (forTab && forTab !== state.tab) selectTab(forTab);
      editor.goTo(d.line, d.column);
    };
    const msg = document.createElement('span');
    msg.textContent = `${d.severity ?? 'error'}: ${d.message}`;
    li.append(where, msg);
    list.append(li);
  }
  if (!diagnostics.length && error) {
    const li = document.createElement('li');
    li.className = 'error';
    li.textContent = error;
    list.append(li);
  }
  $('diag-hint').hidden = !diagnostics.length;
  $('diag-title').textContent = title;
  $('diag-raw').textContent = raw || '(no compiler output)';
  $('diag-overlay').hidden = false;
  if (!forTab || forTab === state.tab) editor.setDiagnostics(diagnostics.filter((d) => d.severity !== 'note'));
}
$('diag-close').onclick = () => ($('diag-overlay').hidden = true);

// ---- editor and tabs --------------------------------------------------------------------

const draftKey = (name, lang) => `hotwasm:draft:${name}:${lang}`;
function draft(name, lang) {
  try {
    return sessionStorage.getItem(draftKey(name, lang)) ?? defaultSource(name, lang);
  } catch {
    return defaultSource(name, lang);
  }
}
function saveDraft(name, lang, text) {
  try {
    if (text === defaultSource(name, lang)) sessionStorage.removeItem(draftKey(name, lang));
    else sessionStorage.setItem(draftKey(name, lang), text);
  } catch {
    /* storage disabled: drafts live only in the editor */
  }
}

const editor = new CodeEditor({
  textarea: $('code'),
  gutter: $('gutter'),
  marks: $('marks'),
  onEval: () => evalCurrent(),
  onChange: (text) => {
    const v = state.vars.get(state.tab);
    saveDraft(v.name, v.lang, text);
  },
});

function renderTabs() {
  const tabs = $('tabs');
  tabs.replaceChildren();
  for (const v of state.vars.values()) {
    const b = document.createElement('button');
    b.type = 'button';
    b.role = 'tab';
    b.className = v.name === state.tab ? 'on' : '';
    b.dataset.var = v.name;
    b.innerHTML = `<span class="name"></span><span class="lang-tag"></span>`;
    b.querySelector('.name').textContent = v.name;
    b.querySelector('.lang-tag').textContent = v.lang === 'rust' ? 'rs' : 'c';
    b.onclick = () => selectTab(v.name);
    tabs.append(b);
  }
}

function selectTab(name) {
  state.tab = name;
  const v = state.vars.get(name);
  editor.value = draft(name, v.lang);
  editor.setDiagnostics([]);
  $('sig').textContent = `${name} "${v.signature}"${v.blurb ? ` · ${v.blurb}` : ''}`;
  for (const b of document.querySelectorAll('.lang button')) b.classList.toggle('on', b.dataset.lang === v.lang);
  renderTabs();
}

for (const b of document.querySelectorAll('.lang button')) {
  b.onclick = () => {
    const v = state.vars.get(state.tab);
    if (v.lang === b.dataset.lang) return;
    v.lang = b.dataset.lang;
    try {
      sessionStorage.setItem(`hotwasm:lang:${v.name}`, v.lang);
    } catch {
      /* ignore */
    }
    selectTab(v.name);
  };
}
for (const v of state.vars.values()) {
  try {
    v.lang = sessionStorage.getItem(`hotwasm:lang:${v.name}`) ?? 'c';
  } catch {
    /* ignore */
  }
}

$('btn-revert').onclick = () => {
  const v = state.vars.get(state.tab);
  editor.value = defaultSource(v.name, v.lang);
  saveDraft(v.name, v.lang, editor.value);
};

// ---- status line ------------------------------------------------------------------------

const ms = (x) => (x == null ? '–' : x < 10 ? x.toFixed(1) : Math.round(x).toString());

function showTiming(result, liveMs) {
  const t = result.timings ?? {};
  const el = $('timing');
  el.className = `timing ${result.ok ? 'ok' : 'bad'}`;
  el.replaceChildren();
  const parts = [
    ['compile', t.compile_ms],
    ['transfer', t.transfer_ms],
    ['apply', t.apply_ms],
  ];
  for (const [k, v] of parts) {
    const s = document.createElement('span');
    s.innerHTML = `${k} <b></b> ms`;
    s.querySelector('b').textContent = ms(v);
    el.append(s);
  }
  const total = document.createElement('span');
  total.className = 'total';
  total.textContent = liveMs != null ? `live in ${ms(liveMs)} ms` : `total ${ms(t.total_ms)} ms`;
  total.title = `server total ${ms(t.total_ms)} ms; eval sent → result here ${ms(result.clientMs)} ms`;
  el.append(total);
}

// ---- connection pill --------------------------------------------------------------------

function showConn({ state: s, retryMs, reason }) {
  const pill = $('conn');
  pill.dataset.state = s;
  const label = pill.querySelector('b');
  if (s === 'open') label.textContent = 'live';
  else if (s === 'connecting') label.textContent = 'connecting…';
  else if (s === 'closed' && retryMs != null) label.textContent = `offline · retry in ${(retryMs / 1000).toFixed(1)} s`;
  else if (s === 'closed') label.textContent = 'offline';
  else label.textContent = s;
  pill.title = reason ? `${reason}${retryMs != null ? ' · click to retry now' : ''}` : 'Connection to the hotwasm dev server';
}
$('conn').onclick = () => client?.reconnectNow();

// ---- history ----------------------------------------------------------------------------

function renderHistory(vars) {
  const root = $('history');
  root.replaceChildren();
  const byName = new Map(vars.map((v) => [v.name, v]));
  const names = [...new Set([...state.vars.keys(), ...byName.keys()])];
  for (const name of names) {
    const v = byName.get(name) ?? { name, history: [], patched: false, version: 0, signature: state.vars.get(name)?.signature };
    const box = document.createElement('div');
    box.className = 'hist-var';
    const head = document.createElement('div');
    head.className = 'hist-head';
    const title = document.createElement('button');
    title.type = 'button';
    title.className = 'link var-name';
    title.textContent = name;
    title.onclick = () => state.vars.has(name) && selectTab(name);
    const ver = document.createElement('span');
    ver.className = 'ver';
    ver.textContent = v.patched ? `v${v.history.length} live` : 'built-in';
    const rb = document.createElement('button');
    rb.type = 'button';
    rb.className = 'ghost small';
    rb.textContent = 'Roll back';
    rb.disabled = !v.patched || !client || client.state !== 'open';
    rb.title = 'Restore the previous version on every page (journaled)';
    rb.dataset.rollback = name;
    rb.onclick = () => {
      try {
        client.requestRollback(name);
        log('info', `rollback of ${name} requested`);
      } catch (e) {
        log('error', e.message);
      }
    };
    head.append(title, ver, rb);
    box.append(head);
    const ol = document.createElement('ol');
    ol.className = 'hist-list';
    const entries = [...v.history].reverse();
    entries.forEach((h, i) => {
      const li = document.createElement('li');
      li.className = i === 0 ? 'current' : '';
      const when = h.appliedAt ? new Date(h.appliedAt).toLocaleTimeString([], { hour12: false }) : '';
      li.textContent = h.builtin ? 'built-in' : `#${h.seq ?? '?'} · ${h.symbol}${when ? ` · ${when}` : ''}`;
      ol.append(li);
    });
    if (!entries.length) {
      const base = document.createElement('li');
      base.className = 'current';
      base.textContent = 'built-in';
      ol.append(base);
    }
    box.append(ol);
    root.append(box);
  }
}

// ---- eval -------------------------------------------------------------------------------

const evalSentAt = new Map();

async function evalCurrent() {
  if (!client) {
    log('error', 'live editing is off: this host was built without HOT_RELOAD=1');
    return;
  }
  if (state.evalBusy) return;
  const v = state.vars.get(state.tab);
  const source = editor.value;
  state.evalBusy = true;
  $('btn-eval').disabled = true;
  $('timing').className = 'timing busy';
  $('timing').textContent = 'compiling…';
  const sentAt = performance.now();
  try {
    const promise = client.eval({ lang: v.lang, source, name: fileName(v.name, v.lang) });
    const result = await promise;
    const live = evalSentAt.get(result.id);
    evalSentAt.delete(result.id);
    state.lastEval = { ...result, liveMs: live != null ? live - sentAt : null };
    showTiming(result, state.lastEval.liveMs);
    if (result.ok) {
      hideDiagnostics();
      log('ok', `${v.name} (${v.lang}) live as patch #${result.seq}`);
      for (const p of result.pages ?? []) {
        if (p.output) log('output', `page ${p.page} hotwasm_main:`, p.output);
      }
    } else {
      const stageTitle = { compile: 'compile error', check: 'patch refused', deliver: 'patch failed to load' }[result.stage] ?? 'eval failed';
      showDiagnostics({
        title: `${stageTitle} in ${fileName(v.name, v.lang)}`,
        diagnostics: result.diagnostics ?? [],
        raw: result.raw_output ?? '',
        error: result.error,
        forTab: v.name,
      });
      log('error', `${stageTitle}: ${result.error ?? `${result.diagnostics?.length ?? 0} diagnostics`}`);
    }
  } catch (e) {
    $('timing').className = 'timing bad';
    $('timing').textContent = e.message;
    log('error', e.message);
  } finally {
    state.evalBusy = false;
    $('btn-eval').disabled = false;
  }
}
$('btn-eval').onclick = () => evalCurrent();

// ---- boot -------------------------------------------------------------------------------

let client = null;
let host = null;
let Module = null;

async function boot() {
  const printHooks = createPrintHooks({
    print: (t) => log('output', t),
    printErr: (t) => console.warn(t),
  });
  let factory = null;
  let lastErr = null;
  for (const url of hostCandidates()) {
    try {
      factory = await loadFactory(url);
      break;
    } catch (e) {
      lastErr = e;
    }
  }
  if (!factory) {
    showBanner('error', 'The demo host is not built', `${lastErr?.message ?? ''}`);
    $('mode').textContent = 'no host';
    return;
  }
  Module = await factory({
    print: printHooks.print,
    printErr: printHooks.printErr,
    onAbort: (what) => log('error', `Emscripten abort: ${what}`),
  });
  host = new DemoHost(Module);
  const canvas = $('screen');
  canvas.width = host.width;
  canvas.height = host.height;
  $('stage').style.setProperty('--aspect', `${host.width} / ${host.height}`);
  const ctx = canvas.getContext('2d', { alpha: false });

  const mode = $('mode');
  mode.textContent = host.hotReload ? 'HOT_RELOAD build' : 'plain build · editing off';
  mode.dataset.mode = host.hotReload ? 'hot' : 'plain';

  if (host.hotReload) {
    client = new HotReloadClient({ module: Module, printHooks, token: tokenFromPage() });
    wireClient(client);
    client.start();
  } else {
    showConn({ state: 'off', reason: 'plain build: rebuild with HOT_RELOAD=1 scripts/emscripten-bundle.sh to edit live' });
    $('btn-eval').disabled = true;
  }
  renderHistory(client ? client.vars() : []);
  startLoop(ctx);
}

function wireClient(c) {
  c.on('status', showConn);
  c.on('status', (s) => s.reason && s.retryMs == null && log('error', `not connected: ${s.reason}`));
  c.on('status', () => renderHistory(c.vars()));
  c.on('welcome', (w) => {
    for (const hv of w.host_vars ?? []) {
      if (!state.vars.has(hv.name)) state.vars.set(hv.name, { name: hv.name, signature: hv.signature, lang: 'c' });
    }
    renderTabs();
    log('info', `connected to hotwasm ${w.server_version ?? ''} · journal ${w.journal_len ?? 0} entries`);
  });
  c.on('patch', (p) => {
    // When this page's own eval went live here (the server answers only after every page acked).
    if (p.evalId && c.pendingEvals.has(p.evalId)) evalSentAt.set(p.evalId, performance.now());
    const names = p.manifest.map((m) => m.var).join(', ');
    if (p.ok) {
      if (!p.evalId || p.replay) log(p.replay ? 'replay' : 'ok', `${p.replay ? 'replayed' : 'applied'} patch #${p.seq} (${names}) in ${ms(p.applyMs)} ms`);
    } else {
      log('error', `patch #${p.seq} (${names}) did not apply: ${p.error}`);
    }
    if (p.output) log('output', `hotwasm_main of patch #${p.seq}:`, p.output);
  });
  c.on('rollback', (r) => log(r.ok ? 'info' : 'error', `${r.replay ? 'replayed ' : ''}rollback #${r.seq} of ${r.var}${r.ok ? '' : `: ${r.error}`}`));
  c.on('replay_done', (r) => r.count && log('replay', `journal replayed: ${r.count} entries`));
  c.on('journal_reset', () => log('info', 'journal cleared: a reload now starts from the built-in code'));
  c.on('vars', renderHistory);
  c.on('diagnostics', (d) =>
    showDiagnostics({ title: `compile error in ${d.name}`, diagnostics: d.diagnostics ?? [], raw: d.raw_output ?? '' }),
  );
  c.on('log', (l) => log(l.level === 'error' ? 'error' : 'info', l.message));
}

// ---- frame loop -------------------------------------------------------------------------

const fps = { frames: 0, since: performance.now(), value: 0 };

function onTrap(error) {
  state.traps++;
  if (client) {
    const info = client.recoverFromTrap(error);
    if (info.var) {
      state.hostTraps = 0;
      const names = info.vars.map((v) => `${v.var} (patch #${v.seq})`).join(', ');
      showBanner('trap', `Trap in ${names}: rolled back`, `${info.message}. The previous version is running again on every page; fix the code and eval again.`);
      log('error', `trap in ${names} → rolled back (${info.how})`, info.message);
      return;
    }
  }
  state.hostTraps++;
  log('error', `trap in the host's own code: ${error?.message ?? error}`);
  if (state.hostTraps >= 3) {
    state.paused = true;
    $('btn-pause').textContent = 'Resume';
    showBanner('error', 'The host keeps trapping', `${error?.message ?? error}. No patched function to roll back; the simulation is paused. Reload the page to start clean.`);
  }
}

function startLoop(ctx) {
  let last = performance.now();
  let lastStats = 0;
  const tick = (t) => {
    const dt = Math.min(0.05, Math.max(0, (t - last) / 1000));
    last = t;
    if (!state.paused) {
      const err = host.frame(dt);
      if (err) onTrap(err);
      fps.frames++;
    }
    host.blit(ctx);
    if (t - fps.since >= 500) {
      fps.value = (fps.frames * 1000) / (t - fps.since);
      fps.frames = 0;
      fps.since = t;
    }
    if (t - lastStats >= 100) {
      lastStats = t;
      const s = host.stats();
      $('stat-frame').textContent = s.frame.toLocaleString('en-US');
      $('stat-particles').textContent = s.particles.toLocaleString('en-US');
      $('stat-bounces').textContent = s.bounces.toLocaleString('en-US');
      $('stat-fps').textContent = fps.value ? fps.value.toFixed(0) : '–';
    }
    requestAnimationFrame(tick);
  };
  requestAnimationFrame(tick);
}

$('btn-pause').onclick = () => {
  state.paused = !state.paused;
  state.hostTraps = 0;
  $('btn-pause').textContent = state.paused ? 'Resume' : 'Pause';
};
$('btn-reset').onclick = () => host?.reset();
$('btn-journal-reset').onclick = () => {
  try {
    client?.requestJournalReset();
  } catch (e) {
    log('error', e.message);
  }
};

// For tests and the console.
globalThis.hotwasm = {
  get client() {
    return client;
  },
  get host() {
    return host;
  },
  get Module() {
    return Module;
  },
  editor,
  state,
  stats: () => ({ ...host?.stats(), fps: fps.value, traps: state.traps }),
  evalSource: (source, lang = 'c', name) => client.eval({ lang, source, name }),
  selectTab,
};

selectTab(state.tab);
boot().catch((e) => {
  console.error(e);
  showBanner('error', 'The page failed to start', `${e.message}`);
});
