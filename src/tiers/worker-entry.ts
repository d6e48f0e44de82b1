// The piscina worker: runs each Job it is given in a fresh instance. It holds no
// state between calls except the glue module cache (code, not data).
import { threadId, workerData } from 'node:worker_threads';
import { execute, glueHash, importedGlueModules, isNewGlue, loadGlue } from '../sandbox/execute.js';
import type { Job, JobResult } from '../sandbox/job.js';
import { DEFAULT_GLUE_MODULES, RECYCLE_EXIT_CODE, type WarmGlue } from './worker.js';

const data = workerData as { glues?: WarmGlue[]; glueModules?: number } | undefined;
const glueModules = data?.glueModules ?? DEFAULT_GLUE_MODULES;

// A new worker (first start, or the replacement of one killed on a timeout) loads
// the glue of every component the runtime has used before it reports ready, so
// its first call pays no module load: piscina awaits this module before READY.
const warm = data?.glues ?? [];
await Promise.all(warm.map((g) => loadGlue(g.url, g.sha256).catch(() => undefined)));

export default function runJob(job: Job): Promise<JobResult> {
  // Imported modules are never freed: a worker that would go over its bound
  // ends itself before the call starts (no guest code has run, so the pool runs
  // the call again in another worker) and piscina starts a fresh one.
  if (!job.directAbi && importedGlueModules() >= glueModules && isNewGlue(job.glueUrl, glueHash(job))) {
    process.exit(RECYCLE_EXIT_CODE);
  }
  if (job.startedFlag) {
    Atomics.store(job.startedFlag, 0, 1);
    Atomics.notify(job.startedFlag, 0);
  }
  return execute({ ...job, startedAt: performance.now() })
    .then((r) => ({ ...r, worker: threadId }))
    .finally(() => job.hostPort?.port.close());
}
