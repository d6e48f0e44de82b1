// Limits under load: how late a 100 ms timeout fires on a guest that never
// returns (bench-spin), and what the next call costs against a warm call after the
// same 100 ms spent idle instead (the guest is interrupted at its next fuel check,
// its worker reused). The baseline pauses as long as the TIMEOUT does because any call
// after 100 ms away is slower here than one right after another (1.5-3x measured,
// a sleep in place of the TIMEOUT): what is left is what the TIMEOUT itself costs.
import { createRuntime } from '../api.js';
import { CapsuleError } from '../errors.js';
import type { Tier } from '../policy/tier.js';
import type { CapsuleContext } from './capsule-target.js';
import { loadavg } from './paired.js';
import { summarize } from './stats.js';
import type { LimitRow } from './types.js';

export const TIMEOUT_MS = 100;
const SETTLE_MS = 150;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function measureLimits(ctx: CapsuleContext, tier: Tier, repeats: number): Promise<LimitRow> {
  // The default pool, as an application gets it from createRuntime().
  const start = loadavg();
  const rt = await createRuntime({ capabilitiesDir: ctx.capabilitiesDirs, policy: ctx.policy });
  try {
    for (let i = 0; i < 3; i++) await rt.run('bench.echo', null, { tier });
    await rt.load('bench.spin');
    const overshoot: number[] = [];
    const after: number[] = [];
    const warm: number[] = [];
    const workers = new Set<number | undefined>();
    const echo = async () => {
      const t = performance.now();
      const r = await rt.run('bench.echo', null, { tier });
      workers.add(r.stats.worker);
      return performance.now() - t;
    };
    const paused = async () => {
      await sleep(TIMEOUT_MS);
      warm.push(await echo());
    };
    const timedOut = async () => {
      const t = performance.now();
      try {
        await rt.run('bench.spin', null, { tier, timeoutMs: TIMEOUT_MS });
        throw new Error('bench-spin returned: it should spin until killed');
      } catch (e) {
        if (!(e instanceof CapsuleError) || e.code !== 'TIMEOUT') throw e;
      }
      overshoot.push(performance.now() - t - TIMEOUT_MS);
      after.push(await echo());
      // Should a worker have been terminated (a guest that did not stop in time), the pool replaces it before the next round.
      await sleep(SETTLE_MS);
    };
    for (let i = 0; i < repeats; i++) {
      // The two sides alternate which goes first, each right after a warm-up echo.
      for (const side of i % 2 === 0 ? [paused, timedOut] : [timedOut, paused]) {
        await rt.run('bench.echo', null, { tier });
        await side();
      }
    }
    return {
      tier,
      status: 'ok',
      overshoot: summarize(overshoot),
      firstCallAfterKill: summarize(after),
      warmCall: summarize(warm),
      pairs: { warm, after, loadAverage: { start, end: loadavg() } },
      ...(tier === 'worker' ? { workers: workers.size } : {}),
    };
  } finally {
    await rt.close();
  }
}
