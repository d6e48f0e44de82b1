// The default tier: a pool of worker threads (capsule's own, over node:worker_threads;
// pool-thread.ts is one thread). Each call goes to a ready, idle thread with one
// message; the thread reports its start in its shared slot (worker-protocol.ts), and
// the call's one timer, armed when it is sent, checks that slot: the call's own
// clock runs from its send, or from a little before its start if the thread was slow
// to pick it up (callClock()). No flag, channel or promise is made per call beyond
// the call's own.
//
// A call past its wall-clock limit (or whose caller aborts) is interrupted: the
// slot's interrupt is set, the guest traps at its next fuel check
// (sandbox/fuel-meter.ts) and the thread serves the next call. Only a thread whose
// guest does not stop within INTERRUPT_GRACE_MS (blocked in a host call) is
// terminated, and replaced. The pool keeps `spare` threads beyond the calls it lets
// run at once, so the call after a kill finds a ready, warm thread.
//
// Why not piscina (used before): it parks idle workers in Atomics.wait, so a worker
// can do nothing between calls (no spare instance); it does not say which worker
// takes a task, so a per-worker slot cannot be given with it; and each task cost a
// SharedArrayBuffer flag, an Atomics.waitAsync and two timers on top of its own
// bookkeeping.
import { availableParallelism } from 'node:os';
import type { TransferListItem } from 'node:worker_threads';
import { fileURLToPath } from 'node:url';
import { CapsuleError } from '../errors.js';
import { GLUE_CACHE_ENTRIES, glueHash } from '../sandbox/glue-id.js';
import { INTERRUPT_ABORT, INTERRUPT_TIMEOUT } from '../sandbox/fuel-meter.js';
import type { Job, JobResult } from '../sandbox/job.js';
import { SPARE_STUCK_MS, spareKey } from '../sandbox/spare-key.js';
import type { HostTable } from '../host-functions.js';
import { HostBridge } from './host-bridge.js';
import type { TierRunner } from './tier-runner.js';
import { Semaphore } from './semaphore.js';
import type { StopReason } from './deadline.js';
import { type CallEnd, PoolThread } from './pool-thread.js';
import { epochNow } from './worker-protocol.js';

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
  /**
   * Each thread makes the next call's instance after answering a call (default true), for
   * components called without glue (one core module, no imports): see sandbox/spare.ts.
   * Every call still runs in an instance no other call has run in.
   */
  spares?: boolean;
}

export const DEFAULT_GLUE_MODULES = 2 * GLUE_CACHE_ENTRIES;
/** The exit code of a worker that ends itself to be replaced (worker-entry.ts); its call has not started. */
export const RECYCLE_EXIT_CODE = 75;

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
/**
 * The call's timer first fires this long before its limit, then again at or just after
 * it. The guest stops itself at the limit (its fuel checks read the clock) and posts its
 * TIMEOUT, which the calling thread must wake for: measured with a bare worker here, a
 * thread that slept 100 ms took 0.27-0.35 ms to wake for a message (a vCPU woken from
 * idle), one that ran a millisecond earlier about 0.1-0.2 ms. The bench's timeout rows
 * show the effect (docs/benchmarks.md).
 */
const WAKE_LEAD_MS = 1;

/** A glue a new worker loads before it reports ready, with the hash it must have. */
export interface WarmGlue {
  url: string;
  sha256?: string;
}

// Bundled layout: dist/worker.cjs (which loads dist/worker.js) sits beside the bundle that holds this code.
export const WORKER_FILE = fileURLToPath(new URL('./worker.cjs', import.meta.url));

export class WorkerRunner implements TierRunner {
  private readonly slots: Semaphore;
  private readonly maxThreads: number;
  private readonly minThreads: number;
  private readonly heapMb: number;
  private readonly spares: boolean;
  private readonly all = new Set<PoolThread>();
  /** Ready threads with no call, the most recently freed last. */
  private readonly idle: PoolThread[] = [];
  /** Calls waiting for a ready thread (all are starting), first come first served. */
  private readonly waiting: Waiter[] = [];
  /** Components whose spare could not be made: no thread makes one again. */
  private readonly noSpares = new Set<string>();
  /**
   * Given to each new thread: it preloads these glues, the most recently used
   * first, as many as a thread keeps (GLUE_CACHE_ENTRIES).
   */
  private readonly warm: { glues: WarmGlue[]; glueModules: number };
  private lastCall = 0;
  private closed = false;
  /** Workers that ended themselves at their glue-module bound (for tests and soak reports). */
  recycled = 0;

