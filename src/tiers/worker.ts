// The default tier: a piscina pool of worker threads. A call past its wall-clock
// limit (or whose caller aborts) is interrupted: its interrupt flag is set, the
// guest traps at its next fuel check (sandbox/fuel-meter.ts) and the worker serves
// the next call. Only a worker whose guest does not stop within INTERRUPT_GRACE_MS
// (blocked in a host call) is terminated; piscina replaces it. The pool keeps one
// spare worker beyond the calls it lets run at once, so the call after a kill finds
// a ready, warm worker instead of paying a cold start.
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { Piscina } from 'piscina';
import { CapsuleError, messageOf } from '../errors.js';
import { GLUE_CACHE_ENTRIES, glueHash } from '../sandbox/execute.js';
import { INTERRUPT_ABORT, INTERRUPT_TIMEOUT } from '../sandbox/fuel-meter.js';
import type { Job, JobResult } from '../sandbox/job.js';
import type { HostTable } from '../host-functions.js';
import { HostBridge } from './host-bridge.js';
import type { TierRunner } from './tier-runner.js';
import { Semaphore } from './semaphore.js';
import { CallDeadline } from './deadline.js';

export interface PoolOptions {
  /** Workers started up front (default: all of them). */
  minThreads?: number;
  /** Calls running at once (default: the number of CPUs). */
  maxThreads?: number;
  /** Idle workers kept beyond maxThreads so a killed worker's replacement is never waited for (default 1). */
  spare?: number;
  /** JS heap cap per worker (V8 old generation), MiB. Linear memory is capped separately, per call. */
  heapMb?: number;
  /**
   * Distinct glue modules a worker may import before it is replaced (default
   * 128): Node keeps every imported module for the worker's life.
   */
  glueModules?: number;
}

export const DEFAULT_GLUE_MODULES = 2 * GLUE_CACHE_ENTRIES;
/** The exit code of a worker that ends itself to be replaced (worker-entry.ts); its call has not started. */
export const RECYCLE_EXIT_CODE = 75;
const RECYCLED = `worker exited with code: ${RECYCLE_EXIT_CODE}`;

const DEFAULT_HEAP_MB = 512;
/** How long a call may wait for a worker to pick it up (a worker that cannot even start). */
const START_DEADLINE_MS = 60_000;
/**
 * How long an interrupted guest has to stop before its worker is terminated. A
 * spinning guest reaches a check within a slice (well under 0.1 ms) and its result is back in
 * about a millisecond; 50 ms leaves room for a loaded machine's scheduling (two
 * shared cores under the test suite) while a guest blocked in a host call is still
 * stopped 50 ms after its limit.
 */
export const INTERRUPT_GRACE_MS = 50;

/** A glue a new worker loads before it reports ready, with the hash it must have. */
export interface WarmGlue {
  url: string;
  sha256?: string;
}

// Bundled layout: dist/worker.cjs (which loads dist/worker.js) sits beside the bundle that holds this code.
export const WORKER_FILE = fileURLToPath(new URL('./worker.cjs', import.meta.url));

export class WorkerRunner implements TierRunner {
  private readonly pool: Piscina;
  private readonly slots: Semaphore;
  /**
   * Passed by reference as workerData: each new worker preloads these glues, the
   * most recently used first, as many as a worker keeps (GLUE_CACHE_ENTRIES).
   */
  private readonly warm: { glues: WarmGlue[]; glueModules: number };
  /** Workers that ended themselves at their glue-module bound (for tests and soak reports). */
  recycled = 0;

  constructor(
    opts: PoolOptions = {},
    workerFile = WORKER_FILE,
    private readonly host: HostTable = new Map(),
  ) {
    const running = Math.max(1, opts.maxThreads ?? availableParallelism());
    const spare = Math.max(0, opts.spare ?? 1);
    const threads = running + spare;
    this.slots = new Semaphore(running);
    const glueModules = Number.isSafeInteger(opts.glueModules) && (opts.glueModules as number) > 0 ? (opts.glueModules as number) : DEFAULT_GLUE_MODULES;
    this.warm = { glues: [], glueModules };
    this.pool = new Piscina({
      filename: workerFile,
      // The spare is always started, whatever minThreads says.
      minThreads: Math.min(Math.max(opts.minThreads ?? threads, spare + 1), threads),
      maxThreads: threads,
      idleTimeout: 60_000,
      workerData: this.warm,
      resourceLimits: { maxOldGenerationSizeMb: opts.heapMb ?? DEFAULT_HEAP_MB },
    });
  }

  /** Workers alive now (for soak and bench reports). */
  get threads(): number {
    return this.pool.threads.length;
  }

  /** capsule's WASI runs in the worker with the host's access: every grant applies as decided. */
  cannotHonour(): undefined {
    return undefined;
  }

