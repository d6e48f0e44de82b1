// The default tier: a piscina pool of worker threads. A call past its wall-clock
// limit (or whose caller aborts) has its worker terminated; piscina replaces it.
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { Piscina } from 'piscina';
import { CapsuleError, messageOf } from '../errors.js';
import type { Job, JobResult } from '../sandbox/job.js';
import type { TierRunner } from './runner.js';

export interface PoolOptions {
  minThreads?: number;
  maxThreads?: number;
}

// Bundled layout: dist/worker.js sits beside the chunk that holds this code's entry.
const WORKER_FILE = fileURLToPath(new URL('./worker.js', import.meta.url));

export class WorkerRunner implements TierRunner {
  private readonly pool: Piscina;

  constructor(opts: PoolOptions = {}, workerFile = WORKER_FILE) {
    const maxThreads = Math.max(1, opts.maxThreads ?? availableParallelism());
    this.pool = new Piscina({
      filename: workerFile,
      minThreads: Math.min(opts.minThreads ?? 1, maxThreads),
      maxThreads,
      idleTimeout: 60_000,
    });
  }

  async run(job: Job, signal?: AbortSignal): Promise<JobResult> {
    const deadline = new AbortController();
    const timer = setTimeout(() => deadline.abort(), job.limits.timeoutMs);
    const onAbort = () => deadline.abort();
    signal?.addEventListener('abort', onAbort, { once: true });
    try {
      return (await this.pool.run(job, { signal: deadline.signal })) as JobResult;
    } catch (e) {
      if (signal?.aborted) throw new CapsuleError('ABORTED', `${job.capabilityId}: the caller aborted the call`);
      if (deadline.signal.aborted) {
        throw new CapsuleError('TIMEOUT', `${job.capabilityId}: no result within ${job.limits.timeoutMs} ms; its worker was stopped`);
      }
      throw new CapsuleError('INTERNAL', `${job.capabilityId}: worker failed: ${messageOf(e)}`);
    } finally {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
    }
  }

  async close(): Promise<void> {
    await this.pool.destroy();
  }
}
