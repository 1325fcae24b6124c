// A pthreads host (examples/threads-c, built by `hotwasm build --hot` with the app's own -pthread)
// under Node with its workers busy rendering: a patch applied on the main thread reaches every
// worker's next call, a rollback does too, thread-local storage in a patch works per worker, an
// idle pool (its workers asleep in pthread_cond_wait) still takes a patch, and what a threaded
// host cannot load is refused with a message naming the cause while the old code keeps running. Run:
//   node --test tests/threads/
// New threaded-host behaviours go here; benches/threads.mjs measures the same host.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { buildHost, sideModule, startPool } from './pool-host.mjs';

const WORKERS = 2;

describe('a patch in a host whose workers are running', () => {
  let pool;
  before(async () => { pool = await startPool(await buildHost(), WORKERS); });
  // The pool's workers never exit: end the process once the tests have reported.
  after(() => setImmediate(() => process.exit(process.exitCode ?? 0)));

  test('the host runs on shared memory with its workers ticking', async () => {
    assert.ok(pool.Module.HEAPU8.buffer instanceof SharedArrayBuffer, 'a -pthread host shares its memory');
    const t = pool.ticks();
    await pool.until(() => pool.ticks() > t + 2, 'more ticks');
    assert.deepEqual(pool.seen(), [100, 101], 'the default worker_tag on every worker');
  });

  test('every worker\'s next call after the apply reaches the new version, and a rollback reaches them all', async () => {
    const r = pool.apply(await sideModule('tag_2000'), 'worker_tag worker_tag__hw1 ii');
    assert.ok(r.id > 0, r.error);
    const tick = pool.ticks();
    await pool.until(() => pool.ticks() >= tick + 2, 'two ticks after the apply');
    assert.deepEqual(pool.seen(), [2000, 2001], 'each worker ran the patch');
    assert.equal(pool.rollback('worker_tag'), 0, pool.lastError());
    const back = pool.ticks();
    await pool.until(() => pool.ticks() >= back + 2, 'two ticks after the rollback');
    assert.deepEqual(pool.seen(), [100, 101], 'each worker runs the default again');
  });

  test('a patch of the per-pixel function changes every worker\'s band', async () => {
    const r = pool.apply(await sideModule('color_green'), 'pixel_color pixel_color__hw5 iiii');
    assert.ok(r.id > 0, r.error);
    const tick = pool.ticks();
    await pool.until(() => pool.ticks() >= tick + 2, 'two ticks after the apply');
    const { Module } = pool;
    assert.equal(Module._pool_pixel(5, 0) >>> 0, 0xff00ff00, 'the first worker\'s band (top rows)');
    assert.equal(Module._pool_pixel(5, 95) >>> 0, 0xff00ff00, 'the last worker\'s band (bottom rows)');
  });

  test('thread-local storage in a patch is initialised on each worker', async () => {
    const r = pool.apply(await sideModule('tag_tls'), 'worker_tag worker_tag__hw3 ii');
    assert.ok(r.id > 0, r.error);
    await pool.until(() => pool.seen().every((v, w) => v === 7000 + w), 'every worker to run the TLS patch');
  });

  test('a pool asleep in pthread_cond_wait takes a patch (each worker loads it within its 100 ms wait slice) and runs it on resume', async () => {
    pool.Module._pool_pause(1);
    const r = pool.apply(await sideModule('tag_3000'), 'worker_tag worker_tag__hw2 ii');
    assert.ok(r.id > 0, r.error);
    pool.Module._pool_pause(0);
    await pool.until(() => pool.seen().every((v, w) => v === 3000 + w), 'every worker to run the patch after resuming');
  });

  test('a patch built without -pthread is refused naming the memory mismatch; the old code keeps running', async () => {
    const before = pool.seen();
    const r = pool.apply(await sideModule('tag_2000', { threads: false }), 'worker_tag worker_tag__hw1 ii');
    assert.ok(r.status < 0);
    assert.match(r.error, /mismatch in shared state of memory/);
    const tick = pool.ticks();
    await pool.until(() => pool.ticks() >= tick + 2, 'two ticks after the refusal');
    assert.deepEqual(pool.seen(), before);
  });

  test('a patch that starts a thread of its own is refused: the host does not export pthread_create', async () => {
    const r = pool.apply(await sideModule('tag_spawns'), 'worker_tag worker_tag__hw4 ii');
    assert.ok(r.status < 0);
    assert.match(r.error, /imports `pthread_create`, which the host does not export/);
  });
});
