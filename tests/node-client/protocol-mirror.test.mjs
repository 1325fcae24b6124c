// The JS mirrors stay what their sources say: web/protocol.js against the server's protocol
// (as the built `hotwasm` binary prints it from its serde types), and web/registry.js's status
// codes against `enum hotwasm_status` in abi/include/hotwasm.h (the ABI's one source).
//
//   node --test tests/node-client/

import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { ROOT, ensureServer, toolchainEnv } from '../browser/helpers.mjs';
import { ClientMsg, ERROR_CODES, LANGS, PROTOCOL_VERSION, SERVER_TYPES } from '../../web/protocol.js';
import { HOTWASM_STATUS } from '../../web/registry.js';

/** `enum hotwasm_status { NAME = value, ... }` from the C header. */
function headerStatusCodes() {
  const header = readFileSync(join(ROOT, 'abi', 'include', 'hotwasm.h'), 'utf8');
  const body = header.match(/typedef\s+enum\s+hotwasm_status\s*\{([^}]*)\}/)?.[1];
  assert.ok(body, 'abi/include/hotwasm.h declares `typedef enum hotwasm_status { ... }`');
  const codes = {};
  for (const m of body.replace(/\/\*[\s\S]*?\*\//g, '').matchAll(/(HOTWASM_[A-Z0-9_]+)\s*=\s*(-?\d+)/g)) codes[m[1]] = Number(m[2]);
  return codes;
}

/** The protocol facts the server binary prints (`hotwasm protocol --json`). */
function serverProtocol() {
  const text = execFileSync(ensureServer(), ['protocol', '--json'], { env: toolchainEnv(), encoding: 'utf8' });
  return JSON.parse(text);
}

/** The `type` of every message web/protocol.js can build. */
function clientTypes() {
  return Object.values(ClientMsg)
    .map((build) => build('x', 'x', 'x', 'x').type)
    .sort();
}

describe('JS mirrors of facts kept elsewhere', () => {
  test('web/registry.js has exactly the status codes of abi/include/hotwasm.h', () => {
    assert.deepEqual({ ...HOTWASM_STATUS }, headerStatusCodes());
  });

  test('web/protocol.js speaks the protocol version, message types, error codes and eval languages of the server', () => {
    const server = serverProtocol();
    assert.equal(PROTOCOL_VERSION, server.protocol, 'protocol version');
    assert.deepEqual(clientTypes(), [...server.client_types].sort(), 'client → server message types (ClientMsg builders)');
    assert.deepEqual([...SERVER_TYPES].sort(), [...server.server_types].sort(), 'server → client message types (SERVER_TYPES)');
    assert.deepEqual([...ERROR_CODES].sort(), [...server.error_codes].sort(), 'refusal codes (ERROR_CODES)');
    assert.deepEqual([...LANGS].sort(), [...(server.langs ?? [])].sort(), 'eval languages (LANGS)');
  });
});
