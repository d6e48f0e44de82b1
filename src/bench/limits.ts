// Limits under load: how late a 100 ms timeout fires on a guest that never
// returns (bench-spin), and what the next call costs once the worker was killed.
import { createRuntime } from '../api.js';
import { CapsuleError } from '../errors.js';
import type { Tier } from '../policy/tier.js';
import type { CapsuleContext } from './capsule-target.js';
import { summarize } from './stats.js';
import type { LimitRow } from './types.js';

export const TIMEOUT_MS = 100;
const SETTLE_MS = 150;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function measureLimits(ctx: CapsuleContext, tier: Tier, repeats: number): Promise<LimitRow> {
  if (tier === 'inline') {
    return {
      tier,
      status: 'skipped',
      reason: 'inline runs the guest on the calling thread: nothing can stop a spinning guest there, so there is no timeout to measure',
    };
  }
  // The default pool, as an application gets it from createRuntime().
  const rt = await createRuntime({ capabilitiesDir: ctx.capabilitiesDirs, policy: ctx.policy });
  try {
    for (let i = 0; i < 3; i++) await rt.run('bench.echo', null, { tier });
    await rt.load('bench.spin');
    const overshoot: number[] = [];
    const after: number[] = [];
    for (let i = 0; i < repeats; i++) {
      const t = performance.now();
      try {
        await rt.run('bench.spin', null, { tier, timeoutMs: TIMEOUT_MS });
        throw new Error('bench-spin returned: it should spin until killed');
      } catch (e) {
        if (!(e instanceof CapsuleError) || e.code !== 'TIMEOUT') throw e;
      }
      overshoot.push(performance.now() - t - TIMEOUT_MS);
      const u = performance.now();
      await rt.run('bench.echo', null, { tier });
      after.push(performance.now() - u);
      // Let the pool replace its worker before the next round, so each round starts alike.
      await sleep(SETTLE_MS);
      await rt.run('bench.echo', null, { tier });
    }
    return { tier, status: 'ok', overshoot: summarize(overshoot), firstCallAfterKill: summarize(after) };
  } finally {
    await rt.close();
  }
}
