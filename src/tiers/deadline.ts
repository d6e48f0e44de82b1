// A call's clock in the process and VM tiers: first a bound on starting (a child
// process compiling the component, a container starting), then the call's own
// `timeoutMs` from the moment it started, so a slow start never eats the guest's time
// and a guest never gets more. The caller's AbortSignal ends it too. (The worker pool
// keeps the same two clocks in each thread's slot, its start counted from the send:
// callClock() in worker-protocol.ts.) What stopping means (kill a process group, stop
// a container) stays with each tier.

export type StopReason = 'start-timeout' | 'timeout' | 'aborted';

export class CallDeadline {
  /** Why the call was stopped, once it was. */
  stopped?: StopReason;
  private startedAt?: number;
  private disposed = false;
  private timer: ReturnType<typeof setTimeout>;
  private readonly onAbort = () => this.stop('aborted');

  /**
   * `onStop` is called at most once, with why. A signal already aborted stops the call at
   * once (synchronously), so a tier can check `stopped` before it starts anything.
   */
  constructor(
    startMs: number,
    private readonly callMs: number,
    private readonly onStop: (why: StopReason) => void,
    private readonly signal?: AbortSignal,
  ) {
    this.timer = setTimeout(() => this.stop('start-timeout'), startMs);
    if (signal?.aborted) this.stop('aborted');
    else signal?.addEventListener('abort', this.onAbort, { once: true });
  }

  /** The call started: its own clock runs from now (later calls change nothing). */
  started(): void {
    // After dispose: the worker tier hears "started" from a promise that can resolve after the result.
    if (this.disposed || this.stopped !== undefined || this.startedAt !== undefined) return;
    clearTimeout(this.timer);
    this.startedAt = performance.now();
    this.timer = setTimeout(() => this.stop('timeout'), this.callMs);
  }

  /** Milliseconds since the call started (0 before). */
  elapsedMs(): number {
    return this.startedAt === undefined ? 0 : performance.now() - this.startedAt;
  }

  /** The call settled: no timer or listener outlives it. */
  dispose(): void {
    this.disposed = true;
    clearTimeout(this.timer);
    this.signal?.removeEventListener('abort', this.onAbort);
  }

  private stop(why: StopReason): void {
    if (this.stopped !== undefined) return;
    this.stopped = why;
    clearTimeout(this.timer);
    this.onStop(why);
  }
}
