// connection.js: the WebSocket to `hotwasm serve` (docs/PROTOCOL.md). Owns the per-run token,
// reconnecting with exponential backoff (250 ms → 5 s), picking up a restarted server's new
// token, and pairing each `patch` header with the binary frame that follows it. Knows nothing of
// what the messages mean: it hands them to its owner in the order they arrived.
//
// Works in browsers and in Node ≥ 20 (`globalThis.WebSocket`; Node 20 needs
// `--experimental-websocket`, or pass a `WebSocket` class in the options).

import { parseServerMsg } from './protocol.js';

export const BACKOFF_MIN_MS = 250;
export const BACKOFF_MAX_MS = 5000;

const isPlaceholder = (token) => /^(%|\{\{)/.test(token);

/**
 * The token of this page: `<meta name="hotwasm-token">` (the server injects it into every
 * `.html` it serves), else the URL's `?token=` (the URL the server prints carries it).
 */
export function tokenFromPage(doc = globalThis.document, loc = globalThis.location) {
  const fromMeta = doc?.querySelector?.('meta[name="hotwasm-token"]')?.getAttribute('content');
  if (fromMeta && !isPlaceholder(fromMeta)) return fromMeta;
  if (loc?.search) return new URLSearchParams(loc.search).get('token') || null;
  return null;
}

/**
 * The token in a fresh copy of this page from the server (a restarted server has a new one).
 * Same-origin only: other sites cannot read the response, and the server checks `Host`.
 */
export async function tokenFromServedPage(loc = globalThis.location) {
  if (!loc || typeof fetch !== 'function') return null;
  const res = await fetch(loc.pathname || '/', { cache: 'no-store' });
  if (!res.ok) return null;
  const m = (await res.text()).match(/<meta\s+name="hotwasm-token"\s+content="([^"]*)"/);
  return m && !isPlaceholder(m[1]) ? m[1] : null;
}

/** `ws://<page host>/repl?token=…` for a page served by the dev server. */
export function replUrlForPage(token, loc = globalThis.location) {
  const scheme = loc.protocol === 'https:' ? 'wss:' : 'ws:';
  return `${scheme}//${loc.host}/repl?token=${encodeURIComponent(token)}`;
}

export class Connection {
  /**
   * @param {object} o
   * @param {string|null} o.url        the WebSocket URL with `?token=` (null: cannot connect)
   * @param {Function} [o.WebSocket]   the WebSocket class (default `globalThis.WebSocket`)
   * @param {() => Promise<string|null>} [o.refreshToken] asked before each retry
   * @param {(ws) => void} o.onOpen    the socket opened (say hello)
   * @param {(msg, ws) => void} o.onMessage   a parsed text message other than `patch`
   * @param {(header, bytes: Uint8Array, ws) => void} o.onPatch  a patch header and its bytes
   * @param {(state, extra) => void} o.onStatus  connecting | open | closed | stopped
   * @param {(reason) => void} o.onClose the socket closed (pending requests fail)
   * @param {(level, message) => void} o.log
   */
  constructor(o) {
    this.url = o.url ?? null;
    this.WebSocket = o.WebSocket ?? globalThis.WebSocket ?? null;
    this.refreshToken = o.refreshToken ?? null;
    this.backoffMin = o.backoffMin ?? BACKOFF_MIN_MS;
    this.backoffMax = o.backoffMax ?? BACKOFF_MAX_MS;
    this.hooks = o;
    this.ws = null;
    this.state = 'idle';
    this.attempt = 0;
    this.stopped = true;
    this.retryTimer = null;
    this.pendingHeader = null;
  }

  setStatus(state, extra = {}) {
    this.state = state;
    this.hooks.onStatus(state, extra);
  }

  /** Connects, and keeps reconnecting until `stop()`. */
  start() {
    if (!this.url) {
      this.setStatus('closed', {
        reason: 'no token: open the URL the server printed (it carries ?token=…), or serve this page with `hotwasm serve`',
      });
      return;
    }
    if (!this.WebSocket) {
      this.setStatus('closed', { reason: 'this JS engine has no WebSocket (Node 20: run with --experimental-websocket)' });
      return;
    }
    this.stopped = false;
    this.connect();
  }

  stop() {
    this.stopped = true;
    clearTimeout(this.retryTimer);
    this.retryTimer = null;
    const ws = this.ws;
    this.ws = null;
    try {
      ws?.close(1000, 'client stopped');
    } catch {
      /* already closed */
    }
    this.hooks.onClose('the client was stopped');
    this.setStatus('stopped');
  }

  /** Reconnects now instead of waiting for the backoff timer. */
  reconnectNow() {
    if (this.stopped || this.state === 'open' || this.state === 'connecting') return;
    this.connect();
  }

  /** Sends one message as JSON; false when the socket is not open. */
  send(msg, ws = this.ws) {
    if (!ws || ws.readyState !== 1) return false;
    ws.send(JSON.stringify(msg));
    return true;
  }

  async connect() {
    clearTimeout(this.retryTimer);
    this.retryTimer = null;
    this.setStatus('connecting', { attempt: this.attempt });
    if (this.attempt > 0 && this.refreshToken) {
      await this.useFreshToken();
      if (this.stopped || this.state !== 'connecting') return;
    }
    let ws;
    try {
      ws = new this.WebSocket(this.url);
    } catch (e) {
      this.scheduleReconnect(`cannot open the WebSocket: ${e.message}`);
      return;
    }
    ws.binaryType = 'arraybuffer';
    this.ws = ws;
    this.pendingHeader = null;
    ws.onopen = () => this.ws === ws && this.hooks.onOpen(ws);
    ws.onmessage = (ev) => this.ws === ws && this.receive(ev.data, ws);
    ws.onerror = () => {
      /* a close event follows with the details */
    };
    ws.onclose = (ev) => {
      if (this.ws !== ws) return;
      this.ws = null;
      this.pendingHeader = null;
      this.hooks.onClose('the connection to the server closed before it answered');
      if (this.stopped) return;
      this.scheduleReconnect(ev.code === 1006 ? 'server unreachable' : `closed (${ev.code}${ev.reason ? `: ${ev.reason}` : ''})`);
    };
  }

  /** A restarted server has a new per-run token: ask for it before trying again. */
  async useFreshToken() {
    try {
      const token = await this.refreshToken();
      const u = new URL(this.url);
      if (token && token !== u.searchParams.get('token')) {
        u.searchParams.set('token', token);
        this.url = u.toString();
        this.hooks.log('info', 'the server has a new token (it restarted); using it');
      }
    } catch {
      /* server still down: the WebSocket attempt fails and backs off */
    }
  }

  scheduleReconnect(reason) {
    const retryMs = Math.min(this.backoffMax, this.backoffMin * 2 ** this.attempt);
    this.attempt += 1;
    this.setStatus('closed', { reason, retryMs, attempt: this.attempt });
    this.retryTimer = setTimeout(() => this.connect(), retryMs);
  }

  /** The server said welcome: the next failure starts the backoff from the bottom again. */
  opened() {
    this.attempt = 0;
    this.setStatus('open');
  }

  receive(data, ws) {
    if (typeof data === 'string') {
      let msg;
      try {
        msg = parseServerMsg(data);
      } catch (e) {
        this.hooks.log('error', e.message);
        return;
      }
      if (msg.type !== 'patch') {
        this.hooks.onMessage(msg, ws);
        return;
      }
      if (this.pendingHeader) this.hooks.log('error', `patch ${this.pendingHeader.seq} header was not followed by its bytes`);
      this.pendingHeader = msg;
      return;
    }
    const header = this.pendingHeader;
    this.pendingHeader = null;
    if (!header) {
      this.hooks.log('error', 'server sent a binary frame without a patch header; ignored');
      return;
    }
    this.hooks.onPatch(header, new Uint8Array(data), ws);
  }
}
