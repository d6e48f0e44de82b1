// The host side of the fuel checks (limits/fuel.ts): one meter per call, shared by
// all the call's core instances through their `capsule:fuel` `refuel` import. It
// runs on the guest's own thread, whose event loop the guest blocks while it spins,
// so it is the one place a spinning guest can be stopped without killing its thread:
// - the call was interrupted (the waiting thread wrote the interrupt flag on a TIMEOUT
//   or an abort) or its wall-clock deadline has passed → TIMEOUT / ABORTED;
// - the fuel budget is spent → CPU_LIMIT;
// - otherwise the next slice: min(SLICE, what is left), so a fixed budget stops at the
//   same check on every run, and a check comes every SLICE instructions at most.
// Throwing from refuel unwinds the guest like a trap. The first failure is kept, and
// every later refuel throws it again, so a guest that catches it (wasm exception
// handling can) only reaches its next check, and the call fails with it whatever
// the glue does with the exception.
import { CapsuleError, type ErrorData } from '../errors.js';
import type { Limits } from './job.js';

/**
 * Fuel (instructions as the instrumentation counts them) per millisecond of guest
 * work on the machine this was calibrated on (2 shared cores, Node 20): `capsule
 * bench` runs fib and the markdown plugin with and without checks and reports
 * consumed fuel / call time (instantiation included): fib 6.1 M/ms, markdown
 * 3.9 M/ms, and a tight loop ran 5.7 M/ms. This takes the middle, so `cpuMs` is
 * within about ±30% of a guest's real CPU time (docs/benchmarks.md).
 */
export const FUEL_PER_MS = 5_000_000;

/**
 * A slice: at most this much guest work between two host checks, ~0.06 ms at
 * FUEL_PER_MS. Small enough that a timeout or an abort stops a spinning guest
 * within a fraction of a millisecond, large enough that the host call (well under
 * a microsecond) costs nothing measurable.
 */
export const SLICE = 300_000;

/**
 * Within NEAR_DEADLINE_MS of the call's deadline, slices are FINE_SLICE (~2 µs at
 * FUEL_PER_MS): the check that sees the deadline passed comes microseconds after it,
 * not up to a whole slice (a tight loop runs 1–3 M fuel/ms on a loaded machine, so a
 * SLICE can be 0.3 ms). Only a call still running in its last millisecond pays for the
 * extra checks. The fuel a budget stops at does not depend on slice sizes: a call
 * fails at the first check where what it consumed passes its budget.
 */
export const NEAR_DEADLINE_MS = 1;
export const FINE_SLICE = 10_000;

/** Values of Job.interrupt[0]. */
export const INTERRUPT_TIMEOUT = 1;
export const INTERRUPT_ABORT = 2;

/** The fuel budget of a call: the smaller of `fuel` and `cpuMs` × FUEL_PER_MS; unlimited with neither. */
export function fuelBudget(limits: Pick<Limits, 'cpuMs' | 'fuel'>): number {
  const fromCpu = limits.cpuMs === undefined ? Number.POSITIVE_INFINITY : Math.round(limits.cpuMs * FUEL_PER_MS);
  return Math.min(fromCpu, limits.fuel ?? Number.POSITIVE_INFINITY);
}

export class FuelMeter {
  /** Fuel handed out to the call's instances so far. */
  private handed = 0;
  private readonly budget: number;
  private readonly deadline: number;
  private readonly counters: WebAssembly.Global[] = [];
  /** The first limit the call hit; every later refuel throws it again. */
  failure: CapsuleError | undefined;

  constructor(
    private readonly who: string,
    private readonly limits: Pick<Limits, 'cpuMs' | 'fuel' | 'timeoutMs'>,
    private readonly interrupt?: Int32Array,
    /** When the call started on this thread (Job.startedAt): its time limit and elapsedMs count from here. */
    private readonly startedAt = performance.now(),
  ) {
    this.budget = fuelBudget(limits);
    this.deadline = this.startedAt + limits.timeoutMs;
  }

