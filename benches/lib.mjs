// Shared by the server benches: start the real `hotwasm serve` (port 0, its own journal in a
// temp dir), speak docs/PROTOCOL.md over Node's WebSocket (node --experimental-websocket on 20).
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

export const root = path.resolve(import.meta.dirname, '..');
export const SERVER_BIN = path.join(root, 'target/debug/hotwasm');

export async function startServer(args = []) {
  if (typeof WebSocket === 'undefined') throw new Error('no global WebSocket: run node with --experimental-websocket (Node 20) or Node ≥ 22');
  const state = mkdtempSync(path.join(tmpdir(), 'hotwasm-bench-'));
  const argv = ['serve', '--port', '0', '--project', path.join(root, 'examples', 'particles'), '--no-watch', '--journal', path.join(state, 'journal'), ...args];
  const proc = spawn(SERVER_BIN, argv, { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  const started = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => { proc.kill('SIGKILL'); reject(new Error(`no URL within 60 s:\n${out}`)); }, 60_000);
    const onData = (c) => {
      out += c.toString();
      const m = out.match(/http:\/\/127\.0\.0\.1:(\d+)\/\S*token=([A-Za-z0-9_-]+)/);
      if (m) { clearTimeout(timer); resolve({ port: Number(m[1]), token: m[2] }); }
    };
    proc.stdout.on('data', onData);
    proc.stderr.on('data', onData);
    proc.on('exit', (code) => { clearTimeout(timer); reject(new Error(`server exited ${code}:\n${out}`)); });
  });
  proc.on('exit', () => {});
  return {
    proc,
    ...started,
    url: `ws://127.0.0.1:${started.port}/repl?token=${started.token}`,
    output: () => out,
    alive: () => proc.exitCode == null && proc.signalCode == null,
    /** {VmHWM, VmRSS} in KiB from /proc/PID/status. */
    memory() {
      const s = readFileSync(`/proc/${proc.pid}/status`, 'utf8');
      const kb = (k) => Number(s.match(new RegExp(`^${k}:\\s+(\\d+) kB`, 'm'))?.[1]);
      return { hwmKiB: kb('VmHWM'), rssKiB: kb('VmRSS') };
    },
    stop() {
      return new Promise((res) => {
        if (proc.exitCode != null || proc.signalCode != null) return res();
        proc.once('exit', () => res());
        proc.kill('SIGTERM');
        setTimeout(() => proc.kill('SIGKILL'), 3000).unref();
      });
    },
  };
}

/** Opens a socket and sends `hello`; resolves with {ws, welcome, ...} once welcomed (and, for a page, replayed). */
export function connect(url, role, { onPatch } = {}) {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url);
    ws.binaryType = 'arraybuffer';
    const c = { ws, role, acks: 0, lastAckAt: 0, waiters: new Map(), pendingPatch: null, closed: false, errors: [] };
    const timer = setTimeout(() => reject(new Error(`${role}: not welcomed within 20 s`)), 20_000);
    ws.onerror = (e) => { c.errors.push(String(e.message ?? e)); reject(new Error(`${role}: socket error ${e.message ?? ''}`)); };
    ws.onclose = () => { c.closed = true; };
    ws.onopen = () => ws.send(JSON.stringify({ type: 'hello', protocol: 1, role, journal_epoch: null, journal_seq: 0 }));
    ws.onmessage = (ev) => {
      if (typeof ev.data !== 'string') {
        const p = c.pendingPatch;
        c.pendingPatch = null;
        if (!p) { c.errors.push('binary frame without a patch header'); return; }
        if (ev.data.byteLength !== p.size) c.errors.push(`patch ${p.seq}: ${ev.data.byteLength} bytes, header said ${p.size}`);
        onPatch?.(p, ev.data);
        ws.send(JSON.stringify({ type: 'ack', seq: p.seq, ok: true, apply_ms: 0, error: null, output: '' }));
        c.acks += 1;
        c.lastAckAt = performance.now();
        return;
      }
      const msg = JSON.parse(ev.data);
      if (msg.type === 'patch') c.pendingPatch = msg;
      else if (msg.type === 'rollback') ws.send(JSON.stringify({ type: 'ack', seq: msg.seq, ok: true, apply_ms: 0, error: null, output: '' }));
      else if (msg.type === 'welcome') { c.welcome = msg; if (role !== 'page') { clearTimeout(timer); resolve(c); } }
      else if (msg.type === 'replay_done') { clearTimeout(timer); resolve(c); }
      else if (msg.type === 'eval_result') { c.waiters.get(msg.id)?.(msg); c.waiters.delete(msg.id); }
      else if (msg.type === 'pong') { c.waiters.get('__pong')?.(msg); c.waiters.delete('__pong'); }
      else if (msg.type === 'error') c.errors.push(`${msg.code}: ${msg.message}`);
    };
  });
}

/** Sends one eval from a repl client; resolves with the eval_result (or rejects after `ms`). */
export function evalOn(c, id, source, ms = 60_000) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => { c.waiters.delete(id); reject(new Error(`eval ${id}: no eval_result within ${ms} ms`)); }, ms);
    c.waiters.set(id, (r) => { clearTimeout(timer); resolve(r); });
    c.ws.send(JSON.stringify({ type: 'eval', id, lang: 'c', source, name: `${id}.c` }));
  });
}

export function ping(c, ms = 5000) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('no pong')), ms);
    c.waiters.set('__pong', () => { clearTimeout(timer); resolve(true); });
    c.ws.send(JSON.stringify({ type: 'ping' }));
  });
}

/** A distinct background_color patch (a host var of the demo). */
export const colourSource = (i) => {
  const colour = (0xff000000 | ((i * 2654435761) & 0xffffff)) >>> 0;
  return `#include "particles.h"\nuint32_t background_color(const World *w) { (void)w; return 0x${colour.toString(16)}u; }\n`;
};

export const pct = (xs, p) => { const s = [...xs].sort((a, b) => a - b); return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))]; };