  constructor(
    opts: PoolOptions = {},
    private readonly workerFile = WORKER_FILE,
    private readonly host: HostTable = new Map(),
  ) {
    const running = Math.max(1, opts.maxThreads ?? availableParallelism());
    const spare = Math.max(0, opts.spare ?? 1);
    this.maxThreads = running + spare;
    this.slots = new Semaphore(running);
    // The spare is always started, whatever minThreads says.
    this.minThreads = Math.min(Math.max(opts.minThreads ?? this.maxThreads, spare + 1), this.maxThreads);
    this.heapMb = opts.heapMb ?? DEFAULT_HEAP_MB;
    this.spares = opts.spares ?? true;
    const glueModules = Number.isSafeInteger(opts.glueModules) && (opts.glueModules as number) > 0 ? (opts.glueModules as number) : DEFAULT_GLUE_MODULES;
    this.warm = { glues: [], glueModules };
    for (let i = 0; i < this.minThreads; i++) this.spawn();
  }

  /** Compiled modules sent in full to the workers alive now (held-modules.ts; for tests and reports). */
  get modulesSent(): number {
    let n = 0;
    for (const t of this.all) n += t.modules.sent;
    return n;
  }

  /** Workers alive now (for soak and bench reports). */
  get threads(): number {
    return this.all.size;
  }

  /** capsule's WASI runs in the worker with the host's access: every grant applies as decided. */
  cannotHonour(): undefined {
    return undefined;
  }

  async run(job: Job, signal?: AbortSignal): Promise<JobResult> {
    // A worker at its glue-module bound ends itself before the call starts (and a
    // worker stuck making a spare is ended before it starts it); the call then runs
    // in another worker. Bounded, so a pool that cannot start a worker does not loop.
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
    if (!job.directAbi) this.warm.glues = warmFirst(this.warm.glues, { url: job.glueUrl, sha256: glueHash(job) }, warmMax);
    const release = await this.slots.acquire();
    try {
      const key = spareKey(job);
      const thread = await this.take(job, key, signal);
      return await this.send(thread, job, key, signal);
    } finally {
      release();
    }
  }

  /** A ready thread with no call: one holding (or making) a spare for this component first, then one not making a spare. */
  private take(job: Job, key: string | undefined, signal?: AbortSignal): Promise<PoolThread> {
    if (signal?.aborted) return Promise.reject(aborted(job));
    if (this.closed) return Promise.reject(new CapsuleError('INTERNAL', `${job.capabilityId}: the runtime is closed`));
    const withSpare = key !== undefined ? lastWhere(this.idle, (t) => t.spareKey === key) : undefined;
    const pick = withSpare ?? lastWhere(this.idle, (t) => !t.slot.sparing) ?? this.idle.at(-1);
    if (pick) {
      this.idle.splice(this.idle.indexOf(pick), 1);
      return Promise.resolve(pick);
    }
    if (this.all.size < this.maxThreads) this.spawn();
    return new Promise((resolve, reject) => {
      const waiter: Waiter = {
        give: (t) => {
          clearTimeout(timer);
          resolve(t);
        },
        fail: (why) => {
          clearTimeout(timer);
          reject(new CapsuleError('INTERNAL', `${job.capabilityId}: no worker could start: ${why}`));
        },
      };
      // A thread that starts too slowly does not hold the call forever.
      const timer = setTimeout(() => {
        this.waiting.splice(this.waiting.indexOf(waiter), 1);
        reject(new CapsuleError('TIMEOUT', `${job.capabilityId}: no worker picked the call up within ${START_DEADLINE_MS} ms`));
      }, START_DEADLINE_MS);
      this.waiting.push(waiter);
    });
  }

