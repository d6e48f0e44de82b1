// Limits under load: how late a 100 ms timeout fires on a guest that never
// returns (bench-spin), and what the next call costs against a warm call after the
// same 100 ms spent idle instead (the guest is interrupted at its next fuel check,
// its worker reused). The baseline pauses as long as the TIMEOUT does because any call
// after 100 ms away is slower here than one right after another (1.5-3x measured,
// a sleep in place of the TIMEOUT): what is left is what the TIMEOUT itself costs.
// In the worker tier a bare thread's round trip is measured beside the TIMEOUTs, call
// by call: the floor of any design that runs the guest on another thread.
import { Worker } from 'node:worker_threads';
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

/**
 * A bare worker thread told to spin until TIMEOUT_MS after the send (epoch ms, as a
 * pool call's clock runs: tiers/worker-protocol.ts) and then post back: how late after
 * TIMEOUT_MS its message reaches this thread is what a worker-tier TIMEOUT cannot beat.
 */
const BARE_SPIN = `
const { parentPort } = require('node:worker_threads');
parentPort.on('message', (until) => {
  while (performance.timeOrigin + performance.now() < until);
  parentPort.postMessage(0);
});`;

function bareSpin(): { run(): Promise<number>; close(): Promise<number> } {
  const w = new Worker(BARE_SPIN, { eval: true });
  return {
    run: () =>
      new Promise((resolve, reject) => {
        const t = performance.now();
        w.once('error', reject);
        w.once('message', () => {
          w.off('error', reject);
          resolve(performance.now() - t - TIMEOUT_MS);
        });
        w.postMessage(performance.timeOrigin + t + TIMEOUT_MS);
      }),
    close: () => w.terminate(),
  };
}

export async function measureLimits(ctx: CapsuleContext, tier: Tier, repeats: number): Promise<LimitRow> {
  // The default pool, as an application gets it from createRuntime().
  const start = loadavg();
  const rt = await createRuntime({ capabilitiesDir: ctx.capabilitiesDirs, policy: ctx.policy });
  const bare = tier === 'worker' ? bareSpin() : undefined;
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
    const floor: number[] = [];
    const sides = [paused, timedOut];
    if (bare) sides.push(async () => void floor.push(await bare.run()));
    for (let i = 0; i < repeats; i++) {
      // The sides take turns going first, each right after a warm-up echo.
      for (const side of [...sides.slice(i % sides.length), ...sides.slice(0, i % sides.length)]) {
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
      ...(floor.length > 0 ? { bareThread: summarize(floor) } : {}),
      pairs: { warm, after, loadAverage: { start, end: loadavg() } },
      ...(tier === 'worker' ? { workers: workers.size } : {}),
    };
  } finally {
    await bare?.close();
    await rt.close();
  }
}
