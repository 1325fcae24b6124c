// app.js: the particle demo's page — a user of hotwasm's public client API like any app. Boots
// the particles bundle, drives its frames through `hot.call` (trap-safe), blits its framebuffer,
// and wires hotwasm's editor, overlay, history and console widgets to one tab per hot function.

import { appInfo, attach, extensionOf, loadFactory, TRAPPED } from '/hotwasm/hotwasm-client.js';
import { CodeEditor } from '/hotwasm/ui/editor.js';
import { Banner, DiagnosticsOverlay } from '/hotwasm/ui/overlay.js';
import { HistoryPanel } from '/hotwasm/ui/history.js';
import { PageConsole, connectionPill, consoleCommand, logEvents, trapReport } from '/hotwasm/ui/console.js';
import { Evaluator } from '/hotwasm/ui/evaluate.js';
import { WorldView } from './world-view.js';
import { VARS, defaultSource, fileName } from './sources.js';

const $ = (id) => document.getElementById(id);
const params = new URLSearchParams(location.search);
/** Traps in the app's own code in a row before the simulation pauses. */
const HOST_TRAPS_BEFORE_PAUSE = 3;

/** The bundle and its factory: as hotwasm.toml names them (/hotwasm/app.json), or `?host=`. */
async function bundle() {
  const app = await appInfo();
  return { script: params.get('host') ?? app.script, exportName: app.export_name };
}

const banner = new Banner($('banner'));
const overlay = new DiagnosticsOverlay($('stage'));
const pageConsole = new PageConsole($('log'), { input: $('console-input'), onSubmit: (line) => evalLine(line) });
const log = (kind, text, detail) => pageConsole.log(kind, text, detail);

const state = {
  tab: VARS[0].name,
  vars: new Map(VARS.map((v) => [v.name, { ...v, lang: 'c' }])),
  consoleLang: null,
  paused: false,
  traps: 0,
  hostTraps: 0,
};

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
    b.querySelector('.lang-tag').textContent = extensionOf(v.lang);
    b.onclick = () => selectTab(v.name);
    tabs.append(b);
  }
}

