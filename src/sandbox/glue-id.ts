// What the worker pool (on the main thread) needs to know of a job's glue without
// loading the engine that runs it (execute.ts): the pool starts its threads before
// the rest of capsule is loaded (cli/run-worker.ts), so this stays import-free.
import type { Job } from './job.js';

/** Glue modules kept per thread (a worker, a child process); the same bound as the pool's warm list. */
export const GLUE_CACHE_ENTRIES = 64;

/** The recorded hash of a job's glue, when its bundle has one. */
export function glueHash(job: Pick<Job, 'bundle'>): string | undefined {
  const b = job.bundle;
  if (!b?.sha256) return undefined;
  // Hashes recorded but none for the glue: '' matches no file, so it is refused.
  return Object.hasOwn(b.sha256, b.glue) ? b.sha256[b.glue] : '';
}
