// protocol.js: the hotwasm wire protocol, version 1, as seen from a page (docs/PROTOCOL.md).
// Mirrors `ClientMsg` / `ServerMsg` / `ErrorCode` in server/src/protocol.rs: one builder per
// client message, the server message types this client understands, the refusal codes.
// tests/node-client/protocol-mirror.test.mjs fails when this file and the server drift apart.

export const PROTOCOL_VERSION = 1;

/** Client → server messages (text frames holding one JSON object). */
export const ClientMsg = {
  /** First message on every connection. */
  hello: (journalEpoch, journalSeq, role = 'page') => ({
    type: 'hello',
    protocol: PROTOCOL_VERSION,
    role,
    journal_epoch: journalEpoch ?? null,
    journal_seq: journalSeq ?? 0,
  }),
  /** Compile `source` and deliver it to every page. */
  eval: (id, lang, source, name) => {
    const msg = { type: 'eval', id, lang, source };
    if (name) msg.name = name;
    return msg;
  },
  /** The answer to a `patch` or `rollback`; `value` {type, text}: the eval's printed value. */
  ack: (seq, ok, applyMs, error = null, output = '', value = null) => {
    const msg = { type: 'ack', seq, ok, apply_ms: applyMs, error: error ?? null, output: output ?? '' };
    if (value && typeof value === 'object') msg.value = { type: String(value.type), text: String(value.text) };
    return msg;
  },
  /** Roll one var back on every page (journaled). */
  rollback: (varName) => ({ type: 'rollback', var: varName }),
  /** This page caught a trap in a patched function and rolled `var` back itself. */
  trap: (seq, varName, message) => ({ type: 'trap', seq, var: varName, message }),
  /**
   * Roll back to just before journal entry `seq` on every page: the code, and with `state` the
   * app's memory too (the journal forgets the undone entries). `trap`: the trap message, when a
   * page already restored its own state after a trap in patch `seq`.
   */
  undo: (id, seq, state = true, trap = null) => {
    const msg = { type: 'undo', id, seq, state: !!state };
    if (trap) msg.trap = trap;
    return msg;
  },
  journalReset: () => ({ type: 'journal_reset' }),
  ping: () => ({ type: 'ping' }),
  /** List the current vars: answered by `vars_result {id, vars: [{name, signature, version, prototype?, defined_by_seq?}]}`. */
  vars: (id) => ({ type: 'vars', id }),
  /** Start fresh C and C++ compiler sessions (later evals no longer see earlier declarations): answered by `session_reset_result {id, after_seq}`. */
  sessionReset: (id) => ({ type: 'session_reset', id }),
};

/** Server → client message types (the `type` field of `ServerMsg`). */
export const SERVER_TYPES = new Set([
  'welcome',
  'patch',
  'rollback',
  'undo',
  'undo_result',
  'eval_result',
  'diagnostics',
  'replay_done',
  'journal_reset',
  'pong',
  'host_build',
  'host_reload',
  'error',
  'vars_result',
  'session_reset_result',
]);

/** The languages an `eval` may be written in (`Lang` on the server). */
export const LANGS = Object.freeze(['c', 'cpp', 'rust']);

/** The file extension of an eval in `lang` (diagnostics name the file). */
export const extensionOf = (lang) => ({ c: 'c', cpp: 'cpp', rust: 'rs' })[lang] ?? lang;

/** The `code` of a server `error` message (why a client message was refused). */
export const ERROR_CODES = Object.freeze([
  'bad_json',
  'unknown_type',
  'too_large',
  'binary_from_client',
  'protocol_version',
  'busy',
  'bad_request',
]);

/** One `var symbol signature` line per manifest entry: the text `hotwasm_apply` parses. */
export function manifestText(manifest) {
  return manifest.map((m) => `${m.var} ${m.symbol} ${m.signature}`).join('\n') + '\n';
}

/** Parses one text frame; throws an Error saying what was wrong. */
export function parseServerMsg(text) {
  let msg;
  try {
    msg = JSON.parse(text);
  } catch (e) {
    throw new Error(`server sent a text frame that is not JSON: ${e.message}`);
  }
  if (!msg || typeof msg !== 'object' || typeof msg.type !== 'string') {
    throw new Error('server sent a JSON value without a "type" field');
  }
  if (!SERVER_TYPES.has(msg.type)) {
    throw new Error(`server sent an unknown message type "${msg.type}" (protocol ${PROTOCOL_VERSION} client)`);
  }
  return msg;
}
