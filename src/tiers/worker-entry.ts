// The piscina worker: runs each Job it is given in a fresh instance. It holds no
// state between calls except the glue module cache (code, not data).
import { workerData } from 'node:worker_threads';
import { execute, loadGlue } from '../sandbox/execute.js';
import type { Job, JobResult } from '../sandbox/job.js';
import type { WarmGlue } from './worker.js';

// A new worker (first start, or the replacement of one killed on a timeout) loads
// the glue of every component the runtime has used before it reports ready, so
// its first call pays no module load: piscina awaits this module before READY.
const warm = (workerData as { glues?: WarmGlue[] } | undefined)?.glues ?? [];
await Promise.all(warm.map((g) => loadGlue(g.url, g.sha256).catch(() => undefined)));

export default function runJob(job: Job): Promise<JobResult> {
  if (job.startedFlag) {
    Atomics.store(job.startedFlag, 0, 1);
    Atomics.notify(job.startedFlag, 0);
  }
  return execute(job);
}
