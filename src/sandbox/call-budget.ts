// The one place where bytes capsule holds for a call *outside* the guest's linear
// memory are counted. Linear memory is capped by rewriting each memory's maximum
// (limits/cap.ts); everything else a guest can make the host keep (HTTP header
// fields and bodies, random bytes, directory listings, read buffers, log records,
// resources it mints and never drops) is charged here, against the same limit:
// a charge succeeds only while linear memory + bytes held + the new bytes stay
// within the call's memoryBytes. Output-like data (the result, an err message)
// is measured against outputBytes instead.
//
// A refusal throws a CapsuleError (MEMORY_LIMIT / OUTPUT_TOO_LARGE) out of the host
// function, before anything is allocated. jco's glue rethrows Error instances
// thrown by host functions (getErrorPayload), so it unwinds the guest and reaches
// execute(); the first refusal is also kept here (`failure`) so a guest that
// catches the exception (wasm exception handling can catch JS exceptions) still
// fails the call with it.
import { CapsuleError } from '../errors.js';
import type { Limits } from './job.js';

/** What jco's glue calls on a host resource when the guest drops it. */
export const symbolDispose: symbol = (Symbol as { dispose?: symbol }).dispose ?? Symbol.for('dispose');

/**
 * Host bytes charged for each resource a guest can mint (a `fields`, a request, a
 * pollable...): the object and its entries in the glue's handle tables. Without it
 * a guest that creates handles and never drops them grows the host by about 500 bytes each (measured).
 */
export const RESOURCE_BYTES = 512;

export class CallBudget {
  private held = 0;
  /** Most bytes held at once during the call. */
  peakHeld = 0;
  /** The first limit this call went over; the call fails with it whatever the guest does next. */
  failure: CapsuleError | undefined;
  private linear: () => number = () => 0;

  constructor(
    private readonly who: string,
    readonly limits: Pick<Limits, 'memoryBytes' | 'outputBytes'>,
  ) {}

  /** How to read the guest's current linear memory (set once its instances exist). */
  measureLinear(fn: () => number): void {
    this.linear = fn;
  }

  get heldBytes(): number {
    return this.held;
  }

  /** Holds `bytes` for the call until release(); throws MEMORY_LIMIT, holding nothing, when they do not fit. */
  charge(bytes: number, what: string): void {
    this.fits(bytes, what);
    this.held += bytes;
    if (this.held > this.peakHeld) this.peakHeld = this.held;
  }

  /** A transient allocation (copied into the guest right away): it must fit now, and is not held. */
  fits(bytes: number, what: string): void {
    if (this.failure) throw this.failure;
    const limit = this.limits.memoryBytes;
    // Checked before the linear memory is read, so a single absurd request (2^64) never allocates.
    if (!(bytes <= limit)) this.fail(what, bytes);
    const linear = this.linear();
    if (linear + this.held + bytes > limit) this.fail(what, bytes, linear);
  }

  release(bytes: number): void {
    this.held = Math.max(0, this.held - bytes);
  }

  /** A charge released once, by whichever holder lets it go last (see Lease). */
  lease(bytes: number, what: string): Lease {
    this.charge(bytes, what);
    return new Lease(this, bytes);
  }

  /** Output-like data (an err message) must fit outputBytes; throws OUTPUT_TOO_LARGE otherwise. */
  output(bytes: number, what: string): void {
    const limit = this.limits.outputBytes;
    if (bytes > limit) {
      throw new CapsuleError('OUTPUT_TOO_LARGE', `${this.who}: ${what} is ${bytes} bytes, over the limit of ${limit}`, {
        bytes,
        limitBytes: limit,
      });
    }
  }

  /** `linear` undefined: the request alone is over the limit (linear memory was not read). */
  private fail(what: string, bytes: number, linear?: number): never {
    const n = Number.isFinite(bytes) ? bytes : String(bytes);
    const limit = this.limits.memoryBytes;
    const why =
      linear === undefined
        ? `more than the whole memory limit of ${limit} bytes`
        : `with ${linear} bytes of linear memory and ${this.held} held for the call that is over the memory limit of ${limit} bytes`;
    this.failure = new CapsuleError('MEMORY_LIMIT', `${this.who}: ${what} needs ${n} bytes outside linear memory, ${why}`, {
      what,
      bytes: n,
      linearBytes: linear ?? null,
      heldBytes: this.held,
      limitBytes: limit,
    });
    throw this.failure;
  }
}

/**
 * Bytes shared by several host objects (a response, its body, the body's stream):
 * each holder retains it and drops it when the guest drops that object; the bytes
 * are released when the last one lets go.
 */
export class Lease {
  private refs = 1;
  constructor(
    private readonly budget: CallBudget,
    readonly bytes: number,
  ) {}
  retain(): Lease {
    this.refs += 1;
    return this;
  }
  drop(): void {
    if (this.refs <= 0) return;
    this.refs -= 1;
    if (this.refs === 0) this.budget.release(this.bytes);
  }
}

// The budget of the guest code running on this thread right now. Host functions are
// synchronous and a thread runs one guest at a time between awaits, so execute()
// sets it around every entry into guest code (each core instantiation, the export
// call): resources a guest makes the host create are charged to its call even when
// the class creating them is shared (a pollable from any subscribe()).
let running: CallBudget | undefined;

/** Runs `fn` (guest code) with `budget` as the running call's budget. */
export function inGuest<T>(budget: CallBudget, fn: () => T): T {
  const outer = running;
  running = budget;
  try {
    return fn();
  } finally {
    running = outer;
  }
}

/**
 * Charges one resource handed to the guest to the running call (nothing outside
 * guest code: objects capsule makes while setting a call up are its own). The
 * holder drops the lease when the guest drops the resource.
 */
export function mintResource(what: string): Lease | undefined {
  return running?.lease(RESOURCE_BYTES, what);
}

/** A budget with no host-side limit, for code paths outside a guest call (tests, tools). */
export function unlimitedBudget(who = 'host'): CallBudget {
  return new CallBudget(who, { memoryBytes: Number.MAX_SAFE_INTEGER, outputBytes: Number.MAX_SAFE_INTEGER });
}