  /** The import every instrumented core instance gets. */
  readonly refuel = (counter: number): number => {
    const now = performance.now();
    this.checkStopped(now);
    const slice = this.deadline - now < NEAR_DEADLINE_MS ? FINE_SLICE : SLICE;
    let value = counter;
    // A check may charge more than a slice (a long straight-line body): hand out until it is covered.
    do {
      const grant = Math.min(slice, this.budget - this.handed);
      if (grant <= 0) throw this.fail(() => this.spent(value));
      this.handed += grant;
      value += grant;
    } while (value < 0);
    return value;
  };

  /**
   * Throws the TIMEOUT or ABORTED the waiting thread's flag (or the deadline) says,
   * if any: a host call cut short ends the call the same way a refuel would.
   */
  checkStopped(now = performance.now()): void {
    if (this.failure) throw this.failure;
    const flag = this.interrupt ? Atomics.load(this.interrupt, 0) : 0;
    if (flag === INTERRUPT_ABORT) throw this.fail(() => new CapsuleError('ABORTED', `${this.who}: the caller aborted the call`));
    if (flag === INTERRUPT_TIMEOUT || now >= this.deadline) throw this.fail(() => this.timeout());
  }

  /** An instance's fuel counter (its FUEL_EXPORT), read when the call ends. */
  track(counter: unknown): void {
    if (counter instanceof WebAssembly.Global) this.counters.push(counter);
  }

  /**
   * Takes over what another meter handed out (a spare instance's start function,
   * sandbox/spare.ts), so the call is charged for it. Refused (false) when that is more
   * than this call's budget: a slice given under no budget could then run unchecked,
   * while up to the budget every slice is the one this meter would have handed out itself.
   * The instance's counter is tracked by whoever takes it (track()), as for a fresh one.
   */
  carry(from: FuelMeter): boolean {
    if (this.failure || this.handed + from.handed > this.budget) return false;
    this.handed += from.handed;
    return true;
  }

  /** Fuel consumed: handed out, minus what the instances have left (a counter below zero is an overdraft). */
  consumed(): number {
    return this.counters.reduce((used, g) => used - (g.value as number), this.handed);
  }

  /** The failure as the call's outcome; CPU_LIMIT says how much fuel all instances consumed. */
  failureData(): ErrorData | undefined {
    const data = this.failure?.toData();
    if (data?.code === 'CPU_LIMIT') data.details = { ...data.details, fuel: this.consumed() };
    return data;
  }

  private timeout(): CapsuleError {
    const elapsedMs = performance.now() - this.startedAt;
    return new CapsuleError('TIMEOUT', `${this.who}: no result within ${this.limits.timeoutMs} ms; the guest was stopped`, {
      limitMs: this.limits.timeoutMs,
      elapsedMs: Math.round(elapsedMs * 1000) / 1000,
    });
  }

  private spent(counter: number): CapsuleError {
    const cpu = this.limits.cpuMs !== undefined && this.budget === fuelBudget({ cpuMs: this.limits.cpuMs });
    const what = cpu ? `its CPU budget of ${this.limits.cpuMs} ms (${this.budget} fuel)` : `its fuel budget of ${this.budget}`;
    return new CapsuleError('CPU_LIMIT', `${this.who}: the guest used ${what}`, {
      limitFuel: this.budget,
      // Replaced by the whole call's figure in failureData().
      fuel: this.handed - counter,
      ...(this.limits.cpuMs !== undefined ? { cpuMs: this.limits.cpuMs } : {}),
    });
  }

  /**
   * Keeps the call's first failure, made without a stack trace: it is made in a fuel
   * check, under the guest's wasm frames, and walking them cost 0.1-0.2 ms of every
   * stopped call (measured); nobody reads that stack (the caller gets an error rebuilt
   * from its data, sandbox/execute.ts).
   */
  private fail(make: () => CapsuleError): CapsuleError {
    const frames = Error.stackTraceLimit;
    Error.stackTraceLimit = 0;
    try {
      this.failure = make();
    } finally {
      Error.stackTraceLimit = frames;
    }
    return this.failure;
  }
}