/** Shows var `name` in the editor; the editor's file is that var's eval file. */
function selectTab(name) {
  if (!state.vars.has(name)) return;
  state.tab = name;
  const v = state.vars.get(name);
  editor.file = fileName(v.name, v.lang);
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

// ---- eval -------------------------------------------------------------------------------

let hot = null;
let evaluator = null;

async function evalCurrent() {
  if (!evaluator) return log('error', 'live editing is off: this bundle was built without HOT_RELOAD=1');
  const v = state.vars.get(state.tab);
  $('btn-eval').disabled = true;
  try {
    await evaluator.run({ source: editor.value, lang: v.lang, name: editor.file });
  } finally {
    $('btn-eval').disabled = false;
  }
}
$('btn-eval').onclick = () => evalCurrent();

/** A line typed into the console: a command (`:help`), or code in the open tab's language (or `:c`/`:cpp`/`:rust`). */
async function evalLine(line) {
  log('info', `› ${line}`);
  if (hot && consoleCommand(line, { hot, log, setLang: (l) => (state.consoleLang = l) })) return;
  if (!evaluator) return log('error', 'live editing is off: this bundle was built without HOT_RELOAD=1');
  const lang = state.consoleLang ?? state.vars.get(state.tab).lang;
  await evaluator.run({ source: `${line}\n`, lang, name: `console.${extensionOf(lang)}` });
}

// ---- boot -------------------------------------------------------------------------------

let view = null;
let Module = null;

async function boot() {
  const factory = await bundle().then((b) => loadFactory(b.script, b.exportName)).catch((e) => {
    banner.show('error', 'The particles app is not built', e.message);
    $('mode').textContent = 'no bundle';
    return null;
  });
  if (!factory) return;
  Module = await factory({
    print: (t) => log('output', t),
    printErr: (t) => console.warn(t),
    onAbort: (what) => log('error', `Emscripten abort: ${what}`),
  });
  view = new WorldView(Module);
  const canvas = $('screen');
  canvas.width = view.width;
  canvas.height = view.height;
  $('stage').style.setProperty('--aspect', `${view.width} / ${view.height}`);

  hot = await attach(Module, { wait: 'none' });
  wire(hot);
  startLoop(canvas.getContext('2d', { alpha: false }));
}

function wire(h) {
  $('mode').textContent = h.hotReload ? 'HOT_RELOAD build' : 'plain build · editing off';
  $('mode').dataset.mode = h.hotReload ? 'hot' : 'plain';
  connectionPill($('conn'), h);
  logEvents(h, pageConsole);
  h.on('host_build', (b) => b.status === 'failed' && banner.show('error', 'The host build failed: the old host keeps running', b.error ?? ''));
  h.on('host_reloaded', (r) => {
    if (r.dropped.length) banner.show('trap', `New host: ${r.dropped.length} journal ${r.dropped.length === 1 ? 'entry' : 'entries'} dropped`, r.dropped.map((d) => `#${d.seq}: ${d.reason}`).join('\n'));
  });
  new HistoryPanel($('history'), h, { onSelect: selectTab, onError: (m) => log('error', m) });
  h.on('welcome', (w) => {
    for (const hv of w.host_vars ?? []) {
      if (!state.vars.has(hv.name)) state.vars.set(hv.name, { name: hv.name, signature: hv.signature, lang: 'c' });
    }
    renderTabs();
  });
  h.on('trap', onTrap);
  if (h.hotReload) {
    evaluator = new Evaluator({
      hot: h,
      overlay,
      timing: $('timing'),
      log,
      editors: () => [editor],
    });
  } else {
    $('btn-eval').disabled = true;
  }
}

// ---- frame loop -------------------------------------------------------------------------

const fps = { frames: 0, since: performance.now(), value: 0 };

function onTrap(t) {
  state.traps++;
  if (t.var) {
    state.hostTraps = 0;
    const report = trapReport(t);
    banner.show('trap', report.title, report.detail);
    return;
  }
  state.hostTraps++;
  if (state.hostTraps >= HOST_TRAPS_BEFORE_PAUSE) {
    setPaused(true);
    banner.show('error', 'The app keeps trapping', `${t.message}. No patched function to roll back; the simulation is paused. Reload the page to start clean.`);
  }
}

function startLoop(ctx) {
  let last = performance.now();
  let lastStats = 0;
  const tick = (t) => {
    const dt = Math.min(0.05, Math.max(0, (t - last) / 1000));
    last = t;
    if (!state.paused && hot.call('demo_frame', dt) !== TRAPPED) fps.frames++;
    view.blit(ctx);
    if (t - fps.since >= 500) {
      fps.value = (fps.frames * 1000) / (t - fps.since);
      fps.frames = 0;
      fps.since = t;
    }
    if (t - lastStats >= 100) {
      lastStats = t;
      const s = view.stats();
      $('stat-frame').textContent = s.frame.toLocaleString('en-US');
      $('stat-particles').textContent = s.particles.toLocaleString('en-US');
      $('stat-bounces').textContent = s.bounces.toLocaleString('en-US');
      $('stat-fps').textContent = fps.value ? fps.value.toFixed(0) : '–';
    }
    requestAnimationFrame(tick);
  };
  requestAnimationFrame(tick);
}

function setPaused(paused) {
  state.paused = paused;
  state.hostTraps = 0;
  $('btn-pause').textContent = paused ? 'Resume' : 'Pause';
}
$('btn-pause').onclick = () => setPaused(!state.paused);
$('btn-reset').onclick = () => view?.reset();
$('btn-journal-reset').onclick = () => {
  try {
    hot?.resetJournal();
  } catch (e) {
    log('error', e.message);
  }
};

// For the console and the tests.
globalThis.hotwasm = {
  get hot() {
    return hot;
  },
  get view() {
    return view;
  },
  get Module() {
    return Module;
  },
  get evaluator() {
    return evaluator;
  },
  editor,
  state,
  stats: () => ({ ...view?.stats(), fps: fps.value, traps: state.traps }),
  selectTab,
};

selectTab(state.tab);
boot().catch((e) => {
  console.error(e);
  banner.show('error', 'The page failed to start', `${e.message}`);
});
