// What an app host function call costs the guest (README: Host functions):
// fixtures/build/bench-host.wasm calls capsule-bench:host/ping HOST_CALLS times in
// one call (input true) or not at all (input false, the same call otherwise),
// called alternately on one runtime, one call each; the per-host-call cost is the
// difference of the medians over HOST_CALLS. Measured in the worker tier (the
// round trip to the main thread: Atomics.wait, a MessagePort each way) with a sync
// and an async function, and in the inline tier (a direct call) as the baseline.
import { createRuntime } from '../api.js';
import { CapsuleError, messageOf } from '../errors.js';
import type { Tier } from '../policy/tier.js';
import type { CapsuleContext } from './capsule-target.js';
import { fixturePath } from './setup.js';
import { type Budget, summarize } from './stats.js';
import type { HostCallCost } from './types.js';

/** The name `--workloads` selects this measurement by. */
export const HOST_WORKLOAD = 'host-calls';
export const HOST_CALLS = 1000;
export const HOST_WORKLOAD_DESCRIPTION = `bench-host: ${HOST_CALLS} calls of an app host function (capsule-bench:host/ping) per call, against the same call with none`;
const PING = 'capsule-bench:host/ping';
const WARMUP_CALLS = 3;

export async function measureHostCallCost(ctx: CapsuleContext, tier: Tier, kind: 'sync' | 'async', budget: Budget): Promise<HostCallCost> {
  const base = { tier, function: kind };
  if (tier !== 'worker' && tier !== 'inline') {
    return { ...base, status: 'unavailable', reason: `the ${tier} tier cannot call the app's host functions` };
  }
  let pings = 0;
  const next = (n: number) => {
    pings++;
    return n + 1;
  };
  const ping = kind === 'sync' ? next : async (n: number) => next(n);
  const rt = await createRuntime({
    capabilitiesDir: ctx.capabilitiesDirs,
    policy: { grants: [{ capabilities: 'file.bench-host', host: [PING], tier: 'inline' }] },
    fileRequest: { host: [PING] },
    auditLog: false,
    host: { [PING]: { ping } },
    pool: { minThreads: 1, maxThreads: 1 },
  });
  try {
    const file = fixturePath('bench-host');
    const call = async (withCalls: boolean) => {
      const before = pings;
      const t = performance.now();
      const { output } = await rt.runFile(file, withCalls, { tier });
      const ms = performance.now() - t;
      const want = withCalls ? HOST_CALLS : 0;
      if (output !== want || pings - before !== want) throw new Error(`bench-host returned ${String(output)} after ${pings - before} host calls`);
      return ms;
    };
    for (let i = 0; i < WARMUP_CALLS; i++) {
      await call(true);
      await call(false);
    }
    const on: number[] = [];
    const off: number[] = [];
    const end = performance.now() + budget.durationMs;
    while (on.length < budget.maxSamples && (on.length < budget.minSamples || performance.now() < end)) {
      if (on.length % 2 === 0) {
        on.push(await call(true));
        off.push(await call(false));
      } else {
        off.push(await call(false));
        on.push(await call(true));
      }
    }
    const withCalls = summarize(on);
    const without = summarize(off);
    return {
      ...base,
      status: 'ok',
      hostCallsPerCall: HOST_CALLS,
      with: withCalls,
      without,
      perHostCallUs: ((withCalls.p50 - without.p50) * 1000) / HOST_CALLS,
    };
  } catch (e) {
    return { ...base, status: 'failed', reason: e instanceof CapsuleError ? `${e.code}: ${e.message}` : messageOf(e) };
  } finally {
    await rt.close();
  }
}
