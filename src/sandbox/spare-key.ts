// Which spare instance (spare.ts) may serve a call, and how long one may take to
// start: what the worker pool on the main thread needs, without loading the
// instrumentation and engine spare.ts brings (the pool starts before them).
import type { Job } from './job.js';

/**
 * Wall-clock backstop for a spare's start, and how long the pool waits for a worker
 * still making a spare to start a call before it ends that worker (tiers/worker.ts).
 */
export const SPARE_STUCK_MS = 1000;

/**
 * What a spare must match to serve a call: the same component, core file and memory
 * cap (the module is compiled per memory limit), and the same module bytes; undefined
 * for a call that cannot use a spare.
 */
export function spareKey(job: Pick<Job, 'directAbi' | 'world' | 'digest' | 'limits' | 'bundle'>): string | undefined {
  const abi = job.directAbi;
  if (!abi || job.world !== 'capability') return undefined;
  return [job.digest, abi.coreFile, job.limits.memoryBytes, job.bundle?.sha256?.[abi.coreFile] ?? ''].join('|');
}
