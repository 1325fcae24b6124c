// output.js: what wasm code printed while one call ran (a patch's `hotwasm_main`), captured
// without the app's help.
//
// Emscripten reads `Module.print` once when the module starts, so it cannot be swapped after
// the fact. Stdout and stderr reach JS through the virtual FS instead: `printf`/`println!` →
// `fd_write` → the stream's TTY device → `tty.ops.put_char(tty, byte)` / `tty.ops.fsync(tty)`.
// Wrapping those two ops on the TTYs behind fds 1 and 2 sees every byte; outside a capture they
// pass straight through to the app's own `print`/`printErr`.

/** @returns {{capture(fn: () => void): string, release(): void, active: boolean}} */
export function captureStdio(Module) {
  const ttys = [1, 2].map((fd) => ttyOf(Module, fd)).filter(Boolean);
  let sink = null;
  const restore = [];
  for (const tty of new Set(ttys)) {
    const ops = tty.ops;
    restore.push(() => (tty.ops = ops));
    let pending = []; // bytes of the current line while capturing
    tty.ops = {
      ...ops,
      put_char(t, byte) {
        if (!sink) return ops.put_char(t, byte);
        if (byte === null || byte === 10) {
          sink.push(decode(pending));
          pending = [];
        } else if (byte !== 0) pending.push(byte);
      },
      fsync(t) {
        if (!sink) return ops.fsync(t);
        if (pending.length) sink.push(decode(pending));
        pending = [];
      },
    };
  }
  return {
    active: restore.length > 0,
    /** Runs `fn`, returning what it printed (flushing the C library's stdio buffers first). */
    capture(fn) {
      const lines = [];
      const outer = sink;
      sink = lines;
      try {
        fn();
      } finally {
        flushStdio(Module);
        for (const tty of ttys) tty.ops.fsync(tty);
        sink = outer;
      }
      return lines.join('\n');
    },
    release() {
      restore.forEach((undo) => undo());
      restore.length = 0;
    },
  };
}

function ttyOf(Module, fd) {
  try {
    const stream = Module.FS?.getStream?.(fd) ?? Module.FS?.streams?.[fd];
    const tty = stream?.tty;
    return tty && typeof tty.ops?.put_char === 'function' && typeof tty.ops?.fsync === 'function' ? tty : null;
  } catch {
    return null; // the app replaced stdout with its own device: output is not captured
  }
}

/** `fflush(NULL)`: musl buffers stdout until a newline or a flush. */
function flushStdio(Module) {
  if (typeof Module._fflush !== 'function') return;
  try {
    Module._fflush(0);
  } catch {
    /* stdout could not be flushed: the output may be incomplete */
  }
}

const decoder = typeof TextDecoder === 'function' ? new TextDecoder() : null;
const decode = (bytes) => (decoder ? decoder.decode(new Uint8Array(bytes)) : String.fromCharCode(...bytes));
