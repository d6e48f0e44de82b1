// `capsule run`'s worker thread, started before the rest of the run command's code
// loads: the thread's boot (~100 ms on the 2-core machine) then overlaps that load,
// the registry scan and the policy read instead of following them. This module
// imports only the worker pool, so it loads in a few milliseconds.
import { type PoolOptions, WorkerRunner } from '../tiers/worker.js';

/** One call, then exit: one thread and no spare (a spare would boot on the second core while this call's worker does). */
export const RUN_POOL: PoolOptions = { minThreads: 1, maxThreads: 1, spare: 0 };

export function startRunWorker(): WorkerRunner {
  return new WorkerRunner(RUN_POOL);
}
