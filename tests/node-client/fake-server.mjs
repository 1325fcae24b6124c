// A stand-in for `hotwasm serve` on the other end of the client's WebSocket, so the client can be
// driven message by message under Node: `attach(Module, { WebSocket: server.WebSocket, url })`.
// Everything is awaited on events (a message from the client, a client event), never on time.

import { EventEmitter, once } from 'node:events';

export class FakeServer extends EventEmitter {
  constructor() {
    super();
    /** Every socket the client opened, newest last. */
    this.sockets = [];
    /** Every message the client sent, parsed, in order. */
    this.received = [];
    this.epoch = 'epoch-1';
    const server = this;
    this.WebSocket = class FakeWebSocket {
      constructor(url) {
        this.url = url;
        this.readyState = 0;
        server.sockets.push(this);
        queueMicrotask(() => {
          if (server.refuse) {
            this.readyState = 3;
            this.onclose?.({ code: 1006, reason: '' });
            return;
          }
          this.readyState = 1;
          this.onopen?.();
        });
      }
      send(text) {
        const msg = JSON.parse(text);
        server.received.push(msg);
        server.emit('message', msg, this);
      }
      close(code = 1000, reason = '') {
        if (this.readyState === 3) return;
        this.readyState = 3;
        queueMicrotask(() => this.onclose?.({ code, reason }));
      }
    };
  }

  get socket() {
    return this.sockets.at(-1);
  }

  /** Resolves with the first message the client sent from index `since` on that passes `pred`. */
  async waitFor(pred, since = this.received.length) {
    for (let i = since; ; ) {
      for (; i < this.received.length; i++) if (pred(this.received[i])) return this.received[i];
      await once(this, 'message');
    }
  }

  /** The next message of `type` the client sends (from index `since`). */
  next(type, since = this.received.length) {
    return this.waitFor((m) => m.type === type, since);
  }

  send(msg, ws = this.socket) {
    ws.onmessage?.({ data: JSON.stringify(msg) });
  }

  sendBinary(bytes, ws = this.socket) {
    ws.onmessage?.({ data: bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) });
  }

  /** Answers the client's hello with a welcome (what the real server does first). */
  async welcome({ hostVars = [], journalLen = 0 } = {}) {
    const hello = await this.next('hello', 0);
    this.send({ type: 'welcome', protocol: 1, server_version: 'fake', journal_epoch: this.epoch, journal_len: journalLen, host_vars: hostVars });
    return hello;
  }

  /** Sends a patch header and its bytes; resolves with the client's ack. */
  async patch({ seq, manifest, bytes, run = null, evalId = null, replay = false, size = bytes.length }) {
    const since = this.received.length;
    this.send({ type: 'patch', seq, eval_id: evalId, manifest, size, path: `/hotwasm/patch-${seq}.so`, run, replay });
    this.sendBinary(bytes);
    return this.ackFor(seq, since);
  }

  async rollback({ seq, var: v, replay = false }) {
    const since = this.received.length;
    this.send({ type: 'rollback', seq, var: v, replay });
    return this.ackFor(seq, since);
  }

  /** Sends `undo {seq, state, journal_seq}`; resolves with the client's ack of `journal_seq`. */
  async undo({ seq, state = true, journalSeq, replay = false }) {
    const since = this.received.length;
    this.send({ type: 'undo', seq, state, journal_seq: journalSeq, replay });
    return this.ackFor(journalSeq, since);
  }

  ackFor(seq, since) {
    return this.waitFor((m) => m.type === 'ack' && m.seq === seq, since);
  }
}
