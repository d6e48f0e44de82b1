// The calling thread: no isolation beyond wasm itself. A baseline for benchmarks,
// and for `pure` capabilities a policy trusts. A spinning guest blocks this thread's
// event loop, so no timer can stop it: its own fuel checks do (sandbox/fuel-meter.ts
// compares the clock against the call's deadline at every refuel), so timeoutMs and
// cpuMs hold here too. A guest blocked inside a host call cannot be stopped here.
// App host functions are called directly and must be synchronous here.
import { CapsuleError } from '../errors.js';
import { execute } from '../sandbox/execute.js';
import { INTERRUPT_ABORT } from '../sandbox/fuel-meter.js';
import type { HostTable } from '../host-functions.js';
import { callNow, thrown } from '../sandbox/host/app.js';
import type { HostCall, Job, JobResult } from '../sandbox/job.js';
import type { TierRunner } from './tier-runner.js';

export class InlineRunner implements TierRunner {
  constructor(private readonly host: HostTable = new Map()) {}

  /** capsule's WASI runs on this thread with the host's access: every grant applies as decided. */
  cannotHonour(): undefined {
    return undefined;
  }

  async run(job: Job, signal?: AbortSignal): Promise<JobResult> {
    if (signal?.aborted) throw new CapsuleError('ABORTED', `${job.capabilityId}: the caller aborted the call`);
    // An abort seen while the call awaits (loading its glue) stops the guest at its first check.
    const interrupt = new Int32Array(1);
    const onAbort = () => Atomics.store(interrupt, 0, INTERRUPT_ABORT);
    signal?.addEventListener('abort', onAbort, { once: true });
    try {
      return await execute({ ...job, interrupt, ...(job.host ? { hostCall: this.hostCall(job.limits.memoryBytes) } : {}) });
    } finally {
      signal?.removeEventListener('abort', onAbort);
    }
  }
  /**
   * App host functions run right here, synchronously: a wasm import cannot await, so
   * a function that returns a Promise is refused (CAPABILITY_ERROR saying so).
   */
  private hostCall(limitBytes: number): HostCall {
    return (iface, fn, args) => {
      const name = `${iface}#${fn}`;
      const funcs = this.host.get(iface);
      const f = funcs && Object.hasOwn(funcs, fn) ? funcs[fn] : undefined;
      return f ? callNow(f, name, args, limitBytes) : thrown(new Error('the app supplies no such function'), name);
    };
  }

  async close(): Promise<void> {}
}
