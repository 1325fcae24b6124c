// page/page.js: hotwasm's generic page, for apps without a page of their own. Reads
// /hotwasm/app.json ({name, script, wasm, export_name, frame?}, written by `hotwasm serve` from
// hotwasm.toml), loads the app's Emscripten bundle with the canvas, attaches the client and, when
// the app names a `frame` export, calls it once per animation frame through `hot.call` (a trap in
// a patched function is rolled back and the loop carries on). Built only on the public API.

import { appInfo, attach, extensionOf, HELD, isolationProblem, loadFactory, TRAPPED } from '/hotwasm/hotwasm-client.js';
import { CodeEditor } from '/hotwasm/ui/editor.js';
import { Banner, DiagnosticsOverlay } from '/hotwasm/ui/overlay.js';
import { HistoryPanel } from '/hotwasm/ui/history.js';
import { PageConsole, connectionPill, consoleCommand, logEvents, trapReport } from '/hotwasm/ui/console.js';
import { Evaluator } from '/hotwasm/ui/evaluate.js';

const $ = (id) => document.getElementById(id);
/** Traps in the app's own code in a row before the frame loop pauses. */
const HOST_TRAPS_BEFORE_PAUSE = 3;

const banner = new Banner($('banner'));
const overlay = new DiagnosticsOverlay($('stage'));
const pageConsole = new PageConsole($('log'), { input: $('console-input'), onSubmit: (line) => evalLine(line) });
const log = (kind, text, detail) => pageConsole.log(kind, text, detail);
const state = { lang: 'c', consoleLang: null, template: null, paused: false, frames: 0, traps: 0, hostTraps: 0, hot: null, app: null, Module: null };

const TEMPLATES = {
  c: (vars) => `/* Redefine a hot function of the app and press Ctrl+Enter (click one in the history for a stub).${vars.map((v) => `\n   ${v.name} "${v.signature}"`).join('')} */\n`,
  cpp: (vars) => `// Redefine a hot function (extern "C", as the app declares it) and press Ctrl+Enter.${vars.map((v) => `\n//   ${v.name} "${v.signature}"`).join('')}\n`,
  rust: (vars) => `// Redefine a hot function (#[no_mangle] pub extern "C" fn) and press Ctrl+Enter.${vars.map((v) => `\n//   ${v.name} "${v.signature}"`).join('')}\n`,
};
const fileFor = (lang) => `eval.${extensionOf(lang)}`;

/** Types for Emscripten's signature letters (return first), in C and in Rust. */
const C_TYPES = { v: 'void', i: 'int32_t', j: 'int64_t', f: 'float', d: 'double', p: 'void *' };
const RUST_TYPES = { i: 'i32', j: 'i64', f: 'f32', d: 'f64', p: '*mut u8' };

/** A definition of var `name` with signature letters `sig` to start an edit from (types from the letters). */
function stubFor({ name, signature: sig }, lang) {
  const [ret, ...params] = [...sig];
  if (lang === 'rust') {
    const args = params.map((t, i) => `_a${i}: ${RUST_TYPES[t]}`).join(', ');
    const result = ret === 'v' ? '' : ` -> ${RUST_TYPES[ret]}`;
    return `#[no_mangle]\npub extern "C" fn ${name}(${args})${result} {\n    todo!()\n}\n`;
  }
  const args = params.map((t, i) => `${C_TYPES[t]}${t === 'p' ? '' : ' '}a${i}`).join(', ') || 'void';
  const body = ret === 'v' ? '' : '    return 0;\n';
  const linkage = lang === 'cpp' ? 'extern "C" ' : '';
  return `#include <stdint.h>\n\n${linkage}${C_TYPES[ret]} ${name}(${args}) {\n${body}}\n`;
}

/** Puts a definition of var `name` in the editor (types from its signature letters). */
function editVar(name) {
  const v = state.hot?.vars().find((x) => x.name === name);
  if (!v) return;
  editor.value = stubFor(v, state.lang);
  saveDraft(state.lang, editor.value);
  editor.setDiagnostics([]);
}

const editor = new CodeEditor({
  textarea: $('code'),
  gutter: $('gutter'),
  marks: $('marks'),
  file: fileFor(state.lang),
  onEval: () => evalEditor(),
  onChange: (text) => saveDraft(state.lang, text),
});

function saveDraft(lang, text) {
  try {
    sessionStorage.setItem(`hotwasm:page:${lang}`, text);
  } catch {
    /* storage disabled: the draft lives in the editor only */
  }
}
function draft(lang) {
  try {
    return sessionStorage.getItem(`hotwasm:page:${lang}`);
  } catch {
    return null;
  }
}

/** Shows `lang`'s draft, or a template naming the app's hot functions (filled in on welcome). */
function selectLang(lang) {
  state.lang = lang;
  editor.file = fileFor(lang);
  state.template = draft(lang) == null ? TEMPLATES[lang](state.hot?.hostVars ?? []) : null;
  editor.value = state.template ?? draft(lang);
  editor.setDiagnostics([]);
  $('sig').textContent = editor.file;
  for (const b of document.querySelectorAll('.lang button')) b.classList.toggle('on', b.dataset.lang === lang);
}
for (const b of document.querySelectorAll('.lang button')) b.onclick = () => selectLang(b.dataset.lang);

