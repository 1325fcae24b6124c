// hotwasm (a host with threads, HOT_RELOAD): reports a trap on a worker thread to the page's main
// thread with its stack, so the page's client can roll back the patched var that trapped
// (docs/THREADS.md, "A trap on a worker"). Linked with --pre-js, so it runs in every thread.
// On a worker: the uncaught error's stack names the patched function (the ErrorEvent the main
// thread's Worker object gets has no stack), sent as Emscripten's `callHandler` message. On the
// main thread: `Module.hotwasmWorkerTrap` keeps the reports until the client takes them over.
if (typeof ENVIRONMENT_IS_PTHREAD !== 'undefined' && ENVIRONMENT_IS_PTHREAD) {
  if (typeof self !== 'undefined' && typeof self.addEventListener === 'function') {
    self.addEventListener('error', (e) => {
      const error = e.error;
      let thread = 0;
      try { thread = _pthread_self(); } catch { /* the runtime is gone */ }
      postMessage({
        cmd: 'callHandler',
        handler: 'hotwasmWorkerTrap',
        args: [{ name: error?.name ?? 'Error', message: error?.message ?? String(e.message), stack: String(error?.stack ?? ''), thread }],
      });
    });
  }
} else {
  Module['hotwasmWorkerTraps'] = [];
  Module['hotwasmWorkerTrap'] = (report) => Module['hotwasmWorkerTraps'].push(report);
}
