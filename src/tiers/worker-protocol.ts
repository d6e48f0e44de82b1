// How the worker pool (worker.ts) and each of its threads (worker-entry.ts) talk:
// one message per call each way, and a slot of shared memory per worker.
//
// The memory one pool worker shares with the main thread, allocated once when the
// worker is started and used by every call it runs, so a call allocates no flag:
// - started: the number of the last call the worker started, written after its start
//   time (so a reader that sees the number sees the time);
// - startTime: where the call's own clock starts, in ms since the epoch
//   (performance.timeOrigin + now(), comparable across threads): callClock() below;
// - interrupt: INTERRUPT_TIMEOUT / INTERRUPT_ABORT, written by the main thread while a
//   call is out, read by the guest's fuel checks (sandbox/fuel-meter.ts); cleared by the
//   main thread when the call's result is in, before the worker is given another;
// - sparing: 1 while the worker makes a spare instance (sandbox/spare.ts).
import type { Job, JobResult } from '../sandbox/job.js';
import type { ModulesMessage } from './held-modules.js';
import type { WarmGlue } from './worker.js';

/** A new worker's workerData. */
export interface WorkerStart {
  /** Glues it loads before it reports ready, the most recently used first. */
  glues: WarmGlue[];
  glueModules: number;
  /** Its WorkerSlot's memory. */
  slot: SharedArrayBuffer;
}

/**
 * Main → worker: run `job` as call number `call`, with its core `modules` (those the
 * worker holds by id only: held-modules.ts); `spares`: make a spare instance for its
 * component afterwards; `sentAt`: when the pool posted it (epoch ms), for callClock().
 */
export interface CallMessage {
  call: number;
  job: Omit<Job, 'modules'>;
  modules: ModulesMessage;
  spares: boolean;
  sentAt: number;
}

/** Worker → main. */
export type WorkerMessage =
  | { type: 'ready' }
  | { type: 'result'; call: number; result: JobResult }
  | { type: 'failed'; call: number; message: string }
  /** A spare for `key` could not be made (overran: its start function ran past SPARE_START_FUEL or SPARE_STUCK_MS). */
  | { type: 'no-spares'; key: string; overran: boolean };

const STARTED = 0;
const INTERRUPT = 1;
const SPARING = 2;
const TIME_BYTE = 8;
const BYTES = 16;

export class WorkerSlot {
  private readonly ints: Int32Array;
  private readonly time: Float64Array;
  /** The one-element view the fuel meter reads (Job.interrupt). */
  readonly interrupt: Int32Array;

  constructor(readonly buffer: SharedArrayBuffer = new SharedArrayBuffer(BYTES)) {
    this.ints = new Int32Array(buffer, 0, 3);
    this.time = new Float64Array(buffer, TIME_BYTE, 1);
    this.interrupt = new Int32Array(buffer, INTERRUPT * 4, 1);
  }

  /** Worker: call `call` starts now (epoch ms). */
  markStarted(call: number, at: number): void {
    this.time[0] = at;
    Atomics.store(this.ints, STARTED, call);
  }

  /** When the worker started call `call` (epoch ms), or undefined if it has not. */
  startedAt(call: number): number | undefined {
    return Atomics.load(this.ints, STARTED) === call ? this.time[0] : undefined;
  }

  setInterrupt(value: number): void {
    Atomics.store(this.ints, INTERRUPT, value);
  }

  get sparing(): boolean {
    return Atomics.load(this.ints, SPARING) === 1;
  }

  set sparing(on: boolean) {
    Atomics.store(this.ints, SPARING, on ? 1 : 0);
  }
}

/**
 * At most this much of a thread's pick-up of a call counts against the call's time
 * (callClock()).
 */
export const PICKUP_COUNTED_MS = 5;

/**
 * Where a call's clock starts (epoch ms), given when the pool sent it and when the
 * thread started it (`startedAt`): at the send, as the caller waits from then, so a
 * TIMEOUT reaches the caller close to its limit after the call went out. Waking an
 * idle thread took 0.1-0.6 ms here, and 2-3.5 ms in about one call in 50 (a thread that
 * slept 100 ms or more): all overshoot when the clock ran from the start, and the
 * worst TIMEOUTs when 2 ms of it counted. A slower pick-up (a thread finishing a spare instance,
 * or a descheduled one) takes no more than PICKUP_COUNTED_MS from the guest's own time.
 */
export function callClock(sentAt: number, startedAt: number): number {
  return Math.min(startedAt, Math.max(sentAt, startedAt - PICKUP_COUNTED_MS));
}

/** ms since the epoch, with sub-millisecond precision, the same clock in every thread. */
export function epochNow(): number {
  return performance.timeOrigin + performance.now();
}
