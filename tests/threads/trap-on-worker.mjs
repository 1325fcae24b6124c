// Run by worker-trap.test.mjs in a process of its own: starts the pool with two busy workers and
// applies a patch whose worker_tag traps on worker 1, then waits for the next ticks. What happens
// next is what the test checks (the trap ends this process).
import { sideModule, startPool } from './pool-host.mjs';

const pool = await startPool(process.argv[2], 2);
const r = pool.apply(await sideModule('tag_traps_on_worker_1'), 'worker_tag worker_tag__hw6 ii');
console.log(`applied ${JSON.stringify(r)}`);
const tick = pool.ticks();
await pool.until(() => pool.ticks() > tick + 50, 'fifty more ticks');
console.log('the pool kept ticking');
process.exit(0);