  private send(thread: PoolThread, job: Job, key: string | undefined, signal?: AbortSignal): Promise<JobResult> {
    this.lastCall = (this.lastCall % 0x3fffffff) + 1;
    const call = this.lastCall;
    const sentAt = epochNow();
    const limitMs = job.limits.timeoutMs;
    // A thread busy making a spare when the call is sent must start it within this, or it is ended.
    const spareBound = thread.slot.sparing ? SPARE_STUCK_MS + INTERRUPT_GRACE_MS : undefined;
    const spareOf = thread.spareKey;
    // A guest blocked in an app host function is woken with a `cancelled` reply when the call is cut.
    const bridge = job.host ? new HostBridge(this.host, job.limits.memoryBytes) : undefined;
    let stopped: StopReason | undefined;
    let terminated = false;
    let killedForSpare = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const stop = (why: StopReason) => {
      if (stopped !== undefined) return;
      stopped = why;
      clearTimeout(timer);
      if (why === 'start-timeout') return thread.kill();
      // Also read before the guest's first instruction (sandbox/execute.ts): a call cut before it started stops there.
      thread.slot.setInterrupt(why === 'aborted' ? INTERRUPT_ABORT : INTERRUPT_TIMEOUT);
      bridge?.cancel();
      timer = setTimeout(() => {
        terminated = true;
        thread.kill();
      }, INTERRUPT_GRACE_MS);
    };
    // The call's one timer: it reads the slot, so the call's clock runs from where the worker reported it starts.
    const tick = () => {
      const now = epochNow();
      const startedAt = thread.slot.startedAt(call);
      if (startedAt === undefined) {
        const waited = now - sentAt;
        if (spareBound !== undefined && waited >= spareBound) {
          // The spare it was making ran on past its own bound: the call goes to another thread.
          killedForSpare = true;
          if (spareOf) this.noSpares.add(spareOf);
          return thread.kill();
        }
        if (waited >= START_DEADLINE_MS) return stop('start-timeout');
        timer = setTimeout(tick, Math.max(1, Math.min(limitMs, (spareBound ?? limitMs) - waited, START_DEADLINE_MS - waited)));
        return;
      }
      const left = startedAt + limitMs - now;
      if (left > 0) timer = setTimeout(tick, Math.ceil(left));
      else stop('timeout');
    };
    timer = setTimeout(tick, Math.min(Math.max(1, limitMs - WAKE_LEAD_MS), spareBound ?? limitMs));
    const onAbort = () => stop('aborted');
    signal?.addEventListener('abort', onAbort, { once: true });
    const spares = this.spares && key !== undefined && !this.noSpares.has(key);
    thread.spareKey = spares ? key : undefined;
    return new Promise<JobResult>((resolve, reject) => {
      const end = (e: CallEnd) => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        bridge?.close();
        if (e.type === 'result') return resolve(e.result);
        if (e.type === 'failed') return reject(new CapsuleError('INTERNAL', `${job.capabilityId}: worker failed: ${e.message}`));
        const started = thread.slot.startedAt(call);
        reject(this.lost(job, e, { stopped, terminated, started, killedForSpare }));
      };
      const task = bridge ? { ...job, hostPort: bridge.theirs } : job;
      const transfer: TransferListItem[] = bridge ? [bridge.theirs.port] : [];
      thread.send(call, task, spares, transfer, end);
    }).finally(() => this.free(thread));
  }

  /** What a call whose thread exited before answering fails with. */
  private lost(
    job: Job,
    e: Extract<CallEnd, { type: 'exit' }>,
    how: { stopped?: StopReason; terminated: boolean; started?: number; killedForSpare: boolean },
  ): unknown {
    if (how.stopped === 'aborted') return aborted(job);
    if (how.stopped === 'start-timeout') return new CapsuleError('TIMEOUT', `${job.capabilityId}: no worker picked the call up within ${START_DEADLINE_MS} ms`);
    if (how.stopped === 'timeout') {
      const why = how.terminated
        ? `the guest did not stop within ${INTERRUPT_GRACE_MS} ms (blocked in a host call?) and its worker was terminated`
        : 'its worker was stopped';
      return new CapsuleError('TIMEOUT', `${job.capabilityId}: no result within ${job.limits.timeoutMs} ms; ${why}`, {
        limitMs: job.limits.timeoutMs,
        elapsedMs: how.started === undefined ? 0 : Math.round((epochNow() - how.started) * 1000) / 1000,
      });
    }
    if (how.started === undefined && (e.code === RECYCLE_EXIT_CODE || how.killedForSpare)) return WORKER_RECYCLED;
    if ((e.error as { code?: string } | undefined)?.code === 'ERR_WORKER_OUT_OF_MEMORY') {
      return new CapsuleError('MEMORY_LIMIT', `${job.capabilityId}: the worker ran out of JS heap; it was replaced`);
    }
    const why = e.error ? e.error.message : `worker exited with code: ${e.code}`;
    return new CapsuleError('INTERNAL', `${job.capabilityId}: worker failed: ${why}`);
  }

  private spawn(): void {
    const glues = this.warm.glues.slice(0, Math.min(GLUE_CACHE_ENTRIES, this.warm.glueModules));
    const thread = new PoolThread(this.workerFile, { glues, glueModules: this.warm.glueModules }, this.heapMb, {
      ready: (t) => this.free(t),
      gone: (t, why) => this.gone(t, why),
      noSpares: (t, key, overran) => {
        this.noSpares.add(key);
        // Its start function ran past its bound: the thread is replaced as soon as it is free.
        if (overran) this.retire(t);
      },
    });
    this.all.add(thread);
  }

  /** A ready thread with no call: to the first waiting call, or the idle list. */
  private free(t: PoolThread): void {
    if (t.dead || t.busy || !t.ready) return;
    if (t.retire || this.closed) {
      t.kill();
      return;
    }
    const waiter = this.waiting.shift();
    if (waiter) waiter.give(t);
    else if (!this.idle.includes(t)) this.idle.push(t);
  }

  private retire(t: PoolThread): void {
    t.retire = true;
    const at = this.idle.indexOf(t);
    if (at >= 0) {
      this.idle.splice(at, 1);
      t.kill();
    }
  }

  /**
   * A thread exited (terminated, crashed, or ended itself): replaced while the pool is
   * short of its minimum or calls wait. One that died before it was ready is not
   * replaced at once (a worker that cannot start would be restarted in a loop): the
   * calls waiting fail with why, and the next call starts another.
   */
  private gone(t: PoolThread, why: string): void {
    this.all.delete(t);
    const at = this.idle.indexOf(t);
    if (at >= 0) this.idle.splice(at, 1);
    if (this.closed) return;
    if (!t.ready) {
      // Calls waiting for a thread fail with why, unless another thread is still starting.
      if (![...this.all].some((x) => !x.ready)) for (const w of this.waiting.splice(0)) w.fail(why);
      return;
    }
    if (this.all.size < this.minThreads || (this.waiting.length > 0 && this.all.size < this.maxThreads)) this.spawn();
  }

  async close(): Promise<void> {
    this.closed = true;
    this.idle.length = 0;
    await Promise.all([...this.all].map((t) => t.terminate()));
  }
}

