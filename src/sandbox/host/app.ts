// The app's host functions as the guest's imports (README: Host functions). Each
// imported function of a granted app interface becomes a synchronous import that
// hands its arguments to a HostCall (inline: the app's function on this thread;
// worker: a round trip to the main thread, remote.ts) and turns the reply into what
// the glue expects: the value, a WIT `result` err, or a trap.
// Argument and result bytes are charged to the call's budget like every other
// host-side buffer (call-budget.ts): a value over the memory limit never reaches the guest.
import { CapsuleError } from '../../errors.js';
import type { CallBudget } from '../call-budget.js';
import type { FuelMeter } from '../fuel-meter.js';
import type { HostCall, HostFuncShape, HostReply } from '../job.js';

/** Counts of app host calls in one call (`iface#fn` → n), for the audit log. */
export type HostCallCounts = Record<string, number>;

export function appInterface(
  iface: string,
  funcs: Record<string, HostFuncShape>,
  call: HostCall,
  budget: CallBudget,
  fuel: FuelMeter,
  counts: HostCallCounts,
): Record<string, (...args: unknown[]) => unknown> {
  const out: Record<string, (...args: unknown[]) => unknown> = {};
  for (const [fn, shape] of Object.entries(funcs)) {
    const name = `${iface}#${fn}`;
    out[fn] = (...args: unknown[]) => {
      // A call already cut (TIMEOUT, abort) goes no further, even between fuel checks.
      fuel.checkStopped();
      counts[name] = (counts[name] ?? 0) + 1;
      budget.fits(valueBytes(args), `the arguments of host function ${name}`);
      const reply = call(iface, fn, args);
      return settle(reply, name, shape, budget, fuel);
    };
  }
  return out;
}

function settle(reply: HostReply, name: string, shape: HostFuncShape, budget: CallBudget, fuel: FuelMeter): unknown {
  if ('cancelled' in reply) {
    // The call's TIMEOUT or abort fired while the app's function ran: the flag is set, so this throws it.
    fuel.checkStopped();
    throw new CapsuleError('ABORTED', `host function ${name} was cancelled`);
  }
  if (reply.ok) {
    budget.fits(valueBytes(reply.value), `the result of host function ${name}`);
    return reply.value;
  }
  // A limit the host side enforced (a result over the memory limit) is the call's outcome, not the guest's err.
  if (reply.error.code !== 'CAPABILITY_ERROR' || !shape.result) throw CapsuleError.fromData(reply.error);
  return { tag: 'err', val: reply.hasPayload ? reply.payload : reply.error.details?.message };
}

/**
 * Bytes a value takes when copied into the guest: UTF-8 for strings, byteLength for
 * binary data, 8 per number, summed through arrays and objects (the glue's shapes).
 * An upper bound is enough: it is compared with the call's memory limit.
 */
export function valueBytes(v: unknown, depth = 0): number {
  if (typeof v === 'string') return Buffer.byteLength(v);
  if (typeof v === 'number' || typeof v === 'bigint') return 8;
  if (typeof v === 'boolean' || v === null || v === undefined) return 1;
  if (ArrayBuffer.isView(v)) return v.byteLength;
  if (v instanceof ArrayBuffer) return v.byteLength;
  if (depth > 64 || typeof v !== 'object') return 8;
  let total = 8;
  if (Array.isArray(v)) for (const x of v) total += valueBytes(x, depth + 1);
  else for (const [k, x] of Object.entries(v)) total += k.length + valueBytes(x, depth + 1);
  return total;
}

/**
 * Runs the app's function `f` synchronously (the inline tier) and shapes what it
 * does as a HostReply. An async function cannot be awaited by a synchronous wasm
 * import, so a returned promise is refused with an error saying so.
 */
export function callNow(f: (...args: unknown[]) => unknown, name: string, args: unknown[], limitBytes: number): HostReply {
  let value: unknown;
  try {
    value = f(...structuredClone(args));
  } catch (e) {
    return thrown(e, name);
  }
  if (isThenable(value)) {
    value.then(undefined, () => undefined);
    return {
      ok: false,
      hasPayload: false,
      error: {
        code: 'CAPABILITY_ERROR',
        message: `host function ${name} returned a Promise: the inline tier calls host functions synchronously (run it in the worker tier, or give a synchronous function)`,
        details: { hostFunction: name },
      },
    };
  }
  return resultReply(value, name, limitBytes);
}

/**
 * A value the app returned, refused when it alone is over the call's memory limit
 * (before it is copied). `copy`: clone it here (inline); a worker's reply is
 * cloned by postMessage instead.
 */
export function resultReply(value: unknown, name: string, limitBytes: number, copy = true): HostReply {
  const bytes = valueBytes(value);
  if (bytes > limitBytes) {
    return {
      ok: false,
      hasPayload: false,
      error: {
        code: 'MEMORY_LIMIT',
        message: `host function ${name} returned ${bytes} bytes, over the call's memory limit of ${limitBytes} bytes`,
        details: { hostFunction: name, bytes, limitBytes },
      },
    };
  }
  if (!copy) return { ok: true, value };
  try {
    return { ok: true, value: structuredClone(value) };
  } catch (e) {
    return thrown(new Error(`it returned a value that cannot be copied (${e instanceof Error ? e.message : String(e)})`), name);
  }
}

/**
 * What the app's function threw, as data: its message (and, when it threw an object
 * with `payload`, that value: the err a WIT `result` function returns).
 */
export function thrown(e: unknown, name: string): HostReply {
  const message = e instanceof Error ? e.message : typeof e === 'string' ? e : String(e);
  const hasPayload = typeof e === 'object' && e !== null && Object.hasOwn(e, 'payload');
  let payload: unknown;
  if (hasPayload) {
    try {
      payload = structuredClone((e as { payload: unknown }).payload);
    } catch {
      payload = message;
    }
  }
  return {
    ok: false,
    hasPayload,
    ...(hasPayload ? { payload } : {}),
    error: { code: 'CAPABILITY_ERROR', message: `host function ${name} failed: ${message}`, details: { hostFunction: name, message } },
  };
}

function isThenable(v: unknown): v is PromiseLike<unknown> {
  return typeof v === 'object' && v !== null && typeof (v as { then?: unknown }).then === 'function';
}