  async run(job: Job, signal?: AbortSignal): Promise<JobResult> {
    // A worker at its glue-module bound ends itself before the call starts; the
    // call then runs in another worker. Bounded, so a pool that cannot start a
    // worker does not loop.
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.runOnce(job, signal);
      } catch (e) {
        if (e !== WORKER_RECYCLED || attempt >= 3) throw e === WORKER_RECYCLED ? recycleFailed(job) : e;
        this.recycled++;
      }
    }
  }

  private async runOnce(job: Job, signal?: AbortSignal): Promise<JobResult> {
    // At most what a fresh worker may import, so preloading never pushes it over its bound.
    const warmMax = Math.min(GLUE_CACHE_ENTRIES, this.warm.glueModules);
    this.warm.glues = warmFirst(this.warm.glues, { url: job.glueUrl, sha256: glueHash(job) }, warmMax);
    const release = await this.slots.acquire();
    const stop = new AbortController();
    const started = new Int32Array(new SharedArrayBuffer(4));
    const interrupt = new Int32Array(new SharedArrayBuffer(4));
    let grace: ReturnType<typeof setTimeout> | undefined;
    let terminated = false;
    // A guest blocked in an app host function is woken with a `cancelled` reply when the call is cut.
    const bridge = job.host ? new HostBridge(this.host, job.limits.memoryBytes) : undefined;
    const deadline = new CallDeadline(
      START_DEADLINE_MS,
      job.limits.timeoutMs,
      (why) => {
        // A call no worker has started is only taken off the queue; a running guest is asked to stop first.
        if (why === 'start-timeout' || Atomics.load(started, 0) === 0) return stop.abort();
        Atomics.store(interrupt, 0, why === 'aborted' ? INTERRUPT_ABORT : INTERRUPT_TIMEOUT);
        bridge?.cancel();
        grace = setTimeout(() => {
          terminated = true;
          stop.abort();
        }, INTERRUPT_GRACE_MS);
      },
      signal,
    );
    // The call's own clock starts when a worker picks it up (see Job.startedFlag).
    const wait = Atomics.waitAsync(started, 0, 0, START_DEADLINE_MS);
    const arm = () => {
      if (Atomics.load(started, 0) !== 0) deadline.started();
    };
    if (wait.async) void wait.value.then(arm);
    else arm();
    try {
      // A guest interrupted in time returns its result (TIMEOUT or ABORTED) from a worker that lives on.
      const task = { ...job, startedFlag: started, interrupt, ...(bridge ? { hostPort: bridge.theirs } : {}) };
      return (await this.pool.run(task, { signal: stop.signal, ...(bridge ? { transferList: [bridge.theirs.port] } : {}) })) as JobResult;
    } catch (e) {
      if (deadline.stopped === 'aborted') throw new CapsuleError('ABORTED', `${job.capabilityId}: the caller aborted the call`);
      if (deadline.stopped === 'start-timeout') {
        throw new CapsuleError('TIMEOUT', `${job.capabilityId}: no worker picked the call up within ${START_DEADLINE_MS} ms`);
      }
      if (deadline.stopped === 'timeout') {
        const why = terminated
          ? `the guest did not stop within ${INTERRUPT_GRACE_MS} ms (blocked in a host call?) and its worker was terminated`
          : 'its worker was stopped';
        throw new CapsuleError('TIMEOUT', `${job.capabilityId}: no result within ${job.limits.timeoutMs} ms; ${why}`, {
          limitMs: job.limits.timeoutMs,
          elapsedMs: deadline.elapsedMs(),
        });
      }
      if (Atomics.load(started, 0) === 0 && messageOf(e) === RECYCLED) throw WORKER_RECYCLED;
      if ((e as { code?: string }).code === 'ERR_WORKER_OUT_OF_MEMORY') {
        throw new CapsuleError('MEMORY_LIMIT', `${job.capabilityId}: the worker ran out of JS heap; it was replaced`);
      }
      throw new CapsuleError('INTERNAL', `${job.capabilityId}: worker failed: ${messageOf(e)}`);
    } finally {
      bridge?.close();
      clearTimeout(grace);
      deadline.dispose();
      release();
    }
  }

  async close(): Promise<void> {
    await this.pool.destroy();
  }
}

/** Thrown by runOnce when the worker ended itself before starting the call. */
const WORKER_RECYCLED = Symbol('worker recycled');

function recycleFailed(job: Job): CapsuleError {
  return new CapsuleError('INTERNAL', `${job.capabilityId}: workers kept ending at their glue-module bound before the call started`);
}

/** `glue` moved to the front of `list` (most recently used), which keeps at most GLUE_CACHE_ENTRIES. */
export function warmFirst(list: WarmGlue[], glue: WarmGlue, max = GLUE_CACHE_ENTRIES): WarmGlue[] {
  if (list[0]?.url === glue.url && list[0]?.sha256 === glue.sha256) return list;
  return [glue, ...list.filter((g) => g.url !== glue.url)].slice(0, max);
}
