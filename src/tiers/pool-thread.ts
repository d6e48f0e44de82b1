// One thread of the worker pool (worker.ts), seen from the main thread: the Worker,
// its shared slot (worker-protocol.ts), whether it is ready, and the call it runs.
// Whatever ends the thread (a result cannot, an exit or a crash can) is told to
// that call's listener, so no call waits on a thread that is gone.
import { type TransferListItem, Worker } from 'node:worker_threads';
import type { Job, JobResult } from '../sandbox/job.js';
import { HeldModules } from './held-modules.js';
import { type CallMessage, epochNow, type WorkerMessage, type WorkerStart, WorkerSlot } from './worker-protocol.js';

/** How a call on a thread ended, as the pool hears it. */
export type CallEnd =
  | { type: 'result'; result: JobResult }
  | { type: 'failed'; message: string }
  /** The thread exited before answering: `code`, and the error it died of if any (e.g. out of memory). */
  | { type: 'exit'; code: number; error?: Error };

export interface ThreadEvents {
  ready(t: PoolThread): void;
  /** `why`: the error it died of, or its exit code. */
  gone(t: PoolThread, why: string): void;
  noSpares(t: PoolThread, key: string, overran: boolean): void;
}

export class PoolThread {
  readonly slot = new WorkerSlot();
  /** The compiled modules this thread holds: a call sends the others only (held-modules.ts). */
  readonly modules = new HeldModules();
  private readonly worker: Worker;
  ready = false;
  dead = false;
  /** Set when the pool wants this thread ended once it is free (a spare that overran). */
  retire = false;
  /** The component the thread makes spares for (its last call's), for the pool's choice of thread. */
  spareKey?: string;
  private call?: { id: number; end: (e: CallEnd) => void };
  private error?: Error;
  private readonly events: ThreadEvents;

  constructor(file: string, start: Omit<WorkerStart, 'slot'>, heapMb: number, events: ThreadEvents) {
    this.events = events;
    this.worker = new Worker(file, {
      workerData: { ...start, slot: this.slot.buffer } satisfies WorkerStart,
      resourceLimits: { maxOldGenerationSizeMb: heapMb },
    });
    this.worker.on('message', (m: WorkerMessage) => {
      if (m.type === 'ready') {
        this.ready = true;
        events.ready(this);
      } else if (m.type === 'no-spares') {
        events.noSpares(this, m.key, m.overran);
      } else if (this.call?.id === m.call) {
        this.settle(m.type === 'result' ? { type: 'result', result: m.result } : { type: 'failed', message: m.message });
      }
    });
    this.worker.on('error', (e) => {
      this.error = e;
    });
    this.worker.on('exit', (code) => {
      // Killed already: its call was settled and the pool told then.
      if (this.dead) return;
      this.dead = true;
      this.settle({ type: 'exit', code, ...(this.error ? { error: this.error } : {}) });
      events.gone(this, this.error ? this.error.message : `exit code ${code}`);
    });
    // An idle pool does not keep the process alive; a thread with a call out does (send()).
    // After the listeners: adding a 'message' listener refs the worker's port again.
    this.worker.unref();
  }

  get busy(): boolean {
    return this.call !== undefined;
  }

  /** Runs `job` as call number `call`; `end` hears how it ended, once. */
  send(call: number, job: Job, spares: boolean, transfer: TransferListItem[], end: (e: CallEnd) => void): void {
    const { modules, ...rest } = job;
    const held = this.modules.pack(modules);
    this.call = { id: call, end };
    this.worker.ref();
    const message: CallMessage = { call, job: rest, modules: held, spares, sentAt: epochNow() };
    this.worker.postMessage(message, transfer);
    this.modules.commit(held);
  }

  /**
   * Ends the thread. Its call settles at once (as an exit) and the pool hears it gone
   * at once: a loaded machine can take a long time to wind a thread down, and
   * neither the caller nor the replacement waits for that.
   */
  kill(): void {
    if (this.dead) return;
    this.dead = true;
    void this.worker.terminate();
    this.settle({ type: 'exit', code: 1 });
    this.events.gone(this, 'terminated');
  }

  /** Ends the thread and waits until it has (closing the pool). */
  terminate(): Promise<number> {
    return this.worker.terminate();
  }

  private settle(e: CallEnd): void {
    const call = this.call;
    if (!call) return;
    this.call = undefined;
    // The call's interrupt is cleared before the thread can be given another.
    this.slot.setInterrupt(0);
    if (!this.dead) this.worker.unref();
    call.end(e);
  }
}