let evaluator = null;
async function evalEditor() {
  if (!evaluator) return log('error', 'live editing is off: the app was built without HOT_RELOAD=1');
  $('btn-eval').disabled = true;
  try {
    await evaluator.run({ source: editor.value, lang: state.lang, name: editor.file });
  } finally {
    $('btn-eval').disabled = false;
  }
}
$('btn-eval').onclick = () => evalEditor();

async function evalLine(line) {
  log('info', `› ${line}`);
  if (state.hot && consoleCommand(line, { hot: state.hot, log, setLang: (l) => (state.consoleLang = l) })) return;
  if (!evaluator) return log('error', 'live editing is off: the app was built without HOT_RELOAD=1');
  const lang = state.consoleLang ?? state.lang;
  await evaluator.run({ source: `${line}\n`, lang, name: `console.${extensionOf(lang)}` });
}

// ---- the app ----------------------------------------------------------------------------

async function boot() {
  const app = await appInfo();
  state.app = app;
  document.title = `${app.name ?? 'app'} · hotwasm`;
  $('app-name').textContent = app.name ?? 'hotwasm';
  const factory = await loadFactory(app.script, app.export_name);
  const scriptUrl = new URL(app.script, location.href);
  const Module = await factory({
    canvas: $('canvas'),
    locateFile: (path) => (path.endsWith('.wasm') && app.wasm ? new URL(app.wasm, location.href).href : new URL(path, scriptUrl).href),
    print: (text) => log('output', text),
    printErr: (text) => log('error', text),
  });
  state.Module = Module;
  const hot = await attach(Module, { wait: 'none' });
  state.hot = hot;
  wire(hot);
  selectLang(state.lang);
  if (app.frame) startFrames(hot, app.frame);
  else $('hud').hidden = true;
}

function wire(hot) {
  $('mode').textContent = hot.hotReload ? 'HOT_RELOAD build' : 'plain build · editing off';
  $('mode').dataset.mode = hot.hotReload ? 'hot' : 'plain';
  connectionPill($('conn'), hot);
  logEvents(hot, pageConsole);
  hot.on('host_build', (b) => b.status === 'failed' && banner.show('error', 'The host build failed: the old host keeps running', b.error ?? ''));
  hot.on('host_reloaded', (r) => {
    if (r.dropped.length) banner.show('trap', `New host: ${r.dropped.length} journal ${r.dropped.length === 1 ? 'entry' : 'entries'} dropped`, r.dropped.map((d) => `#${d.seq}: ${d.reason}`).join('\n'));
  });
  new HistoryPanel($('history'), hot, { onSelect: editVar, onError: (m) => log('error', m) });
  hot.on('welcome', () => editor.value === state.template && selectLang(state.lang));
  hot.on('trap', (t) => {
    state.traps += 1;
    if (t.pending) {
      banner.show('trap', `Call of \`${t.pending}\`, which no eval defines yet`, t.message);
      return;
    }
    if (t.var) {
      state.hostTraps = 0;
      const report = trapReport(t);
      banner.show('trap', report.title, report.detail);
      return;
    }
    state.hostTraps += 1;
    if (state.hostTraps >= HOST_TRAPS_BEFORE_PAUSE) {
      setPaused(true);
      banner.show('error', "The app's own code keeps trapping", `${t.message}. No patched function to roll back; frames are paused. Reload the page to start clean.`);
    }
  });
  if (hot.hotReload) {
    evaluator = new Evaluator({ hot, overlay, timing: $('timing'), log, editors: () => [editor] });
  } else {
    $('btn-eval').disabled = true;
  }
}

function startFrames(hot, frame) {
  let last = performance.now();
  const tick = (t) => {
    const dt = Math.min(0.05, Math.max(0, (t - last) / 1000));
    last = t;
    const r = state.paused ? null : hot.call(frame, dt);
    if (r !== null && r !== TRAPPED && r !== HELD) {
      state.frames += 1;
      if (state.frames % 10 === 0) $('stat-frames').textContent = state.frames.toLocaleString('en-US');
    }
    $('stat-traps').textContent = String(state.traps);
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
$('btn-journal-reset').onclick = () => {
  try {
    state.hot?.resetJournal();
  } catch (e) {
    log('error', e.message);
  }
};

// For the console and the tests.
globalThis.hotwasm = {
  state,
  editor,
  get hot() {
    return state.hot;
  },
  get Module() {
    return state.Module;
  },
  get evaluator() {
    return evaluator;
  },
};

boot().catch((e) => {
  console.error(e);
  banner.show('error', 'The app failed to start', [e.message, isolationProblem()].filter(Boolean).join('\n'));
  $('mode').textContent = 'not loaded';
});