/** A call waiting for a thread: given one, or failed when a starting thread dies. */
interface Waiter {
  give(t: PoolThread): void;
  fail(why: string): void;
}

function lastWhere<T>(list: T[], ok: (t: T) => boolean): T | undefined {
  for (let i = list.length - 1; i >= 0; i--) if (ok(list[i] as T)) return list[i];
  return undefined;
}

function aborted(job: Job): CapsuleError {
  return new CapsuleError('ABORTED', `${job.capabilityId}: the caller aborted the call`);
}

/** Thrown by runOnce when the worker ended (itself, or stuck making a spare) before starting the call. */
const WORKER_RECYCLED = Symbol('worker recycled');

function recycleFailed(job: Job): CapsuleError {
  return new CapsuleError('INTERNAL', `${job.capabilityId}: workers kept ending at their glue-module bound before the call started`);
}

/** `glue` moved to the front of `list` (most recently used), which keeps at most GLUE_CACHE_ENTRIES. */
export function warmFirst(list: WarmGlue[], glue: WarmGlue, max = GLUE_CACHE_ENTRIES): WarmGlue[] {
  if (list[0]?.url === glue.url && list[0]?.sha256 === glue.sha256) return list;
  return [glue, ...list.filter((g) => g.url !== glue.url)].slice(0, max);
}
